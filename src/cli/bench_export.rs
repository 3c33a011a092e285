//! The bench report as files: CSV (through the csv crate) and a Markdown table for reports.

use std::fmt::Write as _;

use gpusum::bench::BenchReport;

use super::bench_table::{length, ratio, seconds};

/// The rows as CSV with a header line.
pub fn to_csv(report: &BenchReport) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "workload",
        "series",
        "backend",
        "dtype",
        "resident",
        "adapter",
        "variant",
        "reduction",
        "count",
        "runs",
        "median_seconds",
        "min_seconds",
        "max_seconds",
        "stddev_seconds",
        "mad_seconds",
        "elements_per_second",
        "bytes_per_second",
        "bound",
        "bound_bytes_per_second",
        "bound_fraction",
        "kernel_seconds",
        "speedup_vs_seq",
        "speedup_vs_cpu",
        "method",
        "share_of_plain",
    ])?;
    let optional = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    for row in &report.results {
        writer.write_record([
            row.workload.to_owned(),
            row.series.clone(),
            row.backend.to_string(),
            row.dtype.map(|d| d.name().to_owned()).unwrap_or_default(),
            row.resident
                .map(|r| r.name().to_owned())
                .unwrap_or_default(),
            row.adapter.clone().unwrap_or_default(),
            row.variant.map(|v| v.name().to_owned()).unwrap_or_default(),
            row.reduction
                .map(|r| r.name().to_owned())
                .unwrap_or_default(),
            row.count.to_string(),
            row.runs.to_string(),
            row.median_seconds.to_string(),
            row.min_seconds.to_string(),
            row.max_seconds.to_string(),
            row.stddev_seconds.to_string(),
            row.mad_seconds.to_string(),
            row.elements_per_second.to_string(),
            optional(row.bytes_per_second),
            row.bound
                .map(|b| b.kind.name().to_owned())
                .unwrap_or_default(),
            optional(row.bound.map(|b| b.bytes_per_second)),
            optional(row.bound.map(|b| b.fraction)),
            optional(row.kernel_seconds),
            optional(row.speedup_vs_seq),
            optional(row.speedup_vs_cpu),
            row.method.map(|m| m.name().to_owned()).unwrap_or_default(),
            optional(row.share_of_plain),
        ])?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// The machine, the adapters and the rows as Markdown, ready for a report.
pub fn to_markdown(report: &BenchReport) -> String {
    let mut md = String::new();
    let machine = &report.machine;
    let _ = writeln!(
        md,
        "Machine: {} ({} threads, {}), {}; gpusum {}.\n",
        machine.cpu,
        machine.threads,
        machine.cpu_isa,
        machine.os,
        gpusum::json::GPUSUM_VERSION
    );
    for (index, adapter) in machine.adapters.iter().enumerate() {
        let _ = writeln!(
            md,
            "- `gpu{index}`: {}, driver {}",
            adapter.label(),
            adapter.driver
        );
    }
    md.push_str(
        "\n| backend | length | median | min | max | MAD | elements/s | bytes/s | of bound | × seq | × cpu | kernel | of plain |\n",
    );
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in &report.results {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {:.2e} | {} | {} | {} | {} | {} | {} |",
            row.label,
            length(row.count),
            seconds(row.median_seconds),
            seconds(row.min_seconds),
            seconds(row.max_seconds),
            seconds(row.mad_seconds),
            row.elements_per_second,
            row.bytes_per_second
                .map(|rate| format!("{rate:.2e}"))
                .unwrap_or_else(|| "–".into()),
            row.bound
                .map(|b| format!("{:.0}% of {}", b.fraction * 100.0, b.kind.name()))
                .unwrap_or_else(|| "–".into()),
            ratio(row.speedup_vs_seq),
            ratio(row.speedup_vs_cpu),
            row.kernel_seconds
                .map(seconds)
                .unwrap_or_else(|| "–".into()),
            row.share_of_plain
                .map(|share| format!("{:.0}%", share * 100.0))
                .unwrap_or_else(|| "–".into()),
        );
    }
    md
}
