//! `gpusum selftest` on every adapter present, and what it says when there is none.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn gpusum() -> Command {
    Command::cargo_bin("gpusum").expect("the gpusum binary is built")
}

#[test]
fn selftest_passes_on_every_adapter_and_says_so() {
    let backends = common::adapter_backends();
    if backends.is_empty() {
        return;
    }
    let assert = gpusum()
        .args(["selftest", "--seed", "7"])
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("seed 7"), "{stdout}");
    for backend in &backends {
        let heading = stdout
            .lines()
            .position(|l| l.ends_with(&format!("({backend})")));
        let heading = heading.unwrap_or_else(|| panic!("{backend} heading missing:\n{stdout}"));
        let first_row = stdout.lines().nth(heading + 1).unwrap();
        assert!(
            first_row.starts_with("  emulated / tree") && first_row.ends_with("ok"),
            "{first_row}"
        );
    }
    assert!(
        stdout.lines().any(|l| l.starts_with("cpu "))
            && stdout.lines().any(|l| l.starts_with("seq "))
    );
    assert!(
        stdout.lines().all(|line| line.chars().count() <= 80),
        "a line is wider than 80 columns:\n{stdout}"
    );
    assert!(stdout.contains("targets passed"));
}

#[test]
fn selftest_json_lists_each_adapter_and_variant_per_backend() {
    for backend in common::adapter_backends() {
        let output = gpusum()
            .args([
                "selftest",
                "--json",
                "--seed",
                "11",
                "--adapter",
                &format!("({backend})"),
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["passed"], true);
        assert_eq!(report["seed"], "11");
        assert_eq!(report["schema"], 1);
        let targets = report["targets"].as_array().unwrap();
        let gpu_rows: Vec<_> = targets.iter().filter(|t| t["backend"] == "gpu").collect();
        assert!(!gpu_rows.is_empty());
        for row in &gpu_rows {
            assert!(
                row["adapter"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("({backend})"))
            );
            assert_eq!(row["cases_passed"], row["cases_run"]);
            assert!(row["cases_run"].as_u64().unwrap() >= 30);
            assert!(row["driver"].is_string());
        }
        if backend == "vulkan" {
            // lavapipe has int64 and subgroups: every variant and reduction must have run.
            for (variant, reduction) in [
                ("emulated", "tree"),
                ("emulated", "subgroup"),
                ("native", "tree"),
                ("native", "subgroup"),
            ] {
                assert!(
                    gpu_rows
                        .iter()
                        .any(|r| r["variant"] == variant && r["reduction"] == reduction),
                    "{variant} / {reduction} did not run"
                );
            }
        }
    }
}

#[test]
fn without_an_adapter_selftest_fails_unless_cpu_only_is_allowed() {
    gpusum()
        .env("WGPU_BACKEND", "none")
        .args(["selftest", "--seed", "1"])
        .assert()
        .code(1)
        .stderr(contains("no GPU adapter").and(contains("--allow-cpu-only")));
    gpusum()
        .env("WGPU_BACKEND", "none")
        .args(["selftest", "--seed", "1", "--allow-cpu-only", "--json"])
        .assert()
        .success();
    gpusum()
        .args(["selftest", "--adapter", "no-such-adapter", "--seed", "1"])
        .assert()
        .code(1)
        .stderr(contains("no adapter matches"));
}

#[test]
fn selftest_usage_errors_exit_2() {
    gpusum().args(["selftest", "--seed", "-3"]).assert().code(2);
    gpusum()
        .args(["selftest", "--timeout", "0"])
        .assert()
        .code(2)
        .stderr(contains("is not a number of seconds from 0.001 to 1e9"));
    gpusum().args(["selftest", "extra"]).assert().code(2);
}
