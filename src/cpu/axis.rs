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

use super::array::Element;
use super::simd::{Lanes, per_isa};
use super::{CpuTwin, HAS_THREADS, Isa};
use crate::Error;
use crate::array::{ByteOrder, Dtype, unbias};
use crate::control::Control;
use crate::float::{self, ColumnBins, ExactFloat, FloatWindows};
use crate::reduce::outputs::Sums;
use crate::reduce::walk::{Block, Dim};

/// Elements a task sums at least, and at most between two looks at the control.
const TASK_ELEMENTS: u64 = 1 << 16;
const MAX_TASK_ELEMENTS: u64 = 1 << 24;

/// Adds of one element to an integer lane between two flushes into the i128 sums: each add is
/// below 2^32 in magnitude to each of a lane's two i64 halves, so they stay below 2^63.
const LANE_ADDS: u64 = 1 << 31;

/// Bytes of outputs a tile of a kept innermost dimension adds to: a quarter of the first-level
/// cache of most cores.
const TILE_BYTES: usize = 8 << 10;

/// Bytes of outputs each task keeps a copy of when the rows of a block split: at most half a
/// second-level cache, else the columns split.
const SPLIT_OUTPUT_BYTES: usize = 512 << 10;

/// Runs of a kept innermost dimension walked together, tile by tile: few enough streams of data
/// for the prefetchers to follow (8 to 32 measured alike).
const GROUP_RUNS: usize = 16;

/// Segments from this many floats go through the bins; shorter ones, one value at a time.
const BINNED_SEGMENT: usize = 1 << 9;

/// Runs of the same outputs in a row from which floats go through column bins: each placing
/// of the bins visits every exponent seen.
const COLUMN_RUNS: u64 = 1 << 5;

