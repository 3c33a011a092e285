//! Each device's integer-add peak, so a report can say what share of it a sum reaches: the GPU
//! microkernel (shaders/peak_add.wgsl) and its CPU twin, measured by one loop; the floor under a
//! GPU call, a minimal dispatch plus readback; and the bandwidths that bound array sums.

mod bandwidth;
mod cpu;
mod gpu;
mod round_trip;

use web_time::Instant;

use serde::Serialize;

pub use crate::pages::collect_on_huge_pages;
pub use bandwidth::{BandwidthKind, BandwidthMeasurement, GpuBandwidth, memory_read};
pub use cpu::{Threads, cpu_peak};
pub use gpu::GpuPeak;
pub use round_trip::RoundTrip;

use crate::Error;
use crate::control::Control;
use crate::cpu::Isa;

/// A device's integer-add peak: the median of several timed runs of a peak kernel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PeakMeasurement {
    /// u32 adds per second (lane-adds on a CPU), the median run's.
    pub ops_per_second: f64,
    /// Adds in one run.
    #[serde(serialize_with = "crate::json::string")]
    pub ops: u64,
    /// Seconds of the median run.
    pub seconds: f64,
    /// Timed runs.
    pub runs: usize,
    /// The slowest and the fastest run's rate, for the spread.
    pub ops_per_second_range: (f64, f64),
    /// The instruction set, for a CPU peak.
    pub isa: Option<Isa>,
}

impl PeakMeasurement {
    /// A single run of `ops` adds in `seconds`.
    #[must_use]
    pub fn new(ops: u64, seconds: f64) -> Self {
        let rate = ops as f64 / seconds;
        Self {
            ops_per_second: rate,
            ops,
            seconds,
            runs: 1,
            ops_per_second_range: (rate, rate),
            isa: None,
        }
    }

    fn with_isa(self, isa: Isa) -> Self {
        Self {
            isa: Some(isa),
            ..self
        }
    }
}

/// Timed runs per peak measurement; the median is reported.
const RUNS: usize = 5;

/// Finds a loop length whose run takes at least `min_seconds / RUNS` (growing from `first`, at
/// most `max_iterations`), then times [`RUNS`] runs of it and reports their median. `run` returns
/// the seconds one run took; `control` is checked before each run.
fn measure_runs(
    min_seconds: f64,
    (first, max_iterations): (u64, u64),
    ops_per_iteration: u64,
    control: &Control,
    mut run: impl FnMut(u64) -> Result<f64, Error>,
) -> Result<PeakMeasurement, Error> {
    let target = min_seconds / RUNS as f64;
    let mut iterations = first;
    loop {
        control.check()?;
        let seconds = run(iterations)?;
        if seconds >= target || iterations >= max_iterations {
            break;
        }
        // Aim a little past the target, at most 16x per step.
        let scale = (target * 1.2 / seconds.max(1e-6)).clamp(2.0, 16.0);
        iterations = ((iterations as f64 * scale) as u64).min(max_iterations);
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        control.check()?;
        times.push(run(iterations)?);
    }
    times.sort_by(f64::total_cmp);
    let ops = iterations * ops_per_iteration;
    let median = times[RUNS / 2];
    Ok(PeakMeasurement {
        ops_per_second: ops as f64 / median,
        ops,
        seconds: median,
        runs: RUNS,
        ops_per_second_range: (ops as f64 / times[RUNS - 1], ops as f64 / times[0]),
        isa: None,
    })
}

/// Seconds `work` took.
fn timed<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let value = work();
    (value, started.elapsed().as_secs_f64())
}
