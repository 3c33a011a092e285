//! The bench report as an aligned table for a terminal (80 columns).

use std::fmt::Write as _;

use gpusum::bench::{BenchReport, SkipReason};

/// The report as text for a terminal: every line fits 80 columns.
pub fn to_table(report: &BenchReport) -> String {
    let mut out = String::new();
    let machine = &report.machine;
    let _ = writeln!(
        out,
        "machine: {} ({} threads), {}",
        machine.cpu, machine.threads, machine.os
    );
    for (index, adapter) in machine.adapters.iter().enumerate() {
        let kind = if adapter.software {
            "software, runs on the CPU"
        } else {
            adapter.device_type.as_str()
        };
        let _ = writeln!(out, "gpu{index} = {}, {kind}", adapter.label());
    }
    for unavailable in &report.unavailable {
        let text = format!(
            "! {} was not measured: {}",
            unavailable.adapter, unavailable.reason
        );
        let _ = writeln!(out, "{}", wrap(&text, 80, "  "));
    }

    if !report.startup.is_empty() {
        let _ = writeln!(
            out,
            "\nstart-up, not in the timings: instance, device, pipeline, first sum, then warm\n\
             one-element sums against a minimal dispatch plus readback on the same device:"
        );
        let _ = writeln!(
            out,
            "{:<14} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>6}",
            "", "instance", "device", "pipeline", "1st sum", "1 elem", "minimal", "ratio"
        );
        for startup in &report.startup {
            let minimal = startup.round_trip_seconds;
            let _ = writeln!(
                out,
                "{:<14} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>6}",
                report.label_of(&startup.backend),
                seconds(startup.instance_seconds),
                seconds(startup.device_seconds),
                seconds(startup.pipeline_seconds),
                seconds(startup.first_dispatch_seconds),
                seconds(startup.one_element_seconds),
                minimal.map(seconds).unwrap_or_else(|| "-".into()),
                ratio(minimal.map(|m| startup.one_element_seconds / m)),
            );
        }
    }

    let noisy = if report.workload == "float" {
        float_rows(report, &mut out)
    } else if report.workload == "array" {
        array_rows(report, &mut out)
    } else {
        range_rows(report, &mut out)
    };
    if noisy {
        let _ = writeln!(
            out,
            "\n~ noisy: the runs' median absolute deviation passed 10% of the median; another\n  \
             process probably competed for the CPU. Compare such points with care."
        );
    }

    if !report.crossover.is_empty() {
        let _ = writeln!(
            out,
            "\ncrossover (the GPU beats cpu at every measured length from):"
        );
        let width = report
            .crossover
            .iter()
            .map(|c| c.label.chars().count())
            .max()
            .unwrap_or(0);
        for crossover in &report.crossover {
            let verdict = match (crossover.count, crossover.largest_common_count) {
                (Some(count), _) => format!("from {}", length(count)),
                (None, Some(largest)) => format!("never, up to {}", length(largest)),
                (None, None) => "no length measured by both".into(),
            };
            let _ = writeln!(out, "  {:<width$} {verdict}", crossover.label);
        }
    }

    if !report.peak.is_empty() {
        let _ = writeln!(
            out,
            "\npeak (u32 adds/s, median of {} runs); each sum's share of its ceiling (the\n\
             peak over its ops per element), its raw share of the peak in brackets:",
            report.peak[0].measurement.runs
        );
        for peak in &report.peak {
            let shares: Vec<String> = peak
                .fractions
                .iter()
                .map(|f| {
                    format!(
                        "{} {:.0}% ({:.0}%)",
                        report.label_of(&f.backend),
                        f.ceiling_fraction * 100.0,
                        f.fraction * 100.0
                    )
                })
                .collect();
            let device = match peak.measurement.isa {
                Some(isa) => format!("{} {isa}", report.device_label(&peak.device)),
                None => report.device_label(&peak.device),
            };
            let line = format!(
                "  {device:<10} {:>8.2e}  {}",
                peak.measurement.ops_per_second,
                shares.join(", ")
            );
            let line = if line.chars().count() > 80 {
                wrap(&line, 80, &" ".repeat(22))
            } else {
                line
            };
            let _ = writeln!(out, "{line}");
        }
    }

    if !report.bandwidth.is_empty() {
        bandwidths(report, &mut out);
    }

    for skipped in &report.skipped {
        let why = match skipped.reason {
            SkipReason::Budget => format!(
                "it would take about {}, past the budget (--budget)",
                seconds(skipped.predicted_seconds)
            ),
            SkipReason::TooLarge => "it is past the memory the bench allots to arrays".into(),
            _ => "a shorter length was not measured".into(),
        };
        let text = format!(
            "! {}: length {} not measured: {why}",
            skipped.label,
            length(skipped.count),
        );
        let _ = writeln!(out, "\n{}", wrap(&text, 80, "  "));
    }
    for flag in &report.flags {
        let text = format!("! {}: {}", report.label_of(&flag.backend), flag.reason);
        let _ = writeln!(out, "\n{}", wrap(&text, 80, "  "));
    }
    out
}

