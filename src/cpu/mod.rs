//! The CPU twins of the GPU kernels: the reference the GPU is tested against, and the fallback.
//!
//! A workload's twin cuts its input into the same kind of blocks a GPU dispatch takes, and rayon
//! spreads each block's chunks (the CPU's "invocations") over its pool. One module per workload
//! (`range`, `array`); [`simd`](self) picks the instruction set for every hot loop.

pub(crate) mod array;
mod range;
pub(crate) mod simd;

pub use simd::Isa;

use std::io::Read;

use rayon::prelude::*;

use crate::Error;
use crate::array::{ByteOrder, Dtype, ExactIntSum, IntSlice};
use crate::control::Control;
use crate::float;
use crate::input::ArrayReader;
use crate::range::{Block, SumRange};
use crate::total::{ArrayTotal, FloatSlice};

/// Whether rayon has threads to run the parallel twins on. A web page has one thread (and rayon
/// none to spawn), so there every "parallel" sum runs on the calling thread: the same code, the
/// same bits.
pub(crate) const HAS_THREADS: bool = !cfg!(target_arch = "wasm32");

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
    if !HAS_THREADS {
        return sum_sequential_with(isa, range, control);
    }
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

/// Bytes of an array between two checks of cancellation, deadline and progress; below 2^32
/// elements of any type, as [`array::biased_sum`] needs.
pub(crate) const ARRAY_BLOCK_BYTES: usize = 1 << 26;

/// Bytes read from a stream at a time unless the caller says otherwise: the CPU path's whole
/// buffer.
pub const STREAM_CHUNK_BYTES: usize = 1 << 23;

/// The exact sum of `data` on the rayon pool, with the best instruction set.
///
/// # Errors
/// [`Error::Cancelled`] or [`Error::Timeout`], from `control`.
pub fn sum_ints(data: IntSlice<'_>, control: &Control) -> Result<ExactIntSum, Error> {
    sum_int_bytes(
        Isa::best(),
        true,
        data.dtype(),
        ByteOrder::NATIVE,
        data.as_bytes(),
        control,
    )
}

/// The exact sum of `data` on the calling thread: the baseline for speedups.
///
/// # Errors
/// As for [`sum_ints`].
pub fn sum_ints_sequential(data: IntSlice<'_>, control: &Control) -> Result<ExactIntSum, Error> {
    sum_int_bytes(
        Isa::best(),
        false,
        data.dtype(),
        ByteOrder::NATIVE,
        data.as_bytes(),
        control,
    )
}

/// The exact sum of `data` on the rayon pool (`parallel`) or this thread, rounded once: the
/// same bits either way, and the same as the GPU's.
///
/// # Errors
/// As for [`sum_ints`].
pub fn sum_floats(
    data: FloatSlice<'_>,
    parallel: bool,
    control: &Control,
) -> Result<ArrayTotal, Error> {
    let (dtype, bytes) = (data.dtype(), data.as_bytes());
    sum_bytes(
        Isa::best(),
        parallel,
        dtype,
        ByteOrder::NATIVE,
        bytes,
        control,
    )
}

/// The exact sum of whole `dtype` elements in `bytes`, stored in `order`, on the pool
/// (`parallel`) or this thread, built for `isa` (integers; floats are summed in integer digits
/// by [`ExactFloatSum`](crate::ExactFloatSum) whatever the instruction set).
///
/// # Errors
/// As for [`sum_ints`].
pub fn sum_bytes(
    isa: Isa,
    parallel: bool,
    dtype: Dtype,
    order: ByteOrder,
    bytes: &[u8],
    control: &Control,
) -> Result<ArrayTotal, Error> {
    if !dtype.is_float() {
        return sum_int_bytes(isa, parallel, dtype, order, bytes, control).map(ArrayTotal::Int);
    }
    let size = dtype.size();
    let mut total = ArrayTotal::new(dtype);
    // float::sum_bytes stays on this thread where there are no others.
    for block in bytes.chunks(ARRAY_BLOCK_BYTES) {
        let part = match dtype {
            Dtype::F32 => ArrayTotal::F32(float::sum_bytes(block, order, parallel, control)?),
            _ => ArrayTotal::F64(float::sum_bytes(block, order, parallel, control)?),
        };
        total.merge(&part)?;
        control.report(total.count() as u128, (bytes.len() / size) as u128);
    }
    Ok(total)
}

fn sum_int_bytes(
    isa: Isa,
    parallel: bool,
    dtype: Dtype,
    order: ByteOrder,
    bytes: &[u8],
    control: &Control,
) -> Result<ExactIntSum, Error> {
    let parallel = parallel && HAS_THREADS;
    let size = dtype.size() as u128;
    let total = bytes.len() as u128 / size;
    let mut done = 0u128;
    let mut sum = ExactIntSum::new();
    for block in bytes.chunks(ARRAY_BLOCK_BYTES) {
        control.check()?;
        let count = (block.len() / dtype.size()) as u64;
        let biased = if parallel {
            array::biased_sum_parallel(isa, dtype, order, block)
        } else {
            array::biased_sum(isa, dtype, order, block)
        };
        sum.add_biased(dtype, biased, count)?;
        done += count as u128;
        control.report(done, total);
    }
    Ok(sum)
}

/// The exact sum of everything `reader` holds, read a chunk at a time into one buffer (memory
/// stays bounded whatever the input's length), on the pool (`parallel`) or this thread.
///
/// # Errors
/// The reader's errors (a read failure, truncated or malformed data), and those of
/// [`sum_ints`].
pub fn sum_reader<R: Read>(
    reader: &mut ArrayReader<R>,
    parallel: bool,
    control: &Control,
) -> Result<ArrayTotal, Error> {
    sum_reader_checked(reader, parallel, false, STREAM_CHUNK_BYTES, control).map(|(sum, _)| sum)
}

/// [`sum_reader`] in chunks of `chunk_bytes` (a multiple of 16), and with `check` a second sum
/// of every chunk by the other path (one thread against the pool), for `--verify` on the CPU.
pub(crate) fn sum_reader_checked<R: Read>(
    reader: &mut ArrayReader<R>,
    parallel: bool,
    check: bool,
    chunk_bytes: usize,
    control: &Control,
) -> Result<(ArrayTotal, Option<ArrayTotal>), Error> {
    let format = reader.format();
    let size = reader.total_bytes().map_or(chunk_bytes, |total| {
        total.clamp(16, chunk_bytes as u64).next_multiple_of(16) as usize
    });
    let mut buffer = vec![0u8; size];
    let mut sum = ArrayTotal::new(format.dtype);
    let mut checked = check.then(|| ArrayTotal::new(format.dtype));
    let quiet = control.without_progress();
    let isa = Isa::best();
    loop {
        control.check()?;
        let filled = reader.fill(&mut buffer)?;
        if filled == 0 {
            return Ok((sum, checked));
        }
        let chunk = &buffer[..filled];
        let (dtype, order) = (format.dtype, format.order);
        sum.merge(&sum_bytes(isa, parallel, dtype, order, chunk, &quiet)?)?;
        if let Some(checked) = &mut checked {
            checked.merge(&sum_bytes(isa, !parallel, dtype, order, chunk, &quiet)?)?;
        }
        control.report(sum.count() as u128, format.count.unwrap_or(0) as u128);
    }
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
