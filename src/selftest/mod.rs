//! A fixed battery that tells whether a machine's GPU compute stack adds correctly.
//!
//! Every adapter present runs every kernel it supports, next to the `cpu` and `seq` paths. Each
//! case is checked against an oracle (the closed form, or a plain i128 loop) and against the CPU
//! twin. A workload adds its cases in a battery file (`battery.rs` for ranges, `arrays.rs`) and
//! its targets here.

mod arrays;
mod battery;
mod floats;
mod grouped;
mod owned;
mod report;

use std::collections::HashMap;
use std::time::Duration;

use web_time::Instant;

pub use arrays::{ArrayCase, Pattern};
use arrays::{gpu_array_cases, run_array_cases};
pub use battery::Case;
use floats::{float_battery, run_float_cases};
use grouped::{grouped_battery, run_grouped_cases};
pub use owned::{OwnedCase, array_cases, float_cases};
use report::{Checked, record};
pub use report::{Failure, SelftestReport, TargetReport};

use crate::Error;
use crate::array::Dtype;
use crate::control::{Control, default_timeout};
use crate::cpu::{self, CpuTwin, Threads};
use crate::engine::{BackendChoice, Engine, EngineOptions, Place};
use crate::gpu::{self, AdapterReport, GpuContext, GpuOptions};
use crate::kernel::{ArrayLayout, KernelChoice};
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
                                match array_context.with_options(&array_options) {
                                    Ok(grouped_context) => {
                                        let engine = Engine::from_context(grouped_context);
                                        let cases = grouped_battery(size, per_chunk, options.seed);
                                        run_grouped_cases(
                                            &mut arrays,
                                            &cases,
                                            options,
                                            cpu_sum,
                                            |request, control| engine.sum_request(request, control),
                                        );
                                    }
                                    Err(error) => arrays.error = Some(error.to_string()),
                                }
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
    // The CPU's sums along axes and by key at the sizes its tasks split at.
    let grouped_cases = grouped_battery(256, 1 << 16, options.seed);
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
        let backend = match place {
            Place::Seq => BackendChoice::Seq,
            _ => BackendChoice::Cpu,
        };
        match Engine::open(&EngineOptions::new(backend)) {
            Ok(engine) => run_grouped_cases(
                &mut report,
                &grouped_cases,
                options,
                cpu_sum,
                |request, control| engine.sum_request(request, control),
            ),
            Err(error) => report.error = Some(error.to_string()),
        }
        finish(report);
    }

    SelftestReport {
        seed: options.seed,
        adapters: adapters.len(),
        targets,
    }
}

/// A grouped request on the CPU twin's pool: the answer every target is checked against, beside
/// the oracle.
fn cpu_sum(request: crate::Request<'_>, control: &Control) -> Result<crate::Outcome, Error> {
    Engine::open(&EngineOptions::new(BackendChoice::Cpu))?.sum_request(request, control)
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
