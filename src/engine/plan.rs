//! Where a request runs and why: a [`Plan`], with its [`Reason`] in one sentence, and the
//! planner behind `auto`, a pure function of the work and what the engine knows of its places.
//!
//! The rules that hold whatever the estimates say: data on a device stays there; software
//! adapters are never chosen by `auto` (they run the same cores as the CPU twin); work the CPU
//! finishes before any GPU could be opened never looks for one; a GPU is opened only for a
//! request that goes there.

use std::fmt;

use super::Place;
use super::rates::{GpuRates, OPEN_FLOOR, Rates, Work};

/// Where a request runs, why, and how long the planner expects it to take.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Plan {
    /// Where it runs.
    pub place: Place,
    /// The adapter, as "name (api)", when it runs on a GPU.
    pub adapter: Option<String>,
    /// The estimated seconds, where the planner could make an estimate.
    pub estimate: Option<f64>,
    /// Why it runs there; [`Plan`]'s `Display` writes the whole sentence.
    pub reason: Reason,
    /// What the plan is for, as the sentence names it.
    pub(crate) work: Work,
}

/// Why a request runs where its [`Plan`] says.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Reason {
    /// The caller chose the place: a backend other than `auto`, or a context of their own.
    Chosen,
    /// Under `auto`, the caller named an adapter or a GPU option.
    Named,
    /// The data already lives on the device.
    OnDevice,
    /// The CPU finishes before any GPU could be opened and do the work: no GPU was looked for.
    BeforeAnyGpu {
        /// The least a GPU could take, opening included.
        gpu_at_least: f64,
    },
    /// No hardware adapter was found; `auto` never picks a software adapter.
    NoHardwareGpu {
        /// The software adapters passed over, as "name (api)".
        software: Vec<String>,
    },
    /// No adapter was found at all (the engine's fallback says why).
    NoAdapter,
    /// The estimates put this place first.
    Faster {
        /// The runner-up.
        other: Place,
        /// Its adapter, when it is a GPU.
        other_adapter: Option<String>,
        /// Its estimated seconds.
        other_estimate: f64,
    },
    /// A stream whose length is not known ahead: the CPU keeps up with any stream.
    UnknownLength,
    /// The GPU failed during an earlier sum, so the engine sums on the CPU for good.
    GpuFailed,
}

impl Plan {
    pub(crate) fn new(place: Place, adapter: Option<String>, reason: Reason, work: Work) -> Self {
        Self {
            place,
            adapter,
            estimate: None,
            reason,
            work,
        }
    }

    pub(crate) fn with_estimate(self, estimate: f64) -> Self {
        Self {
            estimate: Some(estimate),
            ..self
        }
    }

