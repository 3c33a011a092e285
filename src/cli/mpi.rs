//! `mpiexec -n N gpusum --mpi START END` and `... --mpi file PATH`: each rank sums its share (of
//! the range by count, of the file by element, reading only its own bytes) on its own engine,
//! rank 0 gathers the exact totals, merges them and alone prints: the same text and bits as one
//! process. A rank that fails makes every rank exit non-zero, with one message from rank 0.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::error::ErrorKind;
use serde::Serialize;

use gpusum::mpi::{Communicator as _, broadcast_bytes, gather_bytes, node_place};
use gpusum::{ArrayTotal, Control};

use super::args::{Cli, Command, usage_error};
use super::mpi_part::{Job, RankJson, Report, Seat, open_file, said, sum_share};
use super::out::say;
use super::progress::cancel_on_ctrl_c;
use super::{Failure, Outcome, RUNTIME, Talk, out};

/// Past the job's deadline, how long rank 0 waits for reports (and the others for its verdict)
/// before it names the silent ranks and aborts the job.
const GRACE: Duration = Duration::from_secs(3);

/// How long the ranks wait for each other when the job could not start (bad arguments).
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Test hook: `GPUSUM_INJECT_FAULT=hang` makes a rank stop answering before it reports, as a
/// stuck driver would.
const INJECT_FAULT: &str = "GPUSUM_INJECT_FAULT";

/// `--json` under `--mpi`: the one-process fields that describe the whole job, and `"ranks"`.
#[derive(Serialize)]
struct JobJson {
    #[serde(flatten)]
    what: WhatJson,
    count: String,
    sum: String,
    seconds: f64,
    verified: Option<bool>,
    ranks: Vec<RankJson>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum WhatJson {
    Range {
        start: String,
        end: String,
    },
    File {
        input: String,
        format: &'static str,
        dtype: &'static str,
        byte_order: &'static str,
        overflow: bool,
        bytes: String,
    },
}

pub fn run(cli: &Cli, talk: Talk) -> Outcome {
    let Some(universe) = gpusum::mpi::rsmpi::initialize() else {
        return Err(anyhow::anyhow!("MPI could not be initialized").into());
    };
    let world = universe.world();
    let (on_node, node_ranks) = node_place(&world);
    let seat = Seat {
        rank: world.rank() as usize,
        ranks: world.size() as usize,
        on_node,
    };
    share_cores(node_ranks);
    let talk = match seat.rank {
        0 => talk,
        _ => Talk {
            verbose: false,
            quiet: true,
        },
    };
    super::start_logging(talk);
    let cancel = cancel_on_ctrl_c();
    let started = Instant::now();
    // Arguments and headers are the same on every rank: each checks them, rank 0 alone says.
    let (report, deadline, mut job) = match open(cli) {
        Ok(mut job) => {
            let deadline = started + job.timeout();
            let control = Control::new().with_cancel(&cancel).with_deadline(deadline);
            (sum_share(&mut job, seat, &control), deadline, Ok(job))
        }
        Err(failure) => {
            let report = Report::failed(seat, said(&failure));
            (report, started + DEFAULT_WAIT, Err(failure))
        }
    };
    if std::env::var(INJECT_FAULT).as_deref() == Ok("hang") {
        std::thread::sleep(Duration::from_secs(3600));
    }
    let bytes = serde_json::to_vec(&report).context("encoding a rank's report")?;
    let talks = Control::new().with_cancel(&cancel);
    let gathered = gather_bytes(&world, 0, &bytes, &talks.with_deadline(deadline + GRACE));
    let verdict_by = talks.with_deadline(deadline + 2 * GRACE);
    if seat.rank != 0 {
        // Rank 0's verdict, sent once it has said everything: the exit code every rank gives.
        let verdict = gathered.and_then(|_| broadcast_bytes(&world, 0, None, &verdict_by));
        return match verdict.as_deref() {
            Ok([code]) => Ok(ExitCode::from(*code)),
            _ => {
                say!(
                    "gpusum: rank {} of {}: no word from rank 0; stopping the job",
                    seat.rank,
                    seat.ranks
                );
                world.abort(i32::from(RUNTIME))
            }
        };
    }
    let reports = match gathered {
        Ok(Some(parts)) => parts,
        Ok(None) => unreachable!("rank 0 gathers"),
        Err(error) => {
            say!("gpusum: {error}; stopping the job");
            world.abort(i32::from(RUNTIME))
        }
    };
    let result = match &mut job {
        Ok(job) => finish(job, &reports, started, talk),
        Err(_) => Ok(0),
    };
    // Said before the verdict goes out: the other ranks exit on it, and mpiexec then ends us.
    let code = match (job, result) {
        (Err(failure), _) | (Ok(_), Err(failure)) => super::say_failure(failure),
        (Ok(_), Ok(code)) => code,
    };
    if broadcast_bytes(&world, 0, Some(vec![code]), &verdict_by).is_err() {
        say!("gpusum: the ranks did not take rank 0's verdict; stopping the job");
        world.abort(i32::from(RUNTIME));
    }
    Ok(ExitCode::from(code))
}

/// The job the command line asks for: a range, or a whole file (not standard input, and not
/// along axes or by key, which one process runs).
fn open(cli: &Cli) -> Result<Job<'_>, Failure> {
    let refuse = |message: &str| {
        Err(Failure::Usage(usage_error(
            ErrorKind::ArgumentConflict,
            message,
        )))
    };
    match &cli.command {
        None => {
            let range = super::sum::lower_range(&cli.sum)?;
            // The merged total counts its elements as one process's does.
            if range.count() > u128::from(gpusum::array::MAX_ELEMENTS) {
                let count = range.count();
                return Err(anyhow::Error::new(gpusum::Error::RangeTooLong { count }).into());
            }
            Ok(Job::Range(&cli.sum, range))
        }
        Some(Command::File(args)) => {
            if args.path.as_os_str() == "-" {
                return refuse("--mpi reads a file by parts, which standard input cannot give");
            }
            if !args.axis.is_empty() || args.by.is_some() {
                return refuse("--mpi sums whole arrays; --axis and --by run in one process");
            }
            Ok(Job::File(args, open_file(args)?))
        }
        Some(_) => refuse("--mpi sums a range (START END) or a file (file PATH)"),
    }
}

