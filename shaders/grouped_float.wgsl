// Exact float sums along axes with integer operations only. Composed with a layout file,
// grouped_params.wgsl, float_add.wgsl and float_every_digit.wgsl (the window alone is used
// here). `main` sums one piece per workgroup into the workgroup's counters and writes them as
// one partial, the whole-array kernel's format; `narrow` (with STORAGE_COUNTERS) sums one piece
// per invocation into a partial of its own, PARTIAL_WORDS words at `PARTIAL_WORDS * invocation`.

// Adds the elements of piece `p`'s R indices from `start`, `step` apart.
fn add_piece(p: u32, start: u32, step: u32) {
    let piece = piece_at(p);
    for (var r = start; r < piece.count; r += step) {
        let v = load_element(piece.first + r * params.r_stride);
        if ELEMENT_BYTES == 8u {
            add_f64(v.x, v.y);
        } else {
            add_f32(v.x);
        }
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
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
    add_piece(params.first_piece + group_id.x, local_index, WORKGROUP_SIZE);
    flush();
    if flags != 0u {
        atomicOr(&group_flags, flags);
    }
    workgroupBarrier();
    write_partial(group_id.x, local_index);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn narrow(@builtin(global_invocation_id) global_id: vec3<u32>) {
    if global_id.x >= params.pieces {
        return;
    }
    let first = global_id.x * PARTIAL_WORDS;
    for (var w = 0u; w < PARTIAL_WORDS; w++) {
        atomicStore(&partials[first + w], 0u);
    }
    counters_first = first + PARTIAL_HEADER_WORDS;
    add_piece(params.first_piece + global_id.x, 0u, 1u);
    flush();
    atomicStore(&partials[first], flags);
}
