//! What `gpusum selftest` reports: each target's outcome ([`TargetReport`]), the failures it
//! keeps ([`Failure`]), the whole run ([`SelftestReport`]), and how a checked case is counted.

use serde::Serialize;

use crate::Error;
use crate::engine::Place;
use crate::kernel::{ArrayLayout, KernelChoice, Reduction, ShaderVariant};
use crate::range::SumRange;

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
    pub(super) fn reset(&mut self) {
        self.cases_passed = 0;
        self.cases_run = 0;
        self.seconds = 0.0;
        self.failures.clear();
        self.case_seconds.clear();
        self.error = None;
    }

    pub(super) fn new(
        backend: Place,
        adapter: Option<String>,
        kernel: Option<KernelChoice>,
    ) -> Self {
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

/// One case's outcome, ready to be counted.
/// A case's answers as decimal text: exact integers, or a float sum's shortest decimal (equal
/// text, equal bits).
pub(super) struct Checked {
    pub(super) case: String,
    pub(super) input: String,
    pub(super) range: Option<SumRange>,
    pub(super) expected: String,
    pub(super) cpu: Result<String, String>,
    pub(super) observed: Result<String, Error>,
    pub(super) seconds: f64,
}

/// Counts a case, and keeps it as a failure unless the target and the CPU both gave the oracle's
/// sum.
pub(super) fn record(report: &mut TargetReport, checked: Checked) {
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
