//! A fixed battery that tells whether a machine's GPU compute stack adds correctly.
//!
//! Every adapter present runs every kernel it supports, next to the `cpu` and `seq` paths. Each
//! case is checked against an oracle (the closed form, or a plain i128 loop) and against the CPU
//! twin. A workload adds its cases in a battery file (`battery.rs` for ranges, `arrays.rs`) and
//! its targets here.

mod arrays;
mod battery;
mod floats;

use std::collections::HashMap;
use std::time::Duration;

use web_time::Instant;

use serde::Serialize;

pub use arrays::{ArrayCase, Pattern};
use arrays::{gpu_array_cases, run_array_cases};
pub use battery::Case;
use floats::{float_battery, run_float_cases};

use crate::Error;
use crate::array::Dtype;
use crate::control::{Control, default_timeout};
use crate::cpu::{self, CpuTwin, Threads};
use crate::engine::Place;
use crate::gpu::{self, AdapterReport, GpuContext, GpuOptions};
use crate::kernel::{ArrayLayout, KernelChoice, Reduction, ShaderVariant};
use crate::range::SumRange;

/// Bytes per chunk of the array targets' streams: small, so that lengths around the chunk (and
/// several chunks) stay quick, and every case crosses the ring's slots.
pub const ARRAY_CHUNK_BYTES: u64 = 4096;

/// How to run the selftest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SelftestOptions {
    /// Seed for the random cases; the report carries it so a run can be replayed.
    pub seed: u64,
    /// Bound on each sum; `None` takes [`default_timeout`] for the case's length.
    pub timeout: Option<Duration>,
    /// Only adapters whose "name (api)" contains this text (case-insensitive).
    pub adapter: Option<String>,
    /// Force this workgroup size on every adapter (an adapter that does not allow it fails);
    /// `None` takes each adapter's.
    pub workgroup_size: Option<u32>,
}

impl SelftestOptions {
    /// Options with this seed, every adapter and the default timeout.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// Bounds each sum.
    #[must_use]
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self {
            timeout: Some(timeout),
            ..self
        }
    }

    /// Forces the workgroup size on every adapter.
    #[must_use]
    pub fn with_workgroup_size(self, workgroup_size: u32) -> Self {
        Self {
            workgroup_size: Some(workgroup_size),
            ..self
        }
    }

    /// Tests only adapters whose "name (api)" contains `adapter`.
    #[must_use]
    pub fn with_adapter(self, adapter: impl Into<String>) -> Self {
        Self {
            adapter: Some(adapter.into()),
            ..self
        }
    }
}

/// The outcome for one adapter and kernel, or for `cpu` or `seq`.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct TargetReport {
    /// What was summed: "range" or "array".
    pub workload: &'static str,
    /// Where the sums ran.
    pub backend: Place,
    /// "name (api)" for a GPU, else null.
    pub adapter: Option<String>,
    /// The shader variant for a GPU, else null.
    pub variant: Option<ShaderVariant>,
    /// The workgroup reduction for a GPU, else null.
    pub reduction: Option<Reduction>,
    /// Invocations per workgroup for a GPU, else null.
    pub workgroup_size: Option<u32>,
    /// Where a GPU kept the arrays, for array targets; else null.
    pub layout: Option<ArrayLayout>,
    /// Whether the adapter is a software (CPU) adapter.
    pub software: bool,
    /// The adapter's driver, as it names itself, for a GPU; else null.
    pub driver: Option<String>,
    /// Cases that matched both oracles.
    pub cases_passed: usize,
    /// Cases run.
    pub cases_run: usize,
    /// Time spent summing (the CPU reference and context creation excluded).
    pub seconds: f64,
    /// Every case that did not match, or failed.
    pub failures: Vec<Failure>,
    /// Every case run, in order, with the seconds its sum took (for JUnit reports; not in JSON).
    #[serde(skip)]
    pub case_seconds: Vec<(String, f64)>,
    /// Set when the target could not be used at all (no device, say).
    pub error: Option<String>,
}

impl TargetReport {
    /// The same target with no case run yet.
    fn reset(&mut self) {
        self.cases_passed = 0;
        self.cases_run = 0;
        self.seconds = 0.0;
        self.failures.clear();
        self.case_seconds.clear();
        self.error = None;
    }

