//! The exact total every sum ends in, whatever its element type ([`ArrayTotal`]), and the float
//! slices the library sums ([`FloatSlice`]).

use std::fmt;

use crate::Error;
use crate::array::{Dtype, ExactIntSum};
use crate::float::{ExactFloatSum, shortest_decimal};

/// A borrowed slice of `f32` or `f64` values.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum FloatSlice<'a> {
    /// f32 values.
    F32(&'a [f32]),
    /// f64 values.
    F64(&'a [f64]),
}

impl<'a> FloatSlice<'a> {
    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> Dtype {
        match self {
            FloatSlice::F32(_) => Dtype::F32,
            FloatSlice::F64(_) => Dtype::F64,
        }
    }

    /// Number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            FloatSlice::F32(values) => values.len(),
            FloatSlice::F64(values) => values.len(),
        }
    }

    /// Whether the slice holds no value.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values' bytes, in this machine's byte order.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            FloatSlice::F32(values) => bytemuck::cast_slice(values),
            FloatSlice::F64(values) => bytemuck::cast_slice(values),
        }
    }
}

impl<'a> From<&'a [f32]> for FloatSlice<'a> {
    fn from(values: &'a [f32]) -> Self {
        FloatSlice::F32(values)
    }
}

impl<'a> From<&'a [f64]> for FloatSlice<'a> {
    fn from(values: &'a [f64]) -> Self {
        FloatSlice::F64(values)
    }
}

/// The exact total of an array: an integer sum, or a float sum that [`fmt::Display`] rounds
/// once and prints as the shortest decimal that reads back (`nan`, `inf`, `-inf` spelled so).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArrayTotal {
    /// The sum of integer elements.
    Int(ExactIntSum),
    /// The exact sum of f32 values.
    F32(ExactFloatSum<f32>),
    /// The exact sum of f64 values.
    F64(ExactFloatSum<f64>),
}

impl ArrayTotal {
    /// The empty total for elements of `dtype`.
    #[must_use]
    pub fn new(dtype: Dtype) -> Self {
        match dtype {
            Dtype::F32 => ArrayTotal::F32(ExactFloatSum::new()),
            Dtype::F64 => ArrayTotal::F64(ExactFloatSum::new()),
            _ => ArrayTotal::Int(ExactIntSum::new()),
        }
    }

    /// Elements summed.
    #[must_use]
    pub fn count(&self) -> u64 {
        match self {
            ArrayTotal::Int(sum) => sum.count(),
            ArrayTotal::F32(sum) => sum.count(),
            ArrayTotal::F64(sum) => sum.count(),
        }
    }

    /// The integer sum, for integer elements.
    #[must_use]
    pub fn int(&self) -> Option<ExactIntSum> {
        match self {
            ArrayTotal::Int(sum) => Some(*sum),
            _ => None,
        }
    }

    /// The exact integer sum, for integer elements.
    #[must_use]
    pub fn int_sum(&self) -> Option<i128> {
        self.int().map(|sum| sum.sum())
    }

    /// Whether a float sum of finite values rounded beyond the largest finite value, to an
    /// infinity.
    #[must_use]
    pub fn overflow(&self) -> bool {
        match self {
            ArrayTotal::Int(_) => false,
            ArrayTotal::F32(sum) => sum.round().overflow,
            ArrayTotal::F64(sum) => sum.round().overflow,
        }
    }

    /// Adds another total of the same kind.
    ///
    /// # Errors
    /// [`Error::TooManyElements`] past 2^63 - 1 elements, and [`Error::InvalidAccumulator`]
    /// for totals of different kinds.
    pub fn merge(&mut self, other: &ArrayTotal) -> Result<(), Error> {
        match (self, other) {
            (ArrayTotal::Int(sum), ArrayTotal::Int(theirs)) => sum.merge(*theirs),
            (ArrayTotal::F32(sum), ArrayTotal::F32(theirs)) => sum.merge(theirs),
            (ArrayTotal::F64(sum), ArrayTotal::F64(theirs)) => sum.merge(theirs),
            _ => Err(Error::InvalidAccumulator {
                reason: "an integer sum and a float sum, or sums of different floats, cannot \
                         be merged"
                    .into(),
            }),
        }
    }
}

impl From<ExactIntSum> for ArrayTotal {
    fn from(sum: ExactIntSum) -> Self {
        ArrayTotal::Int(sum)
    }
}

impl fmt::Display for ArrayTotal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArrayTotal::Int(sum) => write!(f, "{}", sum.sum()),
            ArrayTotal::F32(sum) => f.write_str(&shortest_decimal(sum.round().value)),
            ArrayTotal::F64(sum) => f.write_str(&shortest_decimal(sum.round().value)),
        }
    }
}
