//! `gpusum bench`: CPU and GPU side by side on the same work, honestly measured.
//!
//! Every backend sums `1..=n` for a sweep of lengths. Each point has a warm-up, then repeated runs
//! checked against the closed form. Start-up costs are measured apart from the points, and each
//! device's integer-add peak is measured in the same run, so the report can say what fraction of
//! its own peak each backend reaches and flag loops a compiler folded.

mod output;
mod plot;

use std::time::Instant;

use serde::Serialize;

pub use output::{to_csv, to_table};
pub use plot::write_svg;

use crate::control::Control;
use crate::gpu::{
    self, AdapterReport, GpuContext, GpuOptions, PeakKernel, Reduction, ShaderVariant,
};
use crate::range::SumRange;
use crate::{Error, cpu};

/// One timed run of a peak kernel.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PeakMeasurement {
    /// Dependent u32 adds per second.
    pub ops_per_second: f64,
    /// Adds in the timed run.
    pub ops: u64,
    /// Seconds of the timed run.
    pub seconds: f64,
}

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Lengths to measure; `None` sweeps powers of two from 2^10 until `budget_seconds` runs out.
    pub sizes: Option<Vec<u64>>,
    /// Time budget per backend for the default sweep.
    pub budget_seconds: f64,
    /// Step of the default sweep: 2 measures every power of two, 4 every other one.
    pub growth: u64,
    /// Timed runs per point, at least (more for points faster than `min_point_seconds`).
    pub repeats: usize,
    /// Keep repeating a point until its timed runs add up to this.
    pub min_point_seconds: f64,
    /// How long each peak measurement runs.
    pub peak_seconds: f64,
    /// Which backends: "seq", "cpu", "gpu", "gpu:TEXT" (adapters whose "name (backend)"
    /// contains TEXT) or "gpu:TEXT:VARIANT". `None` runs all.
    pub backends: Option<Vec<String>>,
}

impl BenchOptions {
    /// The default sweep: every power of two, 20 s per backend.
    pub fn full() -> Self {
        Self {
            sizes: None,
            budget_seconds: 20.0,
            growth: 2,
            repeats: 5,
            min_point_seconds: 0.2,
            peak_seconds: 0.25,
            backends: None,
        }
    }

    /// About a minute on a software adapter: every other power of two, 5 s per backend.
    pub fn quick() -> Self {
        Self {
            budget_seconds: 5.0,
            growth: 4,
            repeats: 3,
            min_point_seconds: 0.03,
            peak_seconds: 0.1,
            ..Self::full()
        }
    }
}

/// The machine the bench ran on.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// CPU model, as the OS reports it.
    pub cpu: String,
    /// rayon threads (the `cpu` backend's parallelism).
    pub threads: usize,
    /// OS and architecture.
    pub os: String,
    /// Every adapter measured.
    pub adapters: Vec<AdapterReport>,
}

/// Start-up costs of one GPU backend, never inside the timed points.
#[derive(Clone, Debug, Serialize)]
pub struct Startup {
    /// Backend id, `gpu:<adapter>:<variant>`.
    pub backend: String,
    /// Creating the instance and enumerating adapters (shared by all GPU backends).
    pub instance_seconds: f64,
    /// Opening the device (shared by the variants of one adapter).
    pub device_seconds: f64,
    /// Compiling the shader and building the pipeline and buffers.
    pub pipeline_seconds: f64,
    /// The first sum (driver-side compilation and first submission), of 1..=1024.
    pub first_dispatch_seconds: f64,
    /// A warm one-element sum, median of 20: one dispatch plus readback, the floor of any call.
    pub empty_dispatch_seconds: f64,
}

