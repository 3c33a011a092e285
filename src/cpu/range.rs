//! The range workload's CPU twin: each chunk adds every biased value with an explicit carry
//! count, exactly as the shaders do. A plain `(a..=b).sum()` would not do: LLVM rewrites it as
//! the closed form, and it wraps past u64.

use super::simd::multiversion;

/// Independent accumulators, so the compiler can keep them in vector lanes.
const LANES: usize = 16;

multiversion! {
    /// Exact sum of the `len` biased values `first, first + 1, ...`, every one of them added.
    ///
    /// Bound: each lane adds at most `len / LANES + 1` values below 2^64, so its carry count fits
    /// in u64 and the result (< len * 2^64) fits in u128 for any `len` below 2^64.
    pub(crate) fn biased_sum(first: u64, len: u64) -> u128 {
        let mut sums = [0u64; LANES];
        let mut carries = [0u64; LANES];
        let mut values: [u64; LANES] = std::array::from_fn(|lane| first.wrapping_add(lane as u64));
        for _ in 0..len / LANES as u64 {
            for lane in 0..LANES {
                let (a, b) = (sums[lane], values[lane]);
                let sum = a.wrapping_add(b);
                // The carry depends on every partial sum: this is what stops LLVM from folding
                // the loop into the closed form. Written bitwise, it vectorizes.
                carries[lane] += ((a & b) | ((a | b) & !sum)) >> 63;
                sums[lane] = sum;
                // Past the last element this may wrap; those values are never added.
                values[lane] = values[lane].wrapping_add(LANES as u64);
            }
        }
        let tail = (len % LANES as u64) as usize;
        for lane in 0..tail {
            sums[lane] = sums[lane].wrapping_add(values[lane]);
            carries[lane] += (sums[lane] < values[lane]) as u64;
        }
        (0..LANES)
            .map(|lane| ((carries[lane] as u128) << 64) + sums[lane] as u128)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn biased_sum_matches_wide_addition() {
        for (first, len) in [
            (0u64, 0u64),
            (5, 1),
            (u64::MAX - 20, 21),
            (u64::MAX - 8, 9),
            (3, 1000),
        ] {
            let expected: u128 = (0..len).map(|i| (first + i) as u128).sum();
            assert_eq!(biased_sum(first, len), expected, "first {first}, len {len}");
        }
    }
}
