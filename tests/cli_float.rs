//! `gpusum file` on float arrays through the real binary, on every backend: each of IEEE 754's
//! special-value rules, the overflow notice and JSON field, the shortest decimal, and the same
//! printed sum whatever the backend.

use crate::common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn gpusum() -> Command {
    Command::cargo_bin("gpusum").expect("the gpusum binary is built")
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gpusum-cli-float-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Values as raw little-endian data (this machine's order).
fn float_file<T: bytemuck::Pod>(name: &str, values: &[T]) -> PathBuf {
    scratch(name, bytemuck::cast_slice(values))
}

use common::cli_backends as backends;

/// (stdout, stderr) of `gpusum file --dtype DTYPE PATH` on `backend`, which must succeed.
fn sum(
    backend: &(String, Vec<(&str, String)>),
    dtype: &str,
    path: &Path,
    json: bool,
) -> (String, String) {
    let mut command = gpusum();
    command.args(["file", "--backend", &backend.0, "--dtype", dtype]);
    if json {
        command.arg("--json");
    }
    command.arg(path);
    for (key, value) in &backend.1 {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{} {}: {stderr}",
        backend.0,
        path.display()
    );
    (String::from_utf8(output.stdout).unwrap(), stderr)
}

#[test]
fn every_special_value_rule_on_every_backend() {
    let cases: Vec<(&str, PathBuf, &str, &str)> = vec![
        (
            "f64",
            float_file::<f64>("cancel.bin", &[1e308, 1.0, -1e308]),
            "1",
            "massive cancellation",
        ),
        (
            "f32",
            float_file::<f32>("ties.bin", &[16777216.0, 1.0, 1.0]),
            "16777218",
            "2^24 + 1 + 1",
        ),
        (
            "f64",
            float_file::<f64>("nan.bin", &[1.0, f64::NAN, f64::INFINITY]),
            "nan",
            "any NaN",
        ),
        (
            "f64",
            float_file::<f64>("both.bin", &[f64::INFINITY, -1.0, f64::NEG_INFINITY]),
            "nan",
            "+inf with -inf",
        ),
        (
            "f32",
            float_file::<f32>("neginf.bin", &[f32::NEG_INFINITY, f32::MAX]),
            "-inf",
            "one infinity",
        ),
        (
            "f64",
            float_file::<f64>("negzero.bin", &[-0.0, -0.0]),
            "-0",
            "all -0.0",
        ),
        (
            "f64",
            float_file::<f64>("zero.bin", &[-0.0, 0.0]),
            "0",
            "an exact zero",
        ),
        (
            "f64",
            float_file::<f64>("cancelzero.bin", &[2.5, -2.5]),
            "0",
            "a zero by cancellation",
        ),
        (
            "f32",
            float_file::<f32>("empty.bin", &[]),
            "0",
            "the empty sum",
        ),
        (
            "f64",
            float_file::<f64>("tiny.bin", &[5e-324, 5e-324]),
            "1e-323",
            "subnormals",
        ),
        (
            "f64",
            float_file::<f64>("big.bin", &[1e300, 1e300]),
            "2e300",
            "exponent notation",
        ),
        (
            "f32",
            float_file::<f32>("tenth.bin", &[0.1; 10]),
            "1",
            "ten f32 tenths",
        ),
    ];
    for backend in backends() {
        for (dtype, path, expected, rule) in &cases {
            let (stdout, stderr) = sum(&backend, dtype, path, false);
            assert_eq!(stdout.trim(), *expected, "{rule} on {}", backend.0);
            assert!(!stderr.contains("beyond"), "{rule}: {stderr}");
        }
    }
}

#[test]
fn overflow_is_noticed_and_flagged_in_json() {
    let path = float_file::<f64>("overflow.bin", &[f64::MAX, f64::MAX, -1.0]);
    let negative = float_file::<f32>("negoverflow.bin", &[-f32::MAX, -f32::MAX]);
    for backend in backends() {
        let (stdout, stderr) = sum(&backend, "f64", &path, false);
        assert_eq!(stdout.trim(), "inf");
        assert!(stderr.contains("beyond the largest finite f64"), "{stderr}");
        let (stdout, _) = sum(&backend, "f64", &path, true);
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            (json["sum"].as_str(), json["overflow"].as_bool()),
            (Some("inf"), Some(true))
        );
        assert_eq!(json["dtype"], "f64");
        let (stdout, _) = sum(&backend, "f32", &negative, false);
        assert_eq!(stdout.trim(), "-inf");
        // An infinity among the inputs is not an overflow.
        let given = float_file::<f64>("given.bin", &[f64::INFINITY]);
        let (stdout, _) = sum(&backend, "f64", &given, true);
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            (json["sum"].as_str(), json["overflow"].as_bool()),
            (Some("inf"), Some(false))
        );
    }
}

#[test]
fn random_data_prints_the_same_on_every_backend() {
    let mut state = 0x853c_49e6_748f_ea9bu64;
    let values: Vec<f64> = (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            f64::from_bits(state)
        })
        .filter(|v| v.is_finite())
        .collect();
    let path = float_file::<f64>("random.bin", &values);
    let printed: Vec<String> = backends()
        .iter()
        .map(|backend| sum(backend, "f64", &path, false).0)
        .collect();
    assert!(
        printed.windows(2).all(|pair| pair[0] == pair[1]),
        "{printed:?}"
    );
    let mut exact = gpusum::ExactFloatSum::<f64>::new();
    exact.add_slice(&values).unwrap();
    assert_eq!(
        printed[0].trim(),
        gpusum::float::shortest_decimal(exact.round().value)
    );
}
