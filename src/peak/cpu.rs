//! The CPU's integer-add peak: the twin of shaders/peak_add.wgsl.

use super::{PeakMeasurement, grow_until, timed};
use crate::Error;
use crate::control::Control;
use crate::cpu::simd::multiversion;

/// Independent add chains in the peak kernel: enough to keep every vector adder busy.
const PEAK_LANES: usize = 32;
/// Dependent adds per lane per iteration of [`peak_chains`].
const ADDS_PER_ITERATION: u64 = 4;

/// Where the CPU peak runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Threads {
    /// The calling thread (the `seq` path's device).
    One,
    /// Every thread of the rayon pool (the `cpu` path's device).
    All,
}

/// The CPU's integer-add peak on `threads`, from a run of at least `min_seconds`.
///
/// # Errors
/// [`Error::Cancelled`] or [`Error::Timeout`] from `control`, checked between runs.
pub fn cpu_peak(
    threads: Threads,
    min_seconds: f64,
    control: &Control,
) -> Result<PeakMeasurement, Error> {
    let count = match threads {
        Threads::One => 1,
        Threads::All => rayon::current_num_threads() as u64,
    };
    let ops_per_iteration = count * PEAK_LANES as u64 * ADDS_PER_ITERATION;
    grow_until(
        min_seconds,
        (1 << 12, 1 << 40),
        ops_per_iteration,
        control,
        |iterations| {
            let ((), seconds) = timed(|| match threads {
                Threads::One => {
                    std::hint::black_box(peak_chains(0, iterations));
                }
                Threads::All => {
                    rayon::broadcast(|context| {
                        std::hint::black_box(peak_chains(context.index() as u32, iterations))
                    });
                }
            });
            Ok(seconds)
        },
    )
}

multiversion! {
    /// `a += b; b += a` in every lane: a Fibonacci-like recurrence that LLVM cannot fold, so each
    /// add really runs. Returns a checksum that keeps the chains live.
    fn peak_chains(seed: u32, iterations: u64) -> u32 {
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
}
