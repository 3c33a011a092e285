//! The CPU twins of the GPU kernels: the reference the GPU is tested against, and the fallback.
//!
//! [`CpuTwin`] is the one entry point: on one thread or the pool ([`Threads`]), for ranges,
//! arrays and streams. A workload's twin cuts its input into the same kind of blocks a GPU
//! dispatch takes, and rayon spreads each block's chunks (the CPU's "invocations") over its pool.
//! One module per workload (`range`, `array`; floats in [`crate::float`]); `simd` picks the
//! instruction set for every hot loop.

pub(crate) mod array;
mod axis;
pub(crate) mod by_key;
mod compat;
mod range;
pub(crate) mod simd;

#[allow(deprecated)]
pub use compat::{
    sum_floats, sum_ints, sum_ints_sequential, sum_parallel, sum_reader, sum_sequential,
};
pub use simd::Isa;

use std::io::Read;

use rayon::prelude::*;

use crate::Error;
use crate::array::{ByteOrder, Dtype, ExactIntSum};
use crate::control::Control;
use crate::engine::ArrayBytes;
use crate::float;
use crate::input::{ArrayReader, ChunkRead};
use crate::range::{Block, SumRange};
use crate::total::ArrayTotal;

/// Sums of fewer elements never use the pool, whatever the threads asked for: they run on the
/// calling thread, which a pool's wake-up would only slow down (a crate that runs the twin inside
/// a pool of its own, as the Python package does, need not enter it for them).
pub const SERIAL_ELEMENTS: u64 = 1 << 15;

/// Whether rayon has threads to run the parallel twins on. A web page has one thread (and rayon
/// none to spawn), so there every "parallel" sum runs on the calling thread: the same code, the
/// same bits.
pub(crate) const HAS_THREADS: bool = !cfg!(target_arch = "wasm32");

/// Elements one rayon task adds; the counterpart of a GPU workgroup's share.
pub(crate) const CHUNK_ELEMENTS: u64 = 1 << 16;

/// Elements between two checks of cancellation, deadline and progress.
pub(crate) const BLOCK_ELEMENTS: u64 = 1 << 26;

/// How many threads the CPU twin sums on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Threads {
    /// The calling thread: the baseline for speedups, and the quickest for short sums.
    One,
    /// Every thread of rayon's pool (the calling thread alone on the web, which has no other).
    All,
}

/// Threads in rayon's pool: what [`Threads::All`] sums on.
pub(crate) fn threads() -> usize {
    if HAS_THREADS {
        rayon::current_num_threads()
    } else {
        1
    }
}

/// `each` of `items`, in order: on the pool when `parallel`, else on the calling thread.
pub(crate) fn map_on<T: Sync, R: Send>(
    parallel: bool,
    items: &[T],
    each: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    if parallel && HAS_THREADS {
        items.par_iter().map(&each).collect()
    } else {
        items.iter().map(each).collect()
    }
}

/// The CPU twin of every GPU kernel: how many threads, and which instruction set its hot loops
/// are built for (the widest this CPU has, unless told otherwise). Every sum it makes is exact,
/// with the same bits on one thread and on the pool, and the same as every GPU's.
///
/// ```
/// use gpusum::cpu::{CpuTwin, Threads};
/// use gpusum::{Control, IntSlice, SumRange};
/// let twin = CpuTwin::new(Threads::All);
/// assert_eq!(twin.sum_range(SumRange::new(1, 20), &Control::new())?, 210);
/// let total = twin.sum_array(IntSlice::U8(&[255; 4]).into(), &Control::new())?;
/// assert_eq!(total.int_sum(), Some(1020));
/// # Ok::<(), gpusum::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTwin {
    threads: Threads,
    isa: Isa,
}

impl CpuTwin {
    /// The twin on `threads`, with [`Isa::best`].
    #[must_use]
    pub fn new(threads: Threads) -> Self {
        Self {
            threads,
            isa: Isa::best(),
        }
    }

    /// The same twin built for `isa` (a set this CPU lacks runs the portable build).
    #[must_use]
    pub fn with_isa(self, isa: Isa) -> Self {
        Self { isa, ..self }
    }

    /// Its threads.
    #[must_use]
    pub fn threads(&self) -> Threads {
        self.threads
    }

    /// Its instruction set.
    #[must_use]
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Whether a sum of `len` elements uses the pool: never below [`SERIAL_ELEMENTS`].
    fn parallel(&self, len: u128) -> bool {
        self.threads == Threads::All && HAS_THREADS && len >= u128::from(SERIAL_ELEMENTS)
    }