    fn new(backend: Place, adapter: Option<String>, kernel: Option<KernelChoice>) -> Self {
        Self {
            workload: "range",
            backend,
            adapter,
            variant: kernel.map(|k| k.variant),
            reduction: kernel.map(|k| k.reduction),
            workgroup_size: None,
            layout: None,
            software: false,
            driver: None,
            cases_passed: 0,
            cases_run: 0,
            seconds: 0.0,
            failures: Vec::new(),
            case_seconds: Vec::new(),
            error: None,
        }
    }

    /// Whether every case passed and the target could be used.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.cases_passed == self.cases_run
    }

    /// The GPU kernel this target ran, if it is a GPU target.
    #[must_use]
    pub fn kernel(&self) -> Option<KernelChoice> {
        Some(KernelChoice::new(self.variant?, self.reduction?))
    }

    /// "cpu", "seq", or "adapter name (api) / variant / reduction", with " / arrays" (and
    /// where a GPU kept them) for array targets.
    #[must_use]
    pub fn label(&self) -> String {
        let base = match (&self.adapter, self.kernel()) {
            (Some(adapter), Some(kernel)) => format!("{adapter} / {kernel}"),
            (Some(adapter), None) => adapter.clone(),
            _ => self.backend.name().to_owned(),
        };
        match (self.workload, self.layout) {
            ("array", Some(layout)) => format!("{base} / arrays in a {layout}"),
            ("array", None) => format!("{base} / arrays"),
            _ => base,
        }
    }
}

/// A case that went wrong.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Failure {
    /// The case's name.
    pub case: String,
    /// The input in words: "[start, end]", or "i64 x 257, alternating extremes".
    pub input: String,
    /// A range's first element; null for arrays.
    #[serde(serialize_with = "crate::json::option_string")]
    pub start: Option<i64>,
    /// A range's last element; null for arrays.
    #[serde(serialize_with = "crate::json::option_string")]
    pub end: Option<i64>,
    /// The oracle's sum (the closed form, or a plain i128 loop), exact, as a string.
    pub expected: String,
    /// The CPU path's sum, as a string.
    pub cpu: String,
    /// What the target returned, or "error: ..." when it failed.
    pub observed: String,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct SelftestReport {
    /// The seed of the random cases.
    #[serde(serialize_with = "crate::json::string")]
    pub seed: u64,
    /// GPU adapters found (after the name filter).
    pub adapters: usize,
    /// One row per target.
    pub targets: Vec<TargetReport>,
}

impl SelftestReport {
    /// Whether every target passed every case.
    pub fn passed(&self) -> bool {
        self.targets.iter().all(TargetReport::ok)
    }
}

/// The ranges a GPU target of `shape` is checked on: the fixed awkward cases, lengths around
/// each of the shape's sizes (a workgroup's invocations and elements, a dispatch's, a
/// submission's), several submissions, and six ranges from `seed`. The web page runs these too.
#[must_use]
pub fn range_battery(shape: &crate::DispatchShape, seed: u64) -> Vec<Case> {
    let sizes = [
        ("workgroup size", shape.workgroup_size as u64),
        ("elements per workgroup", shape.elements_per_workgroup()),
        ("elements per dispatch", shape.elements_per_dispatch()),
        ("elements per submission", shape.elements_per_submission()),
    ];
    battery::battery(&sizes, seed)
}

