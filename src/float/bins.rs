//! The path for many values where the lanes (lanes/) do not serve: one bin per sign and exponent.
//!
//! Every value with the same sign and biased exponent has the same scale, so its significand
//! (an integer below 2^53 for `f64`, 2^24 for `f32`) can be added into that bin's `u64` as is:
//! one add per value, no shifts, no negation. Bins are placed into the digits once, when the
//! values have all been added.
//!
//! The values are decoded a chunk at a time in vector registers (decode.rs), then added with one
//! scalar add each. Consecutive values often share a bin (data of one magnitude), and an add to
//! memory waits for the one before it to the same place: `LANES` interleaved copies of each bin
//! let that many such adds be in flight.
//!
//! No add checks for a full bin. A copy takes fewer than `SLOT_ADDS` adds between scans, each
//! below 2^(FRACTION_BITS + 1), so one below 2^63 at a scan stays below 2^64 until the next: a
//! scan places and empties every copy that reached 2^63, over the exponents seen since the last.
//! Chunks whose exponents lie too far apart for a scan to pay add with a check instead.

use std::cell::Cell;

use super::decode::{self, CHUNK, Decoded, Exponents};
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use super::lanes;
use super::{ExactFloat, ExactFloatSum};
use crate::cpu::Isa;

/// Copies of each bin, taken in turn by consecutive values.
pub(crate) const LANES: usize = 8;

/// Values of every magnitude a set of bins takes into the digits one at a time, before its
/// checked adds pay for visiting every bin at the end (2^10 such f64 values: 2.3 µs one at a
/// time, 6.5 to 10 µs binned; 2^16: 1.4 and 1.3 ns a value).
const FEW_WIDE_VALUES: u64 = 1 << 13;

/// Bins for every sign and exponent of an `f64` (and so of an `f32`): a fixed size, so that
/// indexing by the top bits of a value needs no bounds check.
const MAX_BINS: usize = 1 << 12;

/// Copy `lane` of the bin for (sign, biased exponent) `index` at `index * LANES + lane` (a bin's
/// copies share a cache line); sized for any u16 slot plus a lane. Only the bins' pages are
/// ever touched.
type Slots = [u64; (1 << 16) + LANES];

thread_local! {
    /// A zeroed slot array left by this thread's last finished bins: zeroing half a MiB afresh
    /// cost more than summing the 2^13 values that first take the bins.
    static SPARE: Cell<Option<Box<Slots>>> = const { Cell::new(None) };
}

/// Bins for values of type `T`, kept across the blocks and pieces one thread sums.
pub(crate) struct Bins<T> {
    slots: Box<Slots>,
    isa: Isa,
    /// The most adds any one copy took since the last scan.
    adds_since_scan: u64,
    /// Exponents added unchecked since the last scan, and since the bins were made.
    since_scan: Exponents,
    seen: Exponents,
    /// Values added so far.
    values: u64,
    kind: std::marker::PhantomData<T>,
}

impl<T: ExactFloat> Bins<T> {
    /// Bins for one sign and exponent each: 2^(1 + exponent bits).
    const COUNT: usize = 1 << (1 + T::EXPONENT_BITS);
    /// The biased exponent of infinities and NaNs.
    const SPECIAL: u64 = (1 << T::EXPONENT_BITS) - 1;
    /// Unchecked adds a copy takes between scans: fewer than 2^(62 - FRACTION_BITS), each below
    /// 2^(FRACTION_BITS + 1), sum below 2^63 (2^10 - 1 for f64, 2^39 - 1 for f32), with room for
    /// one checked add (`add_checked`) more.
    const SLOT_ADDS: u64 = (1 << (62 - T::FRACTION_BITS)) - 1;

    /// Bins that decode with `isa`'s vector registers (or portably, where this CPU lacks it).
    pub(crate) fn new(isa: Isa) -> Self {
        const { assert!(Self::COUNT <= MAX_BINS) };
        Self {
            slots: SPARE.with(Cell::take).unwrap_or_else(bytemuck::zeroed_box),
            isa,
            adds_since_scan: 0,
            since_scan: Exponents::NONE,
            seen: Exponents::NONE,
            values: 0,
            kind: std::marker::PhantomData,
        }
    }

