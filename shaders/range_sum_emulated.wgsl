// Range-sum arithmetic in core WGSL: 32-bit limbs and explicit carries only. Composed with
// limbs.wgsl and a reduction (reduce_tree.wgsl or reduce_subgroup.wgsl), which own the entry point.
//
// Every value is biased, u = v + 2^63, so elements are unsigned 64-bit numbers (lo, hi); the host
// subtracts count * 2^63 once per dispatch.

struct Params {
    // Biased value of the dispatch's first element.
    base_lo: u32,
    base_hi: u32,
    // Elements in this dispatch, at most 2^31 (see MAX_DISPATCH_ELEMENTS on the host).
    count: u32,
    // Elements each invocation adds; the host keeps it at most 2^16.
    per_invocation: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// The biased sum of this invocation's elements, exactly, as 4 limbs.
fn invocation_sum(index: u32) -> vec4<u32> {
    let per = params.per_invocation;
    // count <= 2^31 and per <= 2^16, so neither this sum nor index * per below can wrap.
    if index >= (params.count + per - 1u) / per {
        return vec4<u32>(0u);
    }
    let first = index * per;
    let n = min(per, params.count - first);
    let lo0 = params.base_lo + first;
    let hi0 = params.base_hi + select(0u, 1u, lo0 < params.base_lo);

    // The honest part: add every element's low limb. The carry count depends on each partial
    // sum, so no compiler can replace this loop with the closed form.
    // Bound: n <= 2^16 elements, so carries <= 2^16.
    var lo = lo0;
    var sum_lo = 0u;
    var carries = 0u;
    // Unrolled by 8: software adapters pay a mask update and a branch per iteration, and this
    // tripled their throughput (docs/BENCHMARKS.md). The second loop takes the remainder.
    var j = 0u;
    for (; j + 8u <= n; j += 8u) {
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
    }
    for (; j < n; j += 1u) {
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
    }

    // Widen once: the high limbs are hi0 for every element, plus one for each element whose low
    // limb wrapped past 2^32 - 1. Elements before the wrap: 2^32 - lo0 (all of them when lo0 = 0).
    let before_wrap = 0u - lo0;
    let wrapped = select(0u, n - min(n, before_wrap), lo0 != 0u);
    // high = carries + n * hi0 + wrapped < 2^16 + 2^48 + 2^16 < 2^49, as two limbs.
    let product = mul_wide(n, hi0);
    let high_lo = add_carry(product.x, carries, 0u);
    let high = add_carry(high_lo.x, wrapped, 0u);
    let high_hi = product.y + high_lo.y + high.y;
    // Total = sum_lo + 2^32 * high < n * 2^64 <= 2^80.
    return vec4<u32>(sum_lo, high.x, high_hi, 0u);
}
