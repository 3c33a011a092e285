//! One rank's part of `gpusum --mpi`: its share of the range or the file, summed on its own
//! engine, and the report it sends rank 0.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use gpusum::control::default_timeout;
use gpusum::input::{ArrayFormat, ArrayReader, InputHints};
use gpusum::mpi::share;
use gpusum::{ArrayTotal, Control, Engine, Error, Place, Request, Source, SumRange};

use super::args::{DeviceArgs, FileArgs, SumArgs};
use super::file::input_failure;
use super::sum::{engine_options, inject_fault};
use super::{Failure, INTERRUPTED, RUNTIME, USAGE};

/// Where a rank stands: its place in the job and on its node.
#[derive(Clone, Copy)]
pub struct Seat {
    pub rank: usize,
    pub ranks: usize,
    pub on_node: usize,
}

/// What the job sums.
pub enum Job<'a> {
    Range(&'a SumArgs, SumRange),
    File(&'a FileArgs, ArrayReader<std::fs::File>),
}

impl Job<'_> {
    /// Elements in the whole job.
    pub fn count(&self) -> u128 {
        match self {
            Job::Range(_, range) => range.count(),
            Job::File(_, reader) => u128::from(reader.format().count.unwrap_or_default()),
        }
    }

    pub fn timeout(&self) -> Duration {
        let given = match self {
            Job::Range(args, _) => args.timeout,
            Job::File(args, _) => args.timeout,
        };
        given.unwrap_or_else(|| default_timeout(self.count()))
    }

    pub fn json(&self) -> bool {
        match self {
            Job::Range(args, _) => args.json,
            Job::File(args, _) => args.json,
        }
    }

    pub fn format(&self) -> Option<ArrayFormat> {
        match self {
            Job::Range(..) => None,
            Job::File(_, reader) => Some(reader.format()),
        }
    }
}

/// Opens the file the arguments name, its header read.
pub fn open_file(args: &FileArgs) -> Result<ArrayReader<std::fs::File>, Failure> {
    let hints = InputHints::auto(args.dtype)
        .with_format(args.format)
        .with_big_endian(args.big_endian);
    ArrayReader::open(&args.path, hints).map_err(input_failure)
}

/// A rank's place and time in `--json`'s `"ranks"`, and its line under `-v`.
#[derive(Clone, Serialize, Deserialize)]
pub struct RankJson {
    pub rank: usize,
    pub host: String,
    pub backend: Option<String>,
    pub adapter: Option<String>,
    pub reason: Option<String>,
    /// The first element of its share: an integer of the range, or an index into the file.
    pub first: String,
    pub count: String,
    pub seconds: f64,
}

/// What a rank sends rank 0: its share's exact total in the library's byte format, or why it
/// has none (the exit code and message one process would have given).
#[derive(Serialize, Deserialize)]
pub struct Report {
    #[serde(flatten)]
    pub rank: RankJson,
    pub total: Option<Vec<u8>>,
    pub verified: Option<bool>,
    pub failure: Option<(u8, String)>,
}

impl RankJson {
    /// Rank `rank` on `host`, before it has a share or a plan.
    fn new(rank: usize, host: String) -> Self {
        RankJson {
            rank,
            host,
            backend: None,
            adapter: None,
            reason: None,
            first: String::new(),
            count: "0".into(),
            seconds: 0.0,
        }
    }
}

impl Report {
    /// The report of a rank whose job could not start.
    pub fn failed(seat: Seat, failure: (u8, String)) -> Self {
        Report {
            rank: RankJson::new(seat.rank, String::new()),
            total: None,
            verified: None,
            failure: Some(failure),
        }
    }
}

