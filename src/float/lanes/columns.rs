//! A matrix's columns in `f64` lanes: a tile's columns eight (AVX-512) or four (AVX2) to a
//! vector, a column a lane, summed down blocks of rows with the whole-array lanes' cuts
//! (mod.rs), so that each value costs a share of a vector add instead of a bin's add to memory
//! (columns.rs in float/).
//!
//! A block is `F64_ADDS_PER_FLUSH` rows of the tile, converted to integers once. As for a
//! whole array, it is summed under the last block's plan, widened, while its range is found on
//! the way, and again under its own where that plan does not hold. Its integers add up, column
//! by column, while the plan stays, and go into the outputs' windows when the plan or the
//! outputs change. Blocks the lanes do not take (an infinity or a NaN, too wide a range) go to
//! the column bins row by row. `f64` only: `f32` columns stay in the bins.

use std::marker::PhantomData;

use super::avx2;
use super::avx512;
use super::plan::F64_ADDS_PER_FLUSH;
use super::{CUT, Kernels, MAX_PARTS, Plan, Range, TILE, default_rounding};
use crate::array::ByteOrder;
use crate::cpu::Isa;
use crate::float::{ColumnBins, ExactFloat, FloatWindows};

/// The portable kernels (portable.rs) have no column sums: those columns stay in the bins.
const NO_PORTABLE: &str = "column lanes are offered on AVX-512 and AVX2 only";

/// Blocks whose integers add up before they are placed: each lane's block sum is below 2^53
/// (avx512.rs), so 1023 of them stay below 2^63.
const MAX_BLOCKS: u32 = 1023;

/// Sums of a tile's columns in lanes, for outputs `out..out + width`.
pub(crate) struct ColumnLanes<T: ExactFloat> {
    kernels: Kernels,
    /// The plan the next block is first summed under.
    guess: Option<Plan>,
    /// The plan `units` are in, and the blocks added to them since they were placed.
    summed: Option<Plan>,
    blocks: u32,
    /// Part j of column k at `[j][k]`: the blocks' sums, and the last block's.
    units: Box<[[i64; TILE]; MAX_PARTS]>,
    block: Box<[[i64; TILE]; MAX_PARTS]>,
    /// Nonzero for each column that had a value other than -0.0 (avx512.rs).
    others: [u64; TILE],
    out: usize,
    width: usize,
    /// Whether rows were added since the outputs were last placed.
    pending: bool,
    kind: PhantomData<T>,
    /// Values summed in the lanes, for the tests.
    #[cfg(test)]
    pub(super) laned: usize,
}

impl<T: ExactFloat> ColumnLanes<T> {
    /// Lanes for `f64` values in `order`, where `isa` has them and this thread rounds as they
    /// need (mod.rs); else none.
    pub(crate) fn new(isa: Isa, order: ByteOrder) -> Option<Self> {
        let kernels = Kernels::of(isa).filter(|&kernels| kernels != Kernels::Portable)?;
        let usable = T::TAG == 8 && order == ByteOrder::NATIVE;
        (usable && default_rounding()).then(|| Self {
            kernels,
            guess: None,
            summed: None,
            blocks: 0,
            units: Box::new([[0; TILE]; MAX_PARTS]),
            block: Box::new([[0; TILE]; MAX_PARTS]),
            others: [0; TILE],
            out: 0,
            width: 0,
            pending: false,
            kind: PhantomData,
            #[cfg(test)]
            laned: 0,
        })
    }

    /// Adds `rows`, runs of one width (at most [`TILE`] values, in this machine's order), value
    /// k of each to output `out + k`; blocks the lanes do not take go to `bins`.
    pub(crate) fn add_tile(
        &mut self,
        windows: &mut FloatWindows<T>,
        bins: &mut ColumnBins<T>,
        out: usize,
        rows: &[&[u8]],
    ) {
        let Some(values) = rows
            .iter()
            .map(|row| bytemuck::try_cast_slice::<u8, u64>(row).ok())
            .collect::<Option<Vec<&[u64]>>>()
        else {
            // Not aligned for the lanes.
            for row in rows {
                bins.add_run(windows, out, row, ByteOrder::NATIVE);
            }
            return;
        };
        let width = values.first().map_or(0, |row| row.len());
        if (out, width) != (self.out, self.width) {
            self.place(windows);
            (self.out, self.width) = (out, width);
        }
        self.pending = true;
        let blocks: Vec<&[&[u64]]> = values.chunks(F64_ADDS_PER_FLUSH).collect();
        for (b, &block) in blocks.iter().enumerate() {
            let ahead = blocks.get(b + 1).copied().unwrap_or(&[]);
            let range = match self.guess {
                Some(guess) => {
                    // SAFETY (both calls): new found these kernels.
                    let range = unsafe { self.sums(&guess, block, ahead) };
                    if Plan::new::<T>(range, self.kernels).is_some_and(|plan| guess.covers(&plan)) {
                        #[cfg(test)]
                        {
                            self.laned += block.len() * width;
                        }
                        self.take(windows, guess);
                        continue;
                    }
                    range
                }
                None => unsafe { rows_range(self.kernels, block, &mut self.others) },
            };
            let plan = Plan::new::<T>(range, self.kernels);
            match plan {
                None => {
                    for row in &rows[b * F64_ADDS_PER_FLUSH..][..block.len()] {
                        bins.add_run(windows, out, row, ByteOrder::NATIVE);
                    }
                }
                Some(Plan::Zeros) => {}
                Some(plan) => {
                    // SAFETY: as above.
                    unsafe { self.sums(&plan, block, ahead) };
                    self.take(windows, plan);
                    self.guess = plan.widened::<T>();
                }
            }
            #[cfg(test)]
            if plan.is_some() {
                self.laned += block.len() * width;
            }
        }
    }

