//! Exact float sums for many outputs in little memory ([`FloatWindows`]): the state behind sums
//! along an axis and by key, where a full [`ExactFloatSum`] per output (69 digits for f64) would
//! cost 570 bytes each.
//!
//! Each output keeps a window of [`WIDTH`] digits of the same fixed-point number the full sum
//! keeps (digit k weighs 2^(32 k) units of the smallest subnormal), starting at a digit of its
//! own: 72 bytes. The values of one output mostly share a few binades, so their pieces fall in
//! the window; a value outside it moves the window when the sum so far and the value fit in one
//! window together, and otherwise the output spills to a full sum, kept beside the windows.
//! Memory is therefore 72 bytes per output plus a full sum per spilled output. Every operation
//! is an integer one, so the result is the same whatever the order or the split, and the same as
//! [`ExactFloatSum`]'s.

use std::marker::PhantomData;

use super::{ExactFloat, ExactFloatSum, parts};
use crate::Error;

/// Digits of a window.
pub(crate) const WIDTH: usize = 8;
/// A window's `base` while its output has no finite nonzero value.
const EMPTY: u16 = u16::MAX;
/// A window's `base` once its output has spilled; `digits[0]` is then the index of its full sum.
const SPILLED: u16 = u16::MAX - 1;

/// Adds to a window between two normalizations: each adds less than 2^53 to a digit (a value's
/// significand shifted within its digit, split into its low 32 bits and the rest), so every
/// digit stays below 2^32 + 2^9 * 2^53 < 2^63.
const ADDS_PER_NORMALIZE: u32 = 1 << 9;

/// One output's sum: `digits[k]` weighs 2^(32 (base + k)) units. A value's pieces land only on
/// digits below the top one, each adding less than 2^53 in magnitude, and the window is
/// normalized every [`ADDS_PER_NORMALIZE`] adds. Normalized, every digit but the top is in
/// [0, 2^32) and the top is signed: a value placed below the top digit is below
/// 2^(32 (base + 7)), so 2^63 of them sum to less than 2^(32 (base + 7) + 63), which the top
/// digit holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    digits: [i64; WIDTH],
    base: u16,
    /// `FLAG_*` bits of the special values seen.
    flags: u8,
    /// Adds since the digits were last normalized.
    pending: u32,
}

impl Default for Window {
    fn default() -> Self {
        Self {
            digits: [0; WIDTH],
            base: EMPTY,
            flags: 0,
            pending: 0,
        }
    }
}

/// Words one value's significand spans once shifted within its digit: 2 for f32, 3 for f64.
const fn pieces<T: ExactFloat>() -> usize {
    (T::FRACTION_BITS as usize + 1 + 31).div_ceil(32)
}

/// The highest digit a window may start at: its top digit is then the full sum's last.
const fn max_base<T: ExactFloat>() -> usize {
    T::DIGITS - WIDTH
}

/// The highest digit, relative to the window's base, that a value's lowest piece may take: its
/// highest piece stays below the top digit.
const fn max_offset<T: ExactFloat>() -> usize {
    WIDTH - 1 - pieces::<T>()
}

/// The lowest and highest digit of a normalized number (every digit but the last in [0, 2^32),
/// the last signed) that are not zero or, above, the sign's extension; `None` for zero.
fn span(digits: &[i64]) -> Option<(usize, usize)> {
    let lo = digits.iter().position(|&d| d != 0)?;
    let negative = digits[digits.len() - 1] < 0;
    let extension = |k: usize, d: i64| match (negative, k + 1 == digits.len()) {
        (false, _) => d == 0,
        (true, true) => d == -1,
        (true, false) => d == 0xffff_ffff,
    };
    let hi = (0..digits.len())
        .rev()
        .find(|&k| !extension(k, digits[k]))
        .unwrap_or(lo);
    Some((lo, hi.max(lo)))
}

impl Window {
    /// Propagates carries: every digit but the top in [0, 2^32), the top signed.
    fn normalize(&mut self) {
        let mut carry = 0i64;
        for digit in &mut self.digits[..WIDTH - 1] {
            let value = *digit + carry;
            carry = value >> 32;
            *digit = value & 0xffff_ffff;
        }
        self.digits[WIDTH - 1] += carry;
        self.pending = 0;
    }

