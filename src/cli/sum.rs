//! `gpusum START END`: one exact sum, printed bare or as JSON.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::error::ErrorKind;
use serde::Serialize;

use gpusum::control::default_timeout;
use gpusum::{Control, Engine, EngineOptions, Error, GpuOptions, Place, Plan, Request, SumRange};

use super::args::{DeviceArgs, SumArgs, subcommand_usage_error, usage_error};
use super::out::say;
use super::progress::{Progress, cancel_on_ctrl_c};
use super::{Failure, Outcome, RUNTIME, Talk, out};

/// Test hook: `GPUSUM_INJECT_FAULT=device-lost` destroys the GPU device right after it is opened,
/// so that the loss handling and the `--backend auto` fallback can be exercised on any machine.
const INJECT_FAULT: &str = "GPUSUM_INJECT_FAULT";

/// `gpusum --json`: one object per sum; the integers are strings, exact for any parser.
#[derive(Serialize)]
struct SumJson {
    backend: &'static str,
    adapter: Option<String>,
    variant: Option<&'static str>,
    reduction: Option<&'static str>,
    reason: String,
    start: String,
    end: String,
    count: String,
    sum: String,
    seconds: f64,
    verified: Option<bool>,
}

pub fn run(args: &SumArgs, talk: Talk) -> Outcome {
    let range = lower_range(args)?;
    let engine = Engine::open(&engine_options(&args.device, None)?)?;
    inject_fault(&engine);
    let request = Request::new(range);
    let plan = engine.plan(&request)?;
    let notices = Notices::after_plan(&engine, &plan, talk);

    let cancel = cancel_on_ctrl_c();
    let timeout = args
        .timeout
        .unwrap_or_else(|| default_timeout(range.count()));
    let control = Control::new().with_cancel(&cancel).with_timeout(timeout);
    let progress = Progress::new(control.deadline(), !talk.quiet);
    let report = |done, total| progress.update(done, total);
    let control = control.with_progress(&report);
    let started = Instant::now();
    let result = engine.run(request, &plan, &control);
    progress.finish();
    notices.after_run(&engine, "the GPU failed, so summed again on the CPU");
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error @ Error::Timeout) => {
            let seconds = timeout.as_secs_f64();
            return Err(anyhow::Error::new(error)
                .context(format!("gave up after {seconds:.3} s (--timeout)"))
                .into());
        }
        Err(error) => return Err(anyhow::Error::new(error).context("summing failed").into()),
    };
    let sum = outcome.int_sum().unwrap_or_default();
    let seconds = started.elapsed().as_secs_f64();
    if talk.verbose {
        describe(&engine, &outcome.plan);
        say!("setup: {:.3} s", engine.setup().as_secs_f64());
        let rate = range.count() as f64 / seconds;
        say!("sum: {seconds:.6} s ({rate:.3e} elements/s)");
    }

    let expected = range.closed_form();
    if args.json {
        let kernel = gpu_kernel(&engine, &outcome.plan);
        let json = SumJson {
            backend: outcome.plan.place.name(),
            adapter: outcome.plan.adapter.clone(),
            variant: kernel.map(|k| k.variant.name()),
            reduction: kernel.map(|k| k.reduction.name()),
            reason: outcome.plan.to_string(),
            start: range.start().to_string(),
            end: range.end().to_string(),
            count: range.count().to_string(),
            sum: sum.to_string(),
            seconds,
            verified: args.verify.then_some(sum == expected),
        };
        out::println(&super::json::document(&json, false).context("encoding JSON")?)?;
    } else {
        out::println(&sum.to_string())?;
    }
    if args.verify && sum != expected {
        say!("gpusum: verification failed: got {sum}, the closed form gives {expected}");
        return Ok(ExitCode::from(RUNTIME));
    }
    Ok(ExitCode::SUCCESS)
}

/// The test hook [`INJECT_FAULT`]: destroys the engine's GPU, where it opened one.
pub fn inject_fault(engine: &Engine) {
    if let (Ok("device-lost"), Some(context)) =
        (std::env::var(INJECT_FAULT).as_deref(), engine.gpu())
    {
        context.device().destroy();
    }
}

/// The kernel of a sum that ran on the engine's GPU.
pub fn gpu_kernel(engine: &Engine, plan: &Plan) -> Option<gpusum::KernelChoice> {
    engine
        .gpu()
        .filter(|_| plan.place == Place::Gpu)
        .map(|context| context.kernel())
}

/// The notices a sum prints on stderr (unless `-q`): no usable GPU (once the plan is made), a
/// plan that will take more than a minute, a GPU that failed during the sum.
pub struct Notices {
    quiet: bool,
    fell_back: bool,
}

