// Exact sums of f32 or f64 arrays: the entry point over whole units of data. Composed with
// array_params.wgsl, a layout file (array_load_*.wgsl), float_add.wgsl (the accumulation) and
// float_every_digit.wgsl. Each workgroup writes its flags and DIGITS counters; the host adds them
// up exactly (ExactFloatSum). The bound of every counter is written beside it in float_add.wgsl.

// Adds the elements of a unit whose words `valid` says hold data.
fn add_unit(v: vec4<u32>, valid: vec4<bool>) {
    if ELEMENT_BYTES == 8u {
        if valid.x {
            add_f64(v.x, v.y);
        }
        if valid.z {
            add_f64(v.z, v.w);
        }
    } else {
        for (var k = 0u; k < 4u; k += 1u) {
            if valid[k] {
                add_f32(v[k]);
            }
        }
    }
}

// Adds every element of a whole unit.
fn add_whole_unit(v: vec4<u32>) {
    if ELEMENT_BYTES == 8u {
        add_f64(v.x, v.y);
        add_f64(v.z, v.w);
    } else {
        add_f32(v.x);
        add_f32(v.y);
        add_f32(v.z);
        add_f32(v.w);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(global_invocation_id) global_id: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
    @builtin(workgroup_id) group_id: vec3<u32>,
) {
    for (var k = local_index; k < DIGITS; k += WORKGROUP_SIZE) {
        atomicStore(&digit_low[k], 0u);
        atomicStore(&digit_high[k], 0u);
    }
    if local_index == 0u {
        atomicStore(&group_flags, 0u);
    }
    workgroupBarrier();

    let walk = invocation_units(global_id.x);
    var unit = walk.x;
    if ELEMENT_BYTES == 4u && EVERY_DIGIT {
        // The small counters move between batches of units, outside the hot loop (a move inside
        // it slows the loop several times over on llvmpipe). The window keeps one plain loop.
        var turn = 0u;
        while turn < walk.y {
            let end = turn + min(SMALL_VALUES / 4u, walk.y - turn);
            for (; turn < end; turn += 1u) {
                add_whole_unit(load_unit(unit));
                unit += WALK;
            }
            move_small();
        }
    } else if ELEMENT_BYTES == 8u && EVERY_DIGIT {
        // A batch that does not fit the ring is added again through the window, and the next
        // RING_REST batches go to the window at once. A loop that no lane enters costs llvmpipe
        // one pass, not one per unit.
        ring_low = 0xffffffffu;
        var rest = 0u;
        var turn = 0u;
        while turn < walk.y {
            let count = min(RING_UNITS, walk.y - turn);
            let ringed = select(count, 0u, rest > 0u);
            for (var t = 0u; t < ringed; t += 1u) {
                let v = load_unit(unit + t * WALK);
                add_f64_ring(v.x, v.y);
                add_f64_ring(v.z, v.w);
            }
            let fits = move_ring();
            let windowed = select(count, 0u, fits && rest == 0u);
            rest = select(select(0u, RING_REST, !fits), rest - 1u, rest > 0u);
            for (var t = 0u; t < windowed; t += 1u) {
                add_whole_unit(load_unit(unit + t * WALK));
            }
            unit += count * WALK;
            turn += count;
        }
        if ring_not_negative_zero != 0u {
            flags |= FLAG_NOT_NEGATIVE_ZERO;
        }
    } else {
        for (var turn = 0u; turn < walk.y; turn += 1u) {
            add_whole_unit(load_unit(unit));
            unit += WALK;
        }
    }
    if global_id.x == 0u {
        if params.edge_a != NO_EDGE {
            add_unit(load_edge_unit(params.edge_a), edge_valid(params.edge_a));
        }
        if params.edge_b != NO_EDGE {
            add_unit(load_edge_unit(params.edge_b), edge_valid(params.edge_b));
        }
    }
    flush_all();
    if ELEMENT_BYTES == 4u && EVERY_DIGIT {
        flags |= f32_flags();
    }
    if flags != 0u {
        atomicOr(&group_flags, flags);
    }
    workgroupBarrier();

    write_partial(group_id.x, local_index);
}
