//! Exact sums of `f32` and `f64` values, rounded once: [`ExactFloatSum`].
//!
//! Every finite value is an integer multiple of the type's smallest subnormal, 2^-1074 for `f64`
//! and 2^-149 for `f32`. The accumulator keeps the exact sum of those integers in 32-bit digits,
//! each held in an `i64` so that carries can wait, and rounds the total once, to nearest with ties
//! to even. Many values at once go first into bins, one per sign and exponent (bins.rs): one
//! integer add per value; on x86-64 and AArch64, blocks of moderate range go instead into `f64`
//! vector lanes where every add is exact by its bound (lanes/), and become integers every few
//! adds. Every operation on the values is exact, so the result does not depend on the order of
//! the additions, on how the data was split, or on the machine: the same bits everywhere.

use std::marker::PhantomData;

use crate::Error;
use crate::array::{ByteOrder, Dtype, MAX_ELEMENTS};
use crate::control::Control;

mod bins;
use bins::Bins;
mod bytes;
mod columns;
pub(crate) use columns::{ColumnBins, MAX_COLUMNS, TILE as COLUMN_TILE};
mod decode;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod lanes;
pub(crate) use decode::prefetch;
#[cfg(target_arch = "x86_64")]
pub(crate) use lanes::ColumnLanes;
mod parts;
#[cfg(feature = "tools")]
mod plain;
mod round;
mod text;
mod window;

pub(crate) use parts::{
    FLAG_NAN, FLAG_NEGATIVE_INFINITY, FLAG_NOT_NEGATIVE_ZERO, FLAG_POSITIVE_INFINITY,
};
#[cfg(feature = "tools")]
pub use plain::plain_sum;
pub use text::shortest_decimal;
pub(crate) use window::FloatWindows;

/// Additions between carry propagations. Each adds less than 2^32 in magnitude to a digit, and a
/// normalized digit is below 2^32, so a digit stays below 2^32 + 2^30 * 2^32 < 2^63.
const ADDS_PER_NORMALIZE: u32 = 1 << 30;

/// Values from which a sum goes through bins (bins.rs): below, one at a time into the digits is
/// cheaper than placing the bins (on the 2-core CI-class Xeon, AVX-512: 256 values 0.55 µs one
/// at a time and 0.69 µs binned for f32, 1.01 and 0.81 µs for f64; 1024 values: 2.2 and 1.1 µs,
/// 3.9 and 1.3 µs).
const BINNED_VALUES: usize = 1 << 9;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`: the floating-point types [`ExactFloatSum`] sums.
pub trait ExactFloat:
    bytemuck::Pod
    + sealed::Sealed
    + std::fmt::Debug
    + std::fmt::Display
    + std::fmt::LowerExp
    + Into<f64>
{
    /// Stored fraction bits: 23 or 52.
    const FRACTION_BITS: u32;
    /// Exponent bits: 8 or 11.
    const EXPONENT_BITS: u32;
    /// 32-bit digits of the accumulator. The largest finite value is below 2^277 units of the
    /// smallest subnormal for f32 and 2^2098 for f64; fewer than 2^63 of them stay below
    /// 2^(that + 63), and one more digit holds the sign.
    const DIGITS: usize;
    /// The type's tag in the byte format: its size in bytes.
    const TAG: u8;
    /// The element type it is.
    const DTYPE: Dtype;
    /// The raw bits, widened.
    fn bits(self) -> u64;
    /// The value with these bits.
    fn from_bits(bits: u64) -> Self;
}

impl ExactFloat for f32 {
    const FRACTION_BITS: u32 = 23;
    const EXPONENT_BITS: u32 = 8;
    const DIGITS: usize = (277 + 63) / 32 + 2;
    const TAG: u8 = 4;
    const DTYPE: Dtype = Dtype::F32;
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn from_bits(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
}

impl ExactFloat for f64 {
    const FRACTION_BITS: u32 = 52;
    const EXPONENT_BITS: u32 = 11;
    const DIGITS: usize = (2098 + 63) / 32 + 2;
    const TAG: u8 = 8;
    const DTYPE: Dtype = Dtype::F64;
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn from_bits(bits: u64) -> Self {
        f64::from_bits(bits)
    }
}

/// A rounded sum and whether a finite exact sum rounded to an infinity.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Rounded<T> {
    /// The exact sum rounded once to nearest, ties to even (or NaN or an infinity, per IEEE 754).
    pub value: T,
    /// The inputs were finite, but their exact sum lies beyond the largest finite value.
    pub overflow: bool,
}

/// The exact sum of `f32` or `f64` values, mergeable and serializable; [`ExactFloatSum::round`]
/// rounds it once.
///
/// Special values follow IEEE 754: any NaN gives NaN; +inf with -inf gives NaN; otherwise an
/// infinity gives that infinity. An exact zero is +0.0, except -0.0 when every input was -0.0;
/// the empty sum is +0.0.
///
/// ```
/// use gpusum::ExactFloatSum;
/// let mut sum = ExactFloatSum::<f64>::new();
/// sum.add_slice(&[1e308, 1.0, -1e308])?;
/// assert_eq!(sum.round().value, 1.0); // a plain loop gives 0.0
/// # Ok::<(), gpusum::Error>(())
/// ```
#[derive(Clone)]
pub struct ExactFloatSum<T> {
    /// The finite values' sum in units of the smallest subnormal: digit k weighs 2^(32 k).
    digits: Vec<i64>,
    /// Additions since the digits were last normalized.
    pending: u32,
    count: u64,
    nan: bool,
    positive_infinity: bool,
    negative_infinity: bool,
    /// Whether any input was other than -0.0.
    not_negative_zero: bool,
    kind: PhantomData<T>,
}

