//! `gpusum --mpi` under `mpiexec --oversubscribe -n 1..4`: the same text and bits as one
//! process for ranges, integer files and float files whose cancellation spans ranks; the faults
//! (a rank that cannot read its part, a GPU error, a timeout, a rank that hangs) make every rank
//! exit non-zero within seconds, with one message from rank 0 naming the rank. Needs OpenMPI
//! (`apt-get install libopenmpi-dev openmpi-bin`) and `--features mpi`; `.ci/mpi` runs it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn gpusum() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gpusum"))
}

/// `mpiexec` with what OpenMPI needs as root and in containers.
fn mpiexec() -> Command {
    let mut command = Command::new("mpiexec");
    command
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .arg("--oversubscribe");
    command
}

fn run(mut command: Command) -> Output {
    command.output().unwrap_or_else(|error| {
        panic!("running {command:?}: {error}; install OpenMPI: apt-get install openmpi-bin")
    })
}

fn one_process(args: &[&str]) -> Output {
    let mut command = Command::new(gpusum());
    command.args(args);
    run(command)
}

fn ranks(n: usize, args: &[&str]) -> Output {
    let mut command = mpiexec();
    command
        .args(["-n", &n.to_string()])
        .arg(gpusum())
        .arg("--mpi")
        .args(args);
    run(command)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gpusum-mpi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A .npy file of `descr` elements given as little-endian bytes.
fn npy(path: &Path, descr: &str, count: usize, data: &[u8]) {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({count},), }}");
    let mut header = dict.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header);
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

fn same_as_one_process(args: &[&str]) {
    let one = one_process(args);
    assert!(one.status.success(), "{args:?}: {}", text(&one.stderr));
    for n in 1..=4 {
        let many = ranks(n, args);
        assert!(
            many.status.success(),
            "-n {n} {args:?}: {}",
            text(&many.stderr)
        );
        assert_eq!(text(&many.stdout), text(&one.stdout), "-n {n} {args:?}");
    }
}

#[test]
fn ranges_sum_to_one_process_bits_on_every_backend() {
    for (backend, env) in common::cli_backends() {
        let _ = &env;
        for bounds in [
            ["1", "20"],
            ["-5", "3"],
            ["7", "7"],
            ["-9223372036854775807", "-9223372036854775000"],
        ] {
            let mut args = vec!["--backend", backend.as_str(), "--"];
            args.extend(bounds);
            same_as_one_process(&args);
        }
    }
}