/// One measured point.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// `seq`, `cpu` or `gpu:<adapter>:<variant>`.
    pub backend: String,
    /// Short label for tables and plots: `seq`, `cpu`, `gpu0:native`.
    pub label: String,
    /// "name (backend)" for a GPU, else null.
    pub adapter: Option<String>,
    /// Shader variant for a GPU, else null.
    pub variant: Option<ShaderVariant>,
    /// Workgroup reduction for a GPU (the best the adapter has), else null.
    pub reduction: Option<Reduction>,
    /// Elements summed (the range 1..=count).
    pub count: u64,
    /// Timed runs.
    pub runs: usize,
    /// End to end: for a GPU, from submission until the partials are read back and finished.
    pub median_seconds: f64,
    /// Fastest run.
    pub min_seconds: f64,
    /// Slowest run.
    pub max_seconds: f64,
    /// `count / median_seconds`.
    pub elements_per_second: f64,
    /// Median time the kernels ran, by GPU timestamps; null without TIMESTAMP_QUERY.
    pub kernel_seconds: Option<f64>,
    /// `seq`'s median at this length over this one; null where seq did not run it.
    pub speedup_vs_seq: Option<f64>,
    /// `cpu`'s median at this length over this one; null where cpu did not run it.
    pub speedup_vs_cpu: Option<f64>,
}

/// From which length a GPU backend beats `cpu`.
#[derive(Clone, Debug, Serialize)]
pub struct Crossover {
    /// The GPU backend.
    pub backend: String,
    /// Its short label.
    pub label: String,
    /// The smallest length from which it beat `cpu` at every length both measured; null if it
    /// never did.
    pub count: Option<u64>,
    /// The largest length both measured.
    pub largest_common_count: Option<u64>,
}

/// A device's peak and how close each backend on it came.
#[derive(Clone, Debug, Serialize)]
pub struct Peak {
    /// `seq`, `cpu`, or `gpu:<adapter>` (the peak belongs to the device, not the variant).
    pub device: String,
    /// The measurement.
    pub measurement: PeakMeasurement,
    /// For each backend on this device: elements per second at its largest length over the
    /// peak's adds per second.
    pub fractions: Vec<PeakFraction>,
}

/// One backend's share of its device's peak.
#[derive(Clone, Debug, Serialize)]
pub struct PeakFraction {
    /// The backend.
    pub backend: String,
    /// The length it was measured at (its largest).
    pub count: u64,
    /// Elements per second over peak adds per second.
    pub fraction: f64,
}

/// A measurement that does not look like honest work.
#[derive(Clone, Debug, Serialize)]
pub struct Flag {
    /// The backend.
    pub backend: String,
    /// What looks wrong.
    pub reason: String,
}

/// Everything one bench run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The machine.
    pub machine: Machine,
    /// Start-up costs per GPU backend.
    pub startup: Vec<Startup>,
    /// Every point, grouped by backend, lengths ascending.
    pub results: Vec<Row>,
    /// Crossover per GPU backend.
    pub crossover: Vec<Crossover>,
    /// Peaks per device.
    pub peak: Vec<Peak>,
    /// Suspicious measurements (a folded loop, say).
    pub flags: Vec<Flag>,
}

/// Progress, for a caller that shows it.
pub enum Event<'a> {
    /// About to measure `backend` at `count`.
    Measuring {
        /// The backend's label.
        label: &'a str,
        /// The length.
        count: u64,
    },
    /// About to measure a device's peak.
    Peak {
        /// The device.
        device: &'a str,
    },
}

/// Where a bench backend runs.
enum Runner {
    Seq,
    Cpu,
    Gpu(Box<GpuContext>),
}

struct Backend {
    id: String,
    label: String,
    adapter: Option<String>,
    /// Index into the machine's adapter list, for peaks.
    adapter_index: Option<usize>,
    variant: Option<ShaderVariant>,
    runner: Runner,
}

