//! The real binary: outputs, exit codes and error messages.

use crate::common;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

/// A range the CPU takes long enough on (0.2 s on two cores) that `auto` looks for a GPU first.
const LOOKS_FOR_A_GPU: &str = "10000000000";
const LOOKS_FOR_A_GPU_SUM: &str = "50000000005000000000";

fn gpusum() -> Command {
    Command::cargo_bin("gpusum").expect("the gpusum binary is built")
}

#[test]
fn the_classic_and_its_friends() {
    for backend in ["auto", "cpu", "seq"] {
        gpusum()
            .args(["--backend", backend, "1", "20"])
            .assert()
            .success()
            .stdout("210\n");
    }
    gpusum().args(["-5", "5"]).assert().success().stdout("0\n");
    gpusum()
        .args(["--", "-5", "5"])
        .assert()
        .success()
        .stdout("0\n");
    gpusum()
        .args(["-10", "-1"])
        .assert()
        .success()
        .stdout("-55\n");
    gpusum()
        .args(["1_000", "2_000"])
        .assert()
        .success()
        .stdout("1501500\n");
    gpusum().args(["7", "7"]).assert().success().stdout("7\n");
}

#[test]
fn exact_past_u64_and_at_the_edges_of_i64() {
    // 0 + 1 + ... + (2^63 - 1) needs 125 bits; the classic wraps, gpusum does not.
    let range = gpusum::SumRange::new(i64::MAX - 99_999, i64::MAX);
    let expected = format!("{}\n", range.closed_form());
    gpusum()
        .args([
            "--backend",
            "cpu",
            &(i64::MAX - 99_999).to_string(),
            &i64::MAX.to_string(),
        ])
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn gpu_on_every_adapter_gives_the_exact_sum_at_i64_min() {
    let backends = common::adapter_backends();
    let expected = gpusum::SumRange::new(i64::MIN, i64::MIN + 999).closed_form();
    for backend in backends {
        gpusum()
            .env("WGPU_BACKEND", &backend)
            .args([
                "--backend",
                "gpu",
                "--verify",
                "--",
                "-9223372036854775808",
                "-9223372036854774809",
            ])
            .assert()
            .success()
            .stdout(format!("{expected}\n"));
    }
}

#[test]
fn json_output_has_the_documented_keys() {
    let output = gpusum()
        .args(["--json", "--backend", "cpu", "--verify", "1", "20"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let value: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    assert_eq!(value["schema"], 1);
    assert_eq!(value["gpusum_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(value["backend"], "cpu");
    assert_eq!(value["adapter"], serde_json::Value::Null);
    assert_eq!(value["start"], "1");
    assert_eq!(value["end"], "20");
    assert_eq!(value["count"], "20");
    assert_eq!(value["sum"], "210");
    assert_eq!(value["verified"], true);
    assert!(value["seconds"].as_f64().is_some());
}

#[test]
fn bad_bounds_are_usage_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["abc", "5"], "\"abc\" is not an integer"),
        (&["1.5", "5"], "\"1.5\" is not an integer"),
        (&["1", "9223372036854775808"], "outside the i64 range"),
        (
            &["--", "-9223372036854775809", "0"],
            "outside the i64 range",
        ),
        (&["20", "1"], "the bounds look reversed"),
        (&["5"], "required"),
        (&[], "required"),
        (&["1", "2", "3"], "unexpected argument"),
        (&["--backend", "tpu", "1", "2"], "invalid value 'tpu'"),
        (&["--shader", "fast", "1", "2"], "invalid value 'fast'"),
    ];
    for (args, message) in cases {
        gpusum()
            .args(*args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(*message).and(contains("panicked").not()));
    }
}

#[test]
fn runtime_failures_exit_1_with_a_message() {
    gpusum()
        .args([
            "--backend",
            "gpu",
            "--adapter",
            "no-such-adapter-xyz",
            "1",
            "20",
        ])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("no adapter matches \"no-such-adapter-xyz\""));
    if common::adapter_backends().iter().any(|b| b == "gl") {
        gpusum()
            .env("WGPU_BACKEND", "gl")
            .args(["--backend", "gpu", "--shader", "native", "1", "20"])
            .assert()
            .code(1)
            .stdout("")
            .stderr(contains("the native shader needs SHADER_INT64"));
        gpusum()
            .env("WGPU_BACKEND", "gl")
            .args(["--backend", "gpu", "--reduction", "subgroup", "1", "20"])
            .assert()
            .code(1)
            .stdout("")
            .stderr(contains("the subgroup reduction needs SUBGROUP"));
    }
}

#[test]
fn a_forced_kernel_part_the_adapter_lacks_is_an_error_under_auto_too() {
    if !common::adapter_backends().iter().any(|b| b == "gl") {
        return;
    }
    // llvmpipe's GL adapter has neither int64 nor subgroups: forcing either is the user's error,
    // not a reason to fall back to the CPU.
    for (option, value, message) in [
        (
            "--reduction",
            "subgroup",
            "the subgroup reduction needs SUBGROUP",
        ),
        ("--shader", "native", "the native shader needs SHADER_INT64"),
    ] {
        gpusum()
            .args([
                "--backend",
                "auto",
                "--adapter",
                "(gl)",
                option,
                value,
                "1",
                "20",
            ])
            .assert()
            .code(1)
            .stdout("")
            .stderr(contains(message).and(contains("summing on the CPU").not()));
    }
}

#[test]
fn auto_without_an_adapter_falls_back_to_the_cpu_and_says_so() {
    // An empty backend list reaches no adapter. A sum this long is one that auto looks for a GPU
    // for (a short one finishes on the CPU before any GPU could be opened, and says nothing).
    gpusum()
        .env("WGPU_BACKEND", "none")
        .args(["1", LOOKS_FOR_A_GPU])
        .assert()
        .success()
        .stdout(format!("{}\n", LOOKS_FOR_A_GPU_SUM))
        .stderr(contains("summing on the CPU"));
    gpusum()
        .env("WGPU_BACKEND", "none")
        .args(["1", "20"])
        .assert()
        .success()
        .stdout("210\n")
        .stderr("");
    gpusum()
        .env("WGPU_BACKEND", "none")
        .args(["--backend", "gpu", "1", "20"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("no GPU adapter"));
}

#[test]
fn adapters_lists_what_is_present() {
    let backends = common::adapter_backends();
    let assert = gpusum().arg("adapters").assert();
    if backends.is_empty() {
        assert.code(1).stderr(contains("no GPU adapter"));
        return;
    }
    let assert = assert
        .success()
        .stdout(contains("int64:").and(contains("timestamps:")));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for backend in backends {
        assert!(
            stdout.contains(&format!("({backend})")),
            "{backend} missing from:\n{stdout}"
        );
    }
    let json = gpusum().args(["adapters", "--json"]).output().unwrap();
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(document["schema"], 1);
    assert!(
        document["adapters"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a[0]["variants"].is_array())
    );
    // Mesa's adapters all run compute; what wgpu lists and gpusum cannot use is listed apart.
    assert!(document["passed_over"].is_array());
}

#[test]
fn verbose_goes_to_stderr_only() {
    gpusum()
        .args(["-v", "--backend", "seq", "1", "20"])
        .assert()
        .success()
        .stdout("210\n")
        .stderr(contains("backend: seq (1 thread)\n"));
}

#[test]
fn a_tiny_timeout_against_a_long_range_is_a_clear_error() {
    let mut backends: Vec<Option<String>> =
        common::adapter_backends().into_iter().map(Some).collect();
    backends.push(None);
    for backend in backends {
        let mut command = gpusum();
        match &backend {
            Some(backend) => command
                .env("WGPU_BACKEND", backend)
                .args(["--backend", "gpu"]),
            None => command.args(["--backend", "cpu"]),
        };
        let started = std::time::Instant::now();
        command
            .args(["--timeout", "0.05", "1", "1_000_000_000_000_000"])
            .assert()
            .code(1)
            .stdout("")
            .stderr(contains("gave up after 0.050 s").and(contains("timed out")));
        assert!(
            started.elapsed().as_secs() < 20,
            "{backend:?}: the timeout took {:?}",
            started.elapsed()
        );
    }
    for bad in ["0", "-1", "abc", "inf", "1e-300", "1e300"] {
        gpusum()
            .args(["--timeout", bad, "1", "2"])
            .assert()
            .code(2)
            .stderr(contains("is not a number of seconds from 0.001 to 1e9"));
    }
}

#[test]
fn options_that_cannot_apply_are_usage_errors() {
    for backend in ["cpu", "seq"] {
        for (option, value) in [
            ("--shader", "native"),
            ("--reduction", "tree"),
            ("--adapter", "vulkan"),
        ] {
            gpusum()
                .args(["--backend", backend, option, value, "1", "20"])
                .assert()
                .code(2)
                .stdout("")
                .stderr(contains(format!(
                    "{option} chooses how a GPU sums, but --backend {backend} sums on the CPU"
                )));
        }
    }
    for args in [
        &["--adapter", "", "1", "20"][..],
        &["selftest", "--adapter", " "],
    ] {
        gpusum()
            .args(args)
            .env("WGPU_ADAPTER_NAME", "no-such-adapter")
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains("--adapter needs text to look for"));
    }
}

#[test]
fn a_lost_device_fails_gpu_and_falls_back_under_auto() {
    for backend in common::adapter_backends() {
        gpusum()
            .env("WGPU_BACKEND", &backend)
            .env("GPUSUM_INJECT_FAULT", "device-lost")
            .args(["--backend", "gpu", "1", "20"])
            .assert()
            .code(1)
            .stdout("")
            .stderr(contains("the GPU device was lost"));
        // Naming the adapter sends auto's sum there; the planner alone would keep 1000
        // elements on the CPU.
        gpusum()
            .env("WGPU_BACKEND", &backend)
            .env("GPUSUM_INJECT_FAULT", "device-lost")
            .args([
                "--adapter",
                &backend,
                "--verify",
                "--",
                "-9223372036854775808",
                "-9223372036854774809",
            ])
            .assert()
            .success()
            .stdout("-9223372036854775308500\n")
            .stderr(contains("the GPU failed").and(contains("summed again on the CPU")));
    }
}

#[test]
fn wgpu_speaks_through_rust_log_and_the_no_gpu_notice_names_the_variables() {
    gpusum()
        .env("WGPU_BACKEND", "bogus")
        .args(["1", LOOKS_FOR_A_GPU])
        .assert()
        .success()
        .stdout(format!("{}\n", LOOKS_FOR_A_GPU_SUM))
        .stderr(
            contains("unknown backend string 'bogus'")
                .and(contains("no usable GPU, so summing on the CPU"))
                .and(contains("with WGPU_BACKEND=bogus"))
                .and(contains("((").not()),
        );
    if !common::adapter_backends().iter().any(|b| b == "vulkan") {
        return;
    }
    gpusum()
        .env("RUST_LOG", "wgpu_hal=debug")
        .env("WGPU_VALIDATION", "1")
        .env("WGPU_BACKEND", "vulkan")
        .args(["--backend", "gpu", "1", "20"])
        .assert()
        .success()
        .stdout("210\n")
        .stderr(contains("VALIDATION"));
}
