//! The fast path for many values: one bin per sign and exponent.
//!
//! Every value with the same sign and biased exponent has the same scale, so its significand
//! (an integer below 2^53 for `f64`, 2^24 for `f32`) can be added into that bin's `u64` as is:
//! one add per value, no shifts, no negation. A bin that reaches 2^63 is placed into the digits
//! and emptied, so it never wraps (it is below 2^63 before an add of less than 2^53). Bins are
//! placed into the digits once, when the values have all been added.
//!
//! Consecutive values often share a bin (data of one magnitude), and an add to memory waits for
//! the one before it to the same place; `LANES` interleaved copies of the bins let that many
//! adds to one bin be in flight.

use super::{ADDS_PER_NORMALIZE, ExactFloat, ExactFloatSum};

/// Copies of the bins, taken in turn by consecutive values.
const LANES: usize = 4;

/// Bins for every sign and exponent of an `f64` (and so of an `f32`): a fixed size, so that
/// indexing by the top bits of a value needs no bounds check.
const MAX_BINS: usize = 1 << 12;

/// Bins for values of type `T`, kept across the blocks and pieces one thread sums.
pub(crate) struct Bins<T> {
    /// Indexed by sign and biased exponent, then lane: a value's copies share a cache line.
    bins: Box<[[u64; LANES]; MAX_BINS]>,
    kind: std::marker::PhantomData<T>,
}

impl<T: ExactFloat> Bins<T> {
    /// Bins for one sign and exponent each: 2^(1 + exponent bits).
    const COUNT: usize = 1 << (1 + T::EXPONENT_BITS);
    /// The biased exponent of infinities and NaNs.
    const SPECIAL: u64 = (1 << T::EXPONENT_BITS) - 1;

    pub(crate) fn new() -> Self {
        const { assert!(Self::COUNT <= MAX_BINS) };
        Self {
            bins: bytemuck::zeroed_box(),
            kind: std::marker::PhantomData,
        }
    }

    /// Adds `values` into the bins (and, for specials and full bins, into `sum`). Counts nothing.
    pub(crate) fn add(&mut self, sum: &mut ExactFloatSum<T>, values: &[T]) {
        let mut special = false;
        let bins = &mut *self.bins;
        let mut chunks = values.chunks_exact(LANES);
        for chunk in &mut chunks {
            prefetch(chunk.as_ptr().cast::<u8>().wrapping_add(PREFETCH_BYTES));
            for (lane, value) in chunk.iter().enumerate() {
                special |= add_one(bins, sum, value.bits(), lane);
            }
        }
        for (lane, value) in chunks.remainder().iter().enumerate() {
            special |= add_one(bins, sum, value.bits(), lane);
        }
        // Infinities and NaNs land in the top exponent's bins; which ones they were, the bins
        // cannot tell, so those values are looked at again (rare, and only then).
        for sign in 0..2u64 {
            let index = (sign << T::EXPONENT_BITS | Self::SPECIAL) as usize;
            for slot in &mut bins[index] {
                special |= *slot != 0;
                *slot = 0;
            }
        }
        if special {
            for value in values {
                sum.add_if_special(value.bits());
            }
        }
        if !sum.not_negative_zero {
            // Usually settled by the first value.
            let negative_zero = 1u64 << (T::FRACTION_BITS + T::EXPONENT_BITS);
            sum.not_negative_zero = values.iter().any(|v| v.bits() != negative_zero);
        }
    }

    /// Places every bin into `sum`'s digits.
    pub(crate) fn finish(self, sum: &mut ExactFloatSum<T>) {
        for (index, lanes) in self.bins[..Self::COUNT].iter().enumerate() {
            for &bin in lanes {
                if bin != 0 {
                    place(sum, bin, index as u64);
                }
            }
        }
    }
}

