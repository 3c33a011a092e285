//! A fixed battery that tells whether a machine's GPU compute stack adds correctly.
//!
//! Every adapter present runs every shader variant it supports, next to the `cpu` and `seq` paths.
//! Each case is checked against the closed form and against the CPU.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::control::{Control, deadline_after, default_timeout};
use crate::gpu::{self, GpuContext, GpuOptions, Reduction, ShaderVariant, WORKGROUP_SIZE};
use crate::range::SumRange;
use crate::{Error, cpu};

/// One range to sum, with a name that says why it is there.
#[derive(Clone, Debug)]
pub struct Case {
    /// Why the case exists, e.g. "workgroup size + 1".
    pub name: String,
    /// The range.
    pub range: SumRange,
}

/// How to run the selftest.
#[derive(Clone, Debug, Default)]
pub struct SelftestOptions {
    /// Seed for the random cases; the report carries it so a run can be replayed.
    pub seed: u64,
    /// Bound on each sum; `None` takes [`default_timeout`] for the case's length.
    pub timeout: Option<Duration>,
    /// Only adapters whose "name (backend)" contains this text (case-insensitive).
    pub adapter: Option<String>,
}

/// The outcome for one adapter and variant, or for `cpu` or `seq`.
#[derive(Clone, Debug, Serialize)]
pub struct TargetReport {
    /// "gpu", "cpu" or "seq".
    pub backend: &'static str,
    /// "name (backend)" for a GPU, else null.
    pub adapter: Option<String>,
    /// The shader variant for a GPU, else null.
    pub variant: Option<ShaderVariant>,
    /// The workgroup reduction for a GPU, else null.
    pub reduction: Option<Reduction>,
    /// Whether the adapter is a software (CPU) adapter.
    pub software: bool,
    /// Cases that matched both oracles.
    pub passed: usize,
    /// Cases run.
    pub run: usize,
    /// Time spent summing (the CPU reference and context creation excluded).
    pub seconds: f64,
    /// Every case that did not match, or failed.
    pub failures: Vec<Failure>,
    /// Set when the target could not be used at all (no device, say).
    pub error: Option<String>,
}

impl TargetReport {
    fn new(
        backend: &'static str,
        adapter: Option<String>,
        shader: Option<(ShaderVariant, Reduction)>,
        software: bool,
    ) -> Self {
        Self {
            backend,
            adapter,
            variant: shader.map(|(variant, _)| variant),
            reduction: shader.map(|(_, reduction)| reduction),
            software,
            passed: 0,
            run: 0,
            seconds: 0.0,
            failures: Vec::new(),
            error: None,
        }
    }

    /// Whether every case passed and the target could be used.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.passed == self.run
    }

    /// "cpu", "seq", or "adapter name (backend) / variant / reduction".
    pub fn label(&self) -> String {
        match (&self.adapter, self.shader()) {
            (Some(adapter), Some(shader)) => format!("{adapter} / {shader}"),
            (Some(adapter), None) => adapter.clone(),
            _ => self.backend.to_owned(),
        }
    }

    /// "variant / reduction" for a GPU target.
    pub fn shader(&self) -> Option<String> {
        Some(format!("{} / {}", self.variant?, self.reduction?))
    }
}

/// A case that went wrong.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The case's name.
    pub case: String,
    /// First element.
    pub start: i64,
    /// Last element.
    pub end: i64,
    /// The closed form, exact, as a string.
    pub expected: String,
    /// The CPU path's sum, as a string.
    pub cpu: String,
    /// What the target returned, or "error: ..." when it failed.
    pub observed: String,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The seed of the random cases.
    pub seed: u64,
    /// GPU adapters found (after the name filter).
    pub adapters: usize,
    /// One row per target.
    pub targets: Vec<TargetReport>,
}

impl Report {
    /// Whether every target passed every case.
    pub fn passed(&self) -> bool {
        self.targets.iter().all(TargetReport::ok)
    }
}

