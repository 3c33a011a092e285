//! `gpusum bench --workload array` and `--workload float`: the bytes, bounds and plain sums
//! each row is set beside, on every backend present.

use crate::common;

use assert_cmd::Command;

fn gpusum() -> Command {
    Command::cargo_bin("gpusum").expect("the gpusum binary is built")
}

/// `gpusum bench --workload WORKLOAD --json` over two short lengths, parsed.
fn json_report(workload: &str) -> serde_json::Value {
    let output = gpusum()
        .args(["bench", "--workload", workload, "--json"])
        .args(["--sizes", "2^12,2^16", "--runs", "2", "--warmup", "0"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_array_workload_reports_bytes_and_the_bandwidth_that_bounds_each_row() {
    let report = json_report("array");
    assert_eq!(report["workload"], "array");
    let rows = report["results"].as_array().unwrap();
    let gpus = !common::adapter_backends().is_empty();
    for dtype in ["i64", "i32", "u8"] {
        for backend in ["seq", "cpu"] {
            let series = format!("{backend} {dtype}");
            assert_eq!(
                rows.iter()
                    .filter(|r| r["series"] == series.as_str())
                    .count(),
                2,
                "{series}"
            );
        }
        for resident in ["host", "device"] {
            let found = rows
                .iter()
                .any(|r| r["dtype"] == dtype && r["resident"] == resident);
            assert_eq!(found, gpus, "{dtype} {resident}");
        }
    }
    for row in rows {
        assert_eq!(row["workload"], "array");
        let count: f64 = row["count"].as_str().unwrap().parse().unwrap();
        let size = match row["dtype"].as_str().unwrap() {
            "i64" => 8.0,
            "i32" => 4.0,
            _ => 1.0,
        };
        let bytes = row["bytes_per_second"].as_f64().unwrap();
        let median = row["median_seconds"].as_f64().unwrap();
        assert!(
            (bytes * median / (count * size) - 1.0).abs() < 1e-9,
            "{row}"
        );
        assert!(row["bound"]["fraction"].as_f64().unwrap() > 0.0, "{row}");
    }
    let kinds: Vec<(&str, &str)> = report["bandwidth"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["device"].as_str().unwrap(),
                b["measurement"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(kinds.contains(&("cpu", "memory_read")) && kinds.contains(&("seq", "memory_read")));
    if gpus {
        assert!(
            kinds
                .iter()
                .any(|(d, k)| d.starts_with("gpu:") && *k == "upload")
        );
        assert!(
            kinds
                .iter()
                .any(|(d, k)| d.starts_with("gpu:") && *k == "device_read")
        );
    }
    assert!(report["peak"].as_array().unwrap().is_empty());
}

#[test]
fn the_float_workload_sets_each_exact_sum_beside_a_plain_one() {
    let report = json_report("float");
    assert_eq!(report["workload"], "float");
    let rows = report["results"].as_array().unwrap();
    let count =
        |pattern: &dyn Fn(&serde_json::Value) -> bool| rows.iter().filter(|r| pattern(r)).count();
    for backend in ["seq", "cpu"] {
        for dtype in ["f32", "f64"] {
            for method in ["exact", "plain"] {
                let series = format!("{backend} {dtype} {method}");
                assert_eq!(count(&|r| r["series"] == series.as_str()), 2, "{series}");
            }
        }
    }
    // Each adapter once, whatever its variants: exact f32 and f64, plain f32, on the device.
    let mut adapters: Vec<&str> = rows.iter().filter_map(|r| r["adapter"].as_str()).collect();
    adapters.sort_unstable();
    adapters.dedup();
    assert_eq!(adapters.is_empty(), common::adapter_backends().is_empty());
    for adapter in adapters {
        for (dtype, method) in [("f32", "exact"), ("f32", "plain"), ("f64", "exact")] {
            let found =
                count(&|r| r["adapter"] == adapter && r["dtype"] == dtype && r["method"] == method);
            assert_eq!(found, 2, "{adapter} {dtype} {method}");
        }
    }
    for row in rows {
        assert_eq!(row["workload"], "float");
        assert!(
            row["variant"].is_null() && row["reduction"].is_null(),
            "{row}"
        );
        let share = &row["share_of_plain"];
        let has_plain =
            row["method"] == "exact" && (row["adapter"].is_null() || row["dtype"] == "f32");
        assert_eq!(share.as_f64().is_some_and(|s| s > 0.0), has_plain, "{row}");
        if row["adapter"].is_string() {
            assert_eq!(row["resident"], "device", "{row}");
        }
    }

    let output = gpusum()
        .args([
            "bench",
            "--workload",
            "float",
            "--sizes",
            "2^10",
            "--backends",
            "seq",
        ])
        .args(["--runs", "1", "--warmup", "0"])
        .output()
        .unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("seq f64 exact") && table.contains("xplain"),
        "{table}"
    );
    for line in table.lines().filter(|line| !line.starts_with("machine:")) {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
}
