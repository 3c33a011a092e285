//! The fast path for blocks of float values of moderate range: exact adds in `f64` vector lanes.
//!
//! Values that are integer multiples of a unit `u` sum exactly in an `f64` while the sum stays
//! below 2^53 u: each add's result is an `f64`, so nothing rounds. A block's values are cut into
//! parts that each meet that for a few dozen adds; every few adds a lane is scaled by 1/u and
//! converted to an integer (bounds in x86.rs). The bins (bins.rs) spend a scalar add to memory
//! per value; these, a share of a vector add (figures in docs/BENCHMARKS.md, "Floats, seventh
//! round").
//!
//! - `f32` values are exact as `f64`, and go whole into one of a few windows of `F32_SPAN`
//!   binades (a masked add each).
//! - `f64` values are cut at fixed places 46 bits apart, from the block's top down: a running
//!   sum near 1.5 * 2^k takes each value, and its rounding keeps the value's bits from
//!   2^(k - 52) up, exactly, while the rest is exact as the difference (Rump, Ogita and Oishi's
//!   extraction, with the sum kept in the running value). Three adds per cut, no masks.
//! - A matrix's `f64` columns go a column to a lane down blocks of rows, with the same cuts
//!   (columns.rs).
//!
//! x86-64 only. Only AVX-512 (F and DQ) has the masked adds and conversions that make this pay:
//! other sets, blocks holding an infinity or a NaN, blocks spread over more than five parts, and
//! threads that do not round to nearest with subnormals kept go to the bins.

use super::{COLUMN_TILE as TILE, ExactFloat, ExactFloatSum};
use crate::cpu::Isa;

mod columns;
pub(crate) use columns::ColumnLanes;

/// Binades of exponent in one window of `f32` values.
const F32_SPAN: u32 = 26;
/// The bits each cut of an `f64` block keeps, from its 2^k down to 2^(k - 45): what it leaves,
/// at most 2^(k - 53), is at most 2^(k' - 7) for the next cut's k' = k - 46 (the room 32 adds
/// need, x86.rs).
const F64_CUT: i64 = 46;
/// The first cut's k over a block's greatest biased exponent: its values are below
/// 2^(exponent - 1022), at most 2^(k - 7).
const F64_TOP_OVER: i64 = -1015;
/// The least biased exponent of f64 values that the bins take: a cut's running sum, below
/// 2^(k + 1), must be an `f64`.
const F64_TOO_LARGE: u64 = 2039;
/// The greatest first cut, for the greatest exponent the lanes take.
const F64_TOP: i64 = 2038 + F64_TOP_OVER;
/// Bytes in a block (4096 f32 or 2048 f64): an f32 block's range is found while the block
/// before it is summed; an f64 block's in the pass that sums it under the last block's plan
/// (16 KiB summed faster than 8 or 4, measured; f32 8 KiB as fast).
const BLOCK_BYTES: usize = 16 << 10;
/// Parts past which the bins are faster (f32 in the L1 cache: 6 windows 3.0e9 values/s, the
/// bins 2.0e9).
const MAX_PARTS: usize = 5;

/// The bits of a block's least nonzero magnitude (none if every value is zero) and of its
/// greatest.
type Range = (Option<u64>, u64);

/// Adds `values` to `sum`'s digits a block at a time through the lanes, handing `bins` each
/// block they do not take, and returns true; where `isa` has no lanes, adds nothing and returns
/// false. Counts nothing, and leaves -0.0 to the caller.
pub(crate) fn add<T: ExactFloat>(
    isa: Isa,
    sum: &mut ExactFloatSum<T>,
    values: &[T],
    bins: impl FnMut(&mut ExactFloatSum<T>, &[T]),
) -> bool {
    if !has_lanes(isa) || !default_rounding() {
        return false;
    }
    let blocks = values.chunks(BLOCK_BYTES / size_of::<T>());
    if T::TAG == 4 {
        add_windows(sum, blocks, bins);
    } else {
        add_cuts(sum, blocks, bins);
    }
    true
}

/// f32: each block in the windows its range asks for, a range the last block's sums found on
/// the way (a pass of its own only for the first block and after one the windows left).
fn add_windows<T: ExactFloat>(
    sum: &mut ExactFloatSum<T>,
    blocks: std::slice::Chunks<'_, T>,
    mut bins: impl FnMut(&mut ExactFloatSum<T>, &[T]),
) {
    let mut blocks = blocks.peekable();
    let mut found: Option<Range> = None;
    while let Some(block) = blocks.next() {
        // SAFETY (both calls): add checked AVX-512 F and DQ.
        let range = found.take().unwrap_or_else(|| unsafe { range(block) });
        match Plan::new::<T>(range) {
            None => bins(sum, block),
            Some(Plan::Zeros) => {}
            Some(plan) => {
                let next = blocks.peek().copied().unwrap_or(&[]);
                let (sums, next_range) = unsafe { plan.window_sums(block, next) };
                place(sum, &sums, &plan);
                found = Some(next_range);
            }
        }
    }
}

