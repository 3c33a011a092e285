//! The CPU twin of sums along axes: a rectangle of the stream ([`Block`]) added into one exact
//! sum per output.
//!
//! A block is split along its outermost kept dimension, so that each task owns its outputs and
//! nothing is merged twice (a block with no kept dimension, one output, is split along its
//! outermost and merged). Each task adds into its own dense sums, then the caller's sums take
//! them. The innermost dimension decides the loop: a reduced one is a contiguous segment per
//! output, summed by the whole-array kernels (`array::biased_sum`, the float bins); a kept one
//! adds a run of elements to a run of outputs, integers lane by lane in i64 pairs that LLVM
//! vectorizes.

use rayon::prelude::*;

use super::{CpuTwin, HAS_THREADS, Isa};
use crate::Error;
use crate::array::{ByteOrder, Dtype, unbias};
use crate::control::Control;
use crate::float::{self, ExactFloat, FloatWindows};
use crate::reduce::sums::Sums;
use crate::reduce::walk::{Block, Dim};

mod lanes;
mod traversal;
use lanes::{LANE_ADDS, Lanes64, add_rows};
use traversal::{Traversal, float_runs, for_each_float};

/// Elements a task sums at least, and at most between two looks at the control.
const TASK_ELEMENTS: u64 = 1 << 16;
const MAX_TASK_ELEMENTS: u64 = 1 << 24;

/// Bytes of outputs each task keeps a copy of when the rows of a block split: at most half a
/// second-level cache, else the columns split.
const SPLIT_OUTPUT_BYTES: usize = 512 << 10;

/// Segments from this many floats go through the bins; shorter ones, one value at a time.
const BINNED_SEGMENT: usize = 1 << 9;

/// A task: the block with its split dimension cut to `[start, start + len)`.
struct Task {
    offset: u64,
    out_base: i64,
    dims: Vec<Dim>,
}

impl Task {
    /// Outputs the task's dimensions name, in C order over its kept ones.
    fn outputs(&self) -> usize {
        self.dims
            .iter()
            .filter(|d| d.kept())
            .map(|d| d.len as usize)
            .product()
    }
}

impl CpuTwin {
    /// Adds the elements of `block` to `sums`: `data` holds the stream's elements from stream
    /// element `first` on, whole elements of `dtype` in `order`.
    ///
    /// # Errors
    /// [`Error::Cancelled`] or [`Error::Timeout`] from `control`, looked at between tasks.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_block(
        &self,
        dtype: Dtype,
        order: ByteOrder,
        data: &[u8],
        first: u64,
        block: &Block,
        sums: &mut Sums,
        control: &Control,
    ) -> Result<(), Error> {
        let tasks = self.tasks(block, dtype);
        let run = |task: &Task| -> Result<Sums, Error> {
            control.check()?;
            let mut local = Sums::new(dtype, task.outputs());
            let start = ((task.offset - first) as usize) * dtype.size();
            let kernel = Kernel {
                isa: self.isa,
                dtype,
                order,
            };
            kernel.accumulate(&data[start..], &task.dims, &mut local, control)?;
            Ok(local)
        };
        let locals: Vec<Sums> = if tasks.len() > 1 && HAS_THREADS {
            tasks.par_iter().map(run).collect::<Result<_, _>>()?
        } else {
            tasks.iter().map(run).collect::<Result<_, _>>()?
        };
        for (task, local) in tasks.iter().zip(&locals) {
            for (i, out) in global_outputs(task).enumerate() {
                sums.merge_from(out as usize, local, i);
            }
        }
        Ok(())
    }

    /// The block cut into tasks along its outermost kept dimension (else its outermost).
    fn tasks(&self, block: &Block, dtype: Dtype) -> Vec<Task> {
        let whole = Task {
            offset: block.offset,
            out_base: block.out_base,
            dims: block.dims.clone(),
        };
        let elements = block.len();
        let wanted = if self.parallel(u128::from(elements)) {
            (elements / TASK_ELEMENTS).clamp(1, 4 * super::threads() as u64)
        } else {
            1
        }
        .max(elements.div_ceil(MAX_TASK_ELEMENTS));
        // An outermost reduced dimension splits when each task's copy of the outputs costs
        // little beside its elements: every task then streams a stretch of the data. Otherwise
        // the outermost kept one splits, and the tasks own their outputs.
        let outputs: u64 = block
            .dims
            .iter()
            .filter(|d| d.kept())
            .map(|d| d.len)
            .product();
        // Floats split their columns where there are enough of them: a task down whole
        // columns places its column bins least often, and merges nothing.
        let columns = block.dims.iter().find(|d| d.kept()).map_or(1, |d| d.len);
        let rows_split = block.dims.first().is_some_and(|d| !d.kept())
            && outputs.saturating_mul(wanted) <= elements / 16
            && outputs as usize * Sums::bytes_per_output(dtype) <= SPLIT_OUTPUT_BYTES
            && !(dtype.is_float() && columns >= wanted);
        let split = if rows_split {
            Some(0)
        } else {
            block
                .dims
                .iter()
                .position(Dim::kept)
                .or((!block.dims.is_empty()).then_some(0))
        };
        let Some(split) = split.filter(|_| wanted > 1) else {
            return vec![whole];
        };
        let dim = block.dims[split];
        let parts = wanted.min(dim.len);
        (0..parts)
            .map(|part| {
                let start = dim.len * part / parts;
                let end = dim.len * (part + 1) / parts;
                let mut dims = block.dims.clone();
                dims[split].len = end - start;
                Task {
                    offset: block.offset + start * dim.stride,
                    out_base: block.out_base + dim.out.unwrap_or(0) * start as i64,
                    dims,
                }
            })
            .collect()
    }
}