/// Equal sums (the same values added, in any order and split) are equal, and so are their bytes.
impl<T: ExactFloat> PartialEq for ExactFloatSum<T> {
    fn eq(&self, other: &Self) -> bool {
        self.to_bytes() == other.to_bytes()
    }
}

impl<T: ExactFloat> Eq for ExactFloatSum<T> {}

impl<T: ExactFloat> std::hash::Hash for ExactFloatSum<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_bytes().hash(state);
    }
}

impl<T: ExactFloat> Default for ExactFloatSum<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: ExactFloat> std::fmt::Debug for ExactFloatSum<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactFloatSum")
            .field("count", &self.count)
            .field("rounded", &self.round().value)
            .finish_non_exhaustive()
    }
}

impl<T: ExactFloat> ExactFloatSum<T> {
    /// The empty sum.
    #[must_use]
    pub fn new() -> Self {
        Self {
            digits: vec![0; T::DIGITS],
            pending: 0,
            count: 0,
            nan: false,
            positive_infinity: false,
            negative_infinity: false,
            not_negative_zero: false,
            kind: PhantomData,
        }
    }

    /// Values added so far.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds one value.
    ///
    /// # Errors
    /// [`Error::TooManyElements`] past 2^63 - 1 values.
    pub fn add(&mut self, value: T) -> Result<(), Error> {
        self.add_slice(std::slice::from_ref(&value))
    }

    /// Adds every value of `values`.
    ///
    /// # Errors
    /// [`Error::TooManyElements`] past 2^63 - 1 values; nothing is added then.
    pub fn add_slice(&mut self, values: &[T]) -> Result<(), Error> {
        let count = self
            .count
            .checked_add(values.len() as u64)
            .filter(|&count| count <= MAX_ELEMENTS)
            .ok_or(Error::TooManyElements)?;
        if values.len() >= BINNED_VALUES {
            let mut bins = Bins::new(crate::cpu::Isa::best());
            bins.add(self, values);
            bins.finish(self);
        } else {
            self.add_each(values);
        }
        self.count = count;
        Ok(())
    }

