//! `gpusum file PATH`: the exact sum of an integer or float array from a .npy file, a raw
//! binary file or standard input, printed bare or as JSON; with `--axis`, one sum per index of
//! the other axes; with `--by KEYS`, one sum per distinct key.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::error::ErrorKind;
use serde::Serialize;

use gpusum::control::default_timeout;
use gpusum::input::{ArrayReader, InputHints};
use gpusum::{Control, Engine, Error, Outcome as SumOutcome, Place, Request, Source};

use super::args::{FileArgs, subcommand_usage_error};
use super::grouped::{self, OutputsJson};
use super::out::say;
use super::progress::{Progress, cancel_on_ctrl_c};
use super::sum::{Notices, describe, engine_options, gpu_kernel, inject_fault};
use super::{Failure, Outcome, RUNTIME, Talk, out};

/// Output memory past which a sum along axes says how much it takes before it starts.
const OUTPUT_NOTICE_BYTES: f64 = 1e9;

/// `gpusum file --json`: the integers are strings, exact for any parser, and so is a float sum
/// (the shortest decimal that reads back, or `nan`, `inf`, `-inf`).
#[derive(Serialize)]
struct FileJson {
    input: String,
    format: &'static str,
    dtype: &'static str,
    byte_order: &'static str,
    backend: &'static str,
    adapter: Option<String>,
    variant: Option<&'static str>,
    reduction: Option<&'static str>,
    layout: Option<&'static str>,
    reason: String,
    count: String,
    sum: String,
    overflow: bool,
    bytes: String,
    seconds: f64,
    verified: Option<bool>,
    #[serde(flatten)]
    outputs: Option<OutputsJson>,
}

