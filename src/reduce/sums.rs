//! The accumulators of a sum along axes or by key, one exact sum per output, which the CPU
//! twins and the GPU kernels add to.

use crate::Error;
use crate::array::{Dtype, ExactIntSum};
use crate::float::FloatWindows;
use crate::total::ArrayTotal;

/// One exact sum per output, of one element type: integers as i128 (no count: the outputs
/// keep theirs), floats in windows ([`FloatWindows`]: 72 bytes an output while its values span
/// fewer than about 160 binades, a full sum beside it past that).
#[derive(Clone, Debug)]
pub(crate) enum Sums {
    /// Integer outputs. Each is below 2^127 in magnitude: fewer than 2^63 elements, each below
    /// 2^64.
    Int(Vec<i128>),
    /// f32 outputs.
    F32(FloatWindows<f32>),
    /// f64 outputs.
    F64(FloatWindows<f64>),
}

impl Sums {
    /// `outputs` empty sums of `dtype` elements.
    pub(crate) fn new(dtype: Dtype, outputs: usize) -> Self {
        match dtype {
            Dtype::F32 => Sums::F32(FloatWindows::new(outputs)),
            Dtype::F64 => Sums::F64(FloatWindows::new(outputs)),
            _ => Sums::Int(vec![0; outputs]),
        }
    }

    /// Number of outputs.
    pub(crate) fn len(&self) -> usize {
        match self {
            Sums::Int(sums) => sums.len(),
            Sums::F32(sums) => sums.len(),
            Sums::F64(sums) => sums.len(),
        }
    }

    /// Bytes each output takes (floats: while it has not spilled).
    pub(crate) fn bytes_per_output(dtype: Dtype) -> usize {
        match dtype {
            Dtype::F32 => FloatWindows::<f32>::BYTES_PER_OUTPUT,
            Dtype::F64 => FloatWindows::<f64>::BYTES_PER_OUTPUT,
            _ => size_of::<i128>(),
        }
    }

    /// Appends `more` empty outputs.
    pub(crate) fn grow(&mut self, more: usize) {
        match self {
            Sums::Int(sums) => sums.resize(sums.len() + more, 0),
            Sums::F32(sums) => sums.grow(more),
            Sums::F64(sums) => sums.grow(more),
        }
    }

    /// Adds output `j` of `other` (of the same type) to output `i`.
    pub(crate) fn merge_from(&mut self, i: usize, other: &Sums, j: usize) {
        match (self, other) {
            (Sums::Int(ours), Sums::Int(theirs)) => ours[i] += theirs[j],
            (Sums::F32(ours), Sums::F32(theirs)) => ours.merge_from(i, theirs, j),
            (Sums::F64(ours), Sums::F64(theirs)) => ours.merge_from(i, theirs, j),
            _ => unreachable!("sums of one request share their type"),
        }
    }

    /// Output `j` of `other` (of the same type) as output `i`, which has had nothing added.
    pub(crate) fn copy_from(&mut self, i: usize, other: &Sums, j: usize) {
        match (self, other) {
            (Sums::Int(ours), Sums::Int(theirs)) => ours[i] = theirs[j],
            (Sums::F32(ours), Sums::F32(theirs)) => ours.copy_from(i, theirs, j),
            (Sums::F64(ours), Sums::F64(theirs)) => ours.copy_from(i, theirs, j),
            _ => unreachable!("sums of one request share their type"),
        }
    }

    /// The first output's address and the bytes from one output to the next, for prefetching.
    pub(crate) fn addresses(&self) -> (*const u8, usize) {
        match self {
            Sums::Int(sums) => (sums.as_ptr().cast(), size_of::<i128>()),
            Sums::F32(sums) => (sums.as_ptr(), FloatWindows::<f32>::BYTES_PER_OUTPUT),
            Sums::F64(sums) => (sums.as_ptr(), FloatWindows::<f64>::BYTES_PER_OUTPUT),
        }
    }

    /// Appends `other`'s outputs (of the same type) after ours.
    pub(crate) fn append(&mut self, other: Sums) {
        match (self, other) {
            (Sums::Int(ours), Sums::Int(mut theirs)) => ours.append(&mut theirs),
            (Sums::F32(ours), Sums::F32(theirs)) => ours.append(theirs),
            (Sums::F64(ours), Sums::F64(theirs)) => ours.append(theirs),
            _ => unreachable!("sums of one request share their type"),
        }
    }

    /// Adds a total (a segment's, or a kernel's) to output `i`; its count is the caller's.
    pub(crate) fn add_total(&mut self, i: usize, total: &ArrayTotal) {
        match (self, total) {
            (Sums::Int(ours), ArrayTotal::Int(sum)) => ours[i] += sum.sum(),
            (Sums::F32(ours), ArrayTotal::F32(sum)) => ours.add_sum(i, sum),
            (Sums::F64(ours), ArrayTotal::F64(sum)) => ours.add_sum(i, sum),
            _ => unreachable!("sums of one request share their type"),
        }
    }

    /// Output `i` as a total of `count` elements.
    pub(crate) fn total(&self, i: usize, count: u64) -> Result<ArrayTotal, Error> {
        Ok(match self {
            Sums::Int(sums) => ArrayTotal::Int(ExactIntSum::from_parts(sums[i], count)?),
            Sums::F32(sums) => ArrayTotal::F32(sums.sum(i, count)?),
            Sums::F64(sums) => ArrayTotal::F64(sums.sum(i, count)?),
        })
    }

    /// Outputs that spilled from their window to a full float sum.
    pub(crate) fn spilled(&self) -> usize {
        match self {
            Sums::Int(_) => 0,
            Sums::F32(sums) => sums.spilled(),
            Sums::F64(sums) => sums.spilled(),
        }
    }
}
