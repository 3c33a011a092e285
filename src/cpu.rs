//! The CPU twin of the GPU kernel: the reference the GPU is tested against, and the fallback.
//!
//! The range is cut into the same blocks a GPU dispatch takes; rayon spreads each block's chunks
//! (the CPU's "invocations") over its pool. Each chunk adds every biased value with an explicit
//! carry count, exactly as the shaders do. A plain `(a..=b).sum()` would not do: LLVM rewrites it
//! as the closed form, and it wraps past u64.

use rayon::prelude::*;

use crate::Error;
use std::time::Instant;

use crate::bench::PeakMeasurement;
use crate::control::Control;
use crate::range::{Block, SumRange};

/// Elements one rayon task adds; the counterpart of a GPU workgroup's share.
pub const CHUNK_ELEMENTS: u64 = 1 << 16;

/// Elements between two checks of cancellation, deadline and progress.
pub const BLOCK_ELEMENTS: u64 = 1 << 26;

/// Independent accumulators, so the compiler can keep them in vector lanes.
const LANES: usize = 16;

/// Sums `range` on the rayon pool, every element added.
pub fn sum_parallel(range: SumRange, control: &Control) -> Result<i128, Error> {
    sum_blocks(range, control, |block| {
        let chunks = block.len.div_ceil(CHUNK_ELEMENTS);
        (0..chunks)
            .into_par_iter()
            .map(|index| {
                let offset = index * CHUNK_ELEMENTS;
                let len = CHUNK_ELEMENTS.min(block.len - offset);
                // Consecutive biased values never wrap inside a range.
                biased_sum(block.first_biased + offset, len)
            })
            .sum()
    })
}

/// Sums `range` on the calling thread, every element added: the baseline for speedups.
pub fn sum_sequential(range: SumRange, control: &Control) -> Result<i128, Error> {
    sum_blocks(range, control, |block| {
        biased_sum(block.first_biased, block.len)
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

/// Exact sum of the `len` biased values `first, first + 1, ...`, every one of them added.
///
/// Runs the AVX2 build where the CPU has it (Mesa's JIT uses it too, so `gpusum bench` compares
/// like with like), else the portable one.
pub fn biased_sum(first: u64, len: u64) -> u128 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { biased_sum_avx2(first, len) };
    }
    biased_sum_lanes(first, len)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn biased_sum_avx2(first: u64, len: u64) -> u128 {
    biased_sum_lanes(first, len)
}

/// The kernel behind [`biased_sum`], inlined into each build.
///
/// Bound: each lane adds at most `len / LANES + 1` values below 2^64, so its carry count fits in
/// u64 and the result (< len * 2^64) fits in u128 for any `len` below 2^64.
#[inline(always)]
fn biased_sum_lanes(first: u64, len: u64) -> u128 {
    let mut sums = [0u64; LANES];
    let mut carries = [0u64; LANES];
    let mut values: [u64; LANES] = std::array::from_fn(|lane| first.wrapping_add(lane as u64));
    for _ in 0..len / LANES as u64 {
        for lane in 0..LANES {
            let (a, b) = (sums[lane], values[lane]);
            let sum = a.wrapping_add(b);
            // The carry depends on every partial sum: this is what stops LLVM from folding
            // the loop into the closed form. Written bitwise, it vectorizes.
            carries[lane] += ((a & b) | ((a | b) & !sum)) >> 63;
            sums[lane] = sum;
            // Past the last element this may wrap; those values are never added.
            values[lane] = values[lane].wrapping_add(LANES as u64);
        }
    }
    let tail = (len % LANES as u64) as usize;
    for lane in 0..tail {
        sums[lane] = sums[lane].wrapping_add(values[lane]);
        carries[lane] += (sums[lane] < values[lane]) as u64;
    }
    (0..LANES)
        .map(|lane| ((carries[lane] as u128) << 64) + sums[lane] as u128)
        .sum()
}

/// Independent add chains in the peak kernel: enough to keep every vector adder busy.
const PEAK_LANES: usize = 32;
/// Dependent adds per lane per iteration of [`peak_chains`].
const PEAK_ADDS_PER_ITERATION: u64 = 4;

/// The CPU's integer-add peak on one thread (`parallel == false`) or on every rayon thread: the
/// twin of shaders/peak_add.wgsl. Doubles the loop length until a run takes `min_seconds`.
pub fn measure_peak(parallel: bool, min_seconds: f64) -> PeakMeasurement {
    let mut iterations: u64 = 1 << 12;
    loop {
        let started = Instant::now();
        let threads = if parallel {
            rayon::broadcast(|context| {
                std::hint::black_box(peak_chains(context.index() as u32, iterations))
            });
            rayon::current_num_threads() as u64
        } else {
            std::hint::black_box(peak_chains(0, iterations));
            1
        };
        let seconds = started.elapsed().as_secs_f64();
        if seconds >= min_seconds || iterations >= 1 << 40 {
            let ops = threads * iterations * PEAK_LANES as u64 * PEAK_ADDS_PER_ITERATION;
            return PeakMeasurement {
                ops_per_second: ops as f64 / seconds,
                ops,
                seconds,
            };
        }
        iterations =
            (iterations as f64 * (min_seconds * 1.2 / seconds.max(1e-6)).clamp(2.0, 16.0)) as u64;
    }
}

/// `a += b; b += a` in every lane: a Fibonacci-like recurrence that LLVM cannot fold, so each
/// add really runs. Returns a checksum that keeps the chains live. Built like [`biased_sum`].
fn peak_chains(seed: u32, iterations: u64) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { peak_chains_avx2(seed, iterations) };
    }
    peak_chains_lanes(seed, iterations)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn peak_chains_avx2(seed: u32, iterations: u64) -> u32 {
    peak_chains_lanes(seed, iterations)
}

#[inline(always)]
fn peak_chains_lanes(seed: u32, iterations: u64) -> u32 {
    let seed = std::hint::black_box(seed);
    let iterations = std::hint::black_box(iterations);
    let mut a: [u32; PEAK_LANES] = std::array::from_fn(|lane| seed ^ lane as u32);
    let mut b: [u32; PEAK_LANES] =
        std::array::from_fn(|lane| seed.wrapping_add(7 * lane as u32 + 1));
    for _ in 0..iterations {
        for lane in 0..PEAK_LANES {
            a[lane] = a[lane].wrapping_add(b[lane]);
            b[lane] = b[lane].wrapping_add(a[lane]);
            a[lane] = a[lane].wrapping_add(b[lane]);
            b[lane] = b[lane].wrapping_add(a[lane]);
        }
    }
    a.iter().chain(&b).fold(0, |acc, &x| acc ^ x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::bias;

    #[test]
    fn biased_sum_matches_wide_addition() {
        for (first, len) in [
            (0u64, 0u64),
            (5, 1),
            (u64::MAX - 20, 21),
            (u64::MAX - 8, 9),
            (3, 1000),
        ] {
            let expected: u128 = (0..len).map(|i| (first + i) as u128).sum();
            assert_eq!(biased_sum(first, len), expected, "first {first}, len {len}");
        }
    }

    #[test]
    fn both_paths_match_the_closed_form() {
        let control = Control::default();
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
        assert_eq!(bias(0), 1 << 63);
    }
}