    /// Whether the window holds digits (neither empty nor spilled).
    fn holds_digits(&self) -> bool {
        self.base != EMPTY && self.base != SPILLED
    }

    /// The normalized window's value with its signed top digit split into 32-bit digits too:
    /// every digit in [0, 2^32) but the last, the sign (0 or -1).
    fn extended(&self) -> [i64; WIDTH + 2] {
        let mut digits = [0i64; WIDTH + 2];
        digits[..WIDTH - 1].copy_from_slice(&self.digits[..WIDTH - 1]);
        let top = self.digits[WIDTH - 1];
        digits[WIDTH - 1] = top & 0xffff_ffff;
        digits[WIDTH] = (top >> 32) & 0xffff_ffff;
        digits[WIDTH + 1] = top >> 63;
        digits
    }

    /// The absolute digits [lo, hi] the normalized window's value takes; `None` for zero.
    fn span(&self) -> Option<(usize, usize)> {
        let base = usize::from(self.base);
        span(&self.extended()).map(|(lo, hi)| (base + lo, base + hi))
    }

    /// The normalized window's value as a window starting at `base`, which must hold it below
    /// its top digit (see [`Window::span`]).
    fn moved_to(&self, base: usize) -> Window {
        let old = usize::from(self.base);
        let extended = self.extended();
        let sign = extended[WIDTH + 1];
        let mut digits = [0i64; WIDTH];
        for (k, digit) in digits.iter_mut().enumerate() {
            *digit = match (base + k).checked_sub(old) {
                // Below the old window: zeros, as the value's lowest digit is at or above `base`.
                None => 0,
                // Masked: the extended value's last digit, or any past it, is the sign (0 or
                // -1), which a digit below the top holds as its 32 bits.
                Some(j) if k < WIDTH - 1 => extended.get(j).map_or(sign, |&d| d) & 0xffff_ffff,
                // The new top digit lies above the value's digits: the sign.
                Some(_) => sign,
            };
        }
        Window {
            digits,
            base: base as u16,
            ..*self
        }
    }

    /// Adds the `pieces` 32-bit pieces of `wide`, the lowest at window digit `offset`.
    #[inline(always)]
    fn add_pieces(&mut self, offset: usize, wide: u128, negative: bool, pieces: usize) {
        let flip = -i64::from(negative);
        let digits = &mut self.digits[offset..offset + pieces];
        for (k, slot) in digits.iter_mut().enumerate() {
            let piece = i64::from((wide >> (32 * k)) as u32);
            *slot += (piece ^ flip) - flip;
        }
        self.pending += 1;
        if self.pending == ADDS_PER_NORMALIZE {
            self.normalize();
        }
    }
}

/// One exact float sum per output, in a window each (see the module's docs).
#[derive(Clone, Debug)]
pub(crate) struct FloatWindows<T: ExactFloat> {
    windows: Vec<Window>,
    spilled: Vec<ExactFloatSum<T>>,
    kind: PhantomData<T>,
}

impl<T: ExactFloat> FloatWindows<T> {
    /// Bytes each output takes while it has not spilled.
    pub(crate) const BYTES_PER_OUTPUT: usize = size_of::<Window>();

    /// `outputs` empty sums.
    pub(crate) fn new(outputs: usize) -> Self {
        Self {
            windows: vec![Window::default(); outputs],
            spilled: Vec::new(),
            kind: PhantomData,
        }
    }

    /// Number of outputs.
    pub(crate) fn len(&self) -> usize {
        self.windows.len()
    }

    /// Outputs that spilled to a full sum.
    pub(crate) fn spilled(&self) -> usize {
        self.spilled.len()
    }

    /// Appends `more` empty outputs.
    pub(crate) fn grow(&mut self, more: usize) {
        self.windows
            .resize(self.windows.len() + more, Window::default());
    }

