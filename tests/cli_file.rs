//! `gpusum file` through the real binary: .npy, raw and standard input on every backend, every
//! bad input with its message and exit code, and memory that stays at the ring's size.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn gpusum() -> Command {
    Command::cargo_bin("gpusum").expect("the gpusum binary is built")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npy")
        .join(name)
        .display()
        .to_string()
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gpusum-cli-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// i64 values around the extremes, little-endian, and their exact sum.
fn raw_i64(count: usize) -> (Vec<u8>, i128) {
    let values: Vec<i64> = (0..count as i64)
        .map(|i| match i % 3 {
            0 => i64::MAX - i,
            1 => i64::MIN + i,
            _ => i * 7,
        })
        .collect();
    let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    (bytes, values.iter().map(|&v| v as i128).sum())
}

use common::cli_backends as backends;

#[test]
fn npy_and_raw_files_on_every_backend() {
    // i8 extremes, 37 of them, in C and Fortran order; a big-endian u64 file; raw i64.
    let (bytes, sum) = raw_i64(1001);
    let raw = scratch("values.i64", &bytes);
    let mut swapped = bytes.clone();
    swapped.chunks_exact_mut(8).for_each(<[u8]>::reverse);
    let raw_be = scratch("values.i64be", &swapped);
    for (backend, env) in backends() {
        for (args, expected) in [
            (vec![fixture("i1_le_v1.npy")], "279".to_owned()),
            (vec![fixture("u8_be_v2.npy")], expected_of("u8_be_v2.npy")),
            (
                vec![fixture("i8_2d_fortran.npy")],
                expected_of("i8_2d_fortran.npy"),
            ),
            (
                vec![raw.display().to_string(), "--dtype".into(), "i64".into()],
                sum.to_string(),
            ),
            (
                vec![
                    raw_be.display().to_string(),
                    "--dtype=i64".into(),
                    "--big-endian".into(),
                ],
                sum.to_string(),
            ),
        ] {
            gpusum()
                .envs(env.clone())
                .args([
                    "file",
                    "--backend",
                    &backend,
                    "--verify",
                    "--chunk-bytes",
                    "64",
                ])
                .args(&args)
                .assert()
                .success()
                .stdout(format!("{expected}\n"));
        }
    }
}

fn expected_of(name: &str) -> String {
    let text = std::fs::read_to_string(fixture("expected.txt")).unwrap();
    let line = text.lines().find(|l| l.starts_with(name)).unwrap();
    line.split_whitespace().nth(2).unwrap().to_owned()
}

#[test]
fn standard_input_larger_than_the_ring_on_every_backend() {
    // 1 MiB of raw i64 through a ring of 2 x 4 KiB: 128 chunks.
    let (bytes, sum) = raw_i64(1 << 17);
    let npy = std::fs::read(fixture("i2_be_v1.npy")).unwrap();
    for (backend, env) in backends() {
        gpusum()
            .envs(env.clone())
            .args(["file", "-", "--dtype", "i64", "--chunk-bytes", "4KiB"])
            .args(["--backend", &backend, "--verify"])
            .write_stdin(bytes.clone())
            .assert()
            .success()
            .stdout(format!("{sum}\n"));
        gpusum()
            .envs(env)
            .args(["file", "-", "--backend", &backend])
            .write_stdin(npy.clone())
            .assert()
            .success()
            .stdout(format!("{}\n", expected_of("i2_be_v1.npy")));
    }
}

