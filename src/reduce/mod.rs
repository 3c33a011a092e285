//! Sums along axes and by key: one exact total per output.
//!
//! A sum along axes reduces an n-dimensional array over some of its axes (negative ones count
//! from the end, as in numpy), leaving one sum per index of the others; a sum by key adds each
//! value to the total of its key. Both end in [`Outputs`]: one exact, mergeable accumulator per
//! output, integers in i128 and floats exactly, rounded once when read.

pub(crate) mod keys;
pub(crate) mod outputs;
pub(crate) mod walk;

pub use outputs::{Keys, Labels, Outputs};