/// f64: a block is summed under the last one's plan, widened, while its own range is found in
/// the same pass: a second pass over it only where that plan does not hold.
fn add_cuts<T: ExactFloat>(
    sum: &mut ExactFloatSum<T>,
    blocks: std::slice::Chunks<'_, T>,
    mut bins: impl FnMut(&mut ExactFloatSum<T>, &[T]),
) {
    let mut guess: Option<Plan> = None;
    for block in blocks {
        // SAFETY (each call below): add checked AVX-512 F and DQ.
        let plan = match guess.take() {
            Some(guessed) => {
                let (sums, range) = unsafe { guessed.cut_sums(block) };
                let plan = Plan::new::<T>(range);
                if plan.is_some_and(|plan| guessed.covers(&plan)) {
                    place(sum, &sums, &guessed);
                    guess = Some(guessed);
                    continue;
                }
                plan
            }
            None => Plan::new::<T>(unsafe { range(block) }),
        };
        match plan {
            None => bins(sum, block),
            Some(Plan::Zeros) => {}
            Some(plan) => {
                place(sum, &unsafe { plan.cut_sums(block) }.0, &plan);
                guess = plan.widened();
            }
        }
    }
}

/// How a block goes into the lanes, from the biased exponents of its least nonzero and its
/// greatest magnitude (at least 1: subnormals weigh as the least normals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// Zeros only.
    Zeros,
    /// `f32` in windows of `F32_SPAN` binades from `base`.
    Windows { base: u32, count: usize },
    /// `f64` cut into `count` parts: `count - 1` cuts from 2^`top` down, 46 bits apart, then the
    /// rest, in units of 2^`least`.
    Cuts { top: i64, least: i64, count: usize },
}

impl Plan {
    /// The plan for a block of `range`; none where the block holds an infinity or a NaN, or
    /// would take more than `MAX_PARTS` parts.
    fn new<T: ExactFloat>((least, greatest): Range) -> Option<Plan> {
        let Some(least) = least else {
            return Some(Plan::Zeros);
        };
        let lowest = (least >> T::FRACTION_BITS).max(1);
        let highest = (greatest >> T::FRACTION_BITS).max(1);
        let plan = if T::TAG == 4 {
            if highest == 0xff {
                return None;
            }
            let count = ((highest - lowest) / u64::from(F32_SPAN) + 1) as usize;
            Plan::Windows {
                base: lowest as u32,
                count,
            }
        } else {
            if highest >= F64_TOO_LARGE {
                return None;
            }
            // The last part takes what the cuts leave, at most 2^(top - 46 cuts - 7), in units
            // of the least value's last bit: 32 of them sum below 2^53 units once
            // top - 46 cuts <= least + 55.
            let top = highest as i64 + F64_TOP_OVER;
            let least = lowest as i64 - 1075;
            let cuts = (top - least - 55)
                .max(0)
                .unsigned_abs()
                .div_ceil(F64_CUT as u64);
            Plan::Cuts {
                top,
                least,
                count: cuts as usize + 1,
            }
        };
        (plan.parts() <= MAX_PARTS).then_some(plan)
    }

    /// Parts, each with its own lanes.
    fn parts(&self) -> usize {
        match *self {
            Plan::Zeros => 0,
            Plan::Windows { count, .. } | Plan::Cuts { count, .. } => count,
        }
    }

    /// Where part `part`'s unit lies: its power of two in units of the smallest subnormal.
    fn shift(&self, part: usize) -> u32 {
        match *self {
            Plan::Zeros => unreachable!("zeros have no parts"),
            // 2^(base + w F32_SPAN - 150) = 2^-149 * 2^(base + w F32_SPAN - 1).
            Plan::Windows { base, .. } => base + part as u32 * F32_SPAN - 1,
            // 2^(top - 46 j - 52) = 2^-1074 * 2^(top - 46 j + 1022), and 2^least.
            Plan::Cuts { top, least, count } => {
                let exponent = if part + 1 < count {
                    top - F64_CUT * part as i64 - 52
                } else {
                    least
                };
                (exponent + 1074) as u32
            }
        }
    }

    /// Whether sums under this plan are exact for a block whose own plan is `actual`: its values
    /// no larger than this one's top allows, nor finer than its least unit.
    fn covers(&self, actual: &Plan) -> bool {
        match (*self, *actual) {
            (_, Plan::Zeros) => true,
            (
                Plan::Cuts { top, least, .. },
                Plan::Cuts {
                    top: needed,
                    least: finest,
                    ..
                },
            ) => needed <= top && finest >= least,
            _ => false,
        }
    }

    /// The plan to try on the next block (f64 only): these cuts with the room they leave, a
    /// little of it above (a block's greatest value moves little) and the rest below.
    fn widened(&self) -> Option<Plan> {
        let Plan::Cuts { top, least, count } = *self else {
            return None;
        };
        let room = 55 + F64_CUT * (count as i64 - 1) - (top - least);
        let above = room.min(2).min(F64_TOP - top);
        Some(Plan::Cuts {
            top: top + above,
            least: (least - (room - above)).max(-1074),
            count,
        })
    }

