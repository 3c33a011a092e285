//! The CPU's integer-add peak: the twin of shaders/peak_add.wgsl, built for the widest
//! instruction set, in u32 lane-adds per second.

use super::{PeakMeasurement, measure_runs, timed};
use crate::Error;
use crate::control::Control;
use crate::cpu::Isa;
use crate::cpu::simd::{Lanes, per_isa};

/// Dependent adds per lane per iteration of [`peak_chains`].
const ADDS_PER_ITERATION: u64 = 4;
/// Registers of independent chains, per operand: enough to keep every vector adder busy (an add
/// has a latency of one cycle and up to four issue per cycle), few enough to stay in registers.
const CHAIN_REGISTERS: usize = 7;

/// Where the CPU peak runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Threads {
    /// The calling thread (the `seq` path's device).
    One,
    /// Every thread of the rayon pool (the `cpu` path's device).
    All,
}

/// The CPU's integer-add peak on `threads` with `isa`, in u32 lane-adds per second: the median
/// of several runs of about `min_seconds` each.
///
/// # Errors
/// [`Error::Cancelled`] or [`Error::Timeout`] from `control`, checked between runs.
pub fn cpu_peak(
    isa: Isa,
    threads: Threads,
    min_seconds: f64,
    control: &Control,
) -> Result<PeakMeasurement, Error> {
    let count = match threads {
        Threads::One => 1,
        Threads::All => rayon::current_num_threads() as u64,
    };
    let lanes = (lanes_of(isa) * CHAIN_REGISTERS) as u64;
    let ops_per_iteration = count * lanes * ADDS_PER_ITERATION;
    let measurement = measure_runs(
        min_seconds,
        (1 << 10, 1 << 40),
        ops_per_iteration,
        control,
        |iterations| {
            let ((), seconds) = timed(|| match threads {
                Threads::One => {
                    std::hint::black_box(peak_chains(isa, 0, iterations));
                }
                Threads::All => {
                    rayon::broadcast(|context| {
                        std::hint::black_box(peak_chains(isa, context.index() as u32, iterations))
                    });
                }
            });
            Ok(seconds)
        },
    )?;
    Ok(measurement.with_isa(isa))
}

/// u32 lanes per register of the build [`peak_chains`] runs for `isa`.
fn lanes_of(isa: Isa) -> usize {
    if isa.is_available() {
        isa.lanes()
    } else {
        Isa::available()
            .last()
            .map_or(1, |baseline| baseline.lanes())
    }
}

per_isa! {
    /// `a += b; b += a` in every lane: a Fibonacci-like recurrence that no compiler can fold, so
    /// each add really runs, in `CHAIN_REGISTERS` independent chains of registers. Returns a
    /// checksum that keeps the chains live.
    fn peak_chains(seed: u32, iterations: u64) -> u32 = peak_chains_lanes
}

/// # Safety
/// Only from code built for `V`'s instruction set.
#[inline(always)]
unsafe fn peak_chains_lanes<V: Lanes>(seed: u32, iterations: u64) -> u32 {
    let seed = std::hint::black_box(seed);
    let iterations = std::hint::black_box(iterations);
    let mut lanes = [0u32; 16];
    // SAFETY: the caller built this for V's instruction set.
    unsafe {
        let mut a: [V; CHAIN_REGISTERS] = std::array::from_fn(|r| V::splat(seed ^ r as u32));
        let mut b: [V; CHAIN_REGISTERS] =
            std::array::from_fn(|r| V::splat(seed.wrapping_add(7 * r as u32 + 1)));
        for _ in 0..iterations {
            for r in 0..CHAIN_REGISTERS {
                a[r] = a[r].add(b[r]);
                b[r] = b[r].add(a[r]);
                a[r] = a[r].add(b[r]);
                b[r] = b[r].add(a[r]);
            }
        }
        let mut checksum = V::splat(0);
        for r in 0..CHAIN_REGISTERS {
            checksum = checksum.add(a[r]).add(b[r]);
        }
        checksum.store(&mut lanes);
    }
    lanes.iter().fold(0, |acc, &x| acc ^ x)
}