/// Sums this rank's share of `job` under `control` and says how it went.
pub fn sum_share(job: &mut Job<'_>, seat: Seat, control: &Control<'_>) -> Report {
    let started = Instant::now();
    let host = gpusum::mpi::rsmpi::environment::processor_name().unwrap_or_default();
    let mut rank = RankJson::new(seat.rank, host);
    let timeout = job.timeout();
    let share = share(job.count(), seat.rank, seat.ranks);
    rank.count = (share.end - share.start).to_string();
    let result = match job {
        Job::Range(args, range) => {
            let first = i128::from(range.start()) + share.start as i128;
            rank.first = first.to_string();
            if share.is_empty() {
                Ok((ArrayTotal::new(gpusum::Dtype::I64), None))
            } else {
                // Both ends of a share lie within the range's i64 bounds.
                let last = first + (share.end - share.start) as i128 - 1;
                let part = SumRange::new(first as i64, last as i64);
                open_engine(&args.device, seat).and_then(|engine| {
                    let plan = engine.plan(&Request::new(part))?;
                    note(&mut rank, &engine, &plan);
                    let outcome = engine.run(Request::new(part), &plan, control);
                    settle(outcome, timeout)
                })
            }
        }
        Job::File(args, reader) => {
            rank.first = share.start.to_string();
            let check = args.verify;
            let elements = share.start as u64..share.end as u64;
            reader
                .select(elements)
                .map_err(input_failure)
                .and_then(|()| open_engine(&args.device, seat))
                .and_then(|engine| {
                    let request = Request::new(Source::Reader(reader)).with_check(check);
                    let plan = engine.plan(&request)?;
                    note(&mut rank, &engine, &plan);
                    let request = Request::new(Source::Reader(reader)).with_check(check);
                    let outcome = engine.run(request, &plan, control);
                    settle(outcome, timeout)
                })
        }
    };
    rank.seconds = started.elapsed().as_secs_f64();
    match result {
        Ok((total, verified)) => Report {
            rank,
            total: Some(total.to_bytes()),
            verified,
            failure: None,
        },
        Err(failure) => Report {
            rank,
            total: None,
            verified: None,
            failure: Some(said(&failure)),
        },
    }
}

/// The engine the device options ask for, taking this rank's turn at the node's adapters.
fn open_engine(device: &DeviceArgs, seat: Seat) -> Result<Engine, Failure> {
    let options = engine_options(device, None)?.with_adapter_turn(seat.on_node);
    let engine = Engine::open(&options)?;
    inject_fault(&engine);
    Ok(engine)
}

/// Writes where the share runs into its report.
fn note(rank: &mut RankJson, engine: &Engine, plan: &gpusum::Plan) {
    rank.backend = Some(plan.place.name().to_owned());
    rank.adapter = engine
        .gpu()
        .filter(|_| plan.place == Place::Gpu)
        .map(|context| context.adapter_label());
    rank.reason = Some(plan.to_string());
}

/// A share's total and verdict, or the failure one process would report.
fn settle(
    outcome: Result<gpusum::Outcome, Error>,
    timeout: Duration,
) -> Result<(ArrayTotal, Option<bool>), Failure> {
    match outcome {
        Ok(outcome) => {
            let verified = outcome
                .cpu_check
                .as_ref()
                .map(|check| *check == outcome.total);
            Ok((outcome.total, verified))
        }
        Err(error @ Error::Timeout) => {
            let seconds = timeout.as_secs_f64();
            Err(anyhow::Error::new(error)
                .context(format!("gave up after {seconds:.3} s (--timeout)"))
                .into())
        }
        Err(error @ (Error::Input { .. } | Error::Read { .. })) => Err(input_failure(error)),
        Err(error) => Err(anyhow::Error::new(error).context("summing failed").into()),
    }
}

/// The exit code and message one process would give for `failure`.
pub fn said(failure: &Failure) -> (u8, String) {
    match failure {
        Failure::Usage(error) => (USAGE, error.to_string().trim_end().to_owned()),
        Failure::Runtime(error) => {
            let cancelled = matches!(error.downcast_ref(), Some(Error::Cancelled));
            (
                if cancelled { INTERRUPTED } else { RUNTIME },
                format!("{error:#}"),
            )
        }
    }
}
