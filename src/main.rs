//! The `gpusum` binary: parses arguments, calls the library, maps errors to exit codes.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use clap::CommandFactory;
use indicatif::{ProgressBar, ProgressStyle};

use gpusum::control::{deadline_after, default_timeout};
use gpusum::gpu::AdapterReport;
use gpusum::selftest::{self, Report, SelftestOptions, TargetReport};
use gpusum::{Control, Engine, Error, GpuOptions, SumRange, gpu};

use cli::{BenchArgs, Cli, Command, DeviceArgs, SelftestArgs, SumArgs};

/// Test hook: `GPUSUM_INJECT_FAULT=device-lost` destroys the GPU device right after it is opened,
/// so that the loss handling and the `--backend auto` fallback can be exercised on any machine.
const INJECT_FAULT: &str = "GPUSUM_INJECT_FAULT";

/// Exit code for runtime failures; clap uses 2 for usage errors.
const FAILURE: u8 = 1;
const USAGE: u8 = 2;
/// The shell's code for a process stopped by Ctrl-C.
const INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { USAGE } else { 0 });
        }
    };
    let result = match cli.command {
        Some(Command::Adapters { json }) => list_adapters(json),
        Some(Command::Selftest(args)) => selftest(&args),
        Some(Command::Bench(args)) => bench(&args),
        None => run_sum(&cli.sum),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("gpusum: {error:#}");
            ExitCode::from(match error.downcast_ref::<Error>() {
                Some(Error::Cancelled) => INTERRUPTED,
                Some(Error::InvalidOptions { .. }) => USAGE,
                _ => FAILURE,
            })
        }
    }
}

fn run_sum(args: &SumArgs) -> anyhow::Result<ExitCode> {
    // clap enforces both bounds; only the reversed order is left to check.
    let (Some(start), Some(end)) = (args.start, args.end) else {
        unreachable!("clap requires START and END");
    };
    if start > end {
        Cli::command()
            .error(
                clap::error::ErrorKind::ValueValidation,
                format!("START ({start}) is greater than END ({end}): the bounds look reversed; try `gpusum -- {end} {start}`"),
            )
            .exit();
    }
    let range = SumRange::new(start, end);

    let mut opened = open_engine(&args.device)?;
    if let Some(reason) = &opened.fallback {
        eprintln!("gpusum: no usable GPU ({reason}); summing on the CPU");
    }
    if args.verbose {
        describe_engine(&opened.engine);
        eprintln!("setup: {:.3} s", opened.setup.as_secs_f64());
    }
    if let (Ok("device-lost"), Some(context)) =
        (std::env::var(INJECT_FAULT).as_deref(), opened.engine.gpu())
    {
        context.device().destroy();
    }

    let cancel = cancel_on_ctrl_c();
    let progress = Progress::new();
    let report = |done, total| progress.update(done, total);
    let timeout = args
        .timeout
        .unwrap_or_else(|| default_timeout(range.count()));
    let control = Control {
        cancel: Some(&cancel),
        deadline: deadline_after(timeout),
        progress: Some(&report),
    };
    let started = Instant::now();
    let fell_back_before = opened.fallback.is_some();
    let sum = opened.sum(range, &control);
    progress.finish();
    if let (false, Some(reason)) = (fell_back_before, &opened.fallback) {
        eprintln!("gpusum: the GPU failed ({reason}); summed again on the CPU");
    }
    let sum = match sum {
        Ok(sum) => sum,
        Err(error @ Error::Timeout) => {
            // Work may still be queued on a stuck device, and dropping the device would wait for
            // it: leave the device to the process exit instead.
            std::mem::forget(opened);
            let seconds = timeout.as_secs_f64();
            return Err(anyhow::Error::new(error)
                .context(format!("gave up after {seconds:.3} s (--timeout)")));
        }
        Err(error) => return Err(anyhow::Error::new(error).context("summing failed")),
    };
    let engine = &opened.engine;
    let seconds = started.elapsed().as_secs_f64();
    if args.verbose {
        let rate = range.count() as f64 / seconds;
        eprintln!("sum: {seconds:.6} s ({rate:.3e} elements/s)");
    }

    let expected = range.closed_form();
    if args.json {
        let object = serde_json::json!({
            "backend": engine.backend_name(),
            "adapter": engine.gpu().map(|context| context.adapter_name()),
            "variant": engine.gpu().map(|context| context.variant().name()),
            "reduction": engine.gpu().map(|context| context.reduction().name()),
            "start": start,
            "end": end,
            "count": range.count(),
            "sum": sum.to_string(),
            "seconds": seconds,
            "verified": args.verify.then_some(sum == expected),
        });
        println!("{object}");
    } else {
        println!("{sum}");
    }
    if args.verify && sum != expected {
        eprintln!("gpusum: verification failed: got {sum}, the closed form gives {expected}");
        return Ok(ExitCode::from(FAILURE));
    }
    Ok(ExitCode::SUCCESS)
}

