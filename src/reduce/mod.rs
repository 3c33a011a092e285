//! Sums along axes and by key: one exact total per output.
//!
//! A sum along axes reduces an n-dimensional array over some of its axes (negative ones count
//! from the end, as in numpy), leaving one sum per index of the others; a sum by key adds each
//! value to the total of its key. Both end in [`Outputs`]: one exact, mergeable accumulator per
//! output, integers in i128 and floats exactly, rounded once when read.

pub(crate) mod keys;
pub(crate) mod outputs;
pub(crate) mod sums;
pub(crate) mod walk;

pub use outputs::{Keys, Labels, Outputs};

/// Bytes each output of a sum along axes or by key of `dtype` elements takes while it is summed:
/// 16 for integers (an i128), 72 for floats (a window of eight digits; an output whose values
/// span more than about 160 binades also keeps a full exact sum, 570 bytes for f64), and by key 8
/// more for its count.
#[must_use]
pub fn bytes_per_output(dtype: crate::Dtype) -> usize {
    sums::Sums::bytes_per_output(dtype)
}
