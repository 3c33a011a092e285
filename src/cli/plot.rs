//! Throughput against length, log-log, one line per backend, crossovers marked.

use std::path::Path;

use plotters::prelude::*;

use gpusum::bench::BenchReport;

use super::bench_table::length;

/// One backend's line: its label, (length, elements per second) points, and the length from
/// which it beats `cpu`.
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
    crossover: Option<(f64, f64)>,
}

/// Writes the plot as SVG to `path`.
pub fn write_svg(report: &BenchReport, path: &Path) -> anyhow::Result<()> {
    draw(&lines(report), path).map_err(|error| anyhow::anyhow!("{error}"))
}

fn lines(report: &BenchReport) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for row in &report.results {
        let point = (row.count as f64, row.elements_per_second);
        match lines.last_mut() {
            Some(line) if line.label == row.label => line.points.push(point),
            _ => lines.push(Line {
                label: row.label.clone(),
                points: vec![point],
                crossover: None,
            }),
        }
        let crosses = report
            .crossover
            .iter()
            .any(|c| c.backend == row.backend && c.count == Some(row.count));
        if let (true, Some(line)) = (crosses, lines.last_mut()) {
            line.crossover = Some(point);
        }
    }
    lines
}

fn draw(lines: &[Line], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let points = || lines.iter().flat_map(|line| line.points.iter());
    let (x_min, x_max) = bounds(points().map(|p| p.0));
    let (y_min, y_max) = bounds(points().map(|p| p.1));
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

    // Crossovers are circled on their lines and named in a list above the legend, in the lower
    // right, which throughput curves leave empty.
    let mut crossings = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        chart
            .draw_series(LineSeries::new(line.points.clone(), color.stroke_width(2)))?
            .label(line.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(
            line.points
                .iter()
                .map(|&point| Circle::new(point, 3, color.filled())),
        )?;
        if let Some(point) = line.crossover {
            chart.draw_series([Circle::new(point, 9, color.stroke_width(3))])?;
            let from = length(point.0 as u64);
            crossings.push((format!("{} beats cpu from {from}", line.label), color));
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

    #[test]
    fn the_crossover_is_marked_on_the_plot() {
        let lines = [
            Line {
                label: "cpu".into(),
                points: vec![(1024.0, 1e9), (1048576.0, 1e9)],
                crossover: None,
            },
            Line {
                label: "gpu0:native".into(),
                points: vec![(1024.0, 1e7), (1048576.0, 1e11)],
                crossover: Some((1048576.0, 1e11)),
            },
        ];
        let path =
            std::env::temp_dir().join(format!("gpusum-plot-test-{}.svg", std::process::id()));
        draw(&lines, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(svg.contains("beats cpu from 2^20"));
        assert!(svg.contains("gpu0:native") && svg.contains("cpu"));
    }
}