/// Runs the battery on every adapter and kernel, then on `cpu` and `seq`. `on_target` is called
/// as each target finishes, so a caller can show progress.
pub fn run(options: &SelftestOptions, mut on_target: impl FnMut(&TargetReport)) -> SelftestReport {
    let instance = gpu::instance();
    let adapters: Vec<wgpu::Adapter> = gpu::compute_adapters(&instance)
        .into_iter()
        .filter(|adapter| match &options.adapter {
            Some(wanted) => gpu::name_matches(&gpu::adapter_label(&adapter.get_info()), wanted),
            None => true,
        })
        .collect();
    let mut reference = Reference::default();
    let mut targets = Vec::new();
    let mut finish = |report: TargetReport| {
        on_target(&report);
        targets.push(report);
    };

    for adapter in &adapters {
        let info = adapter.get_info();
        let label = gpu::adapter_label(&info);
        // One device per adapter (the first context that builds); each kernel gets its own
        // context on it.
        let mut on_device: Option<GpuContext> = None;
        for kernel in KernelChoice::all_supported(adapter.features()) {
            let mut report = TargetReport::new(Place::Gpu, Some(label.clone()), Some(kernel));
            report.software = info.device_type == wgpu::DeviceType::Cpu;
            report.driver = Some(AdapterReport::of(adapter).driver);
            let mut gpu_options = GpuOptions::new().with_kernel(kernel);
            if let Some(size) = options.workgroup_size {
                gpu_options = gpu_options.with_workgroup_size(size);
            }
            let context = match &on_device {
                Some(context) => context.with_options(&gpu_options),
                None => GpuContext::new(adapter, &gpu_options),
            };
            match context {
                Ok(context) => {
                    let shape = context.shape();
                    report.workgroup_size = Some(shape.workgroup_size);
                    let cases = range_battery(&shape, options.seed);
                    run_cases(
                        &mut report,
                        &cases,
                        options,
                        &mut reference,
                        |range, control| context.sum(range, control),
                    );
                    finish(report.clone());
                    for layout in ArrayLayout::ALL {
                        let mut arrays = TargetReport {
                            workload: "array",
                            layout: Some(layout),
                            ..report.clone()
                        };
                        arrays.reset();
                        let array_options = gpu_options
                            .with_array_layout(layout)
                            .with_array_chunk_bytes(ARRAY_CHUNK_BYTES);
                        match context.with_options(&array_options) {
                            Ok(array_context) => {
                                let size = shape.workgroup_size as u64;
                                let cases = gpu_array_cases(size, options.seed);
                                run_array_cases(&mut arrays, &cases, options, |slice, control| {
                                    array_context
                                        .sum_ints(slice, control)
                                        .map(|o| o.total.int().unwrap_or_default())
                                });
                                let per_chunk = ARRAY_CHUNK_BYTES / 8;
                                let lengths = [0, 1, 5, size + 1, per_chunk + 1, 3 * per_chunk + 7];
                                let floats = float_battery(&lengths, options.seed);
                                run_float_cases(&mut arrays, &floats, options, |data, control| {
                                    array_context.sum_floats(data, control).map(|o| o.total)
                                });
                            }
                            Err(error) => arrays.error = Some(error.to_string()),
                        }
                        finish(arrays);
                    }
                    on_device.get_or_insert(context);
                    continue;
                }
                Err(error) => report.error = Some(error.to_string()),
            }
            finish(report);
        }
    }

    let cpu_sizes = [
        ("lane count", 8),
        ("rayon chunk", cpu::CHUNK_ELEMENTS),
        ("block", cpu::BLOCK_ELEMENTS),
    ];
    let cases = battery::battery(&cpu_sizes, options.seed);
    let cpu_paths = [(Place::Cpu, Threads::All), (Place::Seq, Threads::One)];
    for (place, threads) in cpu_paths {
        let twin = CpuTwin::new(threads);
        let mut report = TargetReport::new(place, None, None);
        run_cases(
            &mut report,
            &cases,
            options,
            &mut reference,
            |range, control| twin.sum_range(range, control),
        );
        finish(report);
    }
    let lanes = |_: Dtype| 32;
    let piece = |dtype: Dtype| (cpu::array::PIECE_BYTES / dtype.size()) as u64;
    let array_sizes: [(&str, &dyn Fn(Dtype) -> u64); 2] =
        [("a vector of lanes", &lanes), ("a rayon piece", &piece)];
    let array_cases = arrays::array_battery(&array_sizes, options.seed);
    let piece_values = crate::float::PIECE_VALUES as u64;
    let float_cases = float_battery(&[0, 1, 5, 33, piece_values + 1], options.seed);
    for (place, threads) in cpu_paths {
        let twin = CpuTwin::new(threads);
        let mut report = TargetReport::new(place, None, None);
        report.workload = "array";
        run_array_cases(&mut report, &array_cases, options, |slice, control| {
            let total = twin.sum_array(slice.into(), control)?;
            Ok(total.int().unwrap_or_default())
        });
        run_float_cases(&mut report, &float_cases, options, |data, control| {
            twin.sum_array(data.into(), control)
        });
        finish(report);
    }

    SelftestReport {
        seed: options.seed,
        adapters: adapters.len(),
        targets,
    }
}

