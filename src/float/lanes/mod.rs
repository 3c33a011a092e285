//! The fast path for blocks of float values of moderate range: exact adds in `f64` vector lanes.
//!
//! Values that are integer multiples of a unit `u` sum exactly in an `f64` while the sum stays
//! below 2^53 u: each add's result is an `f64`, so nothing rounds. A block's values are cut into
//! parts that each meet that for a few dozen adds; every few adds a lane is scaled by 1/u and
//! converted to an integer, or, for a cut on AVX2, read from its bits (bounds in avx512.rs).
//! The bins (bins.rs) spend a scalar add to memory per value; these, a share of a vector add
//! (figures in docs/BENCHMARKS.md, "Floats, seventh round", "tenth round" and "twelfth
//! round").
//!
//! - `f64` values are cut at fixed places 46 bits apart, from the block's top down: a running
//!   sum near 1.5 * 2^k takes each value, and its rounding keeps the value's bits from
//!   2^(k - 52) up, exactly, while the rest is exact as the difference (Rump, Ogita and Oishi's
//!   extraction, with the sum kept in the running value). Three adds per cut, no masks.
//! - `f32` values are exact as `f64`. On AVX-512 they go whole into one of a few windows of
//!   `F32_SPAN` binades (a masked add each); on AVX2, which has no masked adds, they are cut as
//!   `f64` values are, and a block of two parts may have a cut that takes each value alone, its
//!   top nearer the values (`Plan::Single`). Either way an f32 block's range is found while the
//!   block before it is summed, and each block has its own plan.
//! - A matrix's `f64` columns go a column to a lane down blocks of rows, with the same cuts
//!   (columns.rs).
//!
//! On x86-64 with AVX-512 (F and DQ) or AVX2 and FMA (avx2.rs), and on AArch64, whose NEON
//! takes the AVX2 kernels' cuts written in portable Rust (portable.rs). Other sets, blocks
//! holding an infinity or a NaN, blocks spread over more than five parts, and threads that do
//! not round to nearest with subnormals kept go to the bins.

#[cfg(target_arch = "x86_64")]
use super::COLUMN_TILE as TILE;
use super::{ExactFloat, ExactFloatSum};
use crate::cpu::Isa;

#[cfg(target_arch = "x86_64")]
mod columns;
mod plan;
#[cfg(target_arch = "x86_64")]
pub(crate) use columns::ColumnLanes;
use plan::{CUT, MAX_PARTS, Plan};

/// Bytes in a block (4096 f32 or 2048 f64): an f32 block's range is found while the block
/// before it is summed; an f64 block's in the pass that sums it under the last block's plan
/// (16 KiB summed faster than 8 or 4, measured; f32 8 KiB as fast).
const BLOCK_BYTES: usize = 16 << 10;

/// The bits of a block's least nonzero magnitude (none if every value is zero) and of its
/// greatest. On AVX2 only their exponents are exact (avx2/range.rs): all a plan reads.
type Range = (Option<u64>, u64);

/// The kernels that sum the lanes on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernels {
    /// AVX-512 F and DQ: masked adds (the f32 windows) and a conversion to i64.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// AVX2 and FMA: half the lanes, no masks, and a stand-in for the conversion.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX2's cuts in portable Rust: NEON's, two f64 a register (and, for the tests, SSE2's).
    Portable,
}

impl Kernels {
    /// The kernels for `isa` on this CPU, if it has any.
    fn of(isa: Isa) -> Option<Kernels> {
        if !isa.is_available() {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            match isa {
                Isa::Avx512 if has!("avx512dq") => return Some(Kernels::Avx512),
                Isa::Avx512 | Isa::Avx2 if has!("avx2") && has!("fma") => {
                    return Some(Kernels::Avx2);
                }
                _ => {}
            }
        }
        // On x86-64 without AVX2 the portable kernels, in SSE2's sixteen registers, were no
        // faster than the bins (docs/BENCHMARKS.md, "thirteenth round"): those CPUs keep them.
        (isa == Isa::Neon).then_some(Kernels::Portable)
    }

