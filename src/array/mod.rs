//! Arrays: their element types (integers, and the floats of [`crate::float`]), byte orders,
//! borrowed slices, and the exact, mergeable totals every array sum ends in.
//!
//! Every path (the GPU kernels, the CPU twin, the streams of the CLI) adds *biased* values: a
//! signed element `v` of `bits` bits becomes `v + 2^(bits-1)`, so every limb is unsigned, and one
//! subtraction per chunk removes the bias (`unbias`).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::Error;

mod bytes;

/// An element type: an integer, or an IEEE 754 float summed exactly and rounded once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Dtype {
    /// Signed 8-bit.
    I8,
    /// Signed 16-bit.
    I16,
    /// Signed 32-bit.
    I32,
    /// Signed 64-bit.
    I64,
    /// Unsigned 8-bit.
    U8,
    /// Unsigned 16-bit.
    U16,
    /// Unsigned 32-bit.
    U32,
    /// Unsigned 64-bit.
    U64,
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
}

impl Dtype {
    /// Every type: the integers, then the floats.
    pub const ALL: [Dtype; 10] = {
        let mut all = [Dtype::F64; 10];
        all[8] = Dtype::F32;
        let mut i = 0;
        while i < Self::INTEGERS.len() {
            all[i] = Self::INTEGERS[i];
            i += 1;
        }
        all
    };

    /// The integer types, signed first, narrowest first.
    pub const INTEGERS: [Dtype; 8] = [
        Dtype::I8,
        Dtype::I16,
        Dtype::I32,
        Dtype::I64,
        Dtype::U8,
        Dtype::U16,
        Dtype::U32,
        Dtype::U64,
    ];

    /// Lower-case name, as the CLI and JSON spell it: "i64", "u8".
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Dtype::I8 => "i8",
            Dtype::I16 => "i16",
            Dtype::I32 => "i32",
            Dtype::I64 => "i64",
            Dtype::U8 => "u8",
            Dtype::U16 => "u16",
            Dtype::U32 => "u32",
            Dtype::U64 => "u64",
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }

    /// Bytes per element.
    #[must_use]
    pub const fn size(self) -> usize {
        match self {
            Dtype::I8 | Dtype::U8 => 1,
            Dtype::I16 | Dtype::U16 => 2,
            Dtype::I32 | Dtype::U32 | Dtype::F32 => 4,
            Dtype::I64 | Dtype::U64 | Dtype::F64 => 8,
        }
    }

    /// Whether elements are floats (summed exactly, rounded once), not integers.
    #[must_use]
    pub const fn is_float(self) -> bool {
        matches!(self, Dtype::F32 | Dtype::F64)
    }

    /// Whether elements are signed integers (two's complement).
    #[must_use]
    pub const fn is_signed(self) -> bool {
        matches!(self, Dtype::I8 | Dtype::I16 | Dtype::I32 | Dtype::I64)
    }

    /// What each element gains from the bias: 2^(bits-1) for signed integers, 0 for unsigned
    /// ones (and floats, which are not biased).
    #[must_use]
    pub const fn bias(self) -> u64 {
        if self.is_signed() {
            1 << (8 * self.size() - 1)
        } else {
            0
        }
    }

    /// The smallest and largest value of an integer type, as i128 (for a float, (0, 0): its
    /// values are not integers).
    #[must_use]
    pub const fn bounds(self) -> (i128, i128) {
        if self.is_float() {
            return (0, 0);
        }
        let bits = 8 * self.size() as u32;
        if self.is_signed() {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dtype {
    type Err = crate::kernel::UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|dtype| dtype.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| crate::kernel::UnknownName {
                kind: "element type",
                name: text.to_owned(),
                expected: Self::ALL.map(Dtype::name).to_vec(),
            })
    }
}

/// How an element's bytes are ordered in a file or stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ByteOrder {
    /// Least significant byte first (every platform gpusum runs on, and .npy's `<`).
    #[default]
    Little,
    /// Most significant byte first (.npy's `>`, network order).
    Big,
}

impl ByteOrder {
    /// The order of this machine's memory.
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "big") {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };

    /// `little` or `big`, as the CLI's JSON and the page name it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ByteOrder::Little => "little",
            ByteOrder::Big => "big",
        }
    }
}

