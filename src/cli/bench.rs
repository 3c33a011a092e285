//! `gpusum bench`: runs the library's bench with a spinner, then prints the table, JSON or CSV and
//! draws the plot.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::error::ErrorKind;

use gpusum::bench::{self, BenchError, BenchOptions, Event};

use super::args::{BenchArgs, usage_error};
use super::progress::spinner;
use super::{Failure, Outcome, bench_table, out, plot};

pub fn run(args: &BenchArgs) -> Outcome {
    let mut options = if args.quick {
        BenchOptions::quick()
    } else {
        BenchOptions::full()
    };
    if let Some(sizes) = &args.sizes {
        options = options.with_sizes(sizes.clone());
    }
    if let Some(backends) = &args.backends {
        options = options.with_backends(backends.clone());
    }
    if let Some(budget) = args.budget {
        options = options.with_budget_seconds(budget.as_secs_f64());
    }
    let spinner = spinner();
    let report = bench::run(&options, |event| {
        if let Some(spinner) = &spinner {
            spinner.set_message(match event {
                Event::Measuring { label, count } => {
                    format!("measuring {label} at {count} elements")
                }
                Event::Peak { device } => format!("measuring the add peak of {device}"),
                _ => String::new(),
            });
        }
    });
    if let Some(spinner) = &spinner {
        spinner.finish_and_clear();
    }
    let report = match report {
        Ok(report) => report,
        Err(error @ BenchError::NoMatch(_)) => {
            return Err(Failure::Usage(usage_error(ErrorKind::InvalidValue, error)));
        }
        Err(error) => {
            return Err(anyhow::Error::new(error)
                .context("the benchmark failed")
                .into());
        }
    };
    if args.json {
        out::println(&super::json::document(&report, true)?)?;
    } else if args.csv {
        out::print(&bench_table::to_csv(&report))?;
    } else {
        out::print(&bench_table::to_table(&report))?;
    }
    if let Some(path) = &args.plot {
        plot::write_svg(&report, path)
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