fn open_engine(device: &DeviceArgs) -> anyhow::Result<gpusum::Opened> {
    let options = GpuOptions {
        variant: device.shader.map(Into::into),
        reduction: device.reduction.map(Into::into),
        shape: None,
    };
    Ok(Engine::open(
        device.backend.into(),
        device.adapter.as_deref(),
        &options,
    )?)
}

fn describe_engine(engine: &Engine) {
    match engine.gpu() {
        Some(context) => {
            let shape = context.shape();
            eprintln!(
                "backend: gpu on {} [{:?}], {} shader, {} reduction, up to {} elements/invocation, {} elements/dispatch",
                context.adapter_name(),
                context.adapter_info().device_type,
                context.variant(),
                context.reduction(),
                shape.per_invocation,
                shape.elements_per_dispatch(),
            );
        }
        None => eprintln!(
            "backend: {} ({} threads)",
            engine.backend_name(),
            rayon::current_num_threads()
        ),
    }
}

fn bench(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    use gpusum::bench::{self, BenchOptions, Event};
    let mut options = if args.quick {
        BenchOptions::quick()
    } else {
        BenchOptions::full()
    };
    options.sizes = args.sizes.clone();
    options.backends = args.backends.clone();
    if let Some(budget) = args.budget {
        options.budget_seconds = budget.as_secs_f64();
    }
    let spinner = std::io::stderr().is_terminal().then(|| {
        let spinner = ProgressBar::new_spinner();
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        spinner
    });
    let report = bench::run(&options, |event| {
        if let Some(spinner) = &spinner {
            spinner.set_message(match event {
                Event::Measuring { label, count } => {
                    format!("measuring {label} at {count} elements")
                }
                Event::Peak { device } => format!("measuring the add peak of {device}"),
            });
        }
    });
    if let Some(spinner) = &spinner {
        spinner.finish_and_clear();
    }
    let report = report.context("the benchmark failed")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if args.csv {
        print!("{}", bench::to_csv(&report));
    } else {
        print!("{}", bench::to_table(&report));
    }
    if let Some(path) = &args.plot {
        bench::write_svg(&report, path)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn selftest(args: &SelftestArgs) -> anyhow::Result<ExitCode> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let options = SelftestOptions {
        seed,
        timeout: args.timeout,
        adapter: args.adapter.clone(),
    };
    if !args.json {
        println!("gpusum selftest, seed {seed} (replay with --seed {seed})");
        println!(
            "{:<LABEL_WIDTH$} {:>9} {:>9}  result",
            "target", "passed", "time"
        );
    }
    let mut last_adapter = None;
    let report = selftest::run(&options, |target| {
        if !args.json {
            print_target_row(target, &mut last_adapter);
        }
    });
    let no_adapter = report.adapters == 0;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "seed": report.seed,
                "adapters": report.adapters,
                "passed": report.passed() && (!no_adapter || args.allow_cpu_only),
                "targets": report.targets,
            })
        );
    } else {
        print_failures(&report);
    }
    if no_adapter {
        let hint = if args.adapter.is_some() {
            "no adapter matches --adapter".to_owned()
        } else {
            Error::NoAdapter.to_string()
        };
        if !args.allow_cpu_only {
            eprintln!(
                "gpusum: selftest failed: {hint}; only the CPU was tested (pass --allow-cpu-only to accept that)"
            );
            return Ok(ExitCode::from(FAILURE));
        }
        eprintln!("gpusum: {hint}; tested the CPU only, as --allow-cpu-only allows");
    }
    if !report.passed() {
        return Ok(ExitCode::from(FAILURE));
    }
    Ok(ExitCode::SUCCESS)
}

/// Wide enough for "  emulated / subgroup" and for "cpu"; a row fits 80 columns.
const LABEL_WIDTH: usize = 52;

/// One row per target; a GPU's rows are indented under a line naming its adapter.
fn print_target_row(target: &TargetReport, last_adapter: &mut Option<String>) {
    let label = match (&target.adapter, target.shader()) {
        (Some(adapter), Some(shader)) => {
            if last_adapter.as_ref() != Some(adapter) {
                println!("{adapter}");
                *last_adapter = Some(adapter.clone());
            }
            format!("  {shader}")
        }
        _ => target.label(),
    };
    let label: String = if label.chars().count() > LABEL_WIDTH {
        label.chars().take(LABEL_WIDTH - 1).chain(['…']).collect()
    } else {
        label
    };
    let passed = format!("{}/{}", target.passed, target.run);
    let result = match (&target.error, target.ok()) {
        (Some(_), _) => "ERROR",
        (None, true) => "ok",
        (None, false) => "FAILED",
    };
    println!(
        "{label:<LABEL_WIDTH$} {passed:>9} {:>7.2} s  {result}",
        target.seconds
    );
}

