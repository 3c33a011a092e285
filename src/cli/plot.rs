//! Throughput against length, log-log: one line per backend, each with its own colour (the
//! colour-blind-safe Okabe-Ito set, without its pale yellow), marker and dash pattern, a band from
//! the slowest to the fastest run, crossovers marked, and a caption naming the machine.

use std::path::Path;

use plotters::prelude::*;

use gpusum::bench::BenchReport;

use super::bench_table::length;

/// Okabe and Ito's palette, minus yellow, which is barely visible on white.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
];

/// One series' line: the legend's text, (length, rate) at the median with the slowest and
/// fastest run's rates (elements per second for ranges, bytes per second for arrays), and the
/// point from which it beats `cpu`.
struct Line {
    series: String,
    legend: String,
    points: Vec<(f64, f64, f64, f64)>,
    crossover: Option<(f64, f64)>,
}

/// Writes the plot as SVG to `path`.
pub fn write_svg(report: &BenchReport, path: &Path) -> anyhow::Result<()> {
    let labels = if report.workload == "array" || report.workload == "float" {
        Labels {
            title: "gpusum bench: array bytes summed per second, by length",
            x: "elements in the array",
            y: "bytes per second",
        }
    } else {
        Labels {
            title: "gpusum bench: elements summed per second, by length",
            x: "elements in the range",
            y: "elements per second",
        }
    };
    draw(&lines(report), &caption(report), &labels, path)
        .map_err(|error| anyhow::anyhow!("{error}"))
}

/// The plot's title and axis descriptions.
struct Labels {
    title: &'static str,
    x: &'static str,
    y: &'static str,
}

/// What ran where: the CPU, each adapter with its driver, and gpusum's version.
fn caption(report: &BenchReport) -> Vec<String> {
    let machine = &report.machine;
    let mut lines = vec![format!(
        "gpusum {} on {} ({} threads, {}), {}",
        gpusum::json::GPUSUM_VERSION,
        machine.cpu,
        machine.threads,
        machine.cpu_isa,
        machine.os
    )];
    for (index, adapter) in machine.adapters.iter().enumerate() {
        lines.push(format!(
            "gpu{index}: {}, {}",
            adapter.label(),
            adapter.driver
        ));
    }
    lines
}

fn lines(report: &BenchReport) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for row in &report.results {
        // Arrays are plotted in bytes, so that types of every width share one scale.
        let unit = row.dtype.map_or(1.0, |dtype| dtype.size() as f64);
        let amount = row.count as f64 * unit;
        let point = (
            row.count as f64,
            amount / row.median_seconds,
            amount / row.max_seconds,
            amount / row.min_seconds,
        );
        if lines.last().is_none_or(|line| line.series != row.series) {
            let legend = match &row.adapter {
                Some(adapter) => format!("{} ({})", row.label, short_name(adapter)),
                None => row.label.clone(),
            };
            lines.push(Line {
                series: row.series.clone(),
                legend,
                points: Vec::new(),
                crossover: None,
            });
        }
        if let Some(line) = lines.last_mut() {
            line.points.push(point);
            let crosses = report
                .crossover
                .iter()
                .any(|c| c.series == row.series && c.count == Some(row.count));
            if crosses {
                line.crossover = Some((point.0, point.1));
            }
        }
    }
    lines
}

/// "llvmpipe, vulkan" for "llvmpipe (LLVM 15.0.6, 256 bits) (vulkan)": enough to tell
/// adapters apart in a legend.
fn short_name(adapter: &str) -> String {
    let api = adapter
        .rsplit_once(" (")
        .map(|(_, api)| api.trim_end_matches(')'));
    let name = adapter.split(" (").next().unwrap_or(adapter);
    match api {
        Some(api) => format!("{name}, {api}"),
        None => name.to_owned(),
    }
}