/// How far ahead of the values being added the next ones are asked for. The loop does too much
/// per value for the core to run far ahead on its own, and the hardware prefetcher need not
/// make up for it: on one draw of the 2-core CI-class VM (an Intel Xeon), 2^24 f64 values summed
/// at 3.0e8 values/s on one thread without it and 1.0e9 with it (1024 bytes ahead: 0.9e9).
const PREFETCH_BYTES: usize = 4096;

/// Asks for the cache line at `address` (which may lie past the data: a prefetch never faults).
#[inline(always)]
pub(crate) fn prefetch(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Adds one value's significand to copy `lane` of its bin; true if that filled a bin of
/// infinities and NaNs.
#[inline(always)]
fn add_one<T: ExactFloat>(
    bins: &mut [[u64; LANES]; MAX_BINS],
    sum: &mut ExactFloatSum<T>,
    bits: u64,
    lane: usize,
) -> bool {
    let index = (bits >> T::FRACTION_BITS) as usize;
    // Subnormals (exponent 0) have no implicit leading bit.
    let normal = u64::from(index as u64 & Bins::<T>::SPECIAL != 0);
    let slot = &mut bins[index][lane];
    *slot += bits & ((1 << T::FRACTION_BITS) - 1) | normal << T::FRACTION_BITS;
    *slot >> 63 != 0 && place_full(sum, slot, index as u64)
}

/// Places a bin that reached 2^63 and empties it; true if it held infinities or NaNs instead.
#[cold]
#[inline(never)]
fn place_full<T: ExactFloat>(sum: &mut ExactFloatSum<T>, slot: &mut u64, index: u64) -> bool {
    let bin = std::mem::take(slot);
    if index & Bins::<T>::SPECIAL == Bins::<T>::SPECIAL {
        return true;
    }
    place(sum, bin, index);
    false
}

/// Adds `bin` significands of the bin for (sign and biased exponent) `index` to the digits.
fn place<T: ExactFloat>(sum: &mut ExactFloatSum<T>, bin: u64, index: u64) {
    if sum.pending >= ADDS_PER_NORMALIZE {
        sum.normalize();
    }
    sum.pending += 1;
    let exponent = index & Bins::<T>::SPECIAL;
    let negative = index >> T::EXPONENT_BITS != 0;
    // As in add_bits: a significand of exponent e weighs 2^(max(e, 1) - 1) units.
    let shift = exponent.max(1) as u32 - 1;
    sum.add_shifted(bin, shift, negative);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same values through the bins and one at a time give the same bytes.
    fn agree<T: ExactFloat>(values: &[T]) {
        let mut binned = ExactFloatSum::<T>::new();
        let mut bins = Bins::new();
        bins.add(&mut binned, values);
        bins.finish(&mut binned);
        binned.count = values.len() as u64;
        let mut single = ExactFloatSum::<T>::new();
        for &value in values {
            single.add(value).unwrap();
        }
        assert_eq!(binned.to_bytes(), single.to_bytes(), "{values:?}");
    }

    #[test]
    fn bins_agree_with_one_value_at_a_time() {
        agree::<f64>(&[]);
        agree(&[-0.0f64, -0.0, -0.0]);
        agree(&[-0.0f64, 0.0]);
        agree(&[1e308f64, 1.0, -1e308, 5e-324, -2.2250738585072014e-308]);
        agree(&[f64::INFINITY, 1.0, f64::NAN, -3.0, f64::NEG_INFINITY]);
        agree(&[f32::from_bits(1), -f32::MAX, 16777216.0f32, 1.0, 1.0]);
        agree(&[f32::NAN, -0.0f32]);
        // Full bins: 2^13 values at the top of one bin, all in one lane's copy and spread.
        let largest_significand = f64::from_bits(0x3fff_ffff_ffff_ffff);
        agree(&vec![largest_significand; 1 << 13]);
        agree(&vec![-f64::MAX; (1 << 13) + 3]);
        agree(&vec![f32::MAX; 1 << 12]);
        let mixed: Vec<f64> = (0..10_000)
            .map(|k| f64::from_bits((k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
            .collect();
        agree(&mixed);
    }
}
