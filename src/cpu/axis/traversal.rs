//! How a task's runs are walked, and the float runs of a kept innermost dimension.

use crate::Error;
use crate::array::{ByteOrder, Dtype};
use crate::cpu::Isa;
use crate::float::{self, ColumnBins, ExactFloat, FloatWindows};
use crate::reduce::sums::Sums;
use crate::reduce::walk::Dim;

/// Bytes of outputs a tile of a kept innermost dimension adds to: a quarter of the first-level
/// cache of most cores.
const TILE_BYTES: usize = 8 << 10;

/// Runs of a kept innermost dimension walked together, tile by tile: few enough streams of data
/// for the prefetchers to follow (8 to 32 measured alike).
const GROUP_RUNS: usize = 16;

/// Runs of the same outputs in a row from which floats go through column bins: each placing
/// of the bins visits every exponent seen.
const COLUMN_RUNS: u64 = 1 << 5;

/// Runs ahead of the one being added whose bytes a column walk asks for: its runs lie a row
/// apart, too far for the hardware to guess.
const PREFETCH_RUNS: usize = 4;

/// How a task's runs are walked: the outer dimensions' runs in order; a kept innermost
/// dimension a group of runs at a time, tile by tile, so that the tile's outputs stay in the
/// first-level cache for every run of the group while each run's data is still read in order.
pub(super) struct Traversal<'a> {
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
    pub(super) fn new(inner: Dim, outer: &'a [Dim], dtype: Dtype) -> Self {
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
    pub(super) fn runs(
        &self,
        data: &[u8],
        mut add: impl FnMut(&[u8], usize) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let inner = self.inner.len as usize;
        self.batches(|batch| {
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
            Ok(())
        })
    }

    /// Calls `add(rows, out)` for every tile of the runs in a row that add to the same outputs
    /// (at most a group): each run's bytes of the tile, in order, and the tile's first local
    /// output.
    pub(super) fn tiles<'d>(
        &self,
        data: &'d [u8],
        mut add: impl FnMut(&[&'d [u8]], usize) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let inner = self.inner.len as usize;
        let mut rows = Vec::with_capacity(self.group);
        self.batches(|batch| {
            for start in (0..inner).step_by(self.tile) {
                let len = self.tile.min(inner - start) * self.size;
                for same in batch.chunk_by(|a, b| a.1 == b.1) {
                    rows.clear();
                    rows.extend(same.iter().map(|&(at, _)| {
                        let at = (at + start) * self.size;
                        &data[at..at + len]
                    }));
                    add(&rows, same[0].1 + start)?;
                }
            }
            Ok(())
        })
    }

    /// Calls `each(batch)` for the runs in order, up to a group at a time: each run's first
    /// element in `data` and its first local output.
    fn batches(
        &self,
        mut each: impl FnMut(&[(usize, usize)]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let count: u64 = self.outer.iter().map(|d| d.len).product();
        let mut index = vec![0u64; self.outer.len()];
        let (mut at, mut out) = (0usize, 0usize);
        let mut batch = Vec::with_capacity(self.group);
        let mut left = count;
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
            each(&batch)?;
        }
        Ok(())
    }
}

/// Adds a kept innermost dimension's runs of floats: where runs of the same outputs follow one
/// another (a matrix's columns), a tile at a time through column lanes (f64 on AVX-512 and AVX2) or
/// column bins, else each value to its output's window. (4096 x 4096 f64 columns on two cores:
/// lanes 8 to 13 ms, bins 17 to 22; gathering a tile of columns into segments for the
/// whole-array bins, a blocked transpose, 70.)
pub(super) fn float_runs<T: ExactFloat>(
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
    #[cfg(target_arch = "x86_64")]
    if let Some(mut lanes) = float::ColumnLanes::<T>::new(isa, order) {
        walk.tiles(data, |rows, out| {
            lanes.add_tile(sums, &mut bins, out, rows);
            Ok(())
        })?;
        lanes.finish(sums);
        bins.finish(sums);
        return Ok(());
    }
    walk.runs(data, |bytes, out| {
        bins.add_run(sums, out, bytes, order);
        Ok(())
    })?;
    bins.finish(sums);
    Ok(())
}

/// Calls `each(k, bits)` for every float of `bytes`.
#[inline(always)]
pub(super) fn for_each_float<T: ExactFloat>(
    bytes: &[u8],
    order: ByteOrder,
    mut each: impl FnMut(usize, u64),
) {
    let swap = order != ByteOrder::NATIVE;
    let mut k = 0;
    if size_of::<T>() == 4 {
        crate::cpu::array::for_each::<u32>(bytes, swap, |bits| {
            each(k, u64::from(bits));
            k += 1;
        });
    } else {
        crate::cpu::array::for_each::<u64>(bytes, swap, |bits| {
            each(k, bits);
            k += 1;
        });
    }
}