fn draw<'a>(
    lines: &[Line],
    caption: &[String],
    labels: &Labels,
    path: &'a Path,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = SVGBackend::new(path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let caption_height = 24 * caption.len() as u32 + 12;
    let (plot_area, caption_area) = root.split_vertically(800 - caption_height);
    let points = || lines.iter().flat_map(|line| line.points.iter());
    let (x_min, x_max) = bounds(points().map(|p| p.0));
    let (y_min, y_max) = bounds(points().flat_map(|p| [p.2, p.3]));
    let x_ticks: Vec<f64> = (0..64)
        .map(|k| (1u64 << k) as f64)
        .filter(|x| (x_min / 1.5..=x_max * 1.5).contains(x))
        .collect();
    let step = x_ticks.len().div_ceil(12).max(1);
    let x_ticks: Vec<f64> = x_ticks.into_iter().step_by(step).collect();
    let x_axis = (x_min / 1.5..x_max * 1.5)
        .log_scale()
        .with_key_points(x_ticks);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(labels.title, ("sans-serif", 28))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(100)
        .build_cartesian_2d(x_axis, (y_min / 2.0..y_max * 2.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style(("sans-serif", 18))
        .axis_desc_style(("sans-serif", 20))
        .x_label_formatter(&|x| length(*x as u64))
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .draw()?;

    for (index, line) in lines.iter().enumerate() {
        let color = PALETTE[index % PALETTE.len()];
        // The band between the slowest and the fastest run.
        let band: Vec<(f64, f64)> = line
            .points
            .iter()
            .map(|p| (p.0, p.3))
            .chain(line.points.iter().rev().map(|p| (p.0, p.2)))
            .collect();
        chart.draw_series([Polygon::new(band, color.mix(0.15).filled())])?;
        let medians: Vec<(f64, f64)> = line.points.iter().map(|p| (p.0, p.1)).collect();
        let stroke = color.stroke_width(3);
        let dash = [(1, 0), (14, 6), (4, 5), (18, 5)][index % 4];
        let series = if dash.1 == 0 {
            chart.draw_series(LineSeries::new(medians.clone(), stroke))?
        } else {
            chart.draw_series(DashedLineSeries::new(
                medians.clone(),
                dash.0,
                dash.1,
                stroke,
            ))?
        };
        series.label(line.legend.clone()).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 28, y)], color.stroke_width(4))
        });
        // Markers tell the lines apart where colours do not.
        let filled = color.filled();
        match index % 4 {
            0 => chart.draw_series(medians.iter().map(|&p| Circle::new(p, 6, filled)))?,
            1 => chart.draw_series(medians.iter().map(|&p| TriangleMarker::new(p, 8, filled)))?,
            2 => chart.draw_series(
                medians
                    .iter()
                    .map(|&p| Cross::new(p, 7, color.stroke_width(3))),
            )?,
            _ => chart.draw_series(
                medians
                    .iter()
                    .map(|&p| EmptyElement::at(p) + Rectangle::new([(-5, -5), (5, 5)], filled)),
            )?,
        };
        if let Some(point) = line.crossover {
            chart.draw_series([Circle::new(point, 14, color.stroke_width(3))])?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 18))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()?;

    let crossings: Vec<String> = lines
        .iter()
        .filter_map(|line| {
            let from = line.crossover?.0 as u64;
            Some(format!(
                "{} beats cpu from {} (circled)",
                line.legend,
                length(from)
            ))
        })
        .collect();
    for (row, text) in caption.iter().chain(&crossings).enumerate() {
        caption_area.draw(&Text::new(
            text.clone(),
            (20, 6 + 24 * row as i32),
            ("sans-serif", 17).into_font().color(&BLACK),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// Smallest and largest of positive values; (1, 10) when there are none.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(low, high), v| {
            (low.min(v), high.max(v))
        });
    if low > high { (1.0, 10.0) } else { (low, high) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crossover_and_the_caption_are_on_the_plot() {
        let lines = [
            Line {
                series: "cpu".into(),
                legend: "cpu".into(),
                points: vec![(1024.0, 1e9, 0.9e9, 1.1e9), (1048576.0, 1e9, 0.8e9, 1.2e9)],
                crossover: None,
            },
            Line {
                series: "gpu:x:native".into(),
                legend: "gpu0:native (x, vulkan)".into(),
                points: vec![(1024.0, 1e7, 1e7, 1e7), (1048576.0, 1e11, 9e10, 1.1e11)],
                crossover: Some((1048576.0, 1e11)),
            },
        ];
        let path =
            std::env::temp_dir().join(format!("gpusum-plot-test-{}.svg", std::process::id()));
        let labels = Labels {
            title: "a test",
            x: "elements",
            y: "elements per second",
        };
        let caption = ["gpusum 0.1.0 on a test machine".into()];
        draw(&lines, &caption, &labels, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(svg.contains("beats cpu from 2^20"));
        assert!(svg.contains("gpu0:native (x, vulkan)") && svg.contains("test machine"));
        assert!(svg.contains("2^10") && !svg.contains("1.0e6"));
        assert_eq!(
            short_name("llvmpipe (LLVM 15.0.6, 256 bits) (vulkan)"),
            "llvmpipe, vulkan"
        );
    }
}
