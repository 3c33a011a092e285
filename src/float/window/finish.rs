//! Reading outputs out of their windows without a full sum each: one output rounded from its
//! window's digits, and every output's total in one full sum. (A full sum per output, 69
//! digits on the heap for f64, cost about half a microsecond an output: 2.3 ms of a 4096-row
//! sum along the last axis.)

use super::{FloatWindows, SPILLED, WIDTH};
use crate::Error;
use crate::float::round::round_digits;
use crate::float::{ExactFloat, ExactFloatSum, Rounded, parts};

/// Windows added to a total between its normalizations: each adds less than 2^32 in magnitude
/// to a digit but the last (see [`FloatWindows::total`]), so a digit stays below 2^62.
const WINDOWS_PER_NORMALIZE: usize = 1 << 29;

impl<T: ExactFloat> FloatWindows<T> {
    /// Output `i`'s sum of `count` values, rounded once; `None` for a count past 2^63 - 1.
    pub(crate) fn rounded(&self, i: usize, count: u64) -> Option<Rounded<T>> {
        if count > crate::array::MAX_ELEMENTS {
            return None;
        }
        let mut window = self.windows[i];
        if window.base == SPILLED {
            return Some(self.sum(i, count).ok()?.round());
        }
        let flags = u32::from(window.flags);
        let all_negative_zeros = count > 0 && flags & parts::FLAG_NOT_NEGATIVE_ZERO == 0;
        if !window.holds_digits() {
            return Some(round_digits::<T>(&[0], 0, flags, all_negative_zeros));
        }
        window.normalize();
        let digits = window.extended();
        let base = usize::from(window.base);
        Some(round_digits::<T>(&digits, base, flags, all_negative_zeros))
    }

    /// Every output's sum together, of `count` values.
    ///
    /// # Errors
    /// [`Error::TooManyElements`] for a count past 2^63 - 1.
    pub(crate) fn total(&self, count: u64) -> Result<ExactFloatSum<T>, Error> {
        let mut total = ExactFloatSum::new();
        let last = T::DIGITS - 1;
        for (k, window) in self.windows.iter().enumerate() {
            total.raise(u32::from(window.flags));
            if window.base == SPILLED {
                total.add_digits(&self.spilled[window.digits[0] as usize]);
                continue;
            }
            if !window.holds_digits() {
                continue;
            }
            if k % WINDOWS_PER_NORMALIZE == WINDOWS_PER_NORMALIZE - 1 {
                total.normalize();
            }
            let mut window = *window;
            window.normalize();
            // Every digit but the top below 2^32, and the top, signed, in two pieces below
            // 2^32 (or whole in the total's last digit, which is signed).
            let base = usize::from(window.base);
            let (low, high) = window.digits.split_at(WIDTH - 1);
            for (to, &digit) in total.digits[base..].iter_mut().zip(low) {
                *to += digit;
            }
            let (top, high) = (base + WIDTH - 1, high[0]);
            if top == last {
                total.digits[top] += high;
            } else {
                total.digits[top] += high & 0xffff_ffff;
                total.digits[top + 1] += high >> 32;
            }
        }
        total.normalize();
        total.set_count(count)?;
        Ok(total)
    }
}
