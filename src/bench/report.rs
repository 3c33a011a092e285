//! What one bench run measured: the report model, serialized as `gpusum bench --json`.

use serde::Serialize;

use super::backend::BackendId;
use crate::array::Dtype;
use crate::cpu::Isa;
use crate::gpu::AdapterReport;
use crate::kernel::{Reduction, ShaderVariant};
use crate::peak::{BandwidthKind, BandwidthMeasurement, PeakMeasurement};

/// Everything one bench run measured.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct BenchReport {
    /// What was summed: `range` (1..=n), `array` (host- and device-resident integer arrays) or
    /// `float` (f32 and f64 arrays, exact beside plain).
    pub workload: &'static str,
    /// The machine.
    pub machine: Machine,
    /// Start-up costs per GPU backend.
    pub startup: Vec<Startup>,
    /// Every point, grouped by backend, lengths ascending.
    pub results: Vec<Row>,
    /// Crossover per GPU backend.
    pub crossover: Vec<Crossover>,
    /// Add peaks per device (range workload).
    pub peak: Vec<Peak>,
    /// Bandwidths per device (array workload): the CPU's memory read, each GPU's upload and
    /// device read.
    pub bandwidth: Vec<Bandwidth>,
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
    /// What was summed: `range`, `array` or `float`.
    pub workload: &'static str,
    /// The backend.
    pub backend: BackendId,
    /// The series this point belongs to, unique in a report: the backend for ranges; for arrays
    /// the backend, the type and where the data lived, e.g. `gpu:<adapter>:emulated i64 device`.
    pub series: String,
    /// Short label for tables and plots: `seq`, `cpu`, `gpu0:native`; for arrays with the type
    /// and where the data lived, `cpu i64`, `gpu0:emulated u8 device`.
    pub label: String,
    /// The element type of an array, else null.
    pub dtype: Option<Dtype>,
    /// Where an array lived when the timing began: `host` (the upload is timed) or `device`
    /// (kernels and readback only); null for ranges.
    pub resident: Option<Residence>,
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
    /// The array's bytes over `median_seconds`; null for ranges.
    pub bytes_per_second: Option<f64>,
    /// The bandwidth that bounds this point and its share of it (arrays); else null.
    pub bound: Option<BoundShare>,
    /// Median time the kernels ran, by GPU timestamps; null without TIMESTAMP_QUERY.
    pub kernel_seconds: Option<f64>,
    /// `seq`'s median at this length over this one; null where seq did not run it.
    pub speedup_vs_seq: Option<f64>,
    /// `cpu`'s median at this length over this one; null where cpu did not run it.
    pub speedup_vs_cpu: Option<f64>,
    /// How a float array was summed: `exact` or `plain`; null for integers.
    pub method: Option<FloatMethod>,
    /// For an exact float sum: the plain sum's median over this one, at the same backend, type
    /// and length (the share of the plain sum's throughput that exactness keeps); else null.
    pub share_of_plain: Option<f64>,
    /// For the grouped workload: `axis 0`, `axis 1` (of a square-ish C-order matrix) or
    /// `by key` (1,000 keys; `bytes_per_second` counts the values' bytes, not the keys'); else
    /// null.
    pub reduce: Option<&'static str>,
}

/// How the float workload summed an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FloatMethod {
    /// Exactly, rounded once: gpusum's float sum.
    Exact,
    /// Float additions in the backend's order: neither exact nor reproducible; the yardstick.
    Plain,
}

impl FloatMethod {
    /// "exact" or "plain".
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            FloatMethod::Exact => "exact",
            FloatMethod::Plain => "plain",
        }
    }
}

/// Where an array lived when a timing began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Residence {
    /// In host memory: the timing includes moving it to the device.
    Host,
    /// Already on the device: kernels and readback only.
    Device,
}

impl Residence {
    /// "host" or "device".
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Residence::Host => "host",
            Residence::Device => "device",
        }
    }
}

/// A bandwidth that bounds a point, and the point's share of it.
#[derive(Clone, Copy, Debug, Serialize)]
#[non_exhaustive]
pub struct BoundShare {
    /// Which bandwidth.
    pub kind: BandwidthKind,
    /// Its fastest run, bytes per second.
    pub bytes_per_second: f64,
    /// The point's bytes per second over it.
    pub fraction: f64,
}

/// A device's measured bandwidth.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Bandwidth {
    /// `seq` (one thread), `cpu` (every thread), or `gpu:<adapter>`.
    pub device: String,
    /// The measurement.
    pub measurement: BandwidthMeasurement,
}

/// From which length a GPU backend beats `cpu`.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Crossover {
    /// The GPU backend.
    pub backend: BackendId,
    /// Its series (see [`Row::series`]).
    pub series: String,
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

/// A requested length that was not measured, and why.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Skipped {
    /// The backend.
    pub backend: BackendId,
    /// The series' short label.
    pub label: String,
    /// The length.
    #[serde(serialize_with = "crate::json::string")]
    pub count: u64,
    /// Why it was not measured.
    pub reason: SkipReason,
    /// How long measuring it was predicted to take, from the points before it (or a probe); 0
    /// where no prediction was made.
    pub predicted_seconds: f64,
}

/// Why a requested length was not measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SkipReason {
    /// Its predicted time would overrun the budget.
    Budget,
    /// The series cannot hold it (an array past the memory the bench allots).
    TooLarge,
    /// A shorter length of the series was already skipped.
    AfterSkipped,
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

impl BenchReport {
    /// The short label of a backend (`gpu0:native` for `gpu:<adapter>:native`), whatever the
    /// workload.
    #[must_use]
    pub fn label_of(&self, backend: &BackendId) -> String {
        match backend {
            BackendId::Gpu { adapter, variant } => {
                format!("{}:{variant}", self.device_label(&format!("gpu:{adapter}")))
            }
            other => other.to_string(),
        }
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
