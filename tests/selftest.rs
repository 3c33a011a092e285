//! `gpusum selftest` on every adapter present, and what it says when there is none.

use crate::common;

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
            .position(|l| l.contains(&format!("({backend}), workgroups of ")));
        let heading = heading.unwrap_or_else(|| panic!("{backend} heading missing:\n{stdout}"));
        let first_row = stdout.lines().nth(heading + 1).unwrap();
        assert!(
            first_row.starts_with("  ranges, emulated / tree") && first_row.ends_with("ok"),
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
        .stdout(contains("no GPU adapter was tested").and(contains("all 2 targets passed").not()))
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

#[test]
fn junit_reports_read_as_junit_and_required_backends_are_enforced() {
    let dir = std::env::temp_dir().join(format!("gpusum-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("selftest.xml");
    let backends = common::adapter_backends();
    let mut command = gpusum();
    command
        .args(["selftest", "--seed", "4", "--allow-cpu-only", "--junit"])
        .arg(&path);
    if !backends.is_empty() {
        command.args(["--require-backends", &backends.join(",")]);
    }
    command.assert().success();
    let xml = std::fs::read_to_string(&path).unwrap();
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(
        suites.len(),
        // Per adapter, each variant runs ranges and arrays in both layouts; the CPU twins run
        // ranges and arrays.
        4 + 12 * backends.contains(&"vulkan".to_owned()) as usize
            + 3 * backends.contains(&"gl".to_owned()) as usize
    );
    let cases: usize = suites
        .iter()
        .map(|suite| {
            suite
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .count()
        })
        .sum();
    assert_eq!(root.attribute("tests"), Some(cases.to_string().as_str()));
    assert_eq!(root.attribute("failures"), Some("0"));
    let properties: Vec<(&str, &str)> = suites[0]
        .descendants()
        .filter(|n| n.has_tag_name("property"))
        .map(|n| (n.attribute("name").unwrap(), n.attribute("value").unwrap()))
        .collect();
    assert!(properties.contains(&("gpusum_version", env!("CARGO_PKG_VERSION"))));
    assert!(
        properties
            .iter()
            .any(|(k, v)| *k == "wgpu_version" && v.starts_with("30."))
    );
    if !backends.is_empty() {
        assert!(
            properties.iter().any(|(k, _)| *k == "driver"),
            "{properties:?}"
        );
    }
    // An output path that cannot be written fails before the run.
    gpusum()
        .args(["selftest", "--junit", "/no/such/dir/out.xml"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("cannot write /no/such/dir/out.xml"));
    // Without any adapter the selftest fails before it reads --require-backends (as it should:
    // nothing was tested); with one, the missing API is named.
    if !backends.is_empty() {
        gpusum()
            .args([
                "selftest",
                "--seed",
                "4",
                "--require-backends",
                "metal,vulkan",
            ])
            .assert()
            .code(1)
            .stderr(contains("--require-backends asks for metal"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