/// Runs the battery on every adapter × variant, then on `cpu` and `seq`. `on_target` is called
/// as each target finishes, so a caller can show progress.
pub fn run(options: &SelftestOptions, mut on_target: impl FnMut(&TargetReport)) -> Report {
    let instance = gpu::instance();
    let adapters: Vec<wgpu::Adapter> = gpu::compute_adapters(&instance)
        .into_iter()
        .filter(|adapter| match &options.adapter {
            Some(wanted) => gpu::name_matches(&gpu::describe_short(&adapter.get_info()), wanted),
            None => true,
        })
        .collect();
    let mut reference = Reference::default();
    let mut targets = Vec::new();
    let mut finish = |report: TargetReport, targets: &mut Vec<TargetReport>| {
        on_target(&report);
        targets.push(report);
    };

    for adapter in &adapters {
        let info = adapter.get_info();
        for variant in ShaderVariant::supported_by(adapter.features()) {
            for reduction in Reduction::supported_by(adapter.features()) {
                let software = info.device_type == wgpu::DeviceType::Cpu;
                let name = gpu::describe_short(&info);
                let mut report =
                    TargetReport::new("gpu", Some(name), Some((variant, reduction)), software);
                let gpu_options = GpuOptions {
                    variant: Some(variant),
                    reduction: Some(reduction),
                    shape: None,
                };
                match GpuContext::new(adapter, &gpu_options) {
                    Ok(context) => {
                        let shape = context.shape();
                        let sizes = [
                            ("workgroup size", WORKGROUP_SIZE as u64),
                            ("elements per workgroup", shape.elements_per_workgroup()),
                            ("elements per dispatch", shape.elements_per_dispatch()),
                            (
                                "elements per submission",
                                shape.elements_per_dispatch() * shape.dispatches_per_submit as u64,
                            ),
                        ];
                        let cases = battery(&sizes, options.seed);
                        run_cases(
                            &mut report,
                            &cases,
                            options,
                            &mut reference,
                            |range, control| context.sum(range, control),
                        );
                    }
                    Err(error) => report.error = Some(error.to_string()),
                }
                finish(report, &mut targets);
            }
        }
    }

    let cpu_sizes = [
        ("lane count", 8),
        ("rayon chunk", cpu::CHUNK_ELEMENTS),
        ("block", cpu::BLOCK_ELEMENTS),
    ];
    let cases = battery(&cpu_sizes, options.seed);
    type CpuSum = fn(SumRange, &Control) -> Result<i128, Error>;
    let cpu_paths: [(&'static str, CpuSum); 2] =
        [("cpu", cpu::sum_parallel), ("seq", cpu::sum_sequential)];
    for (backend, sum) in cpu_paths {
        let mut report = TargetReport::new(backend, None, None, false);
        run_cases(&mut report, &cases, options, &mut reference, sum);
        finish(report, &mut targets);
    }

    Report {
        seed: options.seed,
        adapters: adapters.len(),
        targets,
    }
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
        let control = Control {
            deadline: deadline_after(timeout),
            ..Control::default()
        };
        let started = Instant::now();
        let observed = sum(case.range, &control);
        report.seconds += started.elapsed().as_secs_f64();
        report.run += 1;
        let observed = match observed {
            Ok(sum) if sum == expected && cpu_sum.as_ref() == Ok(&expected) => {
                report.passed += 1;
                continue;
            }
            Ok(sum) => sum.to_string(),
            Err(error) => format!("error: {error}"),
        };
        report.failures.push(Failure {
            case: case.name.clone(),
            start: case.range.start(),
            end: case.range.end(),
            expected: expected.to_string(),
            cpu: match &cpu_sum {
                Ok(sum) => sum.to_string(),
                Err(error) => format!("error: {error}"),
            },
            observed,
        });
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
                cpu::sum_parallel(range, &Control::default()).map_err(|e| e.to_string())
            })
            .clone()
    }
}

/// The battery: fixed cases, lengths around each of a target's `sizes` (named chunk sizes, small
/// to large), a range over several of the largest, and six seeded random ranges.
pub fn battery(sizes: &[(&str, u64)], seed: u64) -> Vec<Case> {
    let case = |name: String, start: i64, end: i64| Case {
        name,
        range: SumRange::new(start, end),
    };
    let mut cases = vec![
        case("classic 1..=20".into(), 1, 20),
        case("empty".into(), 1, 0),
        case("single zero".into(), 0, 0),
        case("single i64::MIN".into(), i64::MIN, i64::MIN),
        case("single i64::MAX".into(), i64::MAX, i64::MAX),
        case("crossing zero".into(), -1000, 999),
        case("i64::MIN..=i64::MIN+999".into(), i64::MIN, i64::MIN + 999),
        case("i64::MAX-999..=i64::MAX".into(), i64::MAX - 999, i64::MAX),
    ];
    for (name, pivot) in [
        ("2^32", 1i64 << 32),
        ("2^53", 1 << 53),
        ("2^63 - 2^20", i64::MAX - (1 << 20) + 1),
    ] {
        cases.push(case(format!("around {name}"), pivot - 600, pivot + 600));
        cases.push(case(format!("around -{name}"), -pivot - 600, -pivot + 600));
    }
    for &(name, size) in sizes {
        for (delta, suffix) in [(-1i64, " - 1"), (0, ""), (1, " + 1")] {
            let len = size as i64 + delta;
            if len > 0 {
                cases.push(case(
                    format!("{name}{suffix}"),
                    -(len / 2),
                    len - len / 2 - 1,
                ));
            }
        }
    }
    if let [.., (second_name, second), (largest_name, largest)] = sizes {
        let len = (2 * largest + 3 * second + 17) as i64;
        cases.push(case(
            format!("2 x {largest_name} + 3 x {second_name} + 17"),
            i64::MIN + 5,
            i64::MIN + 4 + len,
        ));
    }
    let mut random = SplitMix64(seed);
    for index in 0..6 {
        let start = random.next() as i64;
        let len = (random.next() % (1 << 20)) as i64;
        cases.push(case(
            format!("random #{index}"),
            start,
            start.saturating_add(len),
        ));
    }
    cases
}

/// A tiny, well-known generator: enough for reproducible test ranges.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_or_failing_adder_is_reported_case_by_case() {
        let cases = battery(&[("size", 100)], 3);
        let options = SelftestOptions::default();
        let shader = Some((ShaderVariant::Emulated, Reduction::Tree));
        let mut report = TargetReport::new("gpu", Some("broken (test)".into()), shader, false);
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
        assert_eq!(report.run, cases.len());
        assert_eq!(report.passed + report.failures.len(), report.run);
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

    #[test]
    fn the_battery_is_reproducible_and_covers_each_size() {
        let sizes = [("small", 10), ("large", 100)];
        let a = battery(&sizes, 7);
        let b = battery(&sizes, 7);
        assert_eq!(
            a.iter().map(|c| c.range).collect::<Vec<_>>(),
            b.iter().map(|c| c.range).collect::<Vec<_>>()
        );
        for len in [9u128, 10, 11, 99, 100, 101, 2 * 100 + 3 * 10 + 17] {
            assert!(
                a.iter().any(|c| c.range.count() == len),
                "no case of length {len}"
            );
        }
        assert_ne!(
            battery(&sizes, 8).last().unwrap().range,
            a.last().unwrap().range
        );
    }
}