    /// Adds `values` into the bins (and, for specials and full bins, into `sum`). Counts nothing.
    pub(crate) fn add(&mut self, sum: &mut ExactFloatSum<T>, values: &[T]) {
        let mut special = false;
        let mut decoded = Decoded::new();
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        let laned = lanes::add(self.isa, sum, values, |sum, block| {
            special |= self.add_block(sum, block, &mut decoded);
        });
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        let laned = false;
        if !laned {
            special |= self.add_block(sum, values, &mut decoded);
        }
        // Infinities and NaNs land in the top exponent's bins; which ones they were, the bins
        // cannot tell, so those values are looked at again (rare, and only then).
        special |= self.take_specials();
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

    /// Adds one block through the bins, a chunk at a time; true if that may have taken an
    /// infinity or a NaN.
    fn add_block(
        &mut self,
        sum: &mut ExactFloatSum<T>,
        block: &[T],
        decoded: &mut Decoded,
    ) -> bool {
        let mut special = false;
        for chunk in block.chunks(CHUNK) {
            let adds = chunk.len().div_ceil(LANES) as u64;
            if self.adds_since_scan + adds > Self::SLOT_ADDS {
                special |= self.scan(sum);
            }
            let exponents = self.decode(chunk, decoded);
            self.values += chunk.len() as u64;
            if u64::from(exponents.highest - exponents.lowest) <= Self::SLOT_ADDS / 8 {
                self.adds_since_scan += adds;
                self.since_scan = self.since_scan.with(exponents);
                self.seen = self.seen.with(exponents);
                if T::TAG == 8 {
                    add_split(&mut self.slots, decoded, chunk.len());
                } else {
                    add_packed(&mut self.slots, decoded, chunk.len());
                }
            } else if self.values <= FEW_WIDE_VALUES {
                // Values of every magnitude touch a bin each, and placing a bin costs more
                // than adding a value to the digits: until there are many, they go there.
                sum.add_each(chunk);
            } else {
                self.seen = self.seen.with(exponents);
                special |= self.add_checked(sum, decoded, chunk.len());
            }
        }
        special
    }

    /// Decodes one chunk; returns the exponents it held.
    fn decode(&self, chunk: &[T], decoded: &mut Decoded) -> Exponents {
        if T::TAG == 8 {
            decode::decode_f64(
                self.isa,
                bytemuck::cast_slice(chunk),
                decoded,
                decode::PREFETCH_BYTES,
            )
        } else {
            decode::decode_f32(self.isa, bytemuck::cast_slice(chunk), decoded)
        }
    }

    /// Adds a decoded chunk whose exponents are too far apart for a scan to pay (values of
    /// every magnitude): each add checks its copy, places it when it reaches 2^63, and so needs
    /// no scan. True if that filled a copy of infinities and NaNs.
    fn add_checked(&mut self, sum: &mut ExactFloatSum<T>, decoded: &Decoded, len: usize) -> bool {
        let mut special = false;
        for k in 0..len {
            let (slot, significand) = if T::TAG == 8 {
                (usize::from(decoded.slots[k]), decoded.words[k])
            } else {
                (
                    (decoded.words[k] >> 48) as usize,
                    decoded.words[k] & 0xffff_ffff,
                )
            };
            let copy = &mut self.slots[slot + k % LANES];
            *copy += significand;
            if *copy >> 63 != 0 {
                let index = (slot / LANES) as u64;
                let bin = std::mem::take(copy);
                if index & Self::SPECIAL == Self::SPECIAL {
                    special = true;
                } else {
                    place(sum, bin, index, 0);
                }
            }
        }
        special
    }

    /// Places and empties every copy that reached 2^63 among the exponents added since the last
    /// scan; true if a bin of infinities and NaNs held anything (it is emptied too).
    fn scan(&mut self, sum: &mut ExactFloatSum<T>) -> bool {
        let mut special = false;
        let exponents = std::mem::replace(&mut self.since_scan, Exponents::NONE);
        self.adds_since_scan = 0;
        if exponents.is_empty() {
            return false;
        }
        for sign in 0..2u64 {
            for exponent in u64::from(exponents.lowest)..=u64::from(exponents.highest) {
                let index = sign << T::EXPONENT_BITS | exponent;
                let copies = self.copies(index);
                if exponent == Self::SPECIAL {
                    special |= copies.iter().fold(0, |any, &copy| any | copy) != 0;
                    copies.fill(0);
                } else if copies.iter().fold(0, |any, &copy| any | copy) >> 63 != 0 {
                    for copy in copies.iter_mut().filter(|copy| **copy >> 63 != 0) {
                        place(sum, std::mem::take(copy), index, 0);
                    }
                }
            }
        }
        special
    }

    /// Empties the bins of infinities and NaNs; true if they held anything.
    fn take_specials(&mut self) -> bool {
        let mut special = false;
        for sign in 0..2u64 {
            let copies = self.copies(sign << T::EXPONENT_BITS | Self::SPECIAL);
            special |= copies.iter().any(|&copy| copy != 0);
            copies.fill(0);
        }
        special
    }

    fn copies(&mut self, index: u64) -> &mut [u64; LANES] {
        let start = index as usize * LANES;
        (&mut self.slots[start..start + LANES])
            .try_into()
            .expect("LANES copies")
    }

    /// Places every bin into `sum`'s digits, and leaves the emptied slots to this thread's next
    /// bins.
    pub(crate) fn finish(mut self, sum: &mut ExactFloatSum<T>) {
        let exponents = self.seen;
        if !exponents.is_empty() {
            for sign in 0..2u64 {
                for exponent in u64::from(exponents.lowest)..=u64::from(exponents.highest) {
                    self.place_bin(sum, sign << T::EXPONENT_BITS | exponent);
                }
            }
        }
        SPARE.with(|spare| spare.set(Some(self.slots)));
    }

    /// Places the bin for (sign and biased exponent) `index` and empties it.
    fn place_bin(&mut self, sum: &mut ExactFloatSum<T>, index: u64) {
        let copies = self.copies(index);
        // Or-ed rather than compared one by one: a vector op, not eight branches.
        if copies.iter().fold(0, |any, &copy| any | copy) == 0 {
            return;
        }
        // Below LANES * 2^64 = 2^67: two places, not one per copy.
        let total: u128 = copies.iter().map(|&copy| u128::from(copy)).sum();
        copies.fill(0);
        place(sum, total as u64, index, 0);
        place(sum, (total >> 64) as u64, index, 64);
    }
}

/// The f64 add loop: one scalar add per value, into copy `k % LANES` of its bin. (A u16 slot
/// plus a lane is always an index of `Slots`, so the adds need no bounds checks.)
fn add_split(slots: &mut Slots, decoded: &Decoded, len: usize) {
    let (slot_groups, slot_tail) = decoded.slots[..len].as_chunks::<LANES>();
    let (word_groups, word_tail) = decoded.words[..len].as_chunks::<LANES>();
    for (group, words) in slot_groups.iter().zip(word_groups) {
        for lane in 0..LANES {
            slots[usize::from(group[lane]) + lane] += words[lane];
        }
    }
    for (lane, (&slot, &word)) in slot_tail.iter().zip(word_tail).enumerate() {
        slots[usize::from(slot) + lane] += word;
    }
}

/// The f32 add loop: slot and significand come from one word (`significand | slot << 48`).
fn add_packed(slots: &mut Slots, decoded: &Decoded, len: usize) {
    let (groups, tail) = decoded.words[..len].as_chunks::<LANES>();
    for words in groups {
        for lane in 0..LANES {
            let word = words[lane];
            slots[(word >> 48) as usize + lane] += word & 0xffff_ffff;
        }
    }
    for (lane, &word) in tail.iter().enumerate() {
        slots[(word >> 48) as usize + lane] += word & 0xffff_ffff;
    }
}

/// Adds `bin * 2^scale` significands of the bin for (sign and biased exponent) `index` to the
/// digits.
fn place<T: ExactFloat>(sum: &mut ExactFloatSum<T>, bin: u64, index: u64, scale: u32) {
    let exponent = index & Bins::<T>::SPECIAL;
    let negative = index >> T::EXPONENT_BITS != 0;
    // As in add_bits: a significand of exponent e weighs 2^(max(e, 1) - 1) units.
    let shift = exponent.max(1) as u32 - 1 + scale;
    sum.add_gathered(bin, shift, negative);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same values through the bins (with every instruction set here, whole and in uneven
    /// pieces) and one at a time give the same bytes.
    fn agree<T: ExactFloat>(values: &[T]) {
        let mut single = ExactFloatSum::<T>::new();
        for &value in values {
            single.add(value).unwrap();
        }
        for isa in Isa::ALL {
            for piece in [values.len().max(1), 1000, 7] {
                let mut binned = ExactFloatSum::<T>::new();
                let mut bins = Bins::new(isa);
                for part in values.chunks(piece) {
                    bins.add(&mut binned, part);
                }
                bins.finish(&mut binned);
                binned.count = values.len() as u64;
                assert_eq!(
                    binned.to_bytes(),
                    single.to_bytes(),
                    "{isa} in pieces of {piece}: {:?}",
                    &values[..values.len().min(8)]
                );
            }
        }
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
        let mixed: Vec<f64> = (0..10_000)
            .map(|k| f64::from_bits((k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
            .collect();
        agree(&mixed);
        let mixed32: Vec<f32> = (0..10_000)
            .map(|k| f32::from_bits((k as u32).wrapping_mul(0x9e37_79b9)))
            .collect();
        agree(&mixed32);
    }

    #[test]
    fn full_copies_are_placed_and_specials_never_wrap_to_zero() {
        // Every copy of one bin past 2^63 several times over: scans must place them.
        let largest_significand = f64::from_bits(0x3fff_ffff_ffff_ffff);
        agree(&vec![largest_significand; (1 << 15) + 3]);
        agree(&vec![-f64::MAX; (1 << 14) + 5]);
        agree(&vec![f32::MAX; 1 << 12]);
        // 2^12 adds of 2^52 to each copy would wrap a copy of infinities to exactly zero.
        agree(&vec![f64::INFINITY; LANES << 12]);
        agree(&vec![f64::NEG_INFINITY; (LANES << 12) + 1]);
        // The same, in chunks of every magnitude (checked adds, no scans).
        let wide: Vec<f64> = (0..(1 << 15) + 3)
            .map(|k| match k % 4 {
                0 => 1e300,
                1 => -1e-300,
                _ => largest_significand,
            })
            .collect();
        agree(&wide);
        let mut wide_specials = wide.clone();
        wide_specials.extend(vec![f64::INFINITY; LANES << 12]);
        wide_specials.push(1e-300);
        agree(&wide_specials);
        let mut subnormal_and_special = vec![f64::from_bits(1); 3000];
        subnormal_and_special[1234] = f64::NAN;
        agree(&subnormal_and_special);
    }
}
