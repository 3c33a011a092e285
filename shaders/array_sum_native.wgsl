// Array-sum arithmetic with native 64-bit integers (needs SHADER_INT64). Composed like
// array_sum_emulated.wgsl, with the same contract.

// Adds a unit's biased elements to `sum`, counting its wraps past 2^64 in `wraps` (only 64-bit
// elements can wrap: a unit of narrower ones is below 2^34, and 2^14 + 2 units below 2^49).
fn add_unit(sum: ptr<function, u64>, wraps: ptr<function, u32>, v: vec4<u32>) {
    if ELEMENT_BYTES == 8u {
        let a = (u64(v.y) << 32u) | u64(v.x);
        let b = (u64(v.w) << 32u) | u64(v.z);
        *sum += a;
        *wraps += select(0u, 1u, *sum < a);
        *sum += b;
        *wraps += select(0u, 1u, *sum < b);
    } else if ELEMENT_BYTES == 4u {
        *sum += u64(v.x) + u64(v.y) + u64(v.z) + u64(v.w);
    } else {
        *sum += u64(narrow_unit_sum(v));
    }
}

// The biased sum of this invocation's units, exactly, as 4 limbs, below 2^80 (see
// array_sum_emulated.wgsl).
fn invocation_sum(index: u32) -> vec4<u32> {
    let walk = invocation_units(index);
    var unit = walk.x;
    var sum = 0lu;
    var wraps = 0u;
    var turn = 0u;
    for (; turn + 4u <= walk.y; turn += 4u) {
        let a = biased_unit(unit);
        let b = biased_unit(unit + WALK);
        let c = biased_unit(unit + 2u * WALK);
        let d = biased_unit(unit + 3u * WALK);
        add_unit(&sum, &wraps, a);
        add_unit(&sum, &wraps, b);
        add_unit(&sum, &wraps, c);
        add_unit(&sum, &wraps, d);
        unit += 4u * WALK;
    }
    for (; turn < walk.y; turn += 1u) {
        add_unit(&sum, &wraps, biased_unit(unit));
        unit += WALK;
    }
    if index == 0u {
        if params.edge_a != NO_EDGE {
            add_unit(&sum, &wraps, biased_edge_unit(params.edge_a));
        }
        if params.edge_b != NO_EDGE {
            add_unit(&sum, &wraps, biased_edge_unit(params.edge_b));
        }
    }
    return vec4<u32>(u32(sum), u32(sum >> 32u), wraps, 0u);
}
