//! The range workload's CPU twin: the emulated shader's algorithm (range_sum_emulated.wgsl) in
//! vector registers of u32 lanes. Each lane adds the low 32 bits of its values and tallies their
//! carries; the high limbs are added once per call, from the count of values and how many low
//! limbs wrapped. A plain `(a..=b).sum()` would not do: LLVM rewrites it as the closed form, and
//! it wraps past u64.

use super::simd::{Lanes, per_isa};

/// Registers of each kind of state, so that the adds of one iteration are independent.
const REGISTERS: usize = 4;

per_isa! {
    /// Exact sum of the `len` biased values `first, first + 1, ...` (`len` below 2^32), every one
    /// of them added, built for `isa`.
    pub(crate) fn biased_sum(first: u64, len: u64) -> u128 = biased_sum_lanes
}

/// The kernel behind [`biased_sum`], on `REGISTERS` registers of `V`: per value an add, the
/// carry's tally (one to three instructions, by set), and the next value (an add), per lane.
///
/// Bounds: `len` < 2^32, so each lane adds fewer than 2^32 values and its tally fits in u32, and
/// the low limbs wrap past 2^32 at most once. The result is below `len * 2^64`.
///
/// # Safety
/// Only from code built for `V`'s instruction set.
#[inline(always)]
unsafe fn biased_sum_lanes<V: Lanes>(first: u64, len: u64) -> u128 {
    debug_assert!(len < 1 << 32);
    let lanes = V::LANES * REGISTERS;
    let lo0 = first as u32;
    let hi0 = (first >> 32) as u32;
    let iterations = len / lanes as u64;
    let mut buffer = [0u32; 64 * REGISTERS];
    let buffer = &mut buffer[..lanes];

    // SAFETY: the caller built this for V's instruction set.
    let (sums, tallies) = unsafe {
        for (lane, value) in buffer.iter_mut().enumerate() {
            *value = lo0.wrapping_add(lane as u32);
        }
        let mut values: [V; REGISTERS] = std::array::from_fn(|r| V::load(&buffer[r * V::LANES..]));
        let step = V::splat(lanes as u32);
        let mut sums = [V::splat(0); REGISTERS];
        let mut tallies = [V::splat(0); REGISTERS];
        for _ in 0..iterations {
            for r in 0..REGISTERS {
                // The tally depends on every partial sum: this is what stops the compiler from
                // folding the loop into the closed form.
                let sum = sums[r].add(values[r]);
                tallies[r] = tallies[r].tally(sum, values[r]);
                sums[r] = sum;
                // Past the last value this may wrap; those values are never added.
                values[r] = values[r].add(step);
            }
        }
        (sums, tallies)
    };
    let mut low: u128 = 0;
    let mut lane_values = [0u32; 64];
    for r in 0..REGISTERS {
        // SAFETY: as above.
        unsafe { sums[r].store(&mut lane_values) };
        low += lane_values[..V::LANES]
            .iter()
            .map(|&s| s as u128)
            .sum::<u128>();
        // SAFETY: as above.
        unsafe { tallies[r].store(&mut lane_values) };
        let carries: u64 = lane_values[..V::LANES]
            .iter()
            .map(|&t| {
                if V::TALLIES_CARRIES {
                    t as u64
                } else {
                    iterations - t as u64
                }
            })
            .sum();
        low += (carries as u128) << 32;
    }
    // The values the vector loop left: fewer than one iteration's worth.
    let done = iterations * lanes as u64;
    for offset in done..len {
        low += (lo0.wrapping_add(offset as u32)) as u128;
    }
    // Each value's high limb: hi0, plus one for each value whose low limb wrapped past 2^32 - 1
    // (those from the (2^32 - lo0)-th on; none when lo0 is 0, since len < 2^32).
    let wrapped = if lo0 == 0 {
        0
    } else {
        len.saturating_sub((1u64 << 32) - lo0 as u64)
    };
    low + ((len as u128 * hi0 as u128 + wrapped as u128) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::simd::Isa;

    #[test]
    fn every_isa_here_matches_wide_addition() {
        for isa in Isa::available() {
            for (first, len) in [
                (0u64, 0u64),
                (5, 1),
                (u64::MAX - 20, 21),
                (u64::MAX - 8, 9),
                (3, 1000),
                ((1 << 32) - 700, 1401),
                ((7 << 32) - 3, 100_003),
                (u64::MAX - 99_999, 100_000),
                ((1 << 32) - 1, 1 << 20),
            ] {
                let expected: u128 = (0..len).map(|i| (first + i) as u128).sum();
                assert_eq!(
                    biased_sum(isa, first, len),
                    expected,
                    "{isa}: first {first}, len {len}"
                );
            }
        }
    }
}