pub fn run(args: &FileArgs, talk: Talk) -> Outcome {
    let mut options = engine_options(&args.device, Some("file"))?;
    if args.layout.is_some() && !args.device.backend.may_use_gpu() {
        return Err(Failure::Usage(subcommand_usage_error(
            "file",
            ErrorKind::ArgumentConflict,
            format!(
                "--layout chooses where a GPU keeps the array, but --backend {} sums on the CPU; \
                 drop one of them",
                args.device.backend.name()
            ),
        )));
    }
    if let Some(layout) = args.layout {
        options.gpu = options.gpu.with_array_layout(layout);
    }
    if let Some(bytes) = args.chunk_bytes {
        options.gpu = options.gpu.with_array_chunk_bytes(bytes);
    }
    let hints = InputHints::auto(args.dtype)
        .with_format(args.format)
        .with_big_endian(args.big_endian);
    let stdin = args.path.as_os_str() == "-";
    // The input is opened first: a missing file or a bad header is reported before any GPU work.
    let result = if stdin {
        let reader = std::io::stdin().lock();
        ArrayReader::new(reader, "standard input", hints, None).map(Input::Stdin)
    } else {
        ArrayReader::open(&args.path, hints).map(Input::File)
    };
    let mut input = result.map_err(input_failure)?;
    let mut keys = match &args.by {
        Some(path) if stdin && path.as_os_str() == "-" => {
            return Err(usage(
                "PATH and --by KEYS cannot both be standard input".into(),
            ));
        }
        Some(path) if path.as_os_str() == "-" => {
            let hints = InputHints::auto(args.key_dtype).with_big_endian(args.big_endian);
            let reader = std::io::stdin().lock();
            Some(ArrayReader::new(reader, "standard input", hints, None).map(Input::Stdin))
        }
        Some(path) => {
            let hints = InputHints::auto(args.key_dtype).with_big_endian(args.big_endian);
            Some(ArrayReader::open(path, hints).map(Input::File))
        }
        None => None,
    }
    .transpose()
    .map_err(input_failure)?;
    let engine = Engine::open(&options)?;
    inject_fault(&engine);
    let check = args.verify;
    let plan = engine
        .plan(&request(&mut input, keys.as_mut(), &args.axis, check))
        .map_err(reduce_failure)?;
    let notices = Notices::after_plan(&engine, &plan, talk);
    if let Some(outputs) = request(&mut input, keys.as_mut(), &args.axis, check)
        .outputs()
        .ok()
        .flatten()
    {
        let bytes = outputs as f64 * gpusum::reduce::bytes_per_output(input.format().dtype) as f64;
        if bytes >= OUTPUT_NOTICE_BYTES && !talk.quiet {
            say!(
                "gpusum: the input streams, but its {outputs} outputs stay in memory: about {:.1} \
                 GB while they are summed",
                bytes / 1e9
            );
        }
    }

    let cancel = cancel_on_ctrl_c();
    let count = input.format().count;
    // A stream of unknown length gets no deadline unless one is asked for: its producer may be
    // slow for good reasons.
    let timeout = args
        .timeout
        .or_else(|| count.map(|count| default_timeout(count as u128)));
    let mut control = Control::new().with_cancel(&cancel);
    if let Some(timeout) = timeout {
        control = control.with_timeout(timeout);
    }
    let progress = Progress::new(control.deadline(), !talk.quiet);
    let report = |done, total| progress.update(done, total);
    let control = control.with_progress(&report);
    let started = Instant::now();
    let result = engine.run(
        request(&mut input, keys.as_mut(), &args.axis, check),
        &plan,
        &control,
    );
    progress.finish();
    notices.after_run(&engine, "the GPU failed, so summed on the CPU instead");
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error @ Error::Timeout) => {
            let seconds = timeout.map_or(0.0, |t| t.as_secs_f64());
            return Err(anyhow::Error::new(error)
                .context(format!("gave up after {seconds:.3} s (--timeout)"))
                .into());
        }
        Err(error @ (Error::Input { .. } | Error::Read { .. })) => {
            return Err(input_failure(error));
        }
        Err(error @ (Error::InvalidAxis { .. } | Error::KeyType { .. })) => {
            return Err(reduce_failure(error));
        }
        Err(Error::Cancelled) => {
            return Err(anyhow::Error::new(Error::Cancelled)
                .context("summing failed")
                .into());
        }
        Err(error)
            if plan.place == Place::Gpu
                && (input.bytes_read() > 0
                    || keys.as_ref().is_some_and(|k| k.bytes_read() > 0)) =>
        {
            return Err(anyhow::Error::new(error)
                .context(
                    "summing failed after part of the input was read, which cannot be read \
                     again; try --backend cpu",
                )
                .into());
        }
        Err(error) => return Err(anyhow::Error::new(error).context("summing failed").into()),
    };
    let seconds = started.elapsed().as_secs_f64();
    let format = input.format();
    let bytes = outcome.total.count() * format.dtype.size() as u64;
    if talk.verbose {
        describe(&engine, &outcome.plan);
        if let Some(context) = engine.gpu().filter(|_| outcome.plan.place == Place::Gpu) {
            say!(
                "arrays: {} layout, {} bytes per chunk",
                context.array_layout(),
                context.array_chunk_bytes()
            );
        }
        say!("setup: {:.3} s", engine.setup().as_secs_f64());
        let rate = outcome.total.count() as f64 / seconds;
        say!(
            "sum: {seconds:.6} s ({rate:.3e} elements/s, {:.3e} bytes/s)",
            bytes as f64 / seconds
        );
    }
    let verified = verdict(&outcome);
    if args.json {
        // Float arrays have one kernel, whatever the variant and reduction.
        let kernel = gpu_kernel(&engine, &outcome.plan).filter(|_| !format.dtype.is_float());
        let layout = engine
            .gpu()
            .filter(|_| outcome.plan.place == Place::Gpu)
            .map(|context| context.array_layout().name());
        let json = FileJson {
            input: input.name().to_owned(),
            format: if format.npy { "npy" } else { "raw" },
            dtype: format.dtype.name(),
            byte_order: format.order.name(),
            backend: outcome.plan.place.name(),
            adapter: outcome.plan.adapter.clone(),
            variant: kernel.map(|k| k.variant.name()),
            reduction: kernel.map(|k| k.reduction.name()),
            layout,
            reason: outcome.plan.to_string(),
            count: outcome.total.count().to_string(),
            sum: outcome.total.to_string(),
            overflow: outcome.total.overflow(),
            bytes: bytes.to_string(),
            seconds,
            verified,
            outputs: outcome.outputs.as_ref().map(|outputs| match &keys {
                Some(keys) => OutputsJson::by_key(outputs, keys.name().to_owned()),
                None => OutputsJson::along(outputs, &args.axis),
            }),
        };
        out::println(&super::json::document(&json, false).context("encoding JSON")?)?;
    } else if let Some(outputs) = &outcome.outputs {
        grouped::print_lines(outputs)?;
    } else {
        out::println(&outcome.total.to_string())?;
    }
    if let Some(outputs) = outcome.outputs.as_ref().filter(|_| !talk.quiet) {
        let overflowed = grouped::overflowed(outputs);
        if overflowed > 0 {
            say!(
                "gpusum: the exact sums of {overflowed} of the {} outputs lie beyond the largest \
                 finite {}, so they round to an infinity",
                outputs.len(),
                format.dtype
            );
        }
    } else if outcome.total.overflow() && !talk.quiet {
        say!(
            "gpusum: the exact sum lies beyond the largest finite {}, so it rounds to {}",
            format.dtype,
            outcome.total
        );
    }
    if verified == Some(false) {
        match (&outcome.outputs, &outcome.cpu_check_outputs) {
            (Some(outputs), Some(checked)) => say!(
                "gpusum: verification failed: {} of the {} outputs differ from the CPU twin's",
                (0..outputs.len().min(checked.len()))
                    .filter(|&i| outputs.text(i) != checked.text(i))
                    .count()
                    .max(1),
                outputs.len()
            ),
            _ => {
                let check = outcome
                    .cpu_check
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                say!(
                    "gpusum: verification failed: got {}, the CPU twin gives {check}",
                    outcome.total
                );
            }
        }
        return Ok(ExitCode::from(RUNTIME));
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the sum and its check agree, when a check was made: every output, for a sum along
/// axes or by key.
fn verdict(outcome: &SumOutcome) -> Option<bool> {
    if let (Some(outputs), Some(checked)) = (&outcome.outputs, &outcome.cpu_check_outputs) {
        return Some(outputs == checked);
    }
    outcome
        .cpu_check
        .as_ref()
        .map(|check| *check == outcome.total)
}

enum Input {
    File(ArrayReader<std::fs::File>),
    Stdin(ArrayReader<std::io::StdinLock<'static>>),
}

impl Input {
    fn source(&mut self) -> Source<'_> {
        match self {
            Input::File(reader) => Source::Reader(reader),
            Input::Stdin(reader) => Source::Reader(reader),
        }
    }

    fn format(&self) -> gpusum::input::ArrayFormat {
        match self {
            Input::File(reader) => reader.format(),
            Input::Stdin(reader) => reader.format(),
        }
    }

    fn name(&self) -> &str {
        match self {
            Input::File(reader) => reader.name(),
            Input::Stdin(reader) => reader.name(),
        }
    }

    fn bytes_read(&self) -> u64 {
        match self {
            Input::File(reader) => reader.bytes_read(),
            Input::Stdin(reader) => reader.bytes_read(),
        }
    }
}

/// The request the arguments make: by the keys where given, else along `axes` where given, else
/// the whole array.
fn request<'a>(
    input: &'a mut Input,
    keys: Option<&'a mut Input>,
    axes: &[i64],
    check: bool,
) -> Request<'a> {
    let request = match keys {
        Some(keys) => Request::by_key(input.source(), keys.source()),
        None if !axes.is_empty() => Request::along(input.source(), axes),
        None => Request::new(input.source()),
    };
    request.with_check(check)
}

/// A usage error of `gpusum file`.
fn usage(message: String) -> Failure {
    Failure::Usage(subcommand_usage_error(
        "file",
        ErrorKind::ValueValidation,
        message,
    ))
}

/// A request the arguments make impossible as the CLI reports it: an axis the array does not
/// have, or keys that are not integers (exit 2); anything else as a runtime failure (exit 1),
/// keys of another length among them.
fn reduce_failure(error: Error) -> Failure {
    match &error {
        Error::InvalidAxis { .. } | Error::KeyType { .. } => usage(error.to_string()),
        _ => Failure::Runtime(anyhow::Error::new(error)),
    }
}

/// An input's problem as the CLI reports it: the command line's (a missing or contradicting
/// --dtype, exit 2) or the input's (exit 1).
pub fn input_failure(error: Error) -> Failure {
    match &error {
        Error::Input { problem, .. } if problem.is_usage() => {
            let message = format!("{error}: {problem}");
            Failure::Usage(subcommand_usage_error(
                "file",
                ErrorKind::ValueValidation,
                message,
            ))
        }
        _ => Failure::Runtime(anyhow::Error::new(error)),
    }
}
