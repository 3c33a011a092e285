//! The exact float sum's byte format: fixed-endian and versioned, for sums that cross processes
//! and machines.

use std::marker::PhantomData;

use super::parts::{FLAG_NAN, FLAG_NEGATIVE_INFINITY, FLAG_POSITIVE_INFINITY};
use super::{ExactFloat, ExactFloatSum};
use crate::Error;
use crate::array::MAX_ELEMENTS;

/// The byte format's first bytes.
const MAGIC: &[u8; 4] = b"GSXF";
/// The byte format's version.
const FORMAT_VERSION: u8 = 1;

impl<T: ExactFloat> ExactFloatSum<T> {
    /// The sum as bytes, in a fixed, versioned format that any machine reads back:
    ///
    /// | bytes | content |
    /// | --- | --- |
    /// | 0..4 | `GSXF` |
    /// | 4 | format version, 1 |
    /// | 5 | the type: 4 for `f32`, 8 for `f64` |
    /// | 6 | flags: 1 a NaN, 2 +inf, 4 -inf (neither with a NaN), 8 a value other than -0.0 |
    /// | 7 | 0 |
    /// | 8..16 | the count of values, u64 little-endian |
    /// | 16.. | the finite values' exact sum in units of the smallest subnormal: 32-bit digits, least significant first, each as an i64 little-endian; every digit but the last in [0, 2^32), the last (the sign) in [-2^31, 2^31). 12 digits for `f32`, 69 for `f64`. |
    ///
    /// Equal sums give equal bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut exact = self.clone();
        exact.normalize();
        // With a NaN the sum is NaN whatever else is added: the infinities are not written, so
        // that equal sums have equal bytes however their infinities were seen.
        let infinities = FLAG_POSITIVE_INFINITY | FLAG_NEGATIVE_INFINITY;
        let flags = match self.flags() {
            flags if flags & FLAG_NAN != 0 => flags & !infinities,
            flags => flags,
        } as u8;
        let mut bytes = Vec::with_capacity(16 + 8 * T::DIGITS);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&[FORMAT_VERSION, T::TAG, flags, 0]);
        bytes.extend_from_slice(&self.count.to_le_bytes());
        for digit in &exact.digits {
            bytes.extend_from_slice(&digit.to_le_bytes());
        }
        bytes
    }

    /// Reads what [`ExactFloatSum::to_bytes`] wrote.
    ///
    /// # Errors
    /// [`Error::InvalidAccumulator`] when the bytes are not a sum of this type in format 1.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidAccumulator { reason };
        let expected = 16 + 8 * T::DIGITS;
        if bytes.len() != expected {
            return Err(invalid(format!(
                "{} bytes, where a sum of {}-byte floats has {expected}",
                bytes.len(),
                T::TAG
            )));
        }
        if &bytes[..4] != MAGIC {
            return Err(invalid("it does not start with GSXF".into()));
        }
        if bytes[4] != FORMAT_VERSION {
            return Err(invalid(format!("format version {}, not 1", bytes[4])));
        }
        if bytes[5] != T::TAG {
            return Err(invalid(format!(
                "a sum of {}-byte floats, not of {}-byte ones",
                bytes[5],
                T::TAG
            )));
        }
        let flags = bytes[6];
        if flags > 0b1111 || bytes[7] != 0 {
            return Err(invalid("unknown flags".into()));
        }
        let count = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        if count > MAX_ELEMENTS {
            return Err(invalid("a count past 2^63 - 1".into()));
        }
        let digits: Vec<i64> = bytes[16..]
            .chunks_exact(8)
            .map(|chunk| i64::from_le_bytes(chunk.try_into().expect("8 bytes")))
            .collect();
        let (&last, rest) = digits.split_last().expect("at least one digit");
        if rest.iter().any(|d| !(0..1 << 32).contains(d)) || !(-(1 << 31)..1 << 31).contains(&last)
        {
            return Err(invalid("digits out of their ranges".into()));
        }
        let mut sum = Self {
            digits,
            pending: 0,
            count,
            nan: false,
            positive_infinity: false,
            negative_infinity: false,
            not_negative_zero: false,
            kind: PhantomData,
        };
        sum.raise(u32::from(flags));
        Ok(sum)
    }
}