    /// Adds values one at a time into the digits; counts nothing.
    fn add_each(&mut self, values: &[T]) {
        let mut rest = values;
        while !rest.is_empty() {
            if self.pending == ADDS_PER_NORMALIZE {
                self.normalize();
            }
            let room = (ADDS_PER_NORMALIZE - self.pending) as usize;
            let (block, after) = rest.split_at(room.min(rest.len()));
            for &value in block {
                self.add_bits(value.bits());
            }
            // Counts specials too: fewer carries to wait for, never more.
            self.pending += block.len() as u32;
            rest = after;
        }
    }

    /// Adds one value's bits; the caller counts it in `pending`.
    #[inline(always)]
    fn add_bits(&mut self, bits: u64) {
        let fraction_bits = T::FRACTION_BITS;
        let exponent_mask = (1u64 << T::EXPONENT_BITS) - 1;
        let sign_bit = 1u64 << (fraction_bits + T::EXPONENT_BITS);
        let exponent = (bits >> fraction_bits) & exponent_mask;
        let fraction = bits & ((1u64 << fraction_bits) - 1);
        self.not_negative_zero |= bits != sign_bit;
        if exponent == exponent_mask {
            self.add_special(bits & sign_bit != 0, fraction != 0);
            return;
        }
        // value = significand * 2^shift units of the smallest subnormal.
        let normal = u64::from(exponent != 0);
        let significand = fraction | normal << fraction_bits;
        self.add_shifted(
            significand,
            (exponent - normal) as u32,
            bits & sign_bit != 0,
        );
    }

    /// Adds (or subtracts) `magnitude * 2^shift` units as one counted addition, normalizing
    /// first when the digits have taken as many as they can: for sums gathered elsewhere (the
    /// bins, the lanes).
    fn add_gathered(&mut self, magnitude: u64, shift: u32, negative: bool) {
        if magnitude == 0 {
            return;
        }
        if self.pending >= ADDS_PER_NORMALIZE {
            self.normalize();
        }
        self.pending += 1;
        self.add_shifted(magnitude, shift, negative);
    }

    /// Adds (or subtracts) `magnitude * 2^shift` units: less than 2^32 to each of three digits.
    #[inline(always)]
    fn add_shifted(&mut self, magnitude: u64, shift: u32, negative: bool) {
        // At most 64 + 31 bits, over three digits.
        let wide = u128::from(magnitude) << (shift % 32);
        self.add_shifted_at(wide, (shift / 32) as usize, negative);
    }

    /// Adds (or subtracts) `wide` (below 2^96) at digit `digit`: less than 2^32 to each of three
    /// digits.
    #[inline(always)]
    fn add_shifted_at(&mut self, wide: u128, digit: usize, negative: bool) {
        // 0 for a positive value, -1 for a negative one: (piece ^ flip) - flip negates.
        let flip = -i64::from(negative);
        let digits = &mut self.digits[digit..digit + 3];
        for (k, slot) in digits.iter_mut().enumerate() {
            let piece = i64::from((wide >> (32 * k)) as u32);
            *slot += (piece ^ flip) - flip;
        }
    }

    /// Notes an infinity or a NaN among values' bits (and nothing else).
    fn add_if_special(&mut self, bits: u64) {
        let exponent_mask = (1u64 << T::EXPONENT_BITS) - 1;
        if (bits >> T::FRACTION_BITS) & exponent_mask == exponent_mask {
            let sign_bit = 1u64 << (T::FRACTION_BITS + T::EXPONENT_BITS);
            let fraction = bits & ((1u64 << T::FRACTION_BITS) - 1);
            self.add_special(bits & sign_bit != 0, fraction != 0);
        }
    }

    #[cold]
    fn add_special(&mut self, negative: bool, nan: bool) {
        match (nan, negative) {
            (true, _) => self.nan = true,
            (false, false) => self.positive_infinity = true,
            (false, true) => self.negative_infinity = true,
        }
    }

    /// Propagates carries: every digit but the last in [0, 2^32), the last signed.
    fn normalize(&mut self) {
        let mut carry = 0i64;
        let last = self.digits.len() - 1;
        for digit in &mut self.digits[..last] {
            let value = *digit + carry;
            carry = value >> 32;
            *digit = value & 0xffff_ffff;
        }
        self.digits[last] += carry;
        self.pending = 0;
    }