impl Backend {
    /// One checked, timed sum; returns (seconds, kernel seconds).
    fn sum(&self, range: SumRange) -> Result<(f64, Option<f64>), Error> {
        let control = Control::default();
        let started = Instant::now();
        let (sum, kernel) = match &self.runner {
            Runner::Seq => (cpu::sum_sequential(range, &control)?, None),
            Runner::Cpu => (cpu::sum_parallel(range, &control)?, None),
            Runner::Gpu(context) => {
                let outcome = context.sum_outcome(range, &control)?;
                (outcome.sum, outcome.kernel_seconds)
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let expected = range.closed_form();
        if sum != expected {
            return Err(Error::WrongSum {
                backend: self.id.clone(),
                start: range.start(),
                end: range.end(),
                expected,
                observed: sum,
            });
        }
        Ok((seconds, kernel))
    }
}

/// Runs the bench. Fails on the first wrong sum, and on a `--backends` entry that matches nothing.
pub fn run(options: &BenchOptions, mut on_event: impl FnMut(Event)) -> Result<Report, Error> {
    let wanted = BackendFilter::parse(options.backends.as_deref())?;
    let (backends, startup, adapters) = open_backends(&wanted)?;
    wanted.check_all_matched(&backends)?;

    let mut results = Vec::new();
    for backend in &backends {
        results.extend(sweep(backend, options, &mut on_event)?);
    }
    fill_speedups(&mut results);
    let crossover = crossovers(&backends, &results);
    let peak = peaks(&backends, &results, options, &mut on_event)?;
    let flags = flags(&results, &peak);

    Ok(Report {
        machine: Machine {
            cpu: cpu_model(),
            threads: rayon::current_num_threads(),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            adapters,
        },
        startup,
        results,
        crossover,
        peak,
        flags,
    })
}

/// Which backends `--backends` asked for.
struct BackendFilter {
    entries: Option<Vec<String>>,
}

impl BackendFilter {
    fn parse(entries: Option<&[String]>) -> Result<Self, Error> {
        let Some(entries) = entries else {
            return Ok(Self { entries: None });
        };
        let entries: Vec<String> = entries.iter().map(|e| e.trim().to_lowercase()).collect();
        for entry in &entries {
            let valid = match entry.split(':').collect::<Vec<_>>().as_slice() {
                ["seq"] | ["cpu"] | ["gpu"] | ["gpu", _] => true,
                ["gpu", _, variant] => ["emulated", "native"].contains(variant),
                _ => false,
            };
            if !valid {
                return Err(Error::InvalidOptions {
                    reason: format!(
                        "unknown backend {entry:?}: use seq, cpu, gpu, gpu:ADAPTER or gpu:ADAPTER:emulated|native"
                    ),
                });
            }
        }
        Ok(Self {
            entries: Some(entries),
        })
    }

    fn wants_cpu(&self, name: &str) -> bool {
        self.entries
            .as_ref()
            .is_none_or(|entries| entries.iter().any(|e| e == name))
    }

    fn wants_gpu(&self, adapter: &str, variant: ShaderVariant) -> bool {
        self.entries.as_ref().is_none_or(|entries| {
            entries
                .iter()
                .any(|e| gpu_entry_matches(e, adapter, variant))
        })
    }

    fn check_all_matched(&self, backends: &[Backend]) -> Result<(), Error> {
        for entry in self.entries.iter().flatten() {
            let matched =
                backends
                    .iter()
                    .any(|backend| match (&backend.adapter, backend.variant) {
                        (Some(adapter), Some(variant)) => {
                            gpu_entry_matches(entry, adapter, variant)
                        }
                        _ => *entry == backend.id,
                    });
            if !matched {
                return Err(Error::InvalidOptions {
                    reason: format!("no backend here matches {entry:?}"),
                });
            }
        }
        Ok(())
    }
}

fn gpu_entry_matches(entry: &str, adapter: &str, variant: ShaderVariant) -> bool {
    match entry.split(':').collect::<Vec<_>>().as_slice() {
        ["gpu"] => true,
        ["gpu", text] => gpu::name_matches(adapter, text),
        ["gpu", text, wanted] => gpu::name_matches(adapter, text) && *wanted == variant.name(),
        _ => false,
    }
}

/// The backends opened, their start-up costs, and the adapters they run on.
type OpenedBackends = (Vec<Backend>, Vec<Startup>, Vec<AdapterReport>);

/// Opens every wanted backend, timing the GPU start-up steps.
fn open_backends(wanted: &BackendFilter) -> Result<OpenedBackends, Error> {
    let mut backends = Vec::new();
    for (name, runner) in [("seq", Runner::Seq), ("cpu", Runner::Cpu)] {
        if wanted.wants_cpu(name) {
            backends.push(Backend {
                id: name.into(),
                label: name.into(),
                adapter: None,
                adapter_index: None,
                variant: None,
                runner,
            });
        }
    }

    let started = Instant::now();
    let instance = gpu::instance();
    let adapters = gpu::compute_adapters(&instance);
    let instance_seconds = started.elapsed().as_secs_f64();
    let mut startup = Vec::new();
    let mut reports = Vec::new();
    for adapter in adapters {
        let info = adapter.get_info();
        let name = gpu::describe_short(&info);
        let variants: Vec<ShaderVariant> = ShaderVariant::supported_by(adapter.features())
            .into_iter()
            .filter(|&variant| wanted.wants_gpu(&name, variant))
            .collect();
        if variants.is_empty() {
            continue;
        }
        let index = reports.len();
        reports.push(AdapterReport::of(&adapter));
        let started = Instant::now();
        let (device, queue) = gpu::open_device(&adapter)?;
        let device_seconds = started.elapsed().as_secs_f64();
        for variant in variants {
            let started = Instant::now();
            let options = GpuOptions {
                variant: Some(variant),
                reduction: None,
                shape: None,
            };
            let context =
                GpuContext::from_device(info.clone(), device.clone(), queue.clone(), &options)?;
            let pipeline_seconds = started.elapsed().as_secs_f64();
            let started = Instant::now();
            context.sum(SumRange::new(1, 1024), &Control::default())?;
            let first_dispatch_seconds = started.elapsed().as_secs_f64();
            let mut empty: Vec<f64> = (0..20)
                .map(|_| {
                    let started = Instant::now();
                    context
                        .sum(SumRange::new(7, 7), &Control::default())
                        .map(|_| started.elapsed().as_secs_f64())
                })
                .collect::<Result<_, _>>()?;
            let empty_dispatch_seconds = median(&mut empty);
            let id = format!("gpu:{name}:{variant}");
            startup.push(Startup {
                backend: id.clone(),
                instance_seconds,
                device_seconds,
                pipeline_seconds,
                first_dispatch_seconds,
                empty_dispatch_seconds,
            });
            backends.push(Backend {
                id,
                label: format!("gpu{index}:{variant}"),
                adapter: Some(name.clone()),
                adapter_index: Some(index),
                variant: Some(variant),
                runner: Runner::Gpu(Box::new(context)),
            });
        }
    }
    Ok((backends, startup, reports))
}

/// Measures one backend over the requested lengths, or over powers of two until the budget is
/// spent.
fn sweep(
    backend: &Backend,
    options: &BenchOptions,
    on_event: &mut impl FnMut(Event),
) -> Result<Vec<Row>, Error> {
    let lengths: Box<dyn Iterator<Item = u64>> = match &options.sizes {
        Some(sizes) => Box::new(sizes.clone().into_iter()),
        None => Box::new(
            std::iter::successors(Some(1u64 << 10), |&n| n.checked_mul(options.growth.max(2)))
                .take_while(|&n| n <= 1 << 62),
        ),
    };
    let mut rows = Vec::new();
    let mut spent = 0.0;
    let mut last_point_seconds: Option<(u64, f64)> = None;
    for count in lengths {
        if options.sizes.is_none()
            && let Some((last_count, last_seconds)) = last_point_seconds
        {
            // Time grows at most linearly with the length once overheads are paid.
            let predicted = last_seconds * count as f64 / last_count as f64;
            if spent + predicted > options.budget_seconds {
                break;
            }
        }
        on_event(Event::Measuring {
            label: &backend.label,
            count,
        });
        let started = Instant::now();
        let row = measure(backend, count, options)?;
        let point_seconds = started.elapsed().as_secs_f64();
        spent += point_seconds;
        last_point_seconds = Some((count, point_seconds));
        rows.push(row);
    }
    Ok(rows)
}

/// A warm-up, then at least `repeats` timed runs, more until they add up to
/// `min_point_seconds` (at most 1000 runs).
fn measure(backend: &Backend, count: u64, options: &BenchOptions) -> Result<Row, Error> {
    let range = SumRange::new(1, count as i64);
    backend.sum(range)?;
    let mut times = Vec::new();
    let mut kernels = Vec::new();
    let mut total = 0.0;
    while times.len() < options.repeats.max(1)
        || (total < options.min_point_seconds && times.len() < 1000)
    {
        let (seconds, kernel) = backend.sum(range)?;
        total += seconds;
        times.push(seconds);
        kernels.extend(kernel);
    }
    let median_seconds = median(&mut times);
    Ok(Row {
        backend: backend.id.clone(),
        label: backend.label.clone(),
        adapter: backend.adapter.clone(),
        variant: backend.variant,
        reduction: match &backend.runner {
            Runner::Gpu(context) => Some(context.reduction()),
            _ => None,
        },
        count,
        runs: times.len(),
        median_seconds,
        min_seconds: times[0],
        max_seconds: times[times.len() - 1],
        elements_per_second: count as f64 / median_seconds,
        kernel_seconds: (!kernels.is_empty()).then(|| median(&mut kernels)),
        speedup_vs_seq: None,
        speedup_vs_cpu: None,
    })
}

/// Sorts `values` and returns their median.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn fill_speedups(rows: &mut [Row]) {
    let median_of = |rows: &[Row], backend: &str, count: u64| {
        rows.iter()
            .find(|r| r.backend == backend && r.count == count)
            .map(|r| r.median_seconds)
    };
    let speedups: Vec<(Option<f64>, Option<f64>)> = rows
        .iter()
        .map(|row| {
            let over = |baseline: &str| {
                median_of(rows, baseline, row.count).map(|base| base / row.median_seconds)
            };
            (over("seq"), over("cpu"))
        })
        .collect();
    for (row, (seq, cpu)) in rows.iter_mut().zip(speedups) {
        row.speedup_vs_seq = seq;
        row.speedup_vs_cpu = cpu;
    }
}

fn crossovers(backends: &[Backend], rows: &[Row]) -> Vec<Crossover> {
    backends
        .iter()
        .filter(|backend| backend.adapter.is_some())
        .map(|backend| {
            // Lengths both measured, ascending, with whether the GPU won.
            let wins: Vec<(u64, bool)> = rows
                .iter()
                .filter(|row| row.backend == backend.id)
                .filter_map(|row| row.speedup_vs_cpu.map(|speedup| (row.count, speedup > 1.0)))
                .collect();
            let losses_after = wins.iter().rposition(|&(_, won)| !won);
            let count = match losses_after {
                None => wins.first().map(|&(count, _)| count),
                Some(last_loss) => wins.get(last_loss + 1).map(|&(count, _)| count),
            };
            Crossover {
                backend: backend.id.clone(),
                label: backend.label.clone(),
                count,
                largest_common_count: wins.last().map(|&(count, _)| count),
            }
        })
        .collect()
}

fn peaks(
    backends: &[Backend],
    rows: &[Row],
    options: &BenchOptions,
    on_event: &mut impl FnMut(Event),
) -> Result<Vec<Peak>, Error> {
    let largest = |backend: &Backend| {
        rows.iter()
            .filter(|row| row.backend == backend.id)
            .max_by_key(|row| row.count)
    };
    let fractions = |members: &[&Backend], peak: &PeakMeasurement| {
        members
            .iter()
            .filter_map(|backend| largest(backend))
            .map(|row| PeakFraction {
                backend: row.backend.clone(),
                count: row.count,
                fraction: row.elements_per_second / peak.ops_per_second,
            })
            .collect()
    };
    let mut peaks = Vec::new();
    for backend in backends {
        let measurement = match (&backend.runner, backend.adapter_index) {
            (Runner::Seq, _) => {
                on_event(Event::Peak { device: "seq" });
                cpu::measure_peak(false, options.peak_seconds)
            }
            (Runner::Cpu, _) => {
                on_event(Event::Peak { device: "cpu" });
                cpu::measure_peak(true, options.peak_seconds)
            }
            // One peak per adapter, measured on its first backend.
            (Runner::Gpu(context), Some(index))
                if !backends
                    .iter()
                    .take_while(|b| b.id != backend.id)
                    .any(|b| b.adapter_index == Some(index)) =>
            {
                on_event(Event::Peak {
                    device: &context.adapter_name(),
                });
                PeakKernel::new(context)?.measure(options.peak_seconds)?
            }
            _ => continue,
        };
        let members: Vec<&Backend> = backends
            .iter()
            .filter(|b| match backend.adapter_index {
                Some(index) => b.adapter_index == Some(index),
                None => b.id == backend.id,
            })
            .collect();
        let device = match &backend.adapter {
            Some(adapter) => format!("gpu:{adapter}"),
            None => backend.id.clone(),
        };
        peaks.push(Peak {
            device,
            fractions: fractions(&members, &measurement),
            measurement,
        });
    }
    Ok(peaks)
}

/// Flags a backend that cannot have added every element:
/// - its throughput beats its device's add peak (each element needs at least one add);
/// - its time stopped growing with the length where adding every element, even at the peak rate,
///   would have taken longer. A time that is flat only because overheads dwarf the work (short
///   ranges on any GPU) is not flagged.
fn flags(rows: &[Row], peaks: &[Peak]) -> Vec<Flag> {
    let mut flags = Vec::new();
    for peak in peaks {
        for fraction in peak.fractions.iter().filter(|f| f.fraction > 1.0) {
            flags.push(Flag {
                backend: fraction.backend.clone(),
                reason: format!(
                    "{:.1e} elements/s at length {} beats the device's peak of {:.1e} adds/s: \
                     the loop was probably folded",
                    fraction.fraction * peak.measurement.ops_per_second,
                    fraction.count,
                    peak.measurement.ops_per_second
                ),
            });
        }
    }
    let mut backends: Vec<&str> = rows.iter().map(|r| r.backend.as_str()).collect();
    backends.dedup();
    for backend in backends {
        let peak_rate = peaks
            .iter()
            .find(|peak| peak.fractions.iter().any(|f| f.backend == backend))
            .map(|peak| peak.measurement.ops_per_second);
        let points: Vec<&Row> = rows.iter().filter(|r| r.backend == backend).collect();
        let (Some(top), Some(peak_rate)) = (points.last(), peak_rate) else {
            continue;
        };
        // The largest point at most 1/16 of the top length.
        let Some(lower) = points.iter().rev().find(|r| r.count * 16 <= top.count) else {
            continue;
        };
        let honest_at_peak = top.count as f64 / peak_rate;
        if top.median_seconds < 2.0 * lower.median_seconds
            && honest_at_peak > 2.0 * lower.median_seconds
        {
            flags.push(Flag {
                backend: backend.to_owned(),
                reason: format!(
                    "time grew only {:.2}x from length {} to {}, though adding every element at the \
                     device's peak takes {:.1e} s: the loop was probably folded",
                    top.median_seconds / lower.median_seconds,
                    lower.count,
                    top.count,
                    honest_at_peak
                ),
            });
        }
    }
    flags
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

/// Parses a length: `1000`, `1_000`, `1e6` or `2^30`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let plain: String = text.trim().chars().filter(|&c| c != '_').collect();
    let value: Option<u128> = if let Some((base, exponent)) = plain.split_once('^') {
        base.parse::<u128>()
            .ok()
            .zip(exponent.parse::<u32>().ok())
            .and_then(|(b, e)| b.checked_pow(e))
    } else if let Some((mantissa, exponent)) = plain.split_once(['e', 'E']) {
        mantissa
            .parse::<u128>()
            .ok()
            .zip(exponent.parse::<u32>().ok())
            .and_then(|(m, e)| 10u128.checked_pow(e).and_then(|p| m.checked_mul(p)))
    } else {
        plain.parse::<u128>().ok()
    };
    match value {
        Some(n) if n >= 1 && n <= i64::MAX as u128 => Ok(n as u64),
        Some(_) => Err(format!("length {text:?} must be 1 to 2^63 - 1")),
        None => Err(format!(
            "{text:?} is not a length (write 1000, 1_000, 1e6 or 2^30)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_every_documented_form() {
        assert_eq!(parse_size("1e6"), Ok(1_000_000));
        assert_eq!(parse_size("2^30"), Ok(1 << 30));
        assert_eq!(parse_size("1_000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("2^63").is_err());
        assert!(parse_size("1.5e3").is_err());
        assert!(parse_size("lots").is_err());
    }

    fn row(backend: &str, count: u64, median_seconds: f64) -> Row {
        Row {
            backend: backend.into(),
            label: backend.into(),
            adapter: None,
            variant: None,
            reduction: None,
            count,
            runs: 1,
            median_seconds,
            min_seconds: median_seconds,
            max_seconds: median_seconds,
            elements_per_second: count as f64 / median_seconds,
            kernel_seconds: None,
            speedup_vs_seq: None,
            speedup_vs_cpu: None,
        }
    }

    fn peak(device: &str, ops_per_second: f64, backend: &str, count: u64, rate: f64) -> Peak {
        Peak {
            device: device.into(),
            measurement: PeakMeasurement {
                ops_per_second,
                ops: 0,
                seconds: 0.0,
            },
            fractions: vec![PeakFraction {
                backend: backend.into(),
                count,
                fraction: rate / ops_per_second,
            }],
        }
    }

    #[test]
    fn flat_times_are_flagged_only_where_honest_work_could_not_be_flat() {
        let rows = vec![
            // Folded: flat at 1 ms, where 2^18 adds at 1e8/s would take 2.6 ms.
            row("cpu", 1 << 10, 1e-3),
            row("cpu", 1 << 14, 1.1e-3),
            row("cpu", 1 << 18, 1.2e-3),
            // Honest: linear.
            row("seq", 1 << 10, 1e-6),
            row("seq", 1 << 14, 16e-6),
            row("seq", 1 << 18, 256e-6),
            // Overhead-bound: flat at 0.2 ms, but 2^18 adds at 1e11/s take only 2.6 us.
            row("gpu:x:native", 1 << 10, 2e-4),
            row("gpu:x:native", 1 << 14, 2e-4),
            row("gpu:x:native", 1 << 18, 2.1e-4),
        ];
        let peaks = [
            peak("cpu", 1e8, "cpu", 1 << 18, 2e8),
            peak("seq", 1e9, "seq", 1 << 18, 1e9),
            peak("gpu:x", 1e11, "gpu:x:native", 1 << 18, 1.2e9),
        ];
        let flags = flags(&rows, &peaks);
        let flagged: Vec<&str> = flags.iter().map(|f| f.backend.as_str()).collect();
        // cpu twice: above its peak, and flat where it could not be.
        assert_eq!(flagged, ["cpu", "cpu"], "{flags:?}");
    }

    #[test]
    fn the_crossover_is_where_the_gpu_wins_from_then_on() {
        let mut rows = vec![
            row("cpu", 1, 1.0),
            row("cpu", 2, 1.0),
            row("cpu", 4, 1.0),
            row("cpu", 8, 1.0),
            row("gpu:x:native", 1, 0.5),
            row("gpu:x:native", 2, 2.0),
            row("gpu:x:native", 4, 0.5),
            row("gpu:x:native", 8, 0.25),
        ];
        fill_speedups(&mut rows);
        let backend = Backend {
            id: "gpu:x:native".into(),
            label: "gpu0:native".into(),
            adapter: Some("x".into()),
            adapter_index: Some(0),
            variant: Some(ShaderVariant::Native),
            runner: Runner::Seq,
        };
        let crossover = crossovers(std::slice::from_ref(&backend), &rows);
        assert_eq!(crossover[0].count, Some(4));
        assert_eq!(crossover[0].largest_common_count, Some(8));
    }

    #[test]
    fn unknown_backends_are_refused() {
        assert!(BackendFilter::parse(Some(&["tpu".to_owned()])).is_err());
        assert!(BackendFilter::parse(Some(&["gpu:x:fast".to_owned()])).is_err());
        assert!(
            BackendFilter::parse(Some(&["gpu:vulkan:native".to_owned(), "cpu".to_owned()])).is_ok()
        );
    }
}
