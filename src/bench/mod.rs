//! `gpusum bench`: CPU and GPU side by side on the same work, honestly measured.
//!
//! Every backend sums `1..=n` for a sweep of lengths. Each point has a warm-up, then repeated runs
//! checked against the closed form. Start-up costs are measured apart from the points, and each
//! device's integer-add peak is measured in the same run, so the report can say what fraction of
//! its own peak each backend reaches and flag loops a compiler folded.
//!
//! The pieces: `backend.rs` (identity, the `--backends` grammar, opening), `measure.rs` (points),
//! `analysis.rs` (speedups, crossovers, peaks, flags), `report.rs` (the model). A workload adds its
//! rows in `measure.rs`.

mod analysis;
mod backend;
mod measure;
mod report;

pub use backend::{BackendId, BackendSelector};
pub use report::{
    BenchReport, Crossover, Flag, Machine, Peak, PeakFraction, Row, Skipped, Startup, Unavailable,
};

use crate::Error;

/// What to measure.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BenchOptions {
    /// Lengths to measure, in any order; `None` sweeps powers of two from 2^10. Either way a
    /// length whose predicted time would overrun `budget_seconds` is not measured.
    pub sizes: Option<Vec<u64>>,
    /// Time budget per backend.
    pub budget_seconds: f64,
    /// Step of the default sweep: 2 measures every power of two, 4 every other one.
    pub growth: u64,
    /// Timed runs per point, at least (more for points faster than `min_point_seconds`).
    pub repeats: usize,
    /// Exactly this many timed runs per point, overriding `repeats` and `min_point_seconds`.
    pub runs: Option<usize>,
    /// Untimed runs before each point's timed ones.
    pub warmup: usize,
    /// Keep repeating a point until its timed runs add up to this.
    pub min_point_seconds: f64,
    /// How long each peak measurement runs.
    pub peak_seconds: f64,
    /// Which backends; `None` runs all.
    pub backends: Option<Vec<BackendSelector>>,
}

impl BenchOptions {
    /// The default sweep: every power of two, 20 s per backend.
    #[must_use]
    pub fn full() -> Self {
        Self {
            sizes: None,
            budget_seconds: 20.0,
            growth: 2,
            repeats: 5,
            runs: None,
            warmup: 1,
            min_point_seconds: 0.2,
            peak_seconds: 0.25,
            backends: None,
        }
    }

    /// A shorter sweep: every other power of two, 5 s per backend.
    #[must_use]
    pub fn quick() -> Self {
        Self {
            budget_seconds: 5.0,
            growth: 4,
            repeats: 3,
            min_point_seconds: 0.03,
            peak_seconds: 0.1,
            ..Self::full()
        }
    }

    /// Measures exactly these lengths instead of the sweep.
    #[must_use]
    pub fn with_sizes(self, sizes: Vec<u64>) -> Self {
        Self {
            sizes: Some(sizes),
            ..self
        }
    }

    /// Measures only the backends these select.
    #[must_use]
    pub fn with_backends(self, backends: Vec<BackendSelector>) -> Self {
        Self {
            backends: Some(backends),
            ..self
        }
    }

    /// Times exactly `runs` runs per point.
    #[must_use]
    pub fn with_runs(self, runs: usize) -> Self {
        Self {
            runs: Some(runs.max(1)),
            ..self
        }
    }

    /// Runs `warmup` untimed sums before each point.
    #[must_use]
    pub fn with_warmup(self, warmup: usize) -> Self {
        Self { warmup, ..self }
    }

    /// Sets the sweep's time budget per backend.
    #[must_use]
    pub fn with_budget_seconds(self, budget_seconds: f64) -> Self {
        Self {
            budget_seconds,
            ..self
        }
    }
}

/// Progress, for a caller that shows it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// About to measure `backend` at `count`.
    Measuring {
        /// The backend's label.
        label: &'a str,
        /// The length.
        count: u64,
    },
    /// About to measure a device's peak.
    Peak {
        /// The device.
        device: &'a str,
    },
}

/// Why a bench run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// A `--backends` entry that is not in the grammar.
    #[error(
        "unknown backend {0:?}: use seq, cpu, gpu, gpu:ADAPTER or gpu:ADAPTER:{variants}",
        variants = crate::ShaderVariant::ALL.map(crate::ShaderVariant::name).join("|")
    )]
    UnknownBackend(String),

    /// A `--backends` entry that matches nothing on this machine.
    #[error("no backend here matches {0:?}")]
    NoMatch(String),

    /// A measured sum differed from the closed form.
    #[error(
        "wrong sum on {backend} for [{start}, {end}]: got {observed}, the closed form gives {expected}"
    )]
    WrongSum {
        /// The backend that added wrong.
        backend: BackendId,
        /// First element.
        start: i64,
        /// Last element.
        end: i64,
        /// The closed form.
        expected: i128,
        /// What the backend returned.
        observed: i128,
    },

    /// A sum or a peak measurement failed.
    #[error(transparent)]
    Sum(#[from] Error),
}

/// Runs the bench.
///
/// # Errors
/// The first wrong sum, a `backends` entry that matches nothing, or a failing sum.
pub fn run(
    options: &BenchOptions,
    mut on_event: impl FnMut(Event),
) -> Result<BenchReport, BenchError> {
    let selectors = options.backends.as_deref();
    let opened = backend::open(selectors)?;
    for selector in selectors.unwrap_or_default() {
        if !opened.backends.iter().any(|b| selector.matches(&b.id)) {
            return Err(BenchError::NoMatch(selector.to_string()));
        }
    }

    let mut results = Vec::new();
    let mut skipped = Vec::new();
    for backend in &opened.backends {
        let (rows, over_budget) = measure::sweep(backend, options, &mut on_event)?;
        results.extend(rows);
        skipped.extend(over_budget);
    }
    analysis::fill_speedups(&mut results);
    let crossover = analysis::crossovers(&opened.backends, &results);
    let peak = analysis::peaks(&opened.backends, &results, options, &mut on_event)?;
    let flags = analysis::flags(&results, &peak);

    Ok(BenchReport {
        machine: Machine::detect(opened.adapters),
        startup: opened.startup,
        results,
        crossover,
        peak,
        flags,
        unavailable: opened.unavailable,
        skipped,
    })
}
