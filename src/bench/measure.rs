//! Timing one backend over a sweep of lengths: a warm-up, then repeated checked runs per point.

use std::time::Instant;

use super::backend::{Backend, BackendId};
use super::report::Row;
use super::{BenchError, BenchOptions, Event};
use crate::control::Control;
use crate::range::SumRange;

/// Measures one backend over the requested lengths, or over powers of two until the budget is
/// spent.
pub(crate) fn sweep(
    backend: &Backend,
    options: &BenchOptions,
    on_event: &mut impl FnMut(Event),
) -> Result<Vec<Row>, BenchError> {
    let lengths: Box<dyn Iterator<Item = u64>> = match &options.sizes {
        Some(sizes) => Box::new(sizes.clone().into_iter()),
        None => Box::new(
            std::iter::successors(Some(1u64 << 10), |&n| n.checked_mul(options.growth.max(2)))
                .take_while(|&n| n <= 1 << 62),
        ),
    };
    let mut rows = Vec::new();
    let mut spent = 0.0;
    let mut last_point_seconds: Option<(u64, f64)> = None;
    for count in lengths {
        if options.sizes.is_none()
            && let Some((last_count, last_seconds)) = last_point_seconds
        {
            // Time grows at most linearly with the length once overheads are paid.
            let predicted = last_seconds * count as f64 / last_count as f64;
            if spent + predicted > options.budget_seconds {
                break;
            }
        }
        on_event(Event::Measuring {
            label: &backend.label,
            count,
        });
        let started = Instant::now();
        let row = measure(backend, count, options)?;
        let point_seconds = started.elapsed().as_secs_f64();
        spent += point_seconds;
        last_point_seconds = Some((count, point_seconds));
        rows.push(row);
    }
    Ok(rows)
}

/// A warm-up, then at least `repeats` timed runs, more until they add up to
/// `min_point_seconds` (at most 1000 runs).
fn measure(backend: &Backend, count: u64, options: &BenchOptions) -> Result<Row, BenchError> {
    let range = SumRange::new(1, count as i64);
    timed_sum(backend, range)?;
    let mut times = Vec::new();
    let mut kernels = Vec::new();
    let mut total = 0.0;
    while times.len() < options.repeats.max(1)
        || (total < options.min_point_seconds && times.len() < 1000)
    {
        let (seconds, kernel) = timed_sum(backend, range)?;
        total += seconds;
        times.push(seconds);
        kernels.extend(kernel);
    }
    let median_seconds = median(&mut times);
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
        elements_per_second: count as f64 / median_seconds,
        kernel_seconds: (!kernels.is_empty()).then(|| median(&mut kernels)),
        speedup_vs_seq: None,
        speedup_vs_cpu: None,
    })
}

/// One checked, timed sum; returns (seconds, kernel seconds).
fn timed_sum(backend: &Backend, range: SumRange) -> Result<(f64, Option<f64>), BenchError> {
    let started = Instant::now();
    let outcome = backend.engine.sum_outcome(range, &Control::new())?;
    let seconds = started.elapsed().as_secs_f64();
    let expected = range.closed_form();
    if outcome.sum != expected {
        return Err(BenchError::WrongSum {
            backend: backend.id.clone(),
            start: range.start(),
            end: range.end(),
            expected,
            observed: outcome.sum,
        });
    }
    Ok((seconds, outcome.kernel_seconds))
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
