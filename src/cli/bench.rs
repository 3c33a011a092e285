//! `gpusum bench`: runs the library's bench with a spinner, then prints the table, JSON or CSV,
//! writes the exports and the plot, and compares with a baseline.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use gpusum::bench::{self, BenchError, BenchOptions, BenchReport, Event};

use super::args::BenchArgs;
use super::progress::spinner;
use super::{Outcome, Talk, bench_compare, bench_export, bench_table, json, out, plot};

/// A file the run will write, opened (and so checked) before the run starts.
struct Output {
    path: PathBuf,
    file: File,
}

impl Output {
    fn open(path: &Path) -> anyhow::Result<Self> {
        let file =
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    fn write(mut self, text: &str) -> anyhow::Result<()> {
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.flush())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

pub fn run(args: &BenchArgs, talk: Talk) -> Outcome {
    if let Some(path) = &args.save_profile {
        return save_profile(path.as_deref(), talk);
    }
    let options = options(args);
    let baseline = match &args.baseline {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let points = bench_compare::read_baseline(&text)
                .with_context(|| format!("{} is not a bench report", path.display()))?;
            Some((path.display().to_string(), points))
        }
        None => None,
    };
    let open = |path: &Option<PathBuf>| path.as_deref().map(Output::open).transpose();
    let (save, export_json, export_csv, export_md) = (
        open(&args.save)?,
        open(&args.export_json)?,
        open(&args.export_csv)?,
        open(&args.export_md)?,
    );
    if let Some(path) = &args.plot {
        Output::open(path)?;
    }

    let report = measure(&options, talk)?;
    if args.json {
        out::println(&json::document(&report, true)?)?;
    } else if args.csv {
        out::print(&bench_export::to_csv(&report)?)?;
    } else {
        out::print(&bench_table::to_table(&report))?;
        if let Some((name, points)) = &baseline {
            out::print(&bench_compare::compare(&report, points, name))?;
        }
    }
    let document = json::document(&report, true)?;
    for output in [save, export_json].into_iter().flatten() {
        output.write(&format!("{document}\n"))?;
    }
    if let Some(output) = export_csv {
        output.write(&bench_export::to_csv(&report)?)?;
    }
    if let Some(output) = export_md {
        output.write(&bench_export::to_markdown(&report))?;
    }
    if let Some(path) = &args.plot {
        plot::write_svg(&report, path)
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn options(args: &BenchArgs) -> BenchOptions {
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
    if let Some(runs) = args.runs {
        options = options.with_runs(runs as usize);
    }
    if let Some(warmup) = args.warmup {
        options = options.with_warmup(warmup);
    }
    options.with_workload(args.workload)
}

/// The bench itself, with a spinner on a terminal.
fn measure(options: &BenchOptions, talk: Talk) -> anyhow::Result<BenchReport> {
    let spinner = spinner().filter(|_| !talk.quiet);
    let report = bench::run(options, |event| {
        if let Some(spinner) = &spinner {
            spinner.set_message(match event {
                Event::Measuring { label, count } => {
                    format!("measuring {label} at {count} elements")
                }
                Event::Peak { device } => format!("measuring the add peak of {device}"),
                Event::Bandwidth { device } => format!("measuring the bandwidths of {device}"),
                _ => String::new(),
            });
        }
    });
    if let Some(spinner) = &spinner {
        spinner.finish_and_clear();
    }
    match report {
        Ok(report) => Ok(report),
        // A backend the machine does not have is the machine's doing, not a usage error.
        Err(error @ BenchError::NoMatch(_)) => Err(anyhow::Error::new(error)),
        Err(error) => Err(anyhow::Error::new(error).context("the benchmark failed")),
    }
}

/// `gpusum bench --save-profile [FILE]`: measures the planner's rates and writes them where
/// `auto` reads them (or to FILE).
fn save_profile(path: Option<&Path>, talk: Talk) -> Outcome {
    let path = match path {
        Some(path) => path.to_owned(),
        None => gpusum::engine::Profile::path().context(
            "no cache directory here (HOME is unset); name a file: --save-profile FILE, and \
             set GPUSUM_PROFILE to it",
        )?,
    };
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let output = Output::open(&path)?;
    let profile = bench::measure_profile(|line| {
        if !talk.quiet {
            super::out::say!("{line}");
        }
    })?;
    output.write(&profile.to_text())?;
    out::println(&format!("saved the profile to {}", path.display()))?;
    Ok(ExitCode::SUCCESS)
}