/// A borrowed slice of one integer type: what the library's array sums take.
///
/// ```
/// use gpusum::IntSlice;
/// let values = [i64::MAX, i64::MAX, -1];
/// let slice = IntSlice::from(&values[..]);
/// assert_eq!((slice.len(), slice.dtype().name()), (3, "i64"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IntSlice<'a> {
    /// i8 elements.
    I8(&'a [i8]),
    /// i16 elements.
    I16(&'a [i16]),
    /// i32 elements.
    I32(&'a [i32]),
    /// i64 elements.
    I64(&'a [i64]),
    /// u8 elements.
    U8(&'a [u8]),
    /// u16 elements.
    U16(&'a [u16]),
    /// u32 elements.
    U32(&'a [u32]),
    /// u64 elements.
    U64(&'a [u64]),
}

macro_rules! int_slices {
    ($($variant:ident $ty:ty),*) => {
        impl<'a> IntSlice<'a> {
            /// The element type.
            #[must_use]
            pub fn dtype(&self) -> Dtype {
                match self {
                    $(IntSlice::$variant(_) => Dtype::$variant,)*
                }
            }

            /// Number of elements.
            #[must_use]
            pub fn len(&self) -> usize {
                match self {
                    $(IntSlice::$variant(values) => values.len(),)*
                }
            }

            /// The elements' bytes, in this machine's byte order.
            #[must_use]
            pub fn as_bytes(&self) -> &'a [u8] {
                match self {
                    $(IntSlice::$variant(values) => bytemuck::cast_slice(values),)*
                }
            }

            /// `bytes` as elements of `dtype` in this machine's byte order, where `dtype` is an
            /// integer type and they are a whole number of elements aligned for it; `None`
            /// otherwise.
            #[must_use]
            pub fn from_bytes(dtype: Dtype, bytes: &'a [u8]) -> Option<Self> {
                match dtype {
                    $(Dtype::$variant => bytemuck::try_cast_slice(bytes).ok().map(IntSlice::$variant),)*
                    Dtype::F32 | Dtype::F64 => None,
                }
            }

            /// The plainest exact sum: every element widened to i128 and added in order. The
            /// oracle for tests, never a measured path.
            #[must_use]
            pub fn reference_sum(&self) -> i128 {
                match self {
                    $(IntSlice::$variant(values) => {
                        values.iter().map(|&value| value as i128).sum()
                    })*
                }
            }
        }

        $(impl<'a> From<&'a [$ty]> for IntSlice<'a> {
            fn from(values: &'a [$ty]) -> Self {
                IntSlice::$variant(values)
            }
        })*
    };
}

int_slices!(I8 i8, I16 i16, I32 i32, I64 i64, U8 u8, U16 u16, U32 u32, U64 u64);

impl IntSlice<'_> {
    /// Whether the slice holds no element.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Most elements one [`ExactIntSum`] takes: fewer than 2^63 elements of magnitude below 2^64 sum
/// to less than 2^127 in magnitude, so the i128 total cannot overflow.
pub const MAX_ELEMENTS: u64 = (1 << 63) - 1;

/// An exact running sum of integer elements, mergeable: sum chunks or streams anywhere and
/// combine the parts in any order.
///
/// ```
/// use gpusum::ExactIntSum;
/// let mut left = ExactIntSum::new();
/// left.add_values([u64::MAX, u64::MAX].map(i128::from))?;
/// let mut right = ExactIntSum::new();
/// right.add_values([-5i128])?;
/// left.merge(right)?;
/// assert_eq!((left.sum(), left.count()), (2 * u64::MAX as i128 - 5, 3));
/// # Ok::<(), gpusum::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ExactIntSum {
    sum: i128,
    count: u64,
}

impl ExactIntSum {
    /// The empty sum.
    #[must_use]
    pub const fn new() -> Self {
        Self { sum: 0, count: 0 }
    }

    /// A part already summed elsewhere: `count` elements that add up to `sum`.
    ///
    /// # Errors
    /// [`Error::TooManyElements`] when `count` passes [`MAX_ELEMENTS`].
    pub fn from_parts(sum: i128, count: u64) -> Result<Self, Error> {
        if count > MAX_ELEMENTS {
            return Err(Error::TooManyElements);
        }
        Ok(Self { sum, count })
    }

    /// Adds values of magnitude below 2^64 (any integer element widened to i128).
    ///
    /// # Errors
    /// [`Error::TooManyElements`] past [`MAX_ELEMENTS`] elements.
    pub fn add_values(&mut self, values: impl IntoIterator<Item = i128>) -> Result<(), Error> {
        for value in values {
            debug_assert!(value.unsigned_abs() < 1 << 64);
            self.merge(Self {
                sum: value,
                count: 1,
            })?;
        }
        Ok(())
    }

    /// Adds another part's elements.
    ///
    /// # Errors
    /// [`Error::TooManyElements`] when the two parts together pass [`MAX_ELEMENTS`]; `self` is
    /// left as it was.
    pub fn merge(&mut self, other: ExactIntSum) -> Result<(), Error> {
        let count = self
            .count
            .checked_add(other.count)
            .filter(|&count| count <= MAX_ELEMENTS)
            .ok_or(Error::TooManyElements)?;
        // Both parts hold fewer than 2^63 elements below 2^64 together: |sum| < 2^127.
        self.sum += other.sum;
        self.count = count;
        Ok(())
    }

    /// The exact sum so far.
    #[must_use]
    pub const fn sum(&self) -> i128 {
        self.sum
    }

    /// Elements added so far.
    #[must_use]
    pub const fn count(&self) -> u64 {
        self.count
    }
}

/// Puts big-endian elements of `dtype` into little-endian order, in place.
pub(crate) fn swap_to_little_endian(dtype: Dtype, bytes: &mut [u8]) {
    fn swap<T: bytemuck::Pod>(bytes: &mut [u8], swap: fn(T) -> T) {
        match bytemuck::try_cast_slice_mut::<u8, T>(bytes) {
            Ok(values) => values.iter_mut().for_each(|v| *v = swap(*v)),
            Err(_) => bytes
                .chunks_exact_mut(size_of::<T>())
                .for_each(|chunk| chunk.reverse()),
        }
    }
    match dtype.size() {
        2 => swap::<u16>(bytes, u16::swap_bytes),
        4 => swap::<u32>(bytes, u32::swap_bytes),
        8 => swap::<u64>(bytes, u64::swap_bytes),
        _ => {}
    }
}

impl ExactIntSum {
    /// Adds a part summed biased: `count` elements of `dtype` whose biased values sum to `biased`.
    pub(crate) fn add_biased(
        &mut self,
        dtype: Dtype,
        biased: u128,
        count: u64,
    ) -> Result<(), Error> {
        self.merge(Self::from_parts(unbias(dtype, biased, count), count)?)
    }
}

/// The true sum of `count` elements of `dtype` whose biased values sum to `biased`.
pub(crate) fn unbias(dtype: Dtype, biased: u128, count: u64) -> i128 {
    // biased < count * 2^64 < 2^127, and count * bias <= 2^63 * 2^63.
    biased as i128 - count as i128 * dtype.bias() as i128
}

#[cfg(test)]
mod tests;
