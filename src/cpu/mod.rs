//! The CPU twins of the GPU kernels: the reference the GPU is tested against, and the fallback.
//!
//! A workload's twin cuts its input into the same kind of blocks a GPU dispatch takes, and rayon
//! spreads each block's chunks (the CPU's "invocations") over its pool. One module per workload
//! ([`range`](self) today); [`simd`](self) picks the instruction set for every hot loop.

mod range;
pub(crate) mod simd;

pub use simd::Isa;

use rayon::prelude::*;

use crate::Error;
use crate::control::Control;
use crate::range::{Block, SumRange};

/// Elements one rayon task adds; the counterpart of a GPU workgroup's share.
pub(crate) const CHUNK_ELEMENTS: u64 = 1 << 16;

/// Elements between two checks of cancellation, deadline and progress.
pub(crate) const BLOCK_ELEMENTS: u64 = 1 << 26;

/// Sums `range` on the rayon pool, every element added, with the best instruction set.
///
/// # Errors
/// [`Error::Cancelled`] or [`Error::Timeout`], from `control`.
pub fn sum_parallel(range: SumRange, control: &Control) -> Result<i128, Error> {
    sum_parallel_with(Isa::best(), range, control)
}

/// Sums `range` on the calling thread, every element added: the baseline for speedups.
///
/// # Errors
/// [`Error::Cancelled`] or [`Error::Timeout`], from `control`.
pub fn sum_sequential(range: SumRange, control: &Control) -> Result<i128, Error> {
    sum_sequential_with(Isa::best(), range, control)
}

/// [`sum_parallel`] built for `isa` (a set this CPU lacks runs the portable build).
///
/// # Errors
/// As for [`sum_parallel`].
pub fn sum_parallel_with(isa: Isa, range: SumRange, control: &Control) -> Result<i128, Error> {
    sum_blocks(range, control, |block| {
        let chunks = block.len.div_ceil(CHUNK_ELEMENTS);
        (0..chunks)
            .into_par_iter()
            .map(|index| {
                let offset = index * CHUNK_ELEMENTS;
                let len = CHUNK_ELEMENTS.min(block.len - offset);
                // Consecutive biased values never wrap inside a range.
                range::biased_sum(isa, block.first_biased + offset, len)
            })
            .sum()
    })
}

/// [`sum_sequential`] built for `isa` (a set this CPU lacks runs the portable build).
///
/// # Errors
/// As for [`sum_sequential`].
pub fn sum_sequential_with(isa: Isa, range: SumRange, control: &Control) -> Result<i128, Error> {
    sum_blocks(range, control, |block| {
        range::biased_sum(isa, block.first_biased, block.len)
    })
}

fn sum_blocks(
    range: SumRange,
    control: &Control,
    block_sum: impl Fn(Block) -> u128,
) -> Result<i128, Error> {
    let total_count = range.count();
    let mut done: u128 = 0;
    let mut total: i128 = 0;
    for block in range.blocks(BLOCK_ELEMENTS) {
        control.check()?;
        // A block's biased sum is below 2^26 * 2^64; any prefix of an i64 range sums to less
        // than 2^126 in magnitude, so `total` cannot overflow.
        total += block.unbias(block_sum(block));
        done += block.len as u128;
        control.report(done, total_count);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_paths_match_the_closed_form_on_every_isa_here() {
        let control = Control::default();
        for isa in Isa::available() {
            for (start, end) in [
                (1, 20),
                (-5, 5),
                (i64::MAX - 100, i64::MAX),
                (i64::MIN, i64::MIN + 70_000),
                (-(1 << 32) - 300_000, 1 << 20),
            ] {
                let range = SumRange::new(start, end);
                assert_eq!(
                    sum_parallel_with(isa, range, &control).unwrap(),
                    range.closed_form(),
                    "{isa}: {range:?}"
                );
                assert_eq!(
                    sum_sequential_with(isa, range, &control).unwrap(),
                    range.closed_form(),
                    "{isa}: {range:?}"
                );
            }
        }
        for (start, end) in [
            (1, 20),
            (-5, 5),
            (i64::MAX - 100, i64::MAX),
            (i64::MIN, i64::MIN + 70_000),
        ] {
            let range = SumRange::new(start, end);
            assert_eq!(
                sum_parallel(range, &control).unwrap(),
                range.closed_form(),
                "{range:?}"
            );
            assert_eq!(
                sum_sequential(range, &control).unwrap(),
                range.closed_form(),
                "{range:?}"
            );
        }
    }
}
