//! Rounding the exact sum once, to nearest with ties to even, with IEEE 754's special values.

use super::parts::{FLAG_NAN, FLAG_NEGATIVE_INFINITY, FLAG_POSITIVE_INFINITY};
use super::{ExactFloat, ExactFloatSum, Rounded};

impl<T: ExactFloat> ExactFloatSum<T> {
    /// The sum, rounded once to `T`.
    #[must_use]
    pub fn round(&self) -> Rounded<T> {
        let mut exact = self.clone();
        exact.normalize();
        let all_negative_zeros = self.count > 0 && !self.not_negative_zero;
        round_digits(&exact.digits, 0, self.flags(), all_negative_zeros)
    }
}

/// Digits a magnitude may take: an f64 sum's, and a window's two extension digits above its top.
const MAGNITUDE_DIGITS: usize = 72;
const _: () = assert!(<f64 as ExactFloat>::DIGITS + 2 <= MAGNITUDE_DIGITS);

/// Rounds once to `T` the normalized number `digits` (every digit in [0, 2^32) but the last,
/// which is signed) whose digit k weighs 2^(32 (base + k)) units of the smallest subnormal,
/// with the special values `flags` (`FLAG_*`) saw; a zero is -0.0 where `all_negative_zeros`.
pub(super) fn round_digits<T: ExactFloat>(
    digits: &[i64],
    base: usize,
    flags: u32,
    all_negative_zeros: bool,
) -> Rounded<T> {
    let special = |bits: u64| Rounded {
        value: T::from_bits(bits),
        overflow: false,
    };
    let sign_bit = 1u64 << (T::FRACTION_BITS + T::EXPONENT_BITS);
    let infinity = ((1u64 << T::EXPONENT_BITS) - 1) << T::FRACTION_BITS;
    let quiet_nan = infinity | 1 << (T::FRACTION_BITS - 1);
    let positive_infinity = flags & FLAG_POSITIVE_INFINITY != 0;
    let negative_infinity = flags & FLAG_NEGATIVE_INFINITY != 0;
    if flags & FLAG_NAN != 0 || (positive_infinity && negative_infinity) {
        return special(quiet_nan);
    }
    if positive_infinity {
        return special(infinity);
    }
    if negative_infinity {
        return special(sign_bit | infinity);
    }
    // The magnitude at its place among every digit (on the stack: an output's window is
    // rounded without allocating).
    let mut magnitude = [0u64; MAGNITUDE_DIGITS];
    let negative = digits[digits.len() - 1] < 0;
    let place = &mut magnitude[base..base + digits.len()];
    if negative {
        negate_into(digits, place);
    } else {
        for (to, &digit) in place.iter_mut().zip(digits) {
            *to = digit as u64;
        }
    }
    let sign = if negative { sign_bit } else { 0 };
    let Some(top) = highest_bit(&magnitude) else {
        return special(if all_negative_zeros { sign_bit } else { 0 });
    };
    let precision = T::FRACTION_BITS + 1;
    if top < precision as u64 {
        // Below 2^precision units the value is exact, and its bits are the units: a
        // subnormal's fraction, or the smallest exponent's significand.
        return special(sign | magnitude[0] | magnitude[1] << 32);
    }
    let drop = top + 1 - u64::from(precision);
    let mut significand = bits_at(&magnitude, drop, precision);
    let half = bits_at(&magnitude, drop - 1, 1) == 1;
    let below_half = any_bit_below(&magnitude, drop - 1);
    if half && (below_half || significand & 1 == 1) {
        significand += 1;
    }
    // significand * 2^drop units; its biased exponent is drop + 1 (as in `add_bits`).
    let mut exponent = drop + 1;
    if significand >> precision != 0 {
        significand >>= 1;
        exponent += 1;
    }
    let largest_exponent = (1u64 << T::EXPONENT_BITS) - 2;
    if exponent > largest_exponent {
        return Rounded {
            value: T::from_bits(sign | infinity),
            overflow: true,
        };
    }
    let fraction = significand & ((1u64 << T::FRACTION_BITS) - 1);
    special(sign | exponent << T::FRACTION_BITS | fraction)
}

/// The magnitude of a negative normalized number, digit by digit, into `magnitude`.
fn negate_into(digits: &[i64], magnitude: &mut [u64]) {
    let mut borrow = 0i64;
    for (to, &digit) in magnitude.iter_mut().zip(digits) {
        let value = -digit - borrow;
        borrow = i64::from(value < 0);
        *to = (value & 0xffff_ffff) as u64;
    }
}

/// The position of the highest set bit of 32-bit digits, if any is set.
fn highest_bit(digits: &[u64]) -> Option<u64> {
    let (k, &digit) = digits.iter().enumerate().rev().find(|(_, d)| **d != 0)?;
    Some(32 * k as u64 + 63 - u64::from(digit.leading_zeros()))
}

/// `len` (at most 57) bits of 32-bit digits from bit `low` up.
fn bits_at(digits: &[u64], low: u64, len: u32) -> u64 {
    let k = (low / 32) as usize;
    let mut window = 0u128;
    for (i, &digit) in digits[k..].iter().take(3).enumerate() {
        window |= u128::from(digit) << (32 * i);
    }
    ((window >> (low % 32)) as u64) & ((1u64 << len) - 1)
}

/// Whether any bit below bit `position` is set.
fn any_bit_below(digits: &[u64], position: u64) -> bool {
    let k = (position / 32) as usize;
    digits[..k].iter().any(|&d| d != 0) || digits[k] & ((1u64 << (position % 32)) - 1) != 0
}