    /// Places what is left in `windows`.
    pub(crate) fn finish(mut self, windows: &mut FloatWindows<T>) {
        self.place(windows);
    }

    /// Sums `block` under `plan` (cuts) into `self.block`, notes which columns had a value other
    /// than -0.0, and returns its range.
    ///
    /// # Safety
    /// Only where the CPU has `self.kernels`.
    unsafe fn sums(&mut self, plan: &Plan, block: &[&[u64]], ahead: &[&[u64]]) -> Range {
        /// # Safety
        /// As `sums`.
        unsafe fn cuts<const N: usize>(
            kernels: Kernels,
            (top, least): (i64, i64),
            (block, ahead): (&[&[u64]], &[&[u64]]),
            (sums, others): (&mut [[i64; TILE]; MAX_PARTS], &mut [u64; TILE]),
        ) -> Range {
            let tops = std::array::from_fn(|part| top - CUT * part as i64);
            // SAFETY (each): the caller's.
            match kernels {
                Kernels::Avx512 => unsafe {
                    avx512::f64_column_sums::<N>(block, ahead, tops, least, sums, others)
                },
                Kernels::Avx2 => unsafe {
                    avx2::f64_column_sums::<N>(block, ahead, tops, least, sums, others)
                },
                Kernels::Portable => unreachable!("{NO_PORTABLE}"),
            }
        }
        let Plan::Cuts { top, least, count } = *plan else {
            unreachable!("f64 blocks are cut")
        };
        let (kernels, place, rows) = (self.kernels, (top, least), (block, ahead));
        let out = (&mut *self.block, &mut self.others);
        // SAFETY (each): the caller's.
        match count {
            2 => unsafe { cuts::<2>(kernels, place, rows, out) },
            3 => unsafe { cuts::<3>(kernels, place, rows, out) },
            4 => unsafe { cuts::<4>(kernels, place, rows, out) },
            _ => unsafe { cuts::<5>(kernels, place, rows, out) },
        }
    }

    /// Adds the last block's sums, under `plan`, to the columns'.
    fn take(&mut self, windows: &mut FloatWindows<T>, plan: Plan) {
        if self.summed != Some(plan) || self.blocks == MAX_BLOCKS {
            self.place_units(windows);
            self.summed = Some(plan);
        }
        for (units, block) in self.units.iter_mut().zip(&*self.block).take(plan.parts()) {
            for (unit, &add) in units[..self.width].iter_mut().zip(block) {
                *unit += add;
            }
        }
        self.blocks += 1;
    }

    /// Places the columns' sums in their outputs' windows and empties them.
    fn place_units(&mut self, windows: &mut FloatWindows<T>) {
        let Some(plan) = self.summed.take() else {
            return;
        };
        for (part, units) in self.units.iter_mut().enumerate().take(plan.parts()) {
            for (k, unit) in units[..self.width].iter_mut().enumerate() {
                let unit = std::mem::take(unit);
                if unit != 0 {
                    windows.add_scaled(
                        self.out + k,
                        unit.unsigned_abs(),
                        plan.shift::<T>(part),
                        unit < 0,
                    );
                }
            }
        }
        self.blocks = 0;
    }

    /// Places everything added since the last placing, and which outputs had a value other
    /// than -0.0 (values that cancel sum to +0.0).
    fn place(&mut self, windows: &mut FloatWindows<T>) {
        self.place_units(windows);
        if std::mem::take(&mut self.pending) {
            for (k, other) in self.others[..self.width].iter_mut().enumerate() {
                if std::mem::take(other) != 0 {
                    windows.note_not_negative_zero(self.out + k);
                }
            }
        }
    }
}

/// The range of `rows`, noting in `others` which columns had a value other than -0.0.
///
/// # Safety
/// Only where the CPU has `kernels`.
unsafe fn rows_range(kernels: Kernels, rows: &[&[u64]], others: &mut [u64; TILE]) -> Range {
    let mut found: Range = (None, 0);
    for row in rows {
        // SAFETY (each): the caller's.
        let (least, greatest) = match kernels {
            Kernels::Avx512 => unsafe { avx512::range_f64(row) },
            Kernels::Avx2 => unsafe { avx2::range_f64(row) },
            Kernels::Portable => unreachable!("{NO_PORTABLE}"),
        };
        found.0 = match (found.0, least) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        found.1 = found.1.max(greatest);
        avx512::note_others(others, row);
    }
    found
}