/// Runs ahead of the one being added whose bytes a column walk asks for: its runs lie a row
/// apart, too far for the hardware to guess.
const PREFETCH_RUNS: usize = 4;

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
                let mut runs = 0u64;
                walk.runs(data, |bytes, out| {
                    let len = (bytes.len() / dtype.size()) as u64;
                    add_run(isa, dtype, order, bytes, lanes.run(out, len));
                    runs += 1;
                    // Each run adds at most one element to a lane.
                    if runs == LANE_ADDS {
                        lanes.flush(sums);
                        runs = 0;
                    }
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

/// How a task's runs are walked: the outer dimensions' runs in order; a kept innermost
/// dimension a group of runs at a time, tile by tile, so that the tile's outputs stay in the
/// first-level cache for every run of the group while each run's data is still read in order.
struct Traversal<'a> {
    inner: Dim,
    outer: &'a [Dim],
    /// Each outer dimension's step in the local outputs: C order over the kept ones.
    steps: Vec<usize>,
    size: usize,
    tile: usize,
    group: usize,
    /// Whether each run asks for the bytes of the run [`PREFETCH_RUNS`] after it.
    prefetch: bool,
}

impl<'a> Traversal<'a> {
    fn new(inner: Dim, outer: &'a [Dim], dtype: Dtype) -> Self {
        let mut steps = vec![0usize; outer.len()];
        let mut step = if inner.kept() { inner.len as usize } else { 1 };
        for (k, dim) in outer.iter().enumerate().rev() {
            if dim.kept() {
                steps[k] = step;
                step *= dim.len as usize;
            }
        }
        let (tile, group) = if inner.kept() {
            (
                (TILE_BYTES / Sums::bytes_per_output(dtype)).max(16),
                GROUP_RUNS,
            )
        } else {
            (inner.len.max(1) as usize, 1)
        };
        Self {
            inner,
            outer,
            steps,
            size: dtype.size(),
            tile,
            group,
            prefetch: false,
        }
    }

    /// A walk for column bins: a tile of the kept innermost dimension down as many runs as
    /// the bins take between placings.
    fn columns<T: ExactFloat>(inner: Dim, outer: &'a [Dim]) -> Self {
        Self {
            tile: float::COLUMN_TILE,
            group: ColumnBins::<T>::RUNS as usize,
            prefetch: true,
            ..Self::new(inner, outer, T::DTYPE)
        }
    }

    /// Calls `add(bytes, out)` for every run (or tile of a run): its elements' bytes in `data`,
    /// and its first local output.
    fn runs(
        &self,
        data: &[u8],
        mut add: impl FnMut(&[u8], usize) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let count: u64 = self.outer.iter().map(|d| d.len).product();
        let mut index = vec![0u64; self.outer.len()];
        let (mut at, mut out) = (0usize, 0usize);
        let mut batch = Vec::with_capacity(self.group);
        let mut left = count;
        let inner = self.inner.len as usize;
        while left > 0 {
            batch.clear();
            while batch.len() < self.group && left > 0 {
                batch.push((at, out));
                left -= 1;
                // The next run: the innermost outer dimension that is not at its end steps.
                for (k, dim) in self.outer.iter().enumerate().rev() {
                    index[k] += 1;
                    at += dim.stride as usize;
                    out += self.steps[k];
                    if index[k] < dim.len {
                        break;
                    }
                    index[k] = 0;
                    at -= (dim.stride * dim.len) as usize;
                    out -= self.steps[k] * dim.len as usize;
                }
            }
            for start in (0..inner.max(1)).step_by(self.tile) {
                let len = self.tile.min(inner - start);
                for (k, &(at, out)) in batch.iter().enumerate() {
                    if self.prefetch
                        && let Some(&(ahead, _)) = batch.get(k + PREFETCH_RUNS)
                    {
                        let ahead = data.as_ptr().wrapping_add((ahead + start) * self.size);
                        for line in (0..len * self.size).step_by(64) {
                            float::prefetch(ahead.wrapping_add(line));
                        }
                    }
                    let at = (at + start) * self.size;
                    add(&data[at..at + len * self.size], out + start)?;
                }
            }
        }
        Ok(())
    }
}

/// Adds a kept innermost dimension's runs of floats: through column bins a tile at a time,
/// where runs of the same outputs follow one another (a matrix's columns), else each value to
/// its output's window. (Gathering a tile of columns into segments for the whole-array bins, a
/// blocked transpose, measured slower: 70 against 38 ms for a 4096 x 4096 f64 matrix's columns
/// on two cores, which the column bins sum in 17.)
fn float_runs<T: ExactFloat>(
    isa: Isa,
    inner: Dim,
    outer: &[Dim],
    data: &[u8],
    sums: &mut FloatWindows<T>,
    order: ByteOrder,
) -> Result<(), Error> {
    // Runs in a row that add to the same outputs: the reduced outer dimensions inside the
    // innermost kept one.
    let down: u64 = outer
        .iter()
        .rev()
        .take_while(|d| !d.kept())
        .map(|d| d.len)
        .product();
    if down < COLUMN_RUNS {
        let walk = Traversal::new(inner, outer, T::DTYPE);
        return walk.runs(data, |bytes, out| {
            for_each_float::<T>(bytes, order, |k, bits| sums.add_bits(out + k, bits));
            Ok(())
        });
    }
    let walk = Traversal::columns::<T>(inner, outer);
    let mut bins = ColumnBins::<T>::new(isa, float::COLUMN_TILE);
    walk.runs(data, |bytes, out| {
        bins.add_run(sums, out, bytes, order);
        Ok(())
    })?;
    bins.finish(sums);
    Ok(())
}

/// Calls `each(k, bits)` for every float of `bytes`.
#[inline(always)]
fn for_each_float<T: ExactFloat>(bytes: &[u8], order: ByteOrder, mut each: impl FnMut(usize, u64)) {
    let swap = order != ByteOrder::NATIVE;
    let mut k = 0;
    if size_of::<T>() == 4 {
        super::array::for_each::<u32>(bytes, swap, |bits| {
            each(k, u64::from(bits));
            k += 1;
        });
    } else {
        super::array::for_each::<u64>(bytes, swap, |bits| {
            each(k, bits);
            k += 1;
        });
    }
}

/// Integer outputs' lanes: each output's sum as `high * 2^32 + low`, so that a run of elements
/// adds to a run of lanes with plain i64 adds. Bound: fewer than [`LANE_ADDS`] adds a lane
/// between flushes, each below 2^32 in magnitude per half.
struct Lanes64 {
    low: Vec<i64>,
    high: Vec<i64>,
}

/// A run of lanes to add a run of elements to.
struct LaneRun<'a> {
    low: &'a mut [i64],
    high: &'a mut [i64],
}