    /// Where, as a sentence names it: "the CPU", "one CPU thread", "NVIDIA H200 (vulkan)".
    fn where_(place: Place, adapter: Option<&str>) -> String {
        match (place, adapter) {
            (Place::Gpu, Some(adapter)) => adapter.to_owned(),
            (Place::Gpu, None) => "the GPU".to_owned(),
            (Place::Cpu, _) => "the CPU".to_owned(),
            (Place::Seq, _) => "one CPU thread".to_owned(),
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let here = Self::where_(self.place, self.adapter.as_deref());
        let what = describe(&self.work);
        let took = self.estimate.map(|s| format!(" in about {}", seconds(s)));
        let took = took.as_deref().unwrap_or_default();
        write!(f, "{}: ", self.place.name())?;
        match &self.reason {
            Reason::Chosen => match self.estimate {
                Some(s) => write!(f, "{here} was chosen for {what}, about {}", seconds(s)),
                None => write!(f, "{here} was chosen for {what}"),
            },
            Reason::Named => write!(f, "{here} was asked for, for {what}"),
            Reason::OnDevice => write!(f, "{what} are already on {here}"),
            Reason::BeforeAnyGpu { gpu_at_least } => write!(
                f,
                "{what} finish on {here}{took}, before a GPU could be opened (at least {})",
                seconds(*gpu_at_least)
            ),
            Reason::NoHardwareGpu { software } if software.is_empty() => {
                write!(f, "{what} on {here}{took}: no hardware GPU adapter here")
            }
            Reason::NoHardwareGpu { software } => write!(
                f,
                "{what} on {here}{took}: no hardware GPU adapter here, and auto never picks a \
                 software one ({})",
                software.join(", ")
            ),
            Reason::NoAdapter => write!(f, "{what} on {here}{took}: no GPU adapter was found"),
            Reason::Faster {
                other,
                other_adapter,
                other_estimate,
            } => {
                let there = Self::where_(*other, other_adapter.as_deref());
                let opening = if *other == Place::Gpu && self.place != Place::Gpu {
                    " with opening it"
                } else {
                    ""
                };
                write!(
                    f,
                    "{what} finish on {here}{took}, on {there} in about {}{opening}",
                    seconds(*other_estimate)
                )
            }
            Reason::UnknownLength => write!(
                f,
                "{what} of unknown length are read on {here}, which keeps up with any stream"
            ),
            Reason::GpuFailed => {
                write!(f, "{what} on {here}: the GPU failed during an earlier sum")
            }
        }
    }
}

/// "20 elements", "16777216 f64 values", "i64 elements" (a stream of unknown length).
fn describe(work: &Work) -> String {
    match (work.dtype, work.elements) {
        (None, Some(1)) => "1 element".to_owned(),
        (None, count) => format!("{} elements", count.unwrap_or(0)),
        (Some(dtype), count) => {
            let noun = if dtype.is_float() {
                "values"
            } else {
                "elements"
            };
            match count {
                Some(count) => format!("{count} {dtype} {noun}"),
                None => format!("{dtype} {noun}"),
            }
        }
    }
}

/// Seconds as people read them: "2.00 µs", "8.30 ms", "1.40 s", "3.20 min", "5.10 h",
/// "12.0 days", "271.3 ms".
#[must_use]
pub fn seconds(s: f64) -> String {
    // Always with a decimal point, so that text comparisons can tell an estimate from a count.
    let scaled = |value: f64, unit: &str| {
        if value >= 10.0 {
            format!("{value:.1} {unit}")
        } else {
            format!("{value:.2} {unit}")
        }
    };
    match s {
        s if s < 1e-3 => scaled(s * 1e6, "µs"),
        s if s < 1.0 => scaled(s * 1e3, "ms"),
        s if s < 120.0 => scaled(s, "s"),
        s if s < 7200.0 => scaled(s / 60.0, "min"),
        s if s < 2.0 * 86400.0 => scaled(s / 3600.0, "h"),
        s if s < 730.0 * 86400.0 => scaled(s / 86400.0, "days"),
        s => scaled(s / (365.25 * 86400.0), "years"),
    }
}

/// What the engine knows of its GPU when it plans under `auto`.
#[derive(Clone, Debug)]
pub(crate) enum Gpus {
    /// Nothing looked for yet: any GPU takes at least [`OPEN_FLOOR`] plus the work at the
    /// fastest rates (`best`: a profile's best adapter, else [`GpuRates::CEILING`]).
    Unlooked { best: GpuRates, look: f64 },
    /// The adapter auto would use, open or not.
    Candidate {
        label: String,
        rates: GpuRates,
        open: bool,
    },
    /// None that auto may use.
    None {
        software: Vec<String>,
        found_any: bool,
    },
}

/// What [`decide`] needs before it can choose.
pub(crate) enum Decision {
    Plan(Plan),
    /// Look for adapters, then decide again.
    Look,
}

/// The `auto` plan for `work`, given the CPU's rates (one thread, the pool) and the GPUs.
pub(crate) fn decide(work: Work, one: &Rates, all: &Rates, gpus: &Gpus) -> Decision {
    if work.on_device {
        let label = match gpus {
            Gpus::Candidate { label, .. } => Some(label.clone()),
            _ => None,
        };
        return Decision::Plan(Plan::new(Place::Gpu, label, Reason::OnDevice, work));
    }
    let (cpu_place, cpu_seconds) = {
        let (seq, pool) = (one.seconds(&work), all.seconds(&work));
        if seq <= pool {
            (Place::Seq, seq)
        } else {
            (Place::Cpu, pool)
        }
    };
    let cpu = |reason| {
        Decision::Plan(Plan::new(cpu_place, None, reason, work).with_estimate(cpu_seconds))
    };
    if work.elements.is_none() {
        return Decision::Plan(Plan::new(Place::Cpu, None, Reason::UnknownLength, work));
    }
    match gpus {
        Gpus::Unlooked { best, look } => {
            let at_least = (look + best.seconds(&work, false)).max(OPEN_FLOOR);
            if cpu_seconds <= at_least {
                cpu(Reason::BeforeAnyGpu {
                    gpu_at_least: at_least,
                })
            } else {
                Decision::Look
            }
        }
        Gpus::None {
            software,
            found_any,
        } => cpu(if *found_any {
            Reason::NoHardwareGpu {
                software: software.clone(),
            }
        } else {
            Reason::NoAdapter
        }),
        Gpus::Candidate { label, rates, open } => {
            let gpu_seconds = rates.seconds(&work, *open);
            if gpu_seconds < cpu_seconds {
                let reason = Reason::Faster {
                    other: cpu_place,
                    other_adapter: None,
                    other_estimate: cpu_seconds,
                };
                Decision::Plan(
                    Plan::new(Place::Gpu, Some(label.clone()), reason, work)
                        .with_estimate(gpu_seconds),
                )
            } else {
                cpu(Reason::Faster {
                    other: Place::Gpu,
                    other_adapter: Some(label.clone()),
                    other_estimate: gpu_seconds,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::Dtype;
    use crate::cpu::Isa;

    fn range(elements: u128) -> Work {
        Work::new(None, Some(elements), false)
    }

    fn plan(work: Work, gpus: &Gpus) -> Option<Plan> {
        let (one, all) = (Rates::cpu(Isa::Avx2, 1), Rates::cpu(Isa::Avx2, 16));
        match decide(work, &one, &all, gpus) {
            Decision::Plan(plan) => Some(plan),
            Decision::Look => None,
        }
    }

    const UNLOOKED: Gpus = Gpus::Unlooked {
        best: GpuRates::CEILING,
        look: 0.0,
    };

    fn discrete(open: bool) -> Gpus {
        Gpus::Candidate {
            label: "NVIDIA H200 (vulkan)".into(),
            rates: GpuRates::for_device_type(wgpu::DeviceType::DiscreteGpu),
            open,
        }
    }

    #[test]
    fn small_work_stays_on_one_thread_without_looking_for_a_gpu() {
        let plan = plan(range(20), &UNLOOKED).expect("decided without looking");
        assert_eq!(plan.place, Place::Seq);
        assert!(matches!(plan.reason, Reason::BeforeAnyGpu { .. }));
        let sentence = plan.to_string();
        assert!(
            sentence.starts_with("seq: 20 elements finish on one CPU thread in about 0.20 µs, ")
                && sentence.contains("before a GPU could be opened (at least 50.1 ms)"),
            "{plan}"
        );
        // A host file that the pool reads before a GPU could take it in.
        let file = Work::new(Some(Dtype::F64), Some(1 << 24), false);
        assert_eq!(plan_place(file, &UNLOOKED), Some(Place::Cpu));
    }

    fn plan_place(work: Work, gpus: &Gpus) -> Option<Place> {
        plan(work, gpus).map(|plan| plan.place)
    }

    #[test]
    fn long_work_looks_and_goes_where_it_finishes_first() {
        assert!(plan(range(1 << 40), &UNLOOKED).is_none());
        // A cold H200-class GPU against a 16-thread CPU: 2^30 stays, 2^40 goes.
        assert_eq!(
            plan_place(range(1 << 30), &discrete(false)),
            Some(Place::Cpu)
        );
        assert_eq!(
            plan_place(range(1 << 40), &discrete(false)),
            Some(Place::Gpu)
        );
        // Once open, the GPU takes less.
        assert_eq!(
            plan_place(range(1 << 30), &discrete(true)),
            Some(Place::Gpu)
        );
        let none = Gpus::None {
            software: vec!["llvmpipe (vulkan)".into()],
            found_any: true,
        };
        let plan = plan(range(1 << 40), &none).unwrap();
        assert_eq!(plan.place, Place::Cpu);
        assert!(
            plan.to_string()
                .contains("auto never picks a software one (llvmpipe (vulkan))")
        );
    }

    #[test]
    fn data_on_the_device_stays_and_unknown_streams_read_on_the_cpu() {
        let resident = Work::new(Some(Dtype::I64), Some(8), true);
        assert_eq!(plan_place(resident, &UNLOOKED), Some(Place::Gpu));
        let stream = Work::new(Some(Dtype::U8), None, false);
        let plan = plan(stream, &discrete(true)).unwrap();
        assert_eq!(
            (plan.place, plan.reason.clone()),
            (Place::Cpu, Reason::UnknownLength)
        );
        assert_eq!(
            plan.to_string(),
            "cpu: u8 elements of unknown length are read on the CPU, which keeps up with any stream"
        );
    }

    #[test]
    fn seconds_read_as_people_write_them() {
        assert_eq!(seconds(2e-6), "2.00 µs");
        assert_eq!(seconds(0.0083), "8.30 ms");
        assert_eq!(seconds(1.4), "1.40 s");
        assert_eq!(seconds(3.2 * 60.0), "3.20 min");
        assert_eq!(seconds(12.0 * 86400.0), "12.0 days");
        assert_eq!(seconds(3e9), "95.1 years");
        assert_eq!(seconds(0.2713), "271.3 ms");
    }
}