/// The global output of each of a task's local outputs, in their C order.
fn global_outputs(task: &Task) -> impl Iterator<Item = i64> + '_ {
    let kept: Vec<(u64, i64)> = task
        .dims
        .iter()
        .filter_map(|d| d.out.map(|step| (d.len, step)))
        .collect();
    let count = task.outputs();
    let mut index = vec![0u64; kept.len()];
    let mut out = task.out_base;
    (0..count).map(move |_| {
        let current = out;
        for (k, &(len, step)) in kept.iter().enumerate().rev() {
            index[k] += 1;
            out += step;
            if index[k] < len {
                break;
            }
            index[k] = 0;
            out -= step * len as i64;
        }
        current
    })
}

/// How elements are read and added.
#[derive(Clone, Copy)]
struct Kernel {
    isa: Isa,
    dtype: Dtype,
    order: ByteOrder,
}

impl Kernel {
    /// Adds the elements `dims` lay out from the start of `data` into `local`, whose outputs are
    /// in C order over the kept dimensions.
    fn accumulate(
        &self,
        data: &[u8],
        dims: &[Dim],
        local: &mut Sums,
        control: &Control,
    ) -> Result<(), Error> {
        let unit = Dim {
            len: 1,
            stride: 1,
            out: None,
        };
        let (&inner, outer) = dims.split_last().unwrap_or((&unit, &[]));
        let outputs = local.len();
        let walk = Traversal::new(inner, outer, self.dtype);
        let (isa, dtype, order) = (self.isa, self.dtype, self.order);
        match (inner.kept(), local) {
            (true, Sums::Int(sums)) => {
                let mut lanes = Lanes64::new(outputs);
                // Elements added to a lane since the last flush, at most (every tile's rows
                // counted, whichever lanes they add to).
                let mut added = 0u64;
                walk.tiles(data, |rows, out| {
                    // Each row adds one element to each lane of the tile.
                    if added + rows.len() as u64 > LANE_ADDS {
                        lanes.flush(sums);
                        added = 0;
                    }
                    let len = (rows[0].len() / dtype.size()) as u64;
                    add_rows(isa, dtype, order, rows, lanes.run(out, len));
                    added += rows.len() as u64;
                    Ok(())
                })?;
                lanes.flush(sums);
                Ok(())
            }
            (true, Sums::F32(sums)) => float_runs(isa, inner, outer, data, sums, order),
            (true, Sums::F64(sums)) => float_runs(isa, inner, outer, data, sums, order),
            (false, Sums::Int(sums)) => walk.runs(data, |bytes, out| {
                sums[out] += self.segment_sum(bytes);
                Ok(())
            }),
            (false, Sums::F32(sums)) => walk.runs(data, |bytes, out| {
                self.float_segment(sums, out, bytes, control)
            }),
            (false, Sums::F64(sums)) => walk.runs(data, |bytes, out| {
                self.float_segment(sums, out, bytes, control)
            }),
        }
    }

    /// The exact sum of a segment of integers, in pieces the biased kernel takes (fewer than
    /// 2^32 elements).
    fn segment_sum(&self, bytes: &[u8]) -> i128 {
        let piece = super::ARRAY_BLOCK_BYTES;
        bytes
            .chunks(piece)
            .map(|part| {
                let count = (part.len() / self.dtype.size()) as u64;
                let biased = super::array::biased_sum(self.isa, self.dtype, self.order, part);
                unbias(self.dtype, biased, count)
            })
            .sum()
    }

    /// Adds a segment of floats to output `out`: through the bins when it is long enough to pay
    /// for them, else one value at a time.
    fn float_segment<T: ExactFloat + Send + Sync>(
        &self,
        sums: &mut FloatWindows<T>,
        out: usize,
        bytes: &[u8],
        control: &Control,
    ) -> Result<(), Error> {
        if bytes.len() / size_of::<T>() < BINNED_SEGMENT {
            for_each_float::<T>(bytes, self.order, |_, bits| sums.add_bits(out, bits));
            return Ok(());
        }
        let sum = float::sum_bytes::<T>(bytes, self.order, false, self.isa, control)?;
        sums.add_sum(out, &sum);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