impl Lanes64 {
    fn new(outputs: usize) -> Self {
        Self {
            low: vec![0; outputs],
            high: vec![0; outputs],
        }
    }

    fn run(&mut self, out: usize, len: u64) -> LaneRun<'_> {
        let range = out..out + len as usize;
        LaneRun {
            low: &mut self.low[range.clone()],
            high: &mut self.high[range],
        }
    }

    /// Moves the lanes into the exact sums.
    fn flush(&mut self, sums: &mut [i128]) {
        for ((sum, low), high) in sums.iter_mut().zip(&mut self.low).zip(&mut self.high) {
            *sum += i128::from(*high) * (1 << 32) + i128::from(*low);
            *low = 0;
            *high = 0;
        }
    }
}

per_isa! {
    /// Adds the elements of `bytes` (whole ones of `dtype`, in `order`) to the lanes of `run`,
    /// one each.
    fn add_run(dtype: Dtype, order: ByteOrder, bytes: &[u8], run: LaneRun<'_>) -> () = add_run_body
}

/// The kernel behind [`add_run`]; `V` only selects the instruction set it is built for.
///
/// # Safety
/// Only from code built for `V`'s instruction set.
#[inline(always)]
unsafe fn add_run_body<V: Lanes>(dtype: Dtype, order: ByteOrder, bytes: &[u8], run: LaneRun<'_>) {
    let swap = order != ByteOrder::NATIVE;
    match dtype {
        Dtype::I8 => narrow::<i8>(bytes, swap, run.low),
        Dtype::U8 => narrow::<u8>(bytes, swap, run.low),
        Dtype::I16 => narrow::<i16>(bytes, swap, run.low),
        Dtype::U16 => narrow::<u16>(bytes, swap, run.low),
        Dtype::I32 => narrow::<i32>(bytes, swap, run.low),
        Dtype::U32 => narrow::<u32>(bytes, swap, run.low),
        Dtype::I64 => wide::<i64>(bytes, swap, run),
        Dtype::U64 => wide::<u64>(bytes, swap, run),
        Dtype::F32 | Dtype::F64 => unreachable!("floats are added to windows"),
    }
}

/// Calls `add(lane, element)` for each element of `bytes` and its lane, with plain zipped loops
/// where the elements are aligned (which LLVM vectorizes, byte swaps included).
#[inline(always)]
fn zipped<T: Element, L>(
    bytes: &[u8],
    swap: bool,
    lanes: impl Iterator<Item = L>,
    add: impl Fn(L, T),
) {
    match bytemuck::try_cast_slice::<u8, T>(bytes) {
        Ok(values) if swap => lanes
            .zip(values)
            .for_each(|(lane, &v)| add(lane, v.swap_bytes())),
        Ok(values) => lanes.zip(values).for_each(|(lane, &v)| add(lane, v)),
        Err(_) => {
            for (lane, chunk) in lanes.zip(bytes.chunks_exact(size_of::<T>())) {
                let v: T = bytemuck::pod_read_unaligned(chunk);
                add(lane, if swap { v.swap_bytes() } else { v });
            }
        }
    }
}

/// Elements of at most 32 bits: one i64 add per lane (below 2^32 each).
#[inline(always)]
fn narrow<T: Element>(bytes: &[u8], swap: bool, low: &mut [i64]) {
    zipped::<T, _>(bytes, swap, low.iter_mut(), |lane, v| {
        *lane += v.value() as i64
    });
}

/// 64-bit elements: the high half (signed for signed types) and the low half in two lanes.
#[inline(always)]
fn wide<T: Element>(bytes: &[u8], swap: bool, run: LaneRun<'_>) {
    let lanes = run.low.iter_mut().zip(run.high.iter_mut());
    zipped::<T, _>(bytes, swap, lanes, |(low, high), v| {
        let bits = v.widen();
        *low += (bits & 0xffff_ffff) as i64;
        *high += if T::SIGNED {
            (bits as i64) >> 32
        } else {
            (bits >> 32) as i64
        };
    });
}

#[cfg(test)]
mod tests;