    /// The exact sum of `range`, every element added.
    ///
    /// # Errors
    /// [`Error::Cancelled`] or [`Error::Timeout`], from `control`.
    pub fn sum_range(&self, range: SumRange, control: &Control) -> Result<i128, Error> {
        let isa = self.isa;
        if !self.parallel(range.count()) {
            return sum_blocks(range, control, |block| {
                range::biased_sum(isa, block.first_biased, block.len)
            });
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

    /// The exact sum of `array` (integers, or floats rounded once when printed).
    ///
    /// # Errors
    /// As for [`CpuTwin::sum_range`].
    pub fn sum_array(&self, array: ArrayBytes<'_>, control: &Control) -> Result<ArrayTotal, Error> {
        let (dtype, order, bytes) = (array.dtype(), array.order(), array.bytes());
        if !dtype.is_float() {
            return self
                .sum_ints(dtype, order, bytes, control)
                .map(ArrayTotal::Int);
        }
        let size = dtype.size();
        let mut total = ArrayTotal::new(dtype);
        let parallel = self.parallel(array.len().into());
        for block in bytes.chunks(ARRAY_BLOCK_BYTES) {
            let part = match dtype {
                Dtype::F32 => {
                    ArrayTotal::F32(float::sum_bytes(block, order, parallel, self.isa, control)?)
                }
                _ => ArrayTotal::F64(float::sum_bytes(block, order, parallel, self.isa, control)?),
            };
            total.merge(&part)?;
            control.report(total.count() as u128, (bytes.len() / size) as u128);
        }
        Ok(total)
    }

    fn sum_ints(
        &self,
        dtype: Dtype,
        order: ByteOrder,
        bytes: &[u8],
        control: &Control,
    ) -> Result<ExactIntSum, Error> {
        let size = dtype.size() as u128;
        let total = bytes.len() as u128 / size;
        let mut done = 0u128;
        let mut sum = ExactIntSum::new();
        for block in bytes.chunks(ARRAY_BLOCK_BYTES) {
            control.check()?;
            let count = (block.len() / dtype.size()) as u64;
            let biased = if self.parallel(total) {
                array::biased_sum_parallel(self.isa, dtype, order, block)
            } else {
                array::biased_sum(self.isa, dtype, order, block)
            };
            sum.add_biased(dtype, biased, count)?;
            done += count as u128;
            control.report(done, total);
        }
        Ok(sum)
    }

    /// The exact sum of everything `reader` holds, read a chunk of [`STREAM_CHUNK_BYTES`] at a
    /// time into one buffer: memory stays bounded whatever the input's length.
    ///
    /// # Errors
    /// The reader's errors (a read failure, truncated or malformed data), and those of
    /// [`CpuTwin::sum_range`].
    pub fn sum_reader<R: Read>(
        &self,
        reader: &mut ArrayReader<R>,
        control: &Control,
    ) -> Result<ArrayTotal, Error> {
        let stream = self.sum_stream(reader, STREAM_CHUNK_BYTES, false, control);
        crate::gpu::wait::block(stream).map(|(sum, _)| sum)
    }

    /// The exact sum of a stream in chunks of `chunk_bytes` (a multiple of 16), and with `check`
    /// a second sum of every chunk by the twin on the other threads (one against the pool), for
    /// a request's check on the CPU.
    pub(crate) async fn sum_stream(
        &self,
        reader: &mut dyn ChunkRead,
        chunk_bytes: usize,
        check: bool,
        control: &Control<'_>,
    ) -> Result<(ArrayTotal, Option<ArrayTotal>), Error> {
        let format = reader.format();
        let size = reader.format().count.map_or(chunk_bytes, |count| {
            let total = count * format.dtype.size() as u64;
            total.clamp(16, chunk_bytes as u64).next_multiple_of(16) as usize
        });
        let mut buffer = vec![0u8; size];
        let mut sum = ArrayTotal::new(format.dtype);
        let other = CpuTwin {
            threads: match self.threads {
                Threads::One => Threads::All,
                Threads::All => Threads::One,
            },
            ..*self
        };
        let mut checked = check.then(|| ArrayTotal::new(format.dtype));
        let quiet = control.without_progress();
        loop {
            control.check()?;
            let filled = reader.read_chunk(&mut buffer).await?;
            if filled == 0 {
                return Ok((sum, checked));
            }
            let chunk = ArrayBytes::new(&buffer[..filled], format.dtype, format.order)?;
            sum.merge(&self.sum_array(chunk, &quiet)?)?;
            if let Some(checked) = &mut checked {
                checked.merge(&other.sum_array(chunk, &quiet)?)?;
            }
            control.report(sum.count() as u128, format.count.unwrap_or(0) as u128);
        }
    }
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
                for threads in [Threads::One, Threads::All] {
                    let twin = CpuTwin::new(threads).with_isa(isa);
                    assert_eq!(
                        twin.sum_range(range, &control).unwrap(),
                        range.closed_form(),
                        "{isa} {threads:?}: {range:?}"
                    );
                }
            }
        }
        for (start, end) in [
            (1, 20),
            (-5, 5),
            (i64::MAX - 100, i64::MAX),
            (i64::MIN, i64::MIN + 70_000),
        ] {
            let range = SumRange::new(start, end);
            for threads in [Threads::One, Threads::All] {
                let twin = CpuTwin::new(threads);
                assert_eq!(
                    twin.sum_range(range, &control).unwrap(),
                    range.closed_form(),
                    "{range:?}"
                );
            }
        }
    }
}