    /// Whether f32 values go into windows (else they are cut).
    fn has_windows(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        return self == Kernels::Avx512;
        #[cfg(not(target_arch = "x86_64"))]
        false
    }
}

/// Adds `values` to `sum`'s digits a block at a time through the lanes, handing `bins` each
/// block they do not take, and returns true; where `isa` has no lanes, adds nothing and returns
/// false. Counts nothing, and leaves -0.0 to the caller.
pub(crate) fn add<T: ExactFloat>(
    isa: Isa,
    sum: &mut ExactFloatSum<T>,
    values: &[T],
    bins: impl FnMut(&mut ExactFloatSum<T>, &[T]),
) -> bool {
    let Some(kernels) = Kernels::of(isa).filter(|_| default_rounding()) else {
        return false;
    };
    add_in(kernels, sum, values, bins);
    true
}

/// As `add`, through `kernels`, which this CPU has (the tests name them: on x86-64 the
/// portable kernels are no set's own).
fn add_in<T: ExactFloat>(
    kernels: Kernels,
    sum: &mut ExactFloatSum<T>,
    values: &[T],
    bins: impl FnMut(&mut ExactFloatSum<T>, &[T]),
) {
    let blocks = values.chunks(BLOCK_BYTES / size_of::<T>());
    if T::TAG == 4 {
        add_ahead(kernels, sum, blocks, bins);
    } else {
        add_cuts(kernels, sum, blocks, bins);
    }
}

/// f32: each block in the plan its own range asks for, a range the last block's sums found on
/// the way (a pass of its own only for the first block and after one the lanes left).
fn add_ahead<T: ExactFloat>(
    kernels: Kernels,
    sum: &mut ExactFloatSum<T>,
    blocks: std::slice::Chunks<'_, T>,
    mut bins: impl FnMut(&mut ExactFloatSum<T>, &[T]),
) {
    let mut blocks = blocks.peekable();
    let mut found: Option<Range> = None;
    while let Some(block) = blocks.next() {
        // SAFETY (each call): add found `kernels` on this CPU.
        let range = found
            .take()
            .unwrap_or_else(|| unsafe { range(kernels, block) });
        match Plan::new::<T>(range, kernels) {
            None => bins(sum, block),
            Some(Plan::Zeros) => {}
            Some(plan) => {
                let next = blocks.peek().copied().unwrap_or(&[]);
                let (sums, next_range) = match kernels {
                    #[cfg(target_arch = "x86_64")]
                    Kernels::Avx512 => unsafe { window_sums(&plan, block, next) },
                    _ => unsafe { f32_cut_sums(kernels, &plan, block, next) },
                };
                place(sum, &sums, &plan);
                found = Some(next_range);
            }
        }
    }
}

/// f64 values' cuts: a block is summed under the last one's plan, widened, while its
/// own range is found in the same pass: a second pass over it only where that plan does not
/// hold.
fn add_cuts<T: ExactFloat>(
    kernels: Kernels,
    sum: &mut ExactFloatSum<T>,
    blocks: std::slice::Chunks<'_, T>,
    mut bins: impl FnMut(&mut ExactFloatSum<T>, &[T]),
) {
    let mut guess: Option<Plan> = None;
    for block in blocks {
        // SAFETY (each call below): add found `kernels` on this CPU.
        let plan = match guess.take() {
            Some(guessed) => {
                let (sums, range) = unsafe { cut_sums(kernels, &guessed, block) };
                let plan = Plan::new::<T>(range, kernels);
                if plan.is_some_and(|plan| guessed.covers(&plan)) {
                    place(sum, &sums, &guessed);
                    guess = Some(guessed);
                    continue;
                }
                plan
            }
            None => Plan::new::<T>(unsafe { range(kernels, block) }, kernels),
        };
        match plan {
            None => bins(sum, block),
            Some(Plan::Zeros) => {}
            Some(plan) => {
                place(sum, &unsafe { cut_sums(kernels, &plan, block) }.0, &plan);
                guess = plan.widened::<T>();
            }
        }
    }
}

