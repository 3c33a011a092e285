//! Each device's integer-add peak, so a report can say what share of it a sum reaches: the GPU
//! microkernel (shaders/peak_add.wgsl) and its CPU twin, measured by one loop.

mod cpu;
mod gpu;

use std::time::Instant;

use serde::Serialize;

pub use cpu::{Threads, cpu_peak};
pub use gpu::GpuPeak;

use crate::Error;
use crate::control::Control;

/// One timed run of a peak kernel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PeakMeasurement {
    /// Dependent u32 adds per second.
    pub ops_per_second: f64,
    /// Adds in the timed run.
    pub ops: u64,
    /// Seconds of the timed run.
    pub seconds: f64,
}

impl PeakMeasurement {
    /// A measurement of `ops` adds in `seconds`.
    #[must_use]
    pub fn new(ops: u64, seconds: f64) -> Self {
        Self {
            ops_per_second: ops as f64 / seconds,
            ops,
            seconds,
        }
    }
}

/// Runs `run(iterations)` (which returns the seconds it took) with a growing loop length until
/// one run takes at least `min_seconds` or the length reaches `max_iterations`, and reports that
/// run. `control` is checked before each run.
fn grow_until(
    min_seconds: f64,
    (first, max_iterations): (u64, u64),
    ops_per_iteration: u64,
    control: &Control,
    mut run: impl FnMut(u64) -> Result<f64, Error>,
) -> Result<PeakMeasurement, Error> {
    let mut iterations = first;
    loop {
        control.check()?;
        let seconds = run(iterations)?;
        if seconds >= min_seconds || iterations >= max_iterations {
            return Ok(PeakMeasurement::new(
                iterations * ops_per_iteration,
                seconds,
            ));
        }
        // Aim a little past the target, at most 16x per step.
        let scale = (min_seconds * 1.2 / seconds.max(1e-6)).clamp(2.0, 16.0);
        iterations = ((iterations as f64 * scale) as u64).min(max_iterations);
    }
}

/// Seconds `work` took.
fn timed<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let value = work();
    (value, started.elapsed().as_secs_f64())
}
