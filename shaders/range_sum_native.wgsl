// Range-sum arithmetic with native 64-bit integers (needs SHADER_INT64). Composed like
// range_sum_emulated.wgsl, with the same contract: `invocation_sum` returns the invocation's
// biased sum as 4 u32 limbs, least significant first.

// The biased sum of this invocation's elements, exactly, as 4 limbs.
fn invocation_sum(index: u32) -> vec4<u32> {
    let share = invocation_share(index);
    let first = share.x;
    let n = share.y;
    var value = ((u64(params.base_hi) << 32u) | u64(params.base_lo)) + u64(first);

    // Every element is added; the carry count depends on each partial sum, so no compiler can
    // replace this loop with the closed form. Bound: n <= 2^16 elements, so carries <= 2^16.
    var sum = 0lu;
    var carries = 0u;
    // Unrolled by 8: software adapters pay a mask update and a branch per iteration, and this
    // tripled their throughput (docs/BENCHMARKS.md). The second loop takes the remainder.
    var j = 0u;
    for (; j + 8u <= n; j += 8u) {
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
    }
    for (; j < n; j += 1u) {
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
    }
    // Total = sum + 2^64 * carries < n * 2^64 <= 2^80.
    return vec4<u32>(u32(sum), u32(sum >> 32u), carries, 0u);
}
