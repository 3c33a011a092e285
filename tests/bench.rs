//! `gpusum bench`: the JSON, CSV, table and plot it promises, on every backend present.

use crate::common;

use assert_cmd::Command;
use predicates::str::contains;

fn gpusum() -> Command {
    Command::cargo_bin("gpusum").expect("the gpusum binary is built")
}

/// A short sweep: fixed lengths keep the test fast on software adapters.
const SIZES: &str = "2^10,2^14,2^18";

#[test]
fn json_carries_every_backend_with_the_documented_fields_and_the_plot_is_svg() {
    let dir = std::env::temp_dir().join(format!("gpusum-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plot = dir.join("out.svg");
    let output = gpusum()
        .args(["bench", "--json", "--sizes", SIZES, "--plot"])
        .arg(&plot)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");

    assert!(report["machine"]["cpu"].is_string() && report["machine"]["adapters"].is_array());
    let rows = report["results"].as_array().unwrap();
    for key in [
        "backend",
        "adapter",
        "variant",
        "count",
        "median_seconds",
        "min_seconds",
        "max_seconds",
        "elements_per_second",
        "kernel_seconds",
    ] {
        assert!(
            rows.iter().all(|row| row.get(key).is_some()),
            "a row lacks {key}"
        );
    }
    for row in rows {
        let (min, median, max) = (
            row["min_seconds"].as_f64().unwrap(),
            row["median_seconds"].as_f64().unwrap(),
            row["max_seconds"].as_f64().unwrap(),
        );
        assert!(min <= median && median <= max, "{row}");
    }
    let backends: Vec<&str> = rows
        .iter()
        .map(|row| row["backend"].as_str().unwrap())
        .collect();
    assert!(backends.contains(&"seq") && backends.contains(&"cpu"));
    assert_eq!(rows.iter().filter(|row| row["backend"] == "seq").count(), 3);
    assert!(
        report["peak"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["device"] == "cpu")
    );
    assert!(report["crossover"].is_array() && report["startup"].is_array());
    if !common::adapter_backends().is_empty() {
        assert!(backends.iter().any(|b| b.starts_with("gpu:")));
        let startup = report["startup"].as_array().unwrap();
        assert!(!startup.is_empty());
        assert!(startup.iter().all(|s| {
            s["empty_dispatch_seconds"]
                .as_f64()
                .is_some_and(|v| v > 0.0)
        }));
        assert!(
            report["peak"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["device"].as_str().unwrap().starts_with("gpu:"))
        );
    }

    let svg = std::fs::read_to_string(&plot).expect("the plot was written");
    assert!(svg.starts_with("<svg") && svg.contains("elements per second") && svg.contains("seq"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_table_fits_80_columns_and_csv_has_a_row_per_point() {
    let output = gpusum()
        .args(["bench", "--sizes", "2^10,2^12", "--backends", "seq,cpu"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let table = String::from_utf8(output.stdout).unwrap();
    for line in table.lines().filter(|line| !line.starts_with("machine:")) {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
    assert!(table.contains("backend") && table.contains("peak"));

    let output = gpusum()
        .args([
            "bench",
            "--csv",
            "--sizes",
            "2^10,2^12",
            "--backends",
            "seq,cpu",
        ])
        .output()
        .unwrap();
    let csv = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0]
            .starts_with("workload,series,backend,dtype,resident,adapter,variant,reduction,count,")
    );
    assert_eq!(lines.len(), 1 + 4);
}

#[test]
fn bad_bench_options_are_usage_errors() {
    gpusum()
        .args(["bench", "--backends", "tpu"])
        .assert()
        .code(2)
        .stderr(contains("unknown backend \"tpu\""));
    // A backend this machine lacks is a runtime failure, not a usage error.
    gpusum()
        .args(["bench", "--backends", "gpu:no-such-adapter"])
        .assert()
        .code(1)
        .stderr(contains("no backend here matches"));
    gpusum()
        .args(["bench", "--sizes", "0"])
        .assert()
        .code(2)
        .stderr(contains("must be 1 to 2^63 - 1"));
    gpusum()
        .args(["bench", "--sizes", "lots"])
        .assert()
        .code(2)
        .stderr(contains("is not a length"));
    gpusum().args(["bench", "--json", "--csv"]).assert().code(2);
}

#[test]
fn sizes_are_measured_in_ascending_order_and_within_the_budget() {
    let started = std::time::Instant::now();
    let output = gpusum()
        .args([
            "bench",
            "--json",
            "--sizes",
            "2^62,2^14,2^10",
            "--backends",
            "seq",
            "--budget",
            "1",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let counts: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["count"].as_str().unwrap())
        .collect();
    assert_eq!(counts, ["1024", "16384"]);
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["count"], (1u64 << 62).to_string());
    assert!(skipped[0]["predicted_seconds"].as_f64().unwrap() > 1.0);

    let table = gpusum()
        .args([
            "bench",
            "--sizes",
            "2^62,2^10",
            "--backends",
            "seq",
            "--budget",
            "1",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.contains("length 2^62 not measured"), "{table}");
}

#[test]
fn saved_runs_compare_and_every_export_is_written_together() {
    let dir = std::env::temp_dir().join(format!("gpusum-baseline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).display().to_string();
    let run = |extra: &[String]| {
        let mut command = gpusum();
        command.args([
            "bench",
            "--sizes",
            "2^10,2^14",
            "--backends",
            "seq",
            "--runs",
            "9",
        ]);
        command.args(extra);
        command.output().unwrap()
    };
    for name in ["first.json", "second.json"] {
        let output = run(&["--save".into(), path(name)]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = run(&[
        "--baseline".into(),
        path("first.json"),
        "--export-json".into(),
        path("out.json"),
        "--export-csv".into(),
        path("out.csv"),
        "--export-md".into(),
        path("out.md"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("against "), "{table}");
    let verdicts = ["same, within noise", "faster", "slower"];
    let compared: Vec<&str> = table
        .lines()
        .filter(|line| verdicts.iter().any(|v| line.ends_with(v)))
        .collect();
    assert_eq!(compared.len(), 2, "{table}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("out.json")).unwrap()).unwrap();
    assert!(report["results"][0]["mad_seconds"].is_number());
    assert!(report["results"][0]["stddev_seconds"].is_number());
    let csv = std::fs::read_to_string(path("out.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3);
    let md = std::fs::read_to_string(path("out.md")).unwrap();
    assert!(md.contains("| seq | 2^10 |"), "{md}");
    // A baseline that is not a report, and an export that cannot be written, fail before the run.
    std::fs::write(path("junk.json"), "[1, 2]").unwrap();
    gpusum()
        .args([
            "bench",
            "--backends",
            "seq",
            "--baseline",
            &path("junk.json"),
        ])
        .assert()
        .code(1)
        .stderr(contains("is not a bench report"));
    let started = std::time::Instant::now();
    gpusum()
        .args([
            "bench",
            "--backends",
            "seq",
            "--export-md",
            "/no/such/dir/out.md",
        ])
        .assert()
        .code(1)
        .stderr(contains("cannot write /no/such/dir/out.md"));
    assert!(
        started.elapsed().as_secs() < 5,
        "the bench ran before the check"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_profile_writes_the_rates_auto_then_plans_with() {
    let dir = std::env::temp_dir().join(format!("gpusum-profile-{}", std::process::id()));
    let path = dir.join("nested").join("profile.tsv");
    let output = gpusum()
        .args(["bench", "--save-profile"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cpu, one thread: range"), "{stderr}");
    let text = std::fs::read_to_string(&path).unwrap();
    let profile = gpusum::engine::Profile::from_text(&text).unwrap();
    let cpu = profile.cpu.expect("the CPU's rates");
    // Rates, not a ratio between them: a busy core halves the pool's rate.
    assert!(cpu.one.range > 1e6 && cpu.all.range > 1e6, "{text}");
    assert!(profile.look.is_some(), "{text}");
    // auto plans with it: the estimate is the profile's rate, whatever the defaults say.
    let output = gpusum()
        .env("GPUSUM_PROFILE", &path)
        .args(["--json", "--backend", "auto", "1", "1000"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        json["reason"]
            .as_str()
            .unwrap()
            .contains("before a GPU could be opened")
    );
    // A file that is not a profile is an error, not a silent default.
    std::fs::write(&path, "not a profile\n").unwrap();
    gpusum()
        .env("GPUSUM_PROFILE", &path)
        .args(["1", "20"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("not a gpusum profile"));
    gpusum()
        .args(["bench", "--save-profile", "--json"])
        .assert()
        .code(2);
    std::fs::remove_dir_all(&dir).unwrap();
}