/// Ranks that share a node share its cores: each gets its part of rayon's pool, unless
/// RAYON_NUM_THREADS says otherwise.
fn share_cores(node_ranks: usize) {
    if node_ranks > 1 && std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (cores / node_ranks).max(1);
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    }
}

/// On rank 0: the first failure any rank reports, or the merged total printed as one process
/// prints it. Returns the exit code.
fn finish(job: &Job<'_>, reports: &[Vec<u8>], started: Instant, talk: Talk) -> Result<u8, Failure> {
    let reports: Vec<Report> = reports
        .iter()
        .map(|bytes| serde_json::from_slice(bytes))
        .collect::<Result<_, _>>()
        .context("reading a rank's report")?;
    let ranks = reports.len();
    if talk.verbose {
        for report in &reports {
            describe(&report.rank, ranks);
        }
    }
    if let Some(report) = reports.iter().find(|r| r.failure.is_some()) {
        let (code, message) = report.failure.clone().unwrap_or_default();
        let message = message.strip_prefix("error: ").unwrap_or(&message);
        say!(
            "gpusum: rank {} of {ranks} failed: {message}",
            report.rank.rank
        );
        return Ok(code);
    }
    let mut total = match job.format() {
        Some(format) => ArrayTotal::new(format.dtype),
        None => ArrayTotal::new(gpusum::Dtype::I64),
    };
    for report in &reports {
        let part = ArrayTotal::from_bytes(report.total.as_deref().unwrap_or_default())?;
        total.merge(&part)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let verified = match job {
        Job::Range(args, range) => args
            .verify
            .then(|| total.int_sum() == Some(range.closed_form())),
        // Checked only where every rank's share was checked, as one process says null otherwise.
        Job::File(..) => reports
            .iter()
            .map(|r| r.verified)
            .collect::<Option<Vec<bool>>>()
            .map(|checks| checks.iter().all(|&ok| ok)),
    };
    if talk.verbose {
        let rate = total.count() as f64 / seconds;
        say!("sum: {seconds:.6} s ({rate:.3e} elements/s) over {ranks} ranks");
    }
    if job.json() {
        let json = JobJson {
            what: what(job, &total),
            count: total.count().to_string(),
            sum: total.to_string(),
            seconds,
            verified,
            ranks: reports.into_iter().map(|r| r.rank).collect(),
        };
        out::println(&super::json::document(&json, false).context("encoding JSON")?)?;
    } else {
        out::println(&total.to_string())?;
    }
    if total.overflow() && !talk.quiet {
        say!("gpusum: the exact sum lies beyond the largest finite value, so it rounds to {total}");
    }
    if verified == Some(false) {
        say!("gpusum: verification failed: the merged sum {total} differs from the check");
        return Ok(RUNTIME);
    }
    Ok(0)
}

fn what(job: &Job<'_>, total: &ArrayTotal) -> WhatJson {
    match job {
        Job::Range(_, range) => WhatJson::Range {
            start: range.start().to_string(),
            end: range.end().to_string(),
        },
        Job::File(_, reader) => {
            let format = reader.format();
            WhatJson::File {
                input: reader.name().to_owned(),
                format: if format.npy { "npy" } else { "raw" },
                dtype: format.dtype.name(),
                byte_order: format.order.name(),
                overflow: total.overflow(),
                bytes: (total.count() * format.dtype.size() as u64).to_string(),
            }
        }
    }
}

/// `-v`'s line for one rank.
fn describe(rank: &RankJson, ranks: usize) {
    let plan = rank.reason.as_deref().unwrap_or("nothing to sum");
    say!(
        "rank {} of {ranks} on {}: {} elements from {} in {:.6} s; {plan}",
        rank.rank,
        rank.host,
        rank.count,
        rank.first,
        rank.seconds,
    );
}
