// Array-sum arithmetic in core WGSL: 32-bit limbs and explicit carries only. Composed with a
// reduction (which owns the entry point), limbs.wgsl, array_params.wgsl and a layout file
// (array_load_*.wgsl).

// Adds a unit's biased elements to a 96-bit sum (low, middle, top limbs).
fn add_unit(sum: vec3<u32>, v: vec4<u32>) -> vec3<u32> {
    if ELEMENT_BYTES == 8u {
        // Two elements, (v.x, v.y) and (v.z, v.w) as (low, high) limbs; at most 2 carries into
        // the top limb per unit.
        let low = add_carry(sum.x, v.x, 0u);
        let low2 = add_carry(low.x, v.z, 0u);
        let middle = add_carry(sum.y, v.y, low.y + low2.y);
        let middle2 = add_carry(middle.x, v.w, 0u);
        return vec3<u32>(low2.x, middle2.x, sum.z + middle.y + middle2.y);
    }
    if ELEMENT_BYTES == 4u {
        // Four elements below 2^32: at most 4 carries into the middle limb per unit.
        let a = add_carry(sum.x, v.x, 0u);
        let b = add_carry(a.x, v.y, 0u);
        let c = add_carry(b.x, v.z, 0u);
        let d = add_carry(c.x, v.w, 0u);
        return vec3<u32>(d.x, sum.y + a.y + b.y + c.y + d.y, sum.z);
    }
    let s = add_carry(sum.x, narrow_unit_sum(v), 0u);
    return vec3<u32>(s.x, sum.y + s.y, sum.z);
}

// The biased sum of this invocation's units, exactly, as 4 limbs. Bound: at most 2^15 units of
// at most 2 elements below 2^64 each: below 2^80.
fn invocation_sum(index: u32) -> vec4<u32> {
    let walk = invocation_units(index);
    let step = walk.y;
    var unit = walk.x;
    var sum = vec3<u32>(0u);
    // Four loads in flight at a time; the second loop takes the remainder.
    var turn = 0u;
    for (; turn + 4u <= walk.z; turn += 4u) {
        let a = biased_unit(unit);
        let b = biased_unit(unit + step);
        let c = biased_unit(unit + 2u * step);
        let d = biased_unit(unit + 3u * step);
        sum = add_unit(add_unit(add_unit(add_unit(sum, a), b), c), d);
        unit += 4u * step;
    }
    for (; turn < walk.z; turn += 1u) {
        sum = add_unit(sum, biased_unit(unit));
        unit += step;
    }
    return vec4<u32>(sum, 0u);
}
