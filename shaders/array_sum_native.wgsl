// Array-sum arithmetic with native 64-bit integers (needs SHADER_INT64). Composed like
// array_sum_emulated.wgsl, with the same contract.

// Adds a unit's biased elements to `sum`, counting its wraps past 2^64 in `carries`.
fn add_unit(sum: ptr<function, u64>, carries: ptr<function, u32>, v: vec4<u32>) {
    if ELEMENT_BYTES == 8u {
        let a = (u64(v.y) << 32u) | u64(v.x);
        let b = (u64(v.w) << 32u) | u64(v.z);
        *sum += a;
        *carries += select(0u, 1u, *sum < a);
        *sum += b;
        *carries += select(0u, 1u, *sum < b);
    } else if ELEMENT_BYTES == 4u {
        // Below 2^34 a unit; 2^15 units stay below 2^49: no wrap.
        *sum += u64(v.x) + u64(v.y) + u64(v.z) + u64(v.w);
    } else {
        *sum += u64(narrow_unit_sum(v));
    }
}

// The biased sum of this invocation's units, exactly, as 4 limbs, below 2^80 (see
// array_sum_emulated.wgsl).
fn invocation_sum(index: u32) -> vec4<u32> {
    let walk = invocation_units(index);
    let step = walk.y;
    var unit = walk.x;
    var sum = 0lu;
    var carries = 0u;
    var turn = 0u;
    for (; turn + 4u <= walk.z; turn += 4u) {
        let a = biased_unit(unit);
        let b = biased_unit(unit + step);
        let c = biased_unit(unit + 2u * step);
        let d = biased_unit(unit + 3u * step);
        add_unit(&sum, &carries, a);
        add_unit(&sum, &carries, b);
        add_unit(&sum, &carries, c);
        add_unit(&sum, &carries, d);
        unit += 4u * step;
    }
    for (; turn < walk.z; turn += 1u) {
        add_unit(&sum, &carries, biased_unit(unit));
        unit += step;
    }
    return vec4<u32>(u32(sum), u32(sum >> 32u), carries, 0u);
}