    /// Adds one value, by its bits, to output `i`.
    #[inline(always)]
    pub(crate) fn add_bits(&mut self, i: usize, bits: u64) {
        let fraction_bits = T::FRACTION_BITS;
        let exponent_mask = (1u64 << T::EXPONENT_BITS) - 1;
        let sign_bit = 1u64 << (fraction_bits + T::EXPONENT_BITS);
        let exponent = (bits >> fraction_bits) & exponent_mask;
        let normal = u64::from(exponent != 0);
        let shift = (exponent - normal) as u32;
        let window = &mut self.windows[i];
        // An empty or spilled window's base is far above every digit, so it takes the slow way.
        let offset = ((shift / 32) as usize).wrapping_sub(usize::from(window.base));
        let nonzero = bits & (sign_bit - 1) != 0;
        let seen = window.flags & parts::FLAG_NOT_NEGATIVE_ZERO as u8 != 0;
        if offset <= max_offset::<T>() && exponent != exponent_mask && nonzero && seen {
            // significand * 2^(shift % 32): its low 32 bits at `offset`, the rest (below 2^53)
            // at the next digit.
            let significand = (bits & ((1u64 << fraction_bits) - 1)) | normal << fraction_bits;
            let wide = u128::from(significand) << (shift % 32);
            let flip = -((bits >> (fraction_bits + T::EXPONENT_BITS)) as i64);
            let digits = &mut window.digits[offset..offset + 2];
            digits[0] += (i64::from(wide as u32) ^ flip) - flip;
            digits[1] += (((wide >> 32) as i64) ^ flip) - flip;
            window.pending += 1;
            if window.pending == ADDS_PER_NORMALIZE {
                window.normalize();
            }
        } else {
            self.add_slowly(i, bits);
        }
    }

    /// Adds a value the quick way cannot: a zero, a special, the first of its output, or one
    /// outside its window.
    #[cold]
    #[inline(never)]
    fn add_slowly(&mut self, i: usize, bits: u64) {
        let fraction_bits = T::FRACTION_BITS;
        let exponent_mask = (1u64 << T::EXPONENT_BITS) - 1;
        let sign_bit = 1u64 << (fraction_bits + T::EXPONENT_BITS);
        let exponent = (bits >> fraction_bits) & exponent_mask;
        let fraction = bits & ((1u64 << fraction_bits) - 1);
        let negative = bits & sign_bit != 0;
        let window = &mut self.windows[i];
        if bits != sign_bit {
            window.flags |= parts::FLAG_NOT_NEGATIVE_ZERO as u8;
        }
        if exponent == exponent_mask {
            window.flags |= special_flag(negative, fraction != 0);
            return;
        }
        let normal = u64::from(exponent != 0);
        let significand = fraction | normal << fraction_bits;
        if significand == 0 {
            return;
        }
        let shift = (exponent - normal) as u32;
        let digit = (shift / 32) as usize;
        let wide = u128::from(significand) << (shift % 32);
        let offset = digit.wrapping_sub(usize::from(window.base));
        if offset <= max_offset::<T>() {
            window.add_pieces(offset, wide, negative, pieces::<T>());
        } else {
            self.place_outside(i, digit, wide, negative, pieces::<T>());
        }
    }

    /// Adds `magnitude * 2^shift` units (negated where `negative`) to output `i`: a bin of
    /// values of one sign and exponent, summed below 2^(32 pieces - 31) so that it spans no
    /// more pieces than one value (columns.rs).
    pub(crate) fn add_scaled(&mut self, i: usize, magnitude: u64, shift: u32, negative: bool) {
        let wide = u128::from(magnitude) << (shift % 32);
        debug_assert!(wide >> (32 * pieces::<T>()) == 0);
        let digit = (shift / 32) as usize;
        let window = &mut self.windows[i];
        window.flags |= parts::FLAG_NOT_NEGATIVE_ZERO as u8;
        let offset = digit.wrapping_sub(usize::from(window.base));
        if offset <= max_offset::<T>() {
            window.add_pieces(offset, wide, negative, pieces::<T>());
        } else {
            self.place_outside(i, digit, wide, negative, pieces::<T>());
        }
    }

    /// Notes that output `i` had a value other than -0.0 (its sum is then not -0.0).
    pub(crate) fn note_not_negative_zero(&mut self, i: usize) {
        self.windows[i].flags |= parts::FLAG_NOT_NEGATIVE_ZERO as u8;
    }

