//! `gpusum selftest`: the battery on every adapter, shown as a table (row by row, as targets
//! finish) or as one JSON object.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use gpusum::Error;
use gpusum::selftest::{self, SelftestOptions, SelftestReport, TargetReport};

use super::args::SelftestArgs;
use super::out::say;
use super::{Outcome, RUNTIME, Talk, out};

/// Wide enough for "  arrays (texture), emulated / subgroup"; a row fits 80 columns.
const LABEL_WIDTH: usize = 48;

/// `gpusum selftest --json`.
#[derive(Serialize)]
struct SelftestJson<'a> {
    #[serde(serialize_with = "string")]
    seed: u64,
    adapters: usize,
    passed: bool,
    targets: &'a [TargetReport],
}

fn string<S: serde::Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

pub fn run(args: &SelftestArgs, _talk: Talk) -> Outcome {
    super::sum::check_adapter_text(Some("selftest"), args.adapter.as_deref())?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let mut options = SelftestOptions::new(seed);
    if let Some(timeout) = args.timeout {
        options = options.with_timeout(timeout);
    }
    if let Some(adapter) = &args.adapter {
        options = options.with_adapter(adapter.clone());
    }
    if let Some(size) = args.workgroup_size {
        options = options.with_workgroup_size(size);
    }
    // An output file that cannot be written fails now, not after the run.
    let junit_file = match &args.junit {
        Some(path) => Some(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ),
        None => None,
    };
    if !args.json {
        out::print(&format!(
            "gpusum selftest, seed {seed} (replay with --seed {seed})\n{:<LABEL_WIDTH$} {:>9} {:>9}  result\n",
            "target", "passed", "time"
        ))?;
    }
    let mut last_heading = None;
    let mut write_error = None;
    let report = selftest::run(&options, |target| {
        if !args.json && write_error.is_none() {
            let row = target_row(target, &mut last_heading);
            write_error = out::print(&row).err();
        }
    });
    if let Some(error) = write_error {
        return Err(error.into());
    }
    let no_adapter = report.adapters == 0;
    if args.json {
        let json = SelftestJson {
            seed: report.seed,
            adapters: report.adapters,
            passed: report.passed() && (!no_adapter || args.allow_cpu_only),
            targets: &report.targets,
        };
        out::println(&super::json::document(&json, false)?)?;
    } else {
        out::print(&failures(&report, no_adapter && !args.allow_cpu_only))?;
    }
    if no_adapter {
        let hint = if args.adapter.is_some() {
            "no adapter matches --adapter".to_owned()
        } else {
            Error::no_adapter().to_string()
        };
        if !args.allow_cpu_only {
            say!(
                "gpusum: selftest failed: {hint}; only the CPU was tested (pass --allow-cpu-only to accept that)"
            );
            return Ok(ExitCode::from(RUNTIME));
        }
        say!("gpusum: {hint}; tested the CPU only, as --allow-cpu-only allows");
    }
    if let (Some(mut file), Some(path)) = (junit_file, &args.junit) {
        use std::io::Write as _;
        file.write_all(super::junit::render(&report, super::version::wgpu()).as_bytes())
            .and_then(|()| file.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let missing: Vec<&String> = args
        .require_backends
        .iter()
        .flatten()
        .filter(|api| {
            !report.targets.iter().any(|t| {
                t.ok()
                    && t.adapter.as_deref().is_some_and(|a| {
                        a.to_lowercase()
                            .ends_with(&format!("({})", api.to_lowercase()))
                    })
            })
        })
        .collect();
    if !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        say!(
            "gpusum: selftest failed: --require-backends asks for {}, but no such adapter passed here",
            list.join(", ")
        );
        return Ok(ExitCode::from(RUNTIME));
    }
    if !report.passed() {
        return Ok(ExitCode::from(RUNTIME));
    }
    Ok(ExitCode::SUCCESS)
}

/// One row per target; a GPU's rows are indented under a line naming its adapter and the
/// workgroup size its kernels ran at.
fn target_row(target: &TargetReport, last_heading: &mut Option<String>) -> String {
    let mut text = String::new();
    let label = match (&target.adapter, target.kernel()) {
        (Some(adapter), Some(kernel)) => {
            let heading = match target.workgroup_size {
                Some(size) => format!("{adapter}, workgroups of {size}"),
                None => adapter.clone(),
            };
            if last_heading.as_ref() != Some(&heading) {
                let _ = writeln!(text, "{heading}");
                *last_heading = Some(heading);
            }
            match target.layout {
                Some(layout) => format!("  arrays ({layout}), {kernel}"),
                None => format!("  ranges, {kernel}"),
            }
        }
        _ => target.label(),
    };
    let label: String = if label.chars().count() > LABEL_WIDTH {
        label.chars().take(LABEL_WIDTH - 1).chain(['…']).collect()
    } else {
        label
    };
    let passed = format!("{}/{}", target.cases_passed, target.cases_run);
    let result = match (&target.error, target.ok()) {
        (Some(_), _) => "ERROR",
        (None, true) => "ok",
        (None, false) => "FAILED",
    };
    let _ = writeln!(
        text,
        "{label:<LABEL_WIDTH$} {passed:>9} {:>7.2} s  {result}",
        target.seconds
    );
    text
}

/// Each failure in full, then the verdict (which a run without the adapter it needed fails).
fn failures(report: &SelftestReport, no_adapter_fails: bool) -> String {
    let mut text = String::new();
    for target in report.targets.iter().filter(|t| !t.ok()) {
        if let Some(error) = &target.error {
            let _ = writeln!(text, "\n{}: could not run: {error}", target.label());
        }
        for failure in &target.failures {
            let _ = writeln!(
                text,
                "\n{}: {} {}\n  expected {}\n  cpu      {}\n  observed {}",
                target.label(),
                failure.case,
                failure.input,
                failure.expected,
                failure.cpu,
                failure.observed
            );
        }
    }
    let failed = report.targets.iter().filter(|t| !t.ok()).count();
    let software = report.targets.iter().filter(|t| t.software).count();
    let note = if software > 0 {
        format!(" ({software} on software adapters, which run on the CPU)")
    } else {
        String::new()
    };
    if no_adapter_fails {
        let _ = writeln!(
            text,
            "\nno GPU adapter was tested; the {} CPU targets passed",
            report.targets.len() - failed
        );
    } else if failed == 0 {
        let _ = writeln!(text, "\nall {} targets passed{note}", report.targets.len());
    } else {
        let _ = writeln!(
            text,
            "\n{failed} of {} targets FAILED",
            report.targets.len()
        );
    }
    text
}
