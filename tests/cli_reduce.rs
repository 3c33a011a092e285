//! `gpusum file --axis` and `--by` through the real binary: lines and JSON on every backend, C
//! and Fortran order, raw keys, the errors with their exit codes and no partial output, and
//! memory that stays bounded for a file streamed by key or along its last axis.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use predicates::str::contains;

use common::cli_backends as backends;

fn gpusum() -> Command {
    Command::cargo_bin("gpusum").expect("the gpusum binary is built")
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gpusum-cli-reduce-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A version 1.0 .npy file of `descr` elements (`data`, already in their order) of `shape`.
fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let order = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// A rows x columns i64 matrix near the extremes, C order, and its column and row sums.
fn matrix(rows: usize, columns: usize) -> (Vec<i64>, Vec<i128>, Vec<i128>) {
    let values: Vec<i64> = (0..rows * columns)
        .map(|k| match k % 4 {
            0 => i64::MAX - k as i64,
            1 => i64::MIN + k as i64,
            2 => i64::MAX,
            _ => -(k as i64) * 1_000_003,
        })
        .collect();
    let column = |c: usize| (0..rows).map(|r| i128::from(values[r * columns + c])).sum();
    let row = |r: usize| {
        (0..columns)
            .map(|c| i128::from(values[r * columns + c]))
            .sum()
    };
    let columns_sums = (0..columns).map(column).collect();
    let row_sums = (0..rows).map(row).collect();
    (values, columns_sums, row_sums)
}

fn lines(sums: &[i128]) -> String {
    sums.iter().map(|s| format!("{s}\n")).collect()
}

#[test]
fn sums_along_axes_print_a_line_per_output_on_every_backend() {
    let (rows, columns) = (37, 300);
    let (values, column_sums, row_sums) = matrix(rows, columns);
    let c_bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut f_bytes = Vec::new();
    for c in 0..columns {
        for r in 0..rows {
            f_bytes.extend_from_slice(&values[r * columns + c].to_le_bytes());
        }
    }
    let c_file = scratch("m_c.npy", &npy("<i8", false, &[rows, columns], &c_bytes));
    let f_file = scratch("m_f.npy", &npy("<i8", true, &[rows, columns], &f_bytes));
    let floats = [1e308f64, 1.0, 1.0, 2.5, -1e308, 0.2];
    let f64_bytes: Vec<u8> = floats.iter().flat_map(|v| v.to_le_bytes()).collect();
    let f64_file = scratch("f.npy", &npy("<f8", false, &[3, 2], &f64_bytes));
    let rows = [
        1.3966609393051247e308f64,
        0.0,
        -2.936549656526472e260,
        -5.012665866782577e307,
    ];
    let rows: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
    let moving_rows = scratch("moving.npy", &npy("<f8", false, &[2, 2], &rows));
    for (backend, env) in backends() {
        for file in [&c_file, &f_file] {
            for (axis, expected) in [("0", &column_sums), ("-1", &row_sums), ("1", &row_sums)] {
                gpusum()
                    .envs(env.clone())
                    .args(["file", "--backend", &backend, "--axis", axis])
                    .arg(file)
                    .assert()
                    .success()
                    .stdout(lines(expected));
            }
            let whole: i128 = column_sums.iter().sum();
            gpusum()
                .envs(env.clone())
                .args(["file", "--backend", &backend, "--axis", "0,1"])
                .arg(file)
                .assert()
                .success()
                .stdout(format!("{whole}\n"));
        }
        // Columns [1e308, 1, -1e308] and [1, 2.5, 0.2]: exact, rounded once (plain float
        // additions give 0 for the first).
        gpusum()
            .envs(env.clone())
            .args(["file", "--backend", &backend, "--axis", "0"])
            .arg(&f64_file)
            .assert()
            .success()
            .stdout("1\n3.7\n");
        // Rows whose sums' windows move: the second's, negative, moved up three digits once
        // printed -inf.
        gpusum()
            .envs(env.clone())
            .args(["file", "--backend", &backend, "--axis", "1"])
            .arg(&moving_rows)
            .assert()
            .success()
            .stdout("1.3966609393051247e308\n-5.012665866782577e307\n");
    }
}

#[test]
fn sums_by_key_print_key_tab_sum_in_ascending_key_order() {
    let values: Vec<u16> = (0..1000).map(|k| (k * 37 % 65_535) as u16).collect();
    let keys: Vec<i64> = (0..1000i64)
        .map(|k| match k % 5 {
            0 => i64::MIN,
            1 => i64::MAX,
            _ => k % 7 - 3,
        })
        .collect();
    let mut expected = std::collections::BTreeMap::<i64, (i128, u64)>::new();
    for (&key, &value) in keys.iter().zip(&values) {
        let entry = expected.entry(key).or_default();
        entry.0 += i128::from(value);
        entry.1 += 1;
    }
    let value_bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let key_bytes: Vec<u8> = keys.iter().flat_map(|v| v.to_le_bytes()).collect();
    let value_file = scratch("v.npy", &npy("<u2", false, &[1000], &value_bytes));
    let key_file = scratch("k.npy", &npy("<i8", false, &[1000], &key_bytes));
    let raw_keys = scratch("k.raw", &key_bytes);
    let text: String = expected
        .iter()
        .map(|(k, (s, _))| format!("{k}\t{s}\n"))
        .collect();
    for (backend, env) in backends() {
        for keys_args in [
            vec![key_file.display().to_string()],
            vec![
                raw_keys.display().to_string(),
                "--key-dtype".into(),
                "i64".into(),
            ],
        ] {
            gpusum()
                .envs(env.clone())
                .args(["file", "--backend", &backend])
                .arg(&value_file)
                .arg("--by")
                .args(&keys_args)
                .assert()
                .success()
                .stdout(text.clone());
        }
        let output = gpusum()
            .envs(env.clone())
            .args(["file", "--json", "--verify", "--backend", &backend])
            .arg(&value_file)
            .arg("--by")
            .arg(&key_file)
            .output()
            .unwrap();
        assert!(output.status.success(), "{backend}: {output:?}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let strings = |field: &str| -> Vec<String> {
            json[field]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let keys: Vec<String> = expected.keys().map(ToString::to_string).collect();
        let sums: Vec<String> = expected.values().map(|(s, _)| s.to_string()).collect();
        let counts: Vec<String> = expected.values().map(|(_, c)| c.to_string()).collect();
        assert_eq!(strings("keys"), keys, "{backend}");
        assert_eq!(strings("sums"), sums, "{backend}");
        assert_eq!(strings("counts"), counts, "{backend}");
        assert_eq!(json["key_dtype"], "i64");
        assert_eq!(json["verified"], true);
    }
}

#[test]
fn along_axes_json_has_the_shape_and_exact_strings() {
    let (values, column_sums, _) = matrix(3, 4);
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let file = scratch("j.npy", &npy("<i8", false, &[3, 4], &bytes));
    let output = gpusum()
        .args(["file", "--json", "--axis", "0"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["shape"], serde_json::json!([4]));
    assert_eq!(json["axes"], serde_json::json!([0]));
    assert_eq!(json["count_each"], "3");
    let sums: Vec<String> = column_sums.iter().map(ToString::to_string).collect();
    assert_eq!(json["sums"], serde_json::json!(sums));
}

/// Runs `args` and checks the exit code, that the message is on stderr, and that stdout is
/// empty: no partial output.
fn refused(args: &[&str], code: i32, message: &str) {
    gpusum()
        .args(args)
        .assert()
        .code(code)
        .stdout("")
        .stderr(contains(message));
}

#[test]
fn bad_axes_and_keys_are_clear_errors_with_no_partial_output() {
    let (values, _, _) = matrix(3, 4);
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let file = scratch("e.npy", &npy("<i8", false, &[3, 4], &bytes));
    let file = file.to_str().unwrap();
    let floats = scratch("fk.npy", &npy("<f8", false, &[12], &bytes));
    let short = scratch("sk.npy", &npy("<i8", false, &[11], &bytes[..88]));
    let long = scratch("lk.raw", &[bytes.clone(), bytes.clone()].concat());
    refused(
        &["file", "--axis", "2", file],
        2,
        "axis 2 is out of range for an array of 2 axes",
    );
    refused(&["file", "--axis", "0,-2", file], 2, "named twice");
    refused(
        &["file", file, "--by", floats.to_str().unwrap()],
        2,
        "keys must be integers",
    );
    refused(
        &["file", file, "--by", short.to_str().unwrap()],
        1,
        "the keys hold 11 elements but the values 12",
    );
    refused(
        &[
            "file",
            file,
            "--by",
            long.to_str().unwrap(),
            "--key-dtype",
            "i64",
            "--backend",
            "seq",
        ],
        1,
        "the keys hold 24 elements but the values 12",
    );
    refused(
        &["file", "--axis", "0", "--by", file, file],
        2,
        "cannot be used with",
    );
    refused(&["file", "--key-dtype", "i64", file], 2, "--by");
    // Raw data has one axis.
    let raw = scratch("r.raw", &bytes);
    refused(
        &[
            "file",
            "--dtype",
            "i64",
            "--axis",
            "1",
            raw.to_str().unwrap(),
        ],
        2,
        "out of range for an array of 1 axes",
    );
}

#[test]
fn memory_stays_bounded_streaming_by_key_and_along_the_last_axis() {
    // 64 MiB of u8 values (1,024 rows of 64 KiB) and as many u8 keys: peak memory within a few
    // MiB of summing a 4 MiB file the same way.
    let write = |name: &str, rows: usize| {
        let data: Vec<u8> = (0..rows * 65536).map(|k| (k % 251) as u8).collect();
        let values = scratch(
            &format!("{name}.npy"),
            &npy("|u1", false, &[rows, 65536], &data),
        );
        let keys = scratch(&format!("{name}.keys"), &data);
        (values, keys)
    };
    let (small, small_keys) = write("small", 64);
    let (large, large_keys) = write("large", 1024);
    for (backend, env) in backends() {
        let along =
            |path: &Path| peak_rss_kib(&env, &["--backend", &backend, "--axis", "-1"], path, None);
        let by_key = |path: &Path, keys: &Path| {
            peak_rss_kib(
                &env,
                &["--backend", &backend, "--key-dtype", "u8"],
                path,
                Some(keys),
            )
        };
        let (a_small, a_large) = (along(&small), along(&large));
        assert!(
            a_large < a_small + 8 * 1024,
            "{backend} {env:?}: along {a_small} -> {a_large} KiB"
        );
        let (k_small, k_large) = (by_key(&small, &small_keys), by_key(&large, &large_keys));
        assert!(
            k_large < k_small + 8 * 1024,
            "{backend} {env:?}: by key {k_small} -> {k_large} KiB"
        );
    }
    for path in [large, large_keys] {
        let _ = std::fs::remove_file(path);
    }
}

/// The child's peak resident memory in KiB, by wait4 (which also reaps it).
#[cfg(unix)]
#[allow(clippy::zombie_processes)]
fn peak_rss_kib(env: &[(&str, String)], args: &[&str], path: &Path, keys: Option<&Path>) -> i64 {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("gpusum"));
    command
        .envs(env.iter().cloned())
        .args(["file", "--chunk-bytes", "4MiB"])
        .args(args)
        .arg(path);
    if let Some(keys) = keys {
        command.arg("--by").arg(keys);
    }
    let child = command.stdout(Stdio::null()).spawn().unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, which nothing else waits for.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert!(pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    usage.ru_maxrss
}

#[cfg(not(unix))]
fn peak_rss_kib(_: &[(&str, String)], _: &[&str], _: &Path, _: Option<&Path>) -> i64 {
    0
}