    /// Places a value of `pieces` pieces whose lowest is at `digit`, outside output `i`'s
    /// window: in a new window, a moved one, or the output's full sum.
    #[cold]
    fn place_outside(&mut self, i: usize, digit: usize, wide: u128, negative: bool, pieces: usize) {
        let window = &mut self.windows[i];
        match window.base {
            SPILLED => {
                let sum = &mut self.spilled[window.digits[0] as usize];
                sum.add_one_shifted(wide, digit, negative);
                return;
            }
            _ => {
                let needed = (digit, digit + pieces - 1);
                let span = if window.base == EMPTY {
                    None
                } else {
                    window.normalize();
                    window.span()
                };
                let (lo, hi) = span.map_or(needed, |(lo, hi)| (lo.min(needed.0), hi.max(needed.1)));
                match (base_for::<T>(lo, hi), span) {
                    (Some(base), Some(_)) => *window = window.moved_to(base),
                    (Some(base), None) => window.base = base as u16,
                    (None, _) => {
                        self.spill(i);
                        return self.place_outside(i, digit, wide, negative, pieces);
                    }
                }
            }
        }
        let window = &mut self.windows[i];
        let offset = digit - usize::from(window.base);
        window.add_pieces(offset, wide, negative, pieces);
    }

    /// Moves output `i` to a full sum of its own.
    fn spill(&mut self, i: usize) {
        let full = self.expand(&self.windows[i]);
        let window = &mut self.windows[i];
        *window = Window {
            base: SPILLED,
            ..Window::default()
        };
        window.digits[0] = self.spilled.len() as i64;
        self.spilled.push(full);
    }

    /// The full sum a window holds (count zero).
    fn expand(&self, window: &Window) -> ExactFloatSum<T> {
        match window.base {
            SPILLED => {
                // A spilled output's specials are still raised in its window.
                let mut sum = self.spilled[window.digits[0] as usize].clone();
                sum.raise(u32::from(window.flags));
                sum
            }
            base => {
                let mut sum = ExactFloatSum::new();
                if base != EMPTY {
                    // Normalized, the digits are below 2^32, as the full sum's bound wants.
                    let mut window = *window;
                    window.normalize();
                    let base = usize::from(base);
                    sum.digits[base..base + WIDTH].copy_from_slice(&window.digits);
                }
                sum.raise(u32::from(window.flags));
                sum
            }
        }
    }

    /// Output `i`'s sum, as a full sum of `count` values.
    ///
    /// # Errors
    /// [`Error::TooManyElements`] for a count past 2^63 - 1.
    pub(crate) fn sum(&self, i: usize, count: u64) -> Result<ExactFloatSum<T>, Error> {
        let mut sum = self.expand(&self.windows[i]);
        sum.set_count(count)?;
        Ok(sum)
    }
}

/// The flag of a special value: NaN, or an infinity of the sign given.
fn special_flag(negative: bool, nan: bool) -> u8 {
    (match (nan, negative) {
        (true, _) => parts::FLAG_NAN,
        (false, false) => parts::FLAG_POSITIVE_INFINITY,
        (false, true) => parts::FLAG_NEGATIVE_INFINITY,
    }) as u8
}

/// Where a window that holds digits [lo, hi] below its top digit starts: two digits below `lo`
/// where it can, so that smaller values of the same output still fit; `None` when the digits
/// are too far apart for one window.
fn base_for<T: ExactFloat>(lo: usize, hi: usize) -> Option<usize> {
    let base = lo
        .saturating_sub(2)
        .max((hi + 2).saturating_sub(WIDTH))
        .min(lo)
        .min(max_base::<T>());
    (hi + 2 <= base + WIDTH).then_some(base)
}

impl<T: ExactFloat> ExactFloatSum<T> {
    /// Adds one value's shifted significand (see `add_shifted`), counting the add.
    fn add_one_shifted(&mut self, wide: u128, digit: usize, negative: bool) {
        if self.pending == super::ADDS_PER_NORMALIZE {
            self.normalize();
        }
        self.add_shifted_at(wide, digit, negative);
        self.pending += 1;
    }

    /// Sets the count of values the sum holds.
    fn set_count(&mut self, count: u64) -> Result<(), Error> {
        if count > crate::array::MAX_ELEMENTS {
            return Err(Error::TooManyElements);
        }
        self.count = count;
        Ok(())
    }
}

mod finish;
mod merge;

#[cfg(test)]
mod tests;
