//! What one bench run measured: the report model, serialized as `gpusum bench --json`.

use serde::Serialize;

use super::backend::BackendId;
use crate::cpu::Isa;
use crate::gpu::AdapterReport;
use crate::kernel::{Reduction, ShaderVariant};
use crate::peak::PeakMeasurement;

/// Everything one bench run measured.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct BenchReport {
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
    /// Adapters found but not measured, because no device could be opened on them.
    pub unavailable: Vec<Unavailable>,
    /// Requested lengths not measured because they would have overrun the budget.
    pub skipped: Vec<Skipped>,
}

/// The machine the bench ran on.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Machine {
    /// CPU model, as the OS reports it.
    pub cpu: String,
    /// rayon threads (the `cpu` backend's parallelism).
    pub threads: usize,
    /// The instruction set the CPU twins and the CPU peak ran with.
    pub cpu_isa: Isa,
    /// OS and architecture.
    pub os: String,
    /// Every adapter measured.
    pub adapters: Vec<AdapterReport>,
}

impl Machine {
    /// This machine, with the adapters that were measured.
    pub(crate) fn detect(adapters: Vec<AdapterReport>) -> Self {
        Self {
            cpu: cpu_model(),
            threads: rayon::current_num_threads(),
            cpu_isa: Isa::best(),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            adapters,
        }
    }
}

/// Start-up costs of one GPU backend, never inside the timed points.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Startup {
    /// The backend.
    pub backend: BackendId,
    /// Creating the instance and enumerating adapters (shared by all GPU backends).
    pub instance_seconds: f64,
    /// Opening the device (shared by the kernels of one adapter).
    pub device_seconds: f64,
    /// Compiling the shader and building the pipeline and buffers.
    pub pipeline_seconds: f64,
    /// The first sum (driver-side compilation and first submission), of 1..=1024.
    pub first_dispatch_seconds: f64,
    /// A warm one-element sum, median of 21: what the smallest call costs.
    #[serde(rename = "empty_dispatch_seconds")]
    pub one_element_seconds: f64,
    /// A minimal dispatch plus readback on the same device, median of 21: the floor under any
    /// call, which the one-element sum is measured against.
    pub round_trip_seconds: Option<f64>,
}

/// One measured point.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Row {
    /// The backend.
    pub backend: BackendId,
    /// Short label for tables and plots: `seq`, `cpu`, `gpu0:native`.
    pub label: String,
    /// "name (api)" for a GPU, else null.
    pub adapter: Option<String>,
    /// Shader variant for a GPU, else null.
    pub variant: Option<ShaderVariant>,
    /// Workgroup reduction for a GPU (the best the adapter has), else null.
    pub reduction: Option<Reduction>,
    /// Elements summed (the range 1..=count).
    #[serde(serialize_with = "crate::json::string")]
    pub count: u64,
    /// Timed runs.
    pub runs: usize,
    /// End to end: for a GPU, from submission until the partials are read back and finished.
    pub median_seconds: f64,
    /// Fastest run.
    pub min_seconds: f64,
    /// Slowest run.
    pub max_seconds: f64,
    /// Sample standard deviation of the runs.
    pub stddev_seconds: f64,
    /// Median absolute deviation of the runs from the median: the spread that one slow run
    /// does not inflate.
    pub mad_seconds: f64,
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
#[non_exhaustive]
pub struct Crossover {
    /// The GPU backend.
    pub backend: BackendId,
    /// Its short label.
    pub label: String,
    /// The smallest length from which it beat `cpu` at every length both measured; null if it
    /// never did.
    #[serde(serialize_with = "crate::json::option_string")]
    pub count: Option<u64>,
    /// The largest length both measured.
    #[serde(serialize_with = "crate::json::option_string")]
    pub largest_common_count: Option<u64>,
}

/// A device's peak and how close each backend on it came.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Peak {
    /// `seq`, `cpu`, or `gpu:<adapter>` (the peak belongs to the device, not the kernel).
    pub device: String,
    /// The measurement.
    pub measurement: PeakMeasurement,
    /// For each backend on this device: elements per second at its largest length over the
    /// peak's adds per second.
    pub fractions: Vec<PeakFraction>,
}

/// One backend's share of its device's peak.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct PeakFraction {
    /// The backend.
    pub backend: BackendId,
    /// The length it was measured at (its largest).
    #[serde(serialize_with = "crate::json::string")]
    pub count: u64,
    /// Elements per second over peak adds per second: the raw share of the peak.
    pub fraction: f64,
    /// u32 operations one element costs in this backend's algorithm (docs/BENCHMARKS.md counts
    /// them): its achievable ceiling is the peak over this.
    pub ops_per_element: f64,
    /// Elements per second over that ceiling. A share above 1 means the algorithm's other
    /// operations issue where adds cannot (some CPUs compare on more ports than they add).
    pub ceiling_fraction: f64,
}

/// A measurement that does not look like honest work.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Flag {
    /// The backend.
    pub backend: BackendId,
    /// What looks wrong.
    pub reason: String,
}

/// A requested length the budget did not allow.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Skipped {
    /// The backend.
    pub backend: BackendId,
    /// The length.
    #[serde(serialize_with = "crate::json::string")]
    pub count: u64,
    /// How long measuring it was predicted to take, from the points before it (or a probe).
    pub predicted_seconds: f64,
}

/// An adapter the bench found but could not measure.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Unavailable {
    /// "name (api)".
    pub adapter: String,
    /// Why, as the error said it.
    pub reason: String,
}

impl Row {
    /// Whether the runs scatter enough to distrust small differences: a median absolute
    /// deviation above 10% of the median.
    #[must_use]
    pub fn is_noisy(&self) -> bool {
        self.mad_seconds > 0.1 * self.median_seconds
    }
}

impl BenchReport {
    /// The short label of a backend (`gpu0:native` for `gpu:<adapter>:native`).
    #[must_use]
    pub fn label_of(&self, backend: &BackendId) -> String {
        self.results
            .iter()
            .find(|row| &row.backend == backend)
            .map(|row| row.label.clone())
            .unwrap_or_else(|| backend.to_string())
    }

    /// The short name of a device (`gpu0` for the first adapter), as tables and plots use it.
    #[must_use]
    pub fn device_label(&self, device: &str) -> String {
        let Some(adapter) = device.strip_prefix("gpu:") else {
            return device.to_owned();
        };
        self.machine
            .adapters
            .iter()
            .position(|a| a.label() == adapter)
            .map(|index| format!("gpu{index}"))
            .unwrap_or_else(|| adapter.to_owned())
    }
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