#[test]
fn json_has_the_documented_keys_with_exact_strings() {
    let output = gpusum()
        .args([
            "file",
            "--json",
            "--backend",
            "cpu",
            &fixture("u8_le_v1.npy"),
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "schema",
        "input",
        "format",
        "dtype",
        "byte_order",
        "backend",
        "count",
        "sum",
        "bytes",
        "seconds",
    ] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
    assert_eq!(json["dtype"], "u64");
    assert_eq!(json["count"], "37");
    assert_eq!(json["bytes"], "296");
    assert_eq!(json["sum"], expected_of("u8_le_v1.npy").as_str());
}

/// Runs the binary on `args`, expecting `code` and `message` on stderr, nothing on stdout, and
/// no panic.
fn refused(args: &[&str], stdin: Option<&[u8]>, code: i32, message: &str) {
    let mut command = gpusum();
    command.arg("file").args(args);
    if let Some(bytes) = stdin {
        command.write_stdin(bytes.to_vec());
    }
    command
        .assert()
        .code(code)
        .stdout("")
        .stderr(contains(message).and(contains("panicked").not()));
}

#[test]
fn bad_input_gets_a_clear_message_and_the_right_exit_code() {
    let (bytes, _) = raw_i64(3);
    let odd = scratch("odd.bin", &bytes[..23]);
    let odd = odd.to_str().unwrap();
    let raw = scratch("raw.bin", &bytes);
    let raw = raw.to_str().unwrap();
    let dir = std::env::temp_dir();
    let dir = dir.to_str().unwrap();
    // The input's problems: exit 1.
    refused(
        &["/no/such/file.npy"],
        None,
        1,
        "cannot read /no/such/file.npy",
    );
    refused(&[dir], None, 1, "cannot read");
    refused(
        &[&fixture("bad_object.npy")],
        None,
        1,
        "Python objects (|O)",
    );
    refused(&[&fixture("bad_unicode.npy")], None, 1, "Unicode strings");
    refused(&[&fixture("bad_complex.npy")], None, 1, "complex numbers");
    refused(&[&fixture("bad_datetime.npy")], None, 1, "datetimes");
    refused(&[&fixture("bad_bool.npy")], None, 1, "booleans");
    refused(&[&fixture("bad_truncated.npy")], None, 1, "truncated");
    refused(
        &[&fixture("bad_header.npy")],
        None,
        1,
        "malformed .npy header",
    );
    refused(
        &[&fixture("bad_header_cut.npy")],
        None,
        1,
        "ends inside the header",
    );
    refused(&[odd, "--dtype", "i64"], None, 1, "23 bytes of raw data");
    let cut = std::fs::read(fixture("bad_truncated.npy")).unwrap();
    refused(&["-"], Some(&cut), 1, "truncated");
    refused(
        &["-", "--dtype", "i32"],
        Some(&bytes[..10]),
        1,
        "10 bytes of raw data",
    );
    // The command line's problems: exit 2.
    refused(&[raw], None, 2, "for raw binary data give --dtype");
    refused(&["-"], Some(&bytes), 2, "for raw binary data give --dtype");
    let i64_npy = fixture("i8_le_v1.npy");
    refused(
        &[&i64_npy, "--dtype", "u8"],
        None,
        2,
        "contradicts the .npy header",
    );
    refused(
        &[&i64_npy, "--big-endian"],
        None,
        2,
        "--big-endian applies to raw input",
    );
    refused(&[raw, "--format", "npy"], None, 2, "not a .npy file");
    refused(&[raw, "--dtype", "f16"], None, 2, "invalid value 'f16'");
    refused(
        &[raw, "--dtype", "i64", "--chunk-bytes", "1.5MiB"],
        None,
        2,
        "not a number",
    );
    refused(
        &[
            raw,
            "--dtype",
            "i64",
            "--backend",
            "cpu",
            "--layout",
            "texture",
        ],
        None,
        2,
        "--layout",
    );
}

#[test]
fn memory_stays_at_the_ring_for_any_input_length() {
    // Peak memory summing 16 MiB, which fills the ring of 2 x 2 x 4 MiB, and 64 MiB, by backend:
    // the longer input may not cost more than a few MiB more. (An input shorter than the ring
    // leaves some of its slots untouched: on lavapipe 4 MiB peaks 4-6 MiB lower, too close to
    // the bound to tell a leak.)
    let small = scratch("small.u8", &vec![7u8; 16 << 20]);
    let large = scratch("large.u8", &vec![7u8; 64 << 20]);
    for (backend, env) in backends() {
        let peak = |path: &Path| peak_rss_kib(&backend, &env, path);
        let (small_peak, large_peak) = (peak(&small), peak(&large));
        assert!(
            large_peak < small_peak + 6 * 1024,
            "{backend} {env:?}: {small_peak} KiB for 16 MiB, {large_peak} KiB for 64 MiB"
        );
    }
    let _ = std::fs::remove_file(large);
}

/// The child's peak resident memory in KiB, by wait4 (which also reaps it).
#[cfg(unix)]
#[allow(clippy::zombie_processes)]
fn peak_rss_kib(backend: &str, env: &[(&str, String)], path: &Path) -> i64 {
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gpusum"))
        .envs(env.iter().cloned())
        .args([
            "file",
            "--dtype",
            "u8",
            "--chunk-bytes",
            "4MiB",
            "--backend",
            backend,
        ])
        .arg(path)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, which nothing else waits for.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    usage.ru_maxrss
}

#[cfg(not(unix))]
fn peak_rss_kib(_: &str, _: &[(&str, String)], _: &Path) -> i64 {
    0
}

#[test]
fn a_closed_stdin_mid_header_is_an_error() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gpusum"))
        .args(["file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"\x93NUMPY\x01\x00\x76\x00{'descr'")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ends inside the header"), "{stderr}");
}