/// One case's outcome, ready to be counted.
/// A case's answers as decimal text: exact integers, or a float sum's shortest decimal (equal
/// text, equal bits).
struct Checked {
    case: String,
    input: String,
    range: Option<SumRange>,
    expected: String,
    cpu: Result<String, String>,
    observed: Result<String, Error>,
    seconds: f64,
}

/// Counts a case, and keeps it as a failure unless the target and the CPU both gave the oracle's
/// sum.
fn record(report: &mut TargetReport, checked: Checked) {
    report.seconds += checked.seconds;
    report
        .case_seconds
        .push((checked.case.clone(), checked.seconds));
    report.cases_run += 1;
    let expected = checked.expected;
    let observed = match checked.observed {
        Ok(sum) if sum == expected && checked.cpu.as_ref() == Ok(&expected) => {
            report.cases_passed += 1;
            return;
        }
        Ok(sum) => sum,
        Err(error) => format!("error: {error}"),
    };
    report.failures.push(Failure {
        case: checked.case,
        input: checked.input,
        start: checked.range.map(|r| r.start()),
        end: checked.range.map(|r| r.end()),
        expected,
        cpu: match checked.cpu {
            Ok(sum) => sum,
            Err(error) => format!("error: {error}"),
        },
        observed,
    });
}

fn run_cases(
    report: &mut TargetReport,
    cases: &[Case],
    options: &SelftestOptions,
    reference: &mut Reference,
    sum: impl Fn(SumRange, &Control) -> Result<i128, Error>,
) {
    for case in cases {
        let expected = case.range.closed_form();
        let cpu_sum = reference.cpu_sum(case.range);
        let timeout = options
            .timeout
            .unwrap_or_else(|| default_timeout(case.range.count()));
        let control = Control::new().with_timeout(timeout);
        let started = Instant::now();
        let observed = sum(case.range, &control);
        let seconds = started.elapsed().as_secs_f64();
        let range = case.range;
        record(
            report,
            Checked {
                case: case.name.clone(),
                input: format!("[{}, {}]", range.start(), range.end()),
                range: Some(range),
                expected: expected.to_string(),
                cpu: cpu_sum.map(|sum| sum.to_string()),
                observed: observed.map(|sum| sum.to_string()),
                seconds,
            },
        );
    }
}

/// The CPU's answer for each range, computed once however many targets ask.
#[derive(Default)]
struct Reference {
    sums: HashMap<SumRange, Result<i128, String>>,
}

impl Reference {
    fn cpu_sum(&mut self, range: SumRange) -> Result<i128, String> {
        self.sums
            .entry(range)
            .or_insert_with(|| {
                CpuTwin::new(Threads::All)
                    .sum_range(range, &Control::new())
                    .map_err(|e| e.to_string())
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_or_failing_adder_is_reported_case_by_case() {
        let cases = battery::battery(&[("size", 100)], 3);
        let options = SelftestOptions::default();
        let kernel = Some(KernelChoice::PORTABLE);
        let mut report = TargetReport::new(Place::Gpu, Some("broken (test)".into()), kernel);
        // Off by one on ranges longer than 150; an error on empty ranges.
        run_cases(
            &mut report,
            &cases,
            &options,
            &mut Reference::default(),
            |range, _| match range.count() {
                0 => Err(Error::Timeout),
                n if n > 150 => Ok(range.closed_form() + 1),
                _ => Ok(range.closed_form()),
            },
        );
        assert!(!report.ok());
        assert_eq!(report.cases_run, cases.len());
        assert_eq!(
            report.cases_passed + report.failures.len(),
            report.cases_run
        );
        let empty = report
            .failures
            .iter()
            .find(|f| f.case == "empty")
            .expect("the empty case failed");
        assert!(empty.observed.starts_with("error: timed out"), "{empty:?}");
        let long = report
            .failures
            .iter()
            .find(|f| f.case == "around 2^32")
            .expect("a long case failed");
        let expected: i128 = long.expected.parse().unwrap();
        assert_eq!(long.observed, (expected + 1).to_string());
        assert_eq!(long.cpu, long.expected);
    }
}