#[test]
fn integer_and_float_files_sum_to_one_process_bits() {
    let dir = scratch();
    let ints: Vec<i64> = (0..100_003)
        .map(|i| (i * 7_919_i64).wrapping_mul(1 << 40))
        .collect();
    let path = dir.join("ints.npy");
    npy(
        &path,
        "<i8",
        ints.len(),
        &ints
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    );
    // Cancellation across ranks: 1e308 on the first rank's part, -1e308 on the last's.
    let mut floats = vec![0.5f64; 1001];
    floats[0] = 1e308;
    floats[500] = 1.0;
    floats[1000] = -1e308;
    let cancel = dir.join("cancel.npy");
    npy(
        &cancel,
        "<f8",
        floats.len(),
        &floats
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    );
    let small: Vec<f32> = (0..9999).map(|i| 1.0 / (i as f32 + 1.0)).collect();
    let raw = dir.join("small.f32");
    std::fs::write(
        &raw,
        small
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    for backend in ["auto", "seq", "cpu"] {
        for file in [&path, &cancel] {
            same_as_one_process(&["file", "--backend", backend, file.to_str().unwrap()]);
        }
        let raw = raw.to_str().unwrap();
        same_as_one_process(&[
            "file",
            "--backend",
            backend,
            "--dtype",
            "f32",
            "--big-endian",
            raw,
        ]);
    }
    let json = ranks(3, &["file", "--json", cancel.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let alone = text(&one_process(&["file", cancel.to_str().unwrap()]).stdout);
    assert_eq!(json["sum"], alone.trim());
    let parts = json["ranks"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    assert!(
        parts
            .iter()
            .all(|p| p["seconds"].as_f64().is_some() && p["backend"].is_string())
    );
}

/// A failure's run: every rank non-zero (mpiexec's status), soon, with one message from rank 0.
fn fails_soon(output: &Output, started: Instant, limit: Duration, names: &str) {
    assert!(!output.status.success());
    assert!(started.elapsed() < limit, "took {:?}", started.elapsed());
    let stderr = text(&output.stderr);
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("gpusum:"))
        .collect();
    assert_eq!(ours.len(), 1, "{stderr}");
    assert!(ours[0].contains(names), "{stderr}");
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
}

#[test]
fn a_rank_that_cannot_read_its_part_fails_the_job_naming_it() {
    let dir = scratch();
    let path = dir.join("truncated.npy");
    let values: Vec<u8> = (0..4800).map(|i| i as u8).collect();
    npy(&path, "<i8", 1000, &values); // 600 of 1000 elements: ranks 2 and 3 read past the end
    let started = Instant::now();
    let output = ranks(4, &["file", path.to_str().unwrap()]);
    fails_soon(
        &output,
        started,
        Duration::from_secs(20),
        "rank 2 of 4 failed: cannot sum",
    );
    assert!(text(&output.stderr).contains("truncated"));
    assert_eq!(output.status.code(), Some(1));
}

/// `gpusum --mpi ARGS` on `healthy` ranks, then one more rank with the test hook `fault`.
fn with_fault(healthy: usize, fault: &str, args: &[&str]) -> Output {
    let mut command = mpiexec();
    command
        .args(["-n", &healthy.to_string()])
        .arg(gpusum())
        .arg("--mpi")
        .args(args);
    command
        .args([
            ":",
            "-n",
            "1",
            "env",
            &format!("GPUSUM_INJECT_FAULT={fault}"),
        ])
        .arg(gpusum())
        .arg("--mpi")
        .args(args);
    run(command)
}

#[test]
fn a_gpu_error_on_one_rank_fails_the_job_naming_it() {
    if common::adapter_backends().is_empty() {
        return;
    }
    let args = ["--backend", "gpu", "1", "100000"];
    let started = Instant::now();
    let output = with_fault(1, "device-lost", &args);
    fails_soon(
        &output,
        started,
        Duration::from_secs(30),
        "rank 1 of 2 failed",
    );
}

#[test]
fn a_timeout_and_a_hung_rank_end_every_rank_within_seconds() {
    let started = Instant::now();
    let output = ranks(
        2,
        &[
            "--backend",
            "seq",
            "--timeout",
            "0.5",
            "1",
            "100000000000000",
        ],
    );
    fails_soon(&output, started, Duration::from_secs(15), "--timeout");

    let started = Instant::now();
    let output = with_fault(2, "hang", &["--timeout", "1", "1", "1000"]);
    fails_soon(
        &output,
        started,
        Duration::from_secs(20),
        "rank 2 of 3 sent nothing",
    );
}

#[test]
fn usage_errors_are_said_once_and_exit_2() {
    let output = ranks(3, &["5", "4"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr).matches("error:").count(),
        1,
        "{}",
        text(&output.stderr)
    );
    let output = ranks(2, &["file", "--axis", "0", "x.npy"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--axis and --by run in one process"));
}

#[test]
fn the_library_reduces_over_a_communicator_to_one_process_bits() {
    let example = gpusum().with_file_name("examples").join("mpi_reduce");
    if !example.exists() {
        panic!("build the example first: cargo build --features mpi --example mpi_reduce");
    }
    for n in 1..=4 {
        let mut command = mpiexec();
        command.args(["-n", &n.to_string()]).arg(&example);
        let output = run(command);
        assert!(output.status.success(), "-n {n}: {}", text(&output.stderr));
        assert!(text(&output.stdout).contains("the same bits as one process"));
    }
}

#[test]
fn shares_cover_the_whole_in_order_and_differ_by_at_most_one() {
    // Here, not in the library's unit tests: with the `mpi` feature those would compile the
    // whole library's test binary a second time in CI.
    for (len, ranks) in [
        (0u128, 3),
        (2, 4),
        (10, 3),
        (u64::MAX as u128 + 1, 7),
        (5, 1),
    ] {
        let parts: Vec<_> = (0..ranks)
            .map(|r| gpusum::mpi::share(len, r, ranks))
            .collect();
        assert_eq!(parts[0].start, 0);
        assert_eq!(parts[ranks - 1].end, len);
        for pair in parts.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        let sizes: Vec<u128> = parts.iter().map(|p| p.end - p.start).collect();
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
    }
}
