// Range-sum arithmetic in core WGSL: 32-bit limbs and explicit carries only. Composed with a
// reduction (reduce_tree.wgsl or reduce_subgroup.wgsl, which own the entry point), limbs.wgsl and
// range_params.wgsl. Biased values are (lo, hi) limb pairs.

// The biased sum of this invocation's elements, exactly, as 4 limbs.
fn invocation_sum(index: u32) -> vec4<u32> {
    let share = invocation_share(index);
    let first = share.x;
    let n = share.y;
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