/// A block's sums, part by part, and a range.
type Sums = ([i64; MAX_PARTS], Range);

/// An f32 block's sums in `plan`'s windows, part by part (the rest zero), and the range of
/// `next`, the block after it.
///
/// # Safety
/// Only where the CPU has AVX-512 F and DQ.
#[cfg(target_arch = "x86_64")]
unsafe fn window_sums<T: ExactFloat>(plan: &Plan, block: &[T], next: &[T]) -> Sums {
    /// # Safety
    /// As `window_sums`.
    unsafe fn windows<const N: usize>(bits: &[u32], base: u32, next: &[u32]) -> Sums {
        // SAFETY: the caller's.
        let (sums, range) = unsafe { avx512::f32_sums::<N>(bits, base, next) };
        (widen(sums), range)
    }
    let Plan::Windows { base, count } = *plan else {
        unreachable!("f32 blocks on AVX-512 are summed in windows");
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

/// An f32 block's sums in `plan`'s cuts on AVX2 or the portable kernels, part by part (the rest
/// zero), and the range of `next`, the block after it.
///
/// # Safety
/// Only where the CPU has `kernels`.
unsafe fn f32_cut_sums<T: ExactFloat>(
    kernels: Kernels,
    plan: &Plan,
    block: &[T],
    next: &[T],
) -> Sums {
    /// # Safety
    /// As `f32_cut_sums`.
    unsafe fn cuts<const N: usize, const SINGLE: bool>(
        kernels: Kernels,
        bits: &[u32],
        next: &[u32],
        top: i64,
        least: i64,
    ) -> Sums {
        let tops = std::array::from_fn(|part| top - CUT * part as i64);
        let (sums, range) = match kernels {
            // SAFETY: the caller's.
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => unsafe { avx2::f32_sums::<N, SINGLE>(bits, next, tops, least) },
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx512 => unreachable!("f32 blocks on AVX-512 are summed in windows"),
            Kernels::Portable => portable::f32_sums::<N, SINGLE>(bits, next, tops, least),
        };
        (widen(sums), range)
    }
    let (bits, next) = (bytemuck::cast_slice(block), bytemuck::cast_slice(next));
    let k = kernels;
    // SAFETY (each): the caller's.
    match *plan {
        Plan::Single { top, least } => unsafe { cuts::<2, true>(k, bits, next, top, least) },
        Plan::Cuts { top, least, count } => match count {
            1 => unsafe { cuts::<1, false>(k, bits, next, top, least) },
            2 => unsafe { cuts::<2, false>(k, bits, next, top, least) },
            3 => unsafe { cuts::<3, false>(k, bits, next, top, least) },
            4 => unsafe { cuts::<4, false>(k, bits, next, top, least) },
            _ => unsafe { cuts::<5, false>(k, bits, next, top, least) },
        },
        _ => unreachable!("f32 blocks without windows are cut"),
    }
}

/// A block's sums in `plan`'s cuts, part by part (the rest zero), and its range.
///
/// # Safety
/// Only where the CPU has `kernels`.
unsafe fn cut_sums<T: ExactFloat>(kernels: Kernels, plan: &Plan, block: &[T]) -> Sums {
    /// # Safety
    /// As `cut_sums`.
    unsafe fn cuts<T: ExactFloat, const N: usize>(
        kernels: Kernels,
        block: &[T],
        top: i64,
        least: i64,
    ) -> Sums {
        let tops = std::array::from_fn(|part| top - CUT * part as i64);
        // SAFETY (each): the caller's.
        assert!(T::TAG == 8, "f32 blocks are summed ahead of their range");
        let bits = bytemuck::cast_slice(block);
        let (sums, range) = match kernels {
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx512 => unsafe { avx512::f64_sums::<N>(bits, tops, least) },
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => unsafe { avx2::f64_sums::<N>(bits, tops, least) },
            Kernels::Portable => portable::f64_sums::<N>(bits, tops, least),
        };
        (widen(sums), range)
    }
    let Plan::Cuts { top, least, count } = *plan else {
        unreachable!("these blocks are cut");
    };
    // SAFETY (each): the caller's.
    match count {
        1 => unsafe { cuts::<T, 1>(kernels, block, top, least) },
        2 => unsafe { cuts::<T, 2>(kernels, block, top, least) },
        3 => unsafe { cuts::<T, 3>(kernels, block, top, least) },
        4 => unsafe { cuts::<T, 4>(kernels, block, top, least) },
        _ => unsafe { cuts::<T, 5>(kernels, block, top, least) },
    }
}

/// The values past a block's last whole group, padded with zeros to a group, if any: summed as
/// one more group (zeros add nothing and change no range).
fn padded<T: bytemuck::Zeroable + Copy, const N: usize>(tail: &[T]) -> Option<[T; N]> {
    (!tail.is_empty()).then(|| {
        let mut group = [T::zeroed(); N];
        group[..tail.len()].copy_from_slice(tail);
        group
    })
}

/// `N` parts' sums as `MAX_PARTS`, the rest zero.
fn widen<const N: usize>(sums: [i64; N]) -> [i64; MAX_PARTS] {
    std::array::from_fn(|part| sums.get(part).copied().unwrap_or(0))
}

/// Whether this thread rounds floats as the lanes' bounds assume: to nearest, with subnormals
/// neither flushed to zero nor read as zero. A library built with fast-math can change that for
/// the whole thread; the bins, all integer, do not care.
#[cfg(target_arch = "x86_64")]
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

/// As on x86-64, from FPCR: FIZ and AH (bits 0 and 1, which flush subnormal inputs or change
/// what flushing does), the rounding mode (22 and 23) and FZ (24).
#[cfg(target_arch = "aarch64")]
fn default_rounding() -> bool {
    let control: u64;
    // SAFETY: reading FPCR changes nothing.
    unsafe {
        std::arch::asm!("mrs {}, fpcr", out(reg) control, options(nomem, nostack, preserves_flags));
    }
    control & 0x01c0_0003 == 0
}

/// The range of a block.
///
/// # Safety
/// Only where the CPU has `kernels`.
unsafe fn range<T: ExactFloat>(kernels: Kernels, block: &[T]) -> Range {
    use bytemuck::cast_slice as bits;
    // SAFETY (each): the caller's.
    match (kernels, T::TAG) {
        #[cfg(target_arch = "x86_64")]
        (Kernels::Avx512, 4) => unsafe { avx512::range_f32(bits(block)) },
        #[cfg(target_arch = "x86_64")]
        (Kernels::Avx512, _) => unsafe { avx512::range_f64(bits(block)) },
        #[cfg(target_arch = "x86_64")]
        (Kernels::Avx2, 4) => unsafe { avx2::range_f32(bits(block)) },
        #[cfg(target_arch = "x86_64")]
        (Kernels::Avx2, _) => unsafe { avx2::range_f64(bits(block)) },
        (Kernels::Portable, 4) => portable::range_f32(bits(block)),
        (Kernels::Portable, _) => portable::range_f64(bits(block)),
    }
}

/// Places a block's sums, part by part as `plan` says, into `sum`'s digits.
fn place<T: ExactFloat>(sum: &mut ExactFloatSum<T>, sums: &[i64; MAX_PARTS], plan: &Plan) {
    for (part, &units) in sums.iter().enumerate().take(plan.parts()) {
        sum.add_gathered(units.unsigned_abs(), plan.shift::<T>(part), units < 0);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod portable;

#[cfg(test)]
mod tests;