fn print_failures(report: &Report) {
    for target in report.targets.iter().filter(|t| !t.ok()) {
        if let Some(error) = &target.error {
            println!("\n{}: could not run: {error}", target.label());
        }
        for failure in &target.failures {
            println!(
                "\n{}: {} [{}, {}]\n  expected {}\n  cpu      {}\n  observed {}",
                target.label(),
                failure.case,
                failure.start,
                failure.end,
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
    if failed == 0 {
        println!("\nall {} targets passed{note}", report.targets.len());
    } else {
        println!("\n{failed} of {} targets FAILED", report.targets.len());
    }
}

fn list_adapters(json: bool) -> anyhow::Result<ExitCode> {
    let instance = gpu::instance();
    let reports: Vec<AdapterReport> = gpu::compute_adapters(&instance)
        .iter()
        .map(AdapterReport::of)
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    if reports.is_empty() {
        eprintln!("gpusum: {}", Error::NoAdapter);
        return Ok(ExitCode::from(FAILURE));
    }
    if json {
        return Ok(ExitCode::SUCCESS);
    }
    for (index, report) in reports.iter().enumerate() {
        let yes_no = |flag: bool| if flag { "yes" } else { "no" };
        println!("[{index}] {} ({})", report.name, report.backend);
        let kind = if report.software {
            format!("{} — runs on the CPU, not a GPU", report.device_type)
        } else {
            report.device_type.clone()
        };
        println!("    type:        {kind}");
        println!("    driver:      {}", report.driver);
        println!("    int64:       {}", yes_no(report.int64));
        let (low, high) = report.subgroup_sizes;
        println!(
            "    subgroups:   {}",
            if report.subgroups {
                format!("yes ({low}..{high})")
            } else {
                "no".into()
            }
        );
        println!("    timestamps:  {}", yes_no(report.timestamps));
        let variants: Vec<&str> = report.variants.iter().map(|v| v.name()).collect();
        let reductions: Vec<&str> = report.reductions.iter().map(|r| r.name()).collect();
        println!(
            "    shaders:     {}; reductions: {}",
            variants.join(", "),
            reductions.join(", ")
        );
        println!(
            "    limits:      {} workgroups/dimension, {} invocations/workgroup, {} B workgroup memory, {} B storage binding",
            report.max_workgroups_per_dimension,
            report.max_invocations_per_workgroup,
            report.max_workgroup_storage_bytes,
            report.max_storage_binding_bytes,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A flag that Ctrl-C sets; the library stops at its next block.
fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    // Without a handler Ctrl-C still ends the process; only the clean message is lost.
    let _ = ctrlc::set_handler(move || handler_flag.store(true, Ordering::Relaxed));
    flag
}

/// A progress bar on stderr, shown only on a terminal and only once a sum has run for a while.
struct Progress {
    started: Instant,
    bar: std::cell::OnceCell<ProgressBar>,
    enabled: bool,
}

impl Progress {
    const SHOW_AFTER_SECONDS: f64 = 0.5;
    const STEPS: u64 = 10_000;

    fn new() -> Self {
        Self {
            started: Instant::now(),
            bar: Default::default(),
            enabled: std::io::stderr().is_terminal(),
        }
    }

    fn update(&self, done: u128, total: u128) {
        if !self.enabled
            || (self.bar.get().is_none()
                && self.started.elapsed().as_secs_f64() < Self::SHOW_AFTER_SECONDS)
        {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(Self::STEPS);
            let style =
                ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        bar.set_position((done * Self::STEPS as u128 / total.max(1)) as u64);
        let rate = done as f64 / self.started.elapsed().as_secs_f64();
        let eta = (total - done) as f64 / rate.max(1.0);
        bar.set_message(format!(
            "{rate:.2e} elements/s, eta {}",
            human_duration(eta)
        ));
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

/// Seconds as the largest sensible unit: "42 s", "3.5 h", "2.1e6 years".
fn human_duration(seconds: f64) -> String {
    const UNITS: [(&str, f64); 4] = [
        ("years", 365.25 * 86400.0),
        ("days", 86400.0),
        ("h", 3600.0),
        ("min", 60.0),
    ];
    match UNITS.iter().find(|(_, size)| seconds >= *size) {
        Some((name, size)) if seconds / size >= 1e4 => format!("{:.1e} {name}", seconds / size),
        Some((name, size)) => format!("{:.1} {name}", seconds / size),
        None => format!("{seconds:.0} s"),
    }
}