/// The range rows; returns whether any was noisy.
fn range_rows(report: &BenchReport, out: &mut String) -> bool {
    let _ = writeln!(
        out,
        "\nbackend       length   median      min      max  elem/s   xseq   xcpu   kernel"
    );
    let mut noisy = false;
    let mut previous = None;
    for row in &report.results {
        if previous.is_some_and(|series| series != &row.series) {
            out.push('\n');
        }
        previous = Some(&row.series);
        noisy |= row.is_noisy();
        let mark = if row.is_noisy() { "~" } else { "" };
        let _ = writeln!(
            out,
            "{:<13} {:>6} {:>8} {:>8} {:>8} {:>7} {:>6} {:>6} {:>8}",
            row.label,
            length(row.count),
            format!("{mark}{}", seconds(row.median_seconds)),
            seconds(row.min_seconds),
            seconds(row.max_seconds),
            format!("{:.1e}", row.elements_per_second),
            ratio(row.speedup_vs_seq),
            ratio(row.speedup_vs_cpu),
            row.kernel_seconds
                .map(seconds)
                .unwrap_or_else(|| "-".into()),
        );
    }
    noisy
}

/// The array rows, with bytes per second and the share of the bound; returns whether any was
/// noisy.
fn array_rows(report: &BenchReport, out: &mut String) -> bool {
    let _ = writeln!(
        out,
        "\narrays: host (the upload timed) or device (kernels and readback only)\n\
         series                   length   median      min  bytes/s bound   xcpu   kernel"
    );
    let mut noisy = false;
    let mut previous = None;
    for row in &report.results {
        if previous.is_some_and(|series| series != &row.series) {
            out.push('\n');
        }
        previous = Some(&row.series);
        noisy |= row.is_noisy();
        let mark = if row.is_noisy() { "~" } else { "" };
        let _ = writeln!(
            out,
            "{:<24} {:>6} {:>8} {:>8} {:>8} {:>5} {:>6} {:>8}",
            row.label,
            length(row.count),
            format!("{mark}{}", seconds(row.median_seconds)),
            seconds(row.min_seconds),
            row.bytes_per_second
                .map(|rate| format!("{rate:.1e}"))
                .unwrap_or_else(|| "-".into()),
            row.bound
                .map(|bound| format!("{:.0}%", bound.fraction * 100.0))
                .unwrap_or_else(|| "-".into()),
            ratio(row.speedup_vs_cpu),
            row.kernel_seconds
                .map(seconds)
                .unwrap_or_else(|| "-".into()),
        );
    }
    noisy
}