/// Estimates past this many seconds are said before the sum starts.
const LONG_SECONDS: f64 = 60.0;

impl Notices {
    pub fn after_plan(engine: &Engine, plan: &Plan, talk: Talk) -> Self {
        let fell_back = engine.fallback().is_some();
        if let (Some(reason), false) = (engine.fallback(), talk.quiet) {
            say!("gpusum: no usable GPU, so summing on the CPU: {reason}");
        }
        if !talk.quiet
            && plan
                .estimate
                .is_some_and(|estimate| estimate > LONG_SECONDS)
        {
            say!("gpusum: a long sum, {plan}; Ctrl-C stops it");
        }
        Self {
            quiet: talk.quiet,
            fell_back,
        }
    }

    /// Says `what` happened if the engine fell back to the CPU during the sum.
    pub fn after_run(&self, engine: &Engine, what: &str) {
        if let (false, Some(reason), false) = (self.fell_back, engine.fallback(), self.quiet) {
            say!("gpusum: {what}: {reason}");
        }
    }
}

/// The range the bounds describe; bounds in the wrong order are a usage error.
pub fn lower_range(args: &SumArgs) -> Result<SumRange, Failure> {
    let (Some(start), Some(end)) = (args.start, args.end) else {
        return Err(Failure::Usage(usage_error(
            ErrorKind::MissingRequiredArgument,
            "START and END are required",
        )));
    };
    if start > end {
        return Err(Failure::Usage(usage_error(
            ErrorKind::ValueValidation,
            format!(
                "START ({start}) is greater than END ({end}): the bounds look reversed; try `gpusum -- {end} {start}`"
            ),
        )));
    }
    Ok(SumRange::new(start, end))
}

/// The engine the device options ask for. GPU options with a CPU backend, and an empty adapter
/// name, are usage errors rather than options silently ignored.
pub fn engine_options(
    device: &DeviceArgs,
    subcommand: Option<&str>,
) -> Result<EngineOptions, Failure> {
    let gpu_only = [
        ("--adapter", device.adapter.is_some()),
        ("--shader", device.shader.is_some()),
        ("--reduction", device.reduction.is_some()),
    ];
    if let (false, Some((option, _))) = (
        device.backend.may_use_gpu(),
        gpu_only.iter().find(|(_, given)| *given),
    ) {
        return Err(Failure::Usage(subcommand_usage_error(
            subcommand.unwrap_or_default(),
            ErrorKind::ArgumentConflict,
            format!(
                "{option} chooses how a GPU sums, but --backend {} sums on the CPU; drop one of them",
                device.backend.name()
            ),
        )));
    }
    check_adapter_text(subcommand, device.adapter.as_deref())?;
    let mut gpu = GpuOptions::new();
    if let Some(variant) = device.shader {
        gpu = gpu.with_variant(variant);
    }
    if let Some(reduction) = device.reduction {
        gpu = gpu.with_reduction(reduction);
    }
    let options = EngineOptions::new(device.backend).with_gpu(gpu);
    Ok(match &device.adapter {
        Some(adapter) => options.with_adapter(adapter.clone()),
        None => options,
    })
}

/// `--adapter ""` would match every adapter and override `WGPU_ADAPTER_NAME`: refuse it.
pub fn check_adapter_text(subcommand: Option<&str>, adapter: Option<&str>) -> Result<(), Failure> {
    match adapter {
        Some(text) if text.trim().is_empty() => Err(Failure::Usage(subcommand_usage_error(
            subcommand.unwrap_or_default(),
            ErrorKind::InvalidValue,
            "--adapter needs text to look for in an adapter's \"name (api)\", e.g. `gl` or `nvidia` (see `gpusum adapters`)",
        ))),
        _ => Ok(()),
    }
}

/// `-v`'s line on where a sum ran.
pub fn describe(engine: &Engine, plan: &Plan) {
    match engine.gpu().filter(|_| plan.place == Place::Gpu) {
        Some(context) => {
            let shape = context.shape();
            let kernel = context.kernel();
            say!(
                "backend: gpu on {} [{:?}], {} shader, {} reduction, up to {} elements/invocation, {} elements/dispatch",
                context.adapter_label(),
                context.adapter_info().device_type,
                kernel.variant,
                kernel.reduction,
                shape.per_invocation,
                shape.elements_per_dispatch(),
            );
        }
        None => {
            let threads = match plan.place {
                Place::Seq => 1,
                _ => rayon::current_num_threads(),
            };
            let plural = if threads == 1 { "" } else { "s" };
            say!("backend: {} ({threads} thread{plural})", plan.place.name());
        }
    }
}
