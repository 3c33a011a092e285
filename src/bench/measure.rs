//! Timing one backend over a sweep of lengths: a warm-up, then repeated checked runs per point.

use std::time::Instant;

use super::backend::{Backend, BackendId};
use super::report::{Row, Skipped};
use super::{BenchError, BenchOptions, Event};
use crate::control::{Control, default_timeout};
use crate::range::SumRange;

/// Measures one backend over the requested lengths (ascending), or over powers of two, while
/// the budget lasts. A requested length whose predicted time would overrun the budget is not
/// measured but returned as skipped, with its prediction, and so is every longer one.
pub(crate) fn sweep(
    backend: &Backend,
    options: &BenchOptions,
    on_event: &mut impl FnMut(Event),
) -> Result<(Vec<Row>, Vec<Skipped>), BenchError> {
    let lengths: Vec<u64> = match &options.sizes {
        Some(sizes) => {
            let mut sizes = sizes.clone();
            sizes.sort_unstable();
            sizes.dedup();
            sizes
        }
        None => std::iter::successors(Some(1u64 << 10), |&n| n.checked_mul(options.growth.max(2)))
            .take_while(|&n| n <= 1 << 62)
            .collect(),
    };
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    let mut spent = 0.0;
    let mut last_sum: Option<(u64, f64)> = None;
    for count in lengths {
        let predicted = if skipped.is_empty() {
            point_seconds(backend, count, last_sum, options)?
        } else {
            0.0
        };
        if !skipped.is_empty() || spent + predicted > options.budget_seconds {
            if options.sizes.is_none() {
                break;
            }
            skipped.push(Skipped {
                backend: backend.id.clone(),
                count,
                predicted_seconds: predicted,
            });
            continue;
        }
        on_event(Event::Measuring {
            label: &backend.label,
            count,
        });
        let started = Instant::now();
        let row = measure(backend, count, options)?;
        spent += started.elapsed().as_secs_f64();
        last_sum = Some((count, row.median_seconds));
        rows.push(row);
    }
    Ok((rows, skipped))
}

/// Predicts how long measuring a point at `count` takes, from one sum's time scaled linearly.
/// That is honest once a sum takes long enough for the fixed costs to be paid (10 ms); until
/// then, sums of 16 times the last length (at most `count`) are timed to find one that does.
fn point_seconds(
    backend: &Backend,
    count: u64,
    last_sum: Option<(u64, f64)>,
    options: &BenchOptions,
) -> Result<f64, BenchError> {
    const LONG_ENOUGH: f64 = 0.01;
    let (mut length, mut seconds) = last_sum.unwrap_or((0, 0.0));
    while seconds < LONG_ENOUGH && length < count {
        length = length.saturating_mul(16).max(1 << 16).min(count);
        seconds = timed_sum(backend, SumRange::new(1, length as i64))?;
    }
    let one = seconds * count as f64 / length.max(1) as f64;
    // A warm-up and the timed runs, which go on until they add up to the minimum.
    let runs = (options.repeats.max(1) + 1) as f64;
    Ok((one * runs).max(options.min_point_seconds + one))
}

/// A warm-up, then at least `repeats` timed runs, more until they add up to
/// `min_point_seconds` (at most 1000 runs).
fn measure(backend: &Backend, count: u64, options: &BenchOptions) -> Result<Row, BenchError> {
    let range = SumRange::new(1, count as i64);
    for _ in 0..options.warmup {
        timed_sum(backend, range)?;
    }
    let mut times = Vec::new();
    let mut total = 0.0;
    let enough = |times: &Vec<f64>, total: f64| match options.runs {
        Some(runs) => times.len() >= runs,
        None => {
            times.len() >= options.repeats.max(1)
                && (total >= options.min_point_seconds || times.len() >= 1000)
        }
    };
    while !enough(&times, total) {
        let seconds = timed_sum(backend, range)?;
        total += seconds;
        times.push(seconds);
    }
    let median_seconds = median(&mut times);
    let spread = Spread::of(&times, median_seconds);
    let mut kernels = kernel_times(backend, range)?;
    let kernel = backend.kernel();
    Ok(Row {
        backend: backend.id.clone(),
        label: backend.label.clone(),
        adapter: match &backend.id {
            BackendId::Gpu { adapter, .. } => Some(adapter.clone()),
            _ => None,
        },
        variant: kernel.map(|k| k.variant),
        reduction: kernel.map(|k| k.reduction),
        count,
        runs: times.len(),
        median_seconds,
        min_seconds: times[0],
        max_seconds: times[times.len() - 1],
        stddev_seconds: spread.stddev,
        mad_seconds: spread.mad,
        elements_per_second: count as f64 / median_seconds,
        kernel_seconds: (!kernels.is_empty()).then(|| median(&mut kernels)),
        speedup_vs_seq: None,
        speedup_vs_cpu: None,
    })
}

/// One checked, timed sum, bounded like any other sum; returns its seconds.
fn timed_sum(backend: &Backend, range: SumRange) -> Result<f64, BenchError> {
    let control = Control::new().with_timeout(default_timeout(range.count()));
    let started = Instant::now();
    let sum = backend.engine.sum(range, &control)?;
    let seconds = started.elapsed().as_secs_f64();
    check(backend, range, sum)?;
    Ok(seconds)
}

/// Kernel times of three checked sums on the backend's twin with timestamps; none without one.
fn kernel_times(backend: &Backend, range: SumRange) -> Result<Vec<f64>, BenchError> {
    let Some(timing) = backend.timing.as_ref().filter(|t| t.has_timestamps()) else {
        return Ok(Vec::new());
    };
    let mut times = Vec::new();
    for _ in 0..3 {
        let control = Control::new().with_timeout(default_timeout(range.count()));
        let outcome = timing.sum_outcome(range, &control)?;
        check(backend, range, outcome.sum)?;
        times.extend(outcome.kernel_seconds);
    }
    Ok(times)
}

fn check(backend: &Backend, range: SumRange, sum: i128) -> Result<(), BenchError> {
    let expected = range.closed_form();
    if sum == expected {
        return Ok(());
    }
    Err(BenchError::WrongSum {
        backend: backend.id.clone(),
        start: range.start(),
        end: range.end(),
        expected,
        observed: sum,
    })
}

/// How much a point's runs scatter.
struct Spread {
    stddev: f64,
    mad: f64,
}

impl Spread {
    /// The sample standard deviation and the median absolute deviation of `times` around
    /// `median`.
    fn of(times: &[f64], median_seconds: f64) -> Self {
        let n = times.len() as f64;
        let mean = times.iter().sum::<f64>() / n;
        let variance = if times.len() > 1 {
            times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        let mut deviations: Vec<f64> = times.iter().map(|t| (t - median_seconds).abs()).collect();
        Self {
            stddev: variance.sqrt(),
            mad: median(&mut deviations),
        }
    }
}

/// Sorts `values` and returns their median.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}
