//! Throughput against length, log-log, one line per backend, crossovers marked.

use plotters::prelude::*;

use super::Report;
use super::output::length;
use crate::Error;

/// Writes the plot as SVG to `path`.
pub fn write_svg(report: &Report, path: &std::path::Path) -> Result<(), Error> {
    draw(report, path).map_err(|error| Error::Output {
        path: path.display().to_string(),
        reason: error.to_string(),
    })
}

fn draw(report: &Report, path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let counts = report.results.iter().map(|r| r.count as f64);
    let rates = report.results.iter().map(|r| r.elements_per_second);
    let (x_min, x_max) = bounds(counts);
    let (y_min, y_max) = bounds(rates);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "gpusum bench: throughput against range length",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (x_min / 1.5..x_max * 1.5).log_scale(),
            (y_min / 2.0..y_max * 2.0).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("elements in the range")
        .y_desc("elements per second")
        .x_label_formatter(&|x| length(*x as u64))
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .draw()?;

    let mut backends: Vec<&str> = report.results.iter().map(|r| r.backend.as_str()).collect();
    backends.dedup();
    // Crossovers are circled on their lines and named in a list above the legend, in the lower
    // right, which throughput curves leave empty.
    let mut crossings = Vec::new();
    for (index, backend) in backends.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        let points: Vec<(f64, f64)> = report
            .results
            .iter()
            .filter(|r| r.backend == *backend)
            .map(|r| (r.count as f64, r.elements_per_second))
            .collect();
        let label = report
            .results
            .iter()
            .find(|r| r.backend == *backend)
            .map(|r| r.label.clone())
            .unwrap_or_default();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(
            points
                .iter()
                .map(|&point| Circle::new(point, 3, color.filled())),
        )?;

        if let Some(count) = report
            .crossover
            .iter()
            .find(|c| c.backend == *backend)
            .and_then(|c| c.count)
        {
            let rate = report
                .results
                .iter()
                .find(|r| r.backend == *backend && r.count == count)
                .map(|r| r.elements_per_second)
                .unwrap_or(y_min);
            chart.draw_series([Circle::new((count as f64, rate), 9, color.stroke_width(3))])?;
            crossings.push((format!("{label} beats cpu from {}", length(count)), color));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    let (width, _) = root.dim_in_pixel();
    for (line, (text, color)) in crossings.iter().enumerate() {
        let style = ("sans-serif", 15).into_font().color(color);
        root.draw(&Text::new(
            text.clone(),
            (width as i32 - 330, 330 + 20 * line as i32),
            style,
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
    use crate::bench::{Crossover, Machine, Row};

    fn row(backend: &str, label: &str, count: u64, rate: f64) -> Row {
        Row {
            backend: backend.into(),
            label: label.into(),
            adapter: None,
            variant: None,
            reduction: None,
            count,
            runs: 3,
            median_seconds: count as f64 / rate,
            min_seconds: count as f64 / rate,
            max_seconds: count as f64 / rate,
            elements_per_second: rate,
            kernel_seconds: None,
            speedup_vs_seq: None,
            speedup_vs_cpu: None,
        }
    }

    #[test]
    fn the_crossover_is_marked_on_the_plot() {
        let report = Report {
            machine: Machine {
                cpu: "test".into(),
                threads: 2,
                os: "test".into(),
                adapters: vec![],
            },
            startup: vec![],
            results: vec![
                row("cpu", "cpu", 1 << 10, 1e9),
                row("cpu", "cpu", 1 << 20, 1e9),
                row("gpu:x:native", "gpu0:native", 1 << 10, 1e7),
                row("gpu:x:native", "gpu0:native", 1 << 20, 1e11),
            ],
            crossover: vec![Crossover {
                backend: "gpu:x:native".into(),
                label: "gpu0:native".into(),
                count: Some(1 << 20),
                largest_common_count: Some(1 << 20),
            }],
            peak: vec![],
            flags: vec![],
        };
        let path =
            std::env::temp_dir().join(format!("gpusum-plot-test-{}.svg", std::process::id()));
        write_svg(&report, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(svg.contains("beats cpu from 2^20"));
        assert!(svg.contains("gpu0:native") && svg.contains("cpu"));
    }
}
