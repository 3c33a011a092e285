//! `gpusum bench --baseline FILE`: each row against the same backend and length in a saved run,
//! with a verdict that accounts for both runs' noise.

use std::fmt::Write as _;

use gpusum::bench::BenchReport;

use super::bench_table::length;

/// A saved run's point: its series (the backend id, for ranges), length, median and median
/// absolute deviation.
pub struct SavedPoint {
    series: String,
    count: String,
    median: f64,
    mad: f64,
}

/// Reads the points of a JSON document `gpusum bench --json` (or `--save`) wrote.
pub fn read_baseline(text: &str) -> anyhow::Result<Vec<SavedPoint>> {
    let document: serde_json::Value = serde_json::from_str(text)?;
    let rows = document["results"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no \"results\" array: not a gpusum bench report"))?;
    rows.iter()
        .map(|row| {
            let text = |key: &str| row[key].as_str().map(str::to_owned);
            let number = |key: &str| row[key].as_f64();
            Some(SavedPoint {
                // Reports saved before series existed held ranges only, keyed by backend.
                series: text("series").or_else(|| text("backend"))?,
                count: text("count")?,
                median: number("median_seconds")?,
                // Reports saved before the MAD existed count as noise-free.
                mad: number("mad_seconds").unwrap_or(0.0),
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| anyhow::anyhow!("a row lacks backend, count or median_seconds"))
}

/// One line per row the baseline also measured: the change of the median and a verdict. A
/// change counts only beyond three times both runs' combined median absolute deviation and 2%.
pub fn compare(report: &BenchReport, baseline: &[SavedPoint], name: &str) -> String {
    let mut text = format!("\nagainst {name} (median now over median then):\n");
    let mut matched = 0;
    for row in &report.results {
        let count = row.count.to_string();
        let Some(old) = baseline
            .iter()
            .find(|p| p.series == row.series && p.count == count)
        else {
            continue;
        };
        matched += 1;
        let change = row.median_seconds / old.median - 1.0;
        let noise = 3.0 * (row.mad_seconds.powi(2) + old.mad.powi(2)).sqrt() / old.median;
        let verdict = if change.abs() <= noise.max(0.02) {
            "same, within noise"
        } else if change < 0.0 {
            "faster"
        } else {
            "slower"
        };
        let _ = writeln!(
            text,
            "  {:<24} {:>6} {:>+7.1}%  {verdict}",
            row.label,
            length(row.count),
            change * 100.0
        );
    }
    if matched == 0 {
        text.push_str("  no point of this run is in the baseline\n");
    }
    text
}