/// The float rows: elements and bytes per second, the share of the bound, and for exact sums the
/// share of the plain sum's throughput; returns whether any was noisy.
fn float_rows(report: &BenchReport, out: &mut String) -> bool {
    let _ = writeln!(
        out,
        "\nfloats: exact (rounded once) beside plain (float adds in the backend's order);\n\
         GPU data on the device (kernels and readback only)\n\
         series                   length   median  values/s  bytes/s bound   xcpu  xplain"
    );
    let mut noisy = false;
    let mut previous = None;
    for row in &report.results {
        if previous.is_some_and(|series| series != &row.series) {
            out.push('\n');
        }
        previous = Some(&row.series);
        noisy |= row.is_noisy();
        let mark = if row.is_noisy() { "~" } else { "" };
        let _ = writeln!(
            out,
            "{:<24} {:>6} {:>8} {:>9.2e} {:>8} {:>5} {:>6} {:>7}",
            row.label,
            length(row.count),
            format!("{mark}{}", seconds(row.median_seconds)),
            row.elements_per_second,
            row.bytes_per_second
                .map(|rate| format!("{rate:.1e}"))
                .unwrap_or_else(|| "-".into()),
            row.bound
                .map(|bound| format!("{:.0}%", bound.fraction * 100.0))
                .unwrap_or_else(|| "-".into()),
            ratio(row.speedup_vs_cpu),
            row.share_of_plain
                .map(|share| format!("{:.0}%", share * 100.0))
                .unwrap_or_else(|| "-".into()),
        );
    }
    let _ = writeln!(
        out,
        "\nxplain: an exact sum's throughput as a share of the plain sum's of the same type\n\
         on the same backend (WGSL has no f64, so GPUs have no plain f64 sum)."
    );
    noisy
}

/// The bandwidths measured, by device, and what bounds each kind of row.
fn bandwidths(report: &BenchReport, out: &mut String) {
    let runs = report.bandwidth[0].measurement.runs;
    let _ = writeln!(
        out,
        "\nbandwidth (bytes/s, median of {runs} runs, fastest run in brackets); a row's\n\
         bound is the fastest run of: memory read for seq and cpu, device read for\n\
         device data, the slower of upload and device read for host data:"
    );
    let mut devices: Vec<&str> = Vec::new();
    for bandwidth in &report.bandwidth {
        if !devices.contains(&bandwidth.device.as_str()) {
            devices.push(&bandwidth.device);
        }
    }
    for device in devices {
        let parts: Vec<String> = report
            .bandwidth
            .iter()
            .filter(|b| b.device == device)
            .map(|b| {
                format!(
                    "{} {:.2e} ({:.2e})",
                    b.measurement.kind.name(),
                    b.measurement.bytes_per_second,
                    b.measurement.bytes_per_second_range.1
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "  {:<10} {}",
            report.device_label(device),
            parts.join(", ")
        );
    }
}

/// Wraps `text` at spaces to lines of at most `width` columns, continuing with `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("at least one line");
        if !line.trim().is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(format!("{indent}{word}"));
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

/// A length as 2^k when it is a power of two, else as digits or 1.0e9.
pub(super) fn length(count: u64) -> String {
    if count.is_power_of_two() && count >= 1024 {
        format!("2^{}", count.trailing_zeros())
    } else if count < 1_000_000 {
        count.to_string()
    } else {
        format!("{:.1e}", count as f64)
    }
}

pub(super) fn seconds(value: f64) -> String {
    match value {
        v if v < 1e-6 => format!("{:.0} ns", v * 1e9),
        v if v < 1e-3 => format!("{:.1} µs", v * 1e6),
        v if v < 1.0 => format!("{:.1} ms", v * 1e3),
        v => format!("{v:.2} s"),
    }
}

pub(super) fn ratio(value: Option<f64>) -> String {
    match value {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        let text = "! gpu0:native: time grew only 1.10x from length 1024 to 1048576, though adding every element takes long";
        let wrapped = super::wrap(text, 40, "  ");
        assert!(
            wrapped.lines().all(|line| line.chars().count() <= 40),
            "{wrapped}"
        );
        assert_eq!(wrapped.replace("\n  ", " "), text);
    }
}