    /// An f32 block's sums in this plan's windows, part by part (the rest zero), and the range
    /// of `next`, the block after it.
    ///
    /// # Safety
    /// Only where the CPU has AVX-512 F and DQ.
    unsafe fn window_sums<T: ExactFloat>(
        &self,
        block: &[T],
        next: &[T],
    ) -> ([i64; MAX_PARTS], Range) {
        /// # Safety
        /// As `window_sums`.
        unsafe fn windows<const N: usize>(bits: &[u32], base: u32, next: &[u32]) -> Sums {
            // SAFETY: the caller's.
            let (sums, range) = unsafe { x86::f32_sums::<N>(bits, base, next) };
            (
                std::array::from_fn(|part| sums.get(part).copied().unwrap_or(0)),
                range,
            )
        }
        let Plan::Windows { base, count } = *self else {
            unreachable!("f32 blocks are summed in windows");
        };
        let (bits, next) = (bytemuck::cast_slice(block), bytemuck::cast_slice(next));
        // SAFETY (each): the caller's.
        match count {
            1 => unsafe { windows::<1>(bits, base, next) },
            2 => unsafe { windows::<2>(bits, base, next) },
            3 => unsafe { windows::<3>(bits, base, next) },
            4 => unsafe { windows::<4>(bits, base, next) },
            _ => unsafe { windows::<5>(bits, base, next) },
        }
    }

    /// An f64 block's sums in this plan's cuts, part by part (the rest zero), and its range.
    ///
    /// # Safety
    /// Only where the CPU has AVX-512 F and DQ.
    unsafe fn cut_sums<T: ExactFloat>(&self, block: &[T]) -> ([i64; MAX_PARTS], Range) {
        /// # Safety
        /// As `cut_sums`.
        unsafe fn cuts<const N: usize>(bits: &[u64], top: i64, least: i64) -> Sums {
            let tops = std::array::from_fn(|part| top - F64_CUT * part as i64);
            // SAFETY: the caller's.
            let (sums, range) = unsafe { x86::f64_sums::<N>(bits, tops, least) };
            (
                std::array::from_fn(|part| sums.get(part).copied().unwrap_or(0)),
                range,
            )
        }
        let bits = bytemuck::cast_slice(block);
        // SAFETY (each): the caller's.
        match *self {
            Plan::Zeros | Plan::Windows { .. } => unreachable!("f64 blocks of values are cut"),
            // At least one cut, so two parts.
            Plan::Cuts { top, least, count } => match count {
                2 => unsafe { cuts::<2>(bits, top, least) },
                3 => unsafe { cuts::<3>(bits, top, least) },
                4 => unsafe { cuts::<4>(bits, top, least) },
                _ => unsafe { cuts::<5>(bits, top, least) },
            },
        }
    }
}

/// A block's sums, part by part, and a range.
type Sums = ([i64; MAX_PARTS], Range);

/// Whether `isa` is AVX-512 with DQ (its f64-to-i64 conversion) on this CPU.
fn has_lanes(isa: Isa) -> bool {
    isa == Isa::Avx512 && isa.is_available() && std::arch::is_x86_feature_detected!("avx512dq")
}

/// Whether this thread rounds floats as the lanes' bounds assume: to nearest, with subnormals
/// neither flushed to zero nor read as zero. A library built with fast-math can change that for
/// the whole thread; the bins, all integer, do not care.
fn default_rounding() -> bool {
    // MXCSR: DAZ is bit 6, the rounding mode bits 13 and 14, FTZ bit 15.
    let mut control: u32 = 0;
    // SAFETY: stmxcsr writes the four bytes of `control`, and nothing else.
    unsafe {
        std::arch::asm!(
            "stmxcsr [{}]",
            in(reg) &raw mut control,
            options(nostack, preserves_flags)
        );
    }
    control & 0xe040 == 0
}

/// The range of a block.
///
/// # Safety
/// Only where the CPU has AVX-512 F.
unsafe fn range<T: ExactFloat>(block: &[T]) -> Range {
    // SAFETY: the caller's.
    unsafe {
        if T::TAG == 4 {
            x86::range_f32(bytemuck::cast_slice(block))
        } else {
            x86::range_f64(bytemuck::cast_slice(block))
        }
    }
}

/// Places a block's sums, part by part as `plan` says, into `sum`'s digits.
fn place<T: ExactFloat>(sum: &mut ExactFloatSum<T>, sums: &[i64; MAX_PARTS], plan: &Plan) {
    for (part, &units) in sums.iter().enumerate().take(plan.parts()) {
        sum.add_gathered(units.unsigned_abs(), plan.shift(part), units < 0);
    }
}

mod x86;

#[cfg(test)]
mod tests;
