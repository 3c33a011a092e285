// Array-sum arithmetic in core WGSL: 32-bit limbs and explicit carries only. Composed with a
// reduction (which owns the entry point), limbs.wgsl, array_params.wgsl and a layout file
// (array_load_*.wgsl).

// A running sum in two halves: low words with the count of their wraps, and (for 64-bit
// elements) high words with theirs. Bound: an invocation adds at most 2^14 + 2 units, so each
// count stays below 2^17.
struct Sum {
    low: u32,
    low_wraps: u32,
    high: u32,
    high_wraps: u32,
}

fn add_unit(sum: Sum, v: vec4<u32>) -> Sum {
    var s = sum;
    if ELEMENT_BYTES == 8u {
        // Two elements: (v.x, v.y) and (v.z, v.w), low word first.
        s.low += v.x;
        s.low_wraps += select(0u, 1u, s.low < v.x);
        s.low += v.z;
        s.low_wraps += select(0u, 1u, s.low < v.z);
        s.high += v.y;
        s.high_wraps += select(0u, 1u, s.high < v.y);
        s.high += v.w;
        s.high_wraps += select(0u, 1u, s.high < v.w);
    } else if ELEMENT_BYTES == 4u {
        // Four elements below 2^32, in the low words.
        s.low += v.x;
        s.low_wraps += select(0u, 1u, s.low < v.x);
        s.low += v.y;
        s.low_wraps += select(0u, 1u, s.low < v.y);
        s.low += v.z;
        s.low_wraps += select(0u, 1u, s.low < v.z);
        s.low += v.w;
        s.low_wraps += select(0u, 1u, s.low < v.w);
    } else {
        let value = narrow_unit_sum(v);
        s.low += value;
        s.low_wraps += select(0u, 1u, s.low < value);
    }
    return s;
}

// The biased sum of this invocation's units, exactly, as 4 limbs: low + 2^32 (low_wraps + high)
// + 2^64 high_wraps, below (2^14 + 2) * 2 * 2^64 < 2^80.
fn invocation_sum(index: u32) -> vec4<u32> {
    let walk = invocation_units(index);
    var unit = walk.x;
    var sum = Sum(0u, 0u, 0u, 0u);
    // Four loads in flight at a time; the second loop takes the remainder.
    var turn = 0u;
    for (; turn + 4u <= walk.y; turn += 4u) {
        let a = biased_unit(unit);
        let b = biased_unit(unit + WALK);
        let c = biased_unit(unit + 2u * WALK);
        let d = biased_unit(unit + 3u * WALK);
        sum = add_unit(add_unit(add_unit(add_unit(sum, a), b), c), d);
        unit += 4u * WALK;
    }
    for (; turn < walk.y; turn += 1u) {
        sum = add_unit(sum, biased_unit(unit));
        unit += WALK;
    }
    if index == 0u {
        if params.edge_a != NO_EDGE {
            sum = add_unit(sum, biased_edge_unit(params.edge_a));
        }
        if params.edge_b != NO_EDGE {
            sum = add_unit(sum, biased_edge_unit(params.edge_b));
        }
    }
    let middle = add_carry(sum.high, sum.low_wraps, 0u);
    return vec4<u32>(sum.low, middle.x, sum.high_wraps + middle.y, 0u);
}
