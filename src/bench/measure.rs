//! Timing one series (a backend, and for arrays a type and where the data lives) over a sweep
//! of lengths: a warm-up, then repeated checked runs per point.

use web_time::Instant;

use super::backend::{Backend, BackendId};
use super::report::{Row, SkipReason, Skipped};
use super::{BenchError, BenchOptions, Event};
use crate::control::{Control, default_timeout};
use crate::range::SumRange;

/// What a sweep measures: one checked, timed sum at a length, and kernel times where a GPU
/// gives them. A row's identity comes from [`Series::row`].
pub(crate) trait Series {
    /// The row of a point at `count`, with no timings filled in.
    fn row(&self, count: u64) -> Row;
    /// The backend, for skipped points.
    fn backend(&self) -> &BackendId;
    /// The most elements this series can take (memory); longer requested lengths are skipped.
    fn max_count(&self) -> u64 {
        u64::MAX
    }
    /// One checked sum of `count` elements; returns its seconds.
    fn timed_sum(&mut self, count: u64) -> Result<f64, BenchError>;
    /// Kernel times of a few checked sums by GPU timestamps; none without them.
    fn kernel_times(&mut self, count: u64) -> Result<Vec<f64>, BenchError>;
}

/// A range backend as a series: it sums 1..=count.
pub(crate) struct RangeSeries<'a>(pub(crate) &'a Backend);

impl Series for RangeSeries<'_> {
    fn row(&self, count: u64) -> Row {
        let backend = self.0;
        let kernel = backend.kernel();
        Row::blank(backend.id.clone(), backend.label.clone(), count)
            .with_kernel(kernel.map(|k| k.variant), kernel.map(|k| k.reduction))
    }

    fn backend(&self) -> &BackendId {
        &self.0.id
    }

    fn timed_sum(&mut self, count: u64) -> Result<f64, BenchError> {
        timed_sum(self.0, SumRange::new(1, count as i64))
    }

    fn kernel_times(&mut self, count: u64) -> Result<Vec<f64>, BenchError> {
        kernel_times(self.0, SumRange::new(1, count as i64))
    }
}

/// The lengths a sweep tries: the requested ones ascending, or powers of `growth` from 2^10.
pub(crate) fn lengths(options: &BenchOptions) -> Vec<u64> {
    match &options.sizes {
        Some(sizes) => {
            let mut sizes = sizes.clone();
            sizes.sort_unstable();
            sizes.dedup();
            sizes
        }
        None => std::iter::successors(Some(1u64 << 10), |&n| n.checked_mul(options.growth.max(2)))
            .take_while(|&n| n <= 1 << 62)
            .collect(),
    }
}

/// Measures one series over the requested lengths (ascending), or over powers of two, while
/// `budget` seconds last. A requested length whose predicted time would overrun the budget (or
/// that the series cannot hold) is not measured but returned as skipped, with its prediction,
/// and so is every longer one.
pub(crate) fn sweep(
    series: &mut dyn Series,
    options: &BenchOptions,
    budget: f64,
    on_event: &mut impl FnMut(Event),
) -> Result<(Vec<Row>, Vec<Skipped>), BenchError> {
    let lengths = lengths(options);
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    let mut spent = 0.0;
    let mut last_sum: Option<(u64, f64)> = None;
    for count in lengths {
        let fits = count <= series.max_count();
        let predicted = if skipped.is_empty() && fits {
            point_seconds(series, count, last_sum, options)?
        } else {
            0.0
        };
        let reason = if !skipped.is_empty() {
            Some(SkipReason::AfterSkipped)
        } else if !fits {
            Some(SkipReason::TooLarge)
        } else if spent + predicted > budget {
            Some(SkipReason::Budget)
        } else {
            None
        };
        if let Some(reason) = reason {
            if options.sizes.is_none() {
                break;
            }
            skipped.push(Skipped {
                backend: series.backend().clone(),
                label: series.row(count).label,
                count,
                reason,
                predicted_seconds: predicted,
            });
            continue;
        }
        let label = series.row(count).label;
        on_event(Event::Measuring {
            label: &label,
            count,
        });
        let started = Instant::now();
        let row = measure(series, count, options)?;
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
    series: &mut dyn Series,
    count: u64,
    last_sum: Option<(u64, f64)>,
    options: &BenchOptions,
) -> Result<f64, BenchError> {
    const LONG_ENOUGH: f64 = 0.01;
    let (mut length, mut seconds) = last_sum.unwrap_or((0, 0.0));
    while seconds < LONG_ENOUGH && length < count {
        length = length.saturating_mul(16).max(1 << 16).min(count);
        // The faster of two: a series' first sum can pay for lazily built pipelines and
        // buffers, which would inflate the prediction many times over.
        seconds = series.timed_sum(length)?.min(series.timed_sum(length)?);
    }
    let one = seconds * count as f64 / length.max(1) as f64;
    // A warm-up and the timed runs, which go on until they add up to the minimum.
    let runs = (options.repeats.max(1) + 1) as f64;
    Ok((one * runs).max(options.min_point_seconds + one))
}

/// A warm-up, then at least `repeats` timed runs, more until they add up to
/// `min_point_seconds` (at most 1000 runs).
fn measure(series: &mut dyn Series, count: u64, options: &BenchOptions) -> Result<Row, BenchError> {
    for _ in 0..options.warmup {
        series.timed_sum(count)?;
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
        let seconds = series.timed_sum(count)?;
        total += seconds;
        times.push(seconds);
    }
    let median_seconds = median(&mut times);
    let spread = Spread::of(&times, median_seconds);
    let mut kernels = series.kernel_times(count)?;
    let mut row = series.row(count);
    row.runs = times.len();
    row.median_seconds = median_seconds;
    row.min_seconds = times[0];
    row.max_seconds = times[times.len() - 1];
    row.stddev_seconds = spread.stddev;
    row.mad_seconds = spread.mad;
    row.elements_per_second = count as f64 / median_seconds;
    row.bytes_per_second = row
        .dtype
        .map(|dtype| (count * dtype.size() as u64) as f64 / median_seconds);
    row.kernel_seconds = (!kernels.is_empty()).then(|| median(&mut kernels));
    Ok(row)
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
        let outcome = timing.run(range.into(), &control)?;
        check(backend, range, outcome.int_sum().unwrap_or_default())?;
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