    /// Adds another sum's values.
    ///
    /// # Errors
    /// [`Error::TooManyElements`] when the two together pass 2^63 - 1 values; `self` is left as
    /// it was.
    pub fn merge(&mut self, other: &ExactFloatSum<T>) -> Result<(), Error> {
        let count = self
            .count
            .checked_add(other.count)
            .filter(|&count| count <= MAX_ELEMENTS)
            .ok_or(Error::TooManyElements)?;
        let mut other = other.clone();
        other.normalize();
        self.normalize();
        // Both normalized: each digit below 2^32 in magnitude (the last below 2^31), so a digit
        // of the two together stays below 2^33.
        for (digit, theirs) in self.digits.iter_mut().zip(&other.digits) {
            *digit += theirs;
        }
        self.normalize();
        self.count = count;
        self.nan |= other.nan;
        self.positive_infinity |= other.positive_infinity;
        self.negative_infinity |= other.negative_infinity;
        self.not_negative_zero |= other.not_negative_zero;
        Ok(())
    }
}

/// Values per rayon task of [`sum_parallel`]: enough to pay for a task and a merge.
pub(crate) const PIECE_VALUES: usize = 1 << 16;

/// The exact sum of `values` on every rayon thread: pieces summed apart and merged. The result,
/// bytes and all, is the same as one thread's, whatever the pool.
///
/// # Errors
/// [`Error::Cancelled`] or [`Error::Timeout`] from `control` (checked once per piece), and
/// [`Error::TooManyElements`] past 2^63 - 1 values.
pub fn sum_parallel<T: ExactFloat + Send + Sync>(
    values: &[T],
    control: &Control,
) -> Result<ExactFloatSum<T>, Error> {
    sum_bytes(
        bytemuck::cast_slice(values),
        ByteOrder::NATIVE,
        true,
        crate::cpu::Isa::best(),
        control,
    )
}

/// The exact sum of whole values stored as `bytes` in `order` (any alignment), in pieces of
/// [`PIECE_VALUES`] summed on the rayon pool (`parallel`) or this thread and merged, decoding
/// with `isa`; `control` is checked once per piece.
pub(crate) fn sum_bytes<T: ExactFloat + Send + Sync>(
    bytes: &[u8],
    order: ByteOrder,
    parallel: bool,
    isa: crate::cpu::Isa,
    control: &Control,
) -> Result<ExactFloatSum<T>, Error> {
    use rayon::prelude::*;
    let parallel = parallel && crate::cpu::HAS_THREADS;
    let piece_bytes = PIECE_VALUES * usize::from(T::TAG);
    if bytes.len() / usize::from(T::TAG) < BINNED_VALUES {
        control.check()?;
        let mut sum = ExactFloatSum::new();
        sum.add_bytes_to(bytes, order, None)?;
        return Ok(sum);
    }
    // Each thread keeps one set of bins over the pieces it sums, and places them once.
    let add_piece = |(mut sum, mut bins): (ExactFloatSum<T>, Bins<T>), piece: &[u8]| {
        control.check()?;
        sum.add_bytes_to(piece, order, Some(&mut bins))?;
        Ok((sum, bins))
    };
    let placed = |(mut sum, bins): (ExactFloatSum<T>, Bins<T>)| {
        bins.finish(&mut sum);
        sum
    };
    let start = || (ExactFloatSum::new(), Bins::new(isa));
    if parallel {
        bytes
            .par_chunks(piece_bytes)
            .try_fold(start, add_piece)
            .map(|state| state.map(placed))
            .try_reduce(ExactFloatSum::new, |mut left, right| {
                left.merge(&right)?;
                Ok(left)
            })
    } else {
        let state = bytes.chunks(piece_bytes).try_fold(start(), add_piece)?;
        Ok(placed(state))
    }
}
