//! The bench's backends: their identity, the `--backends` grammar that selects them, and
//! opening them with their start-up costs timed.

use std::fmt;
use std::str::FromStr;
use web_time::Instant;

use serde::{Serialize, Serializer};

use super::BenchError;
use super::measure::median;
use super::report::{Startup, Unavailable};
use crate::control::Control;
use crate::engine::{BackendChoice, Engine, EngineOptions};
use crate::gpu::{self, AdapterReport, GpuContext, GpuOptions};
use crate::kernel::{KernelChoice, ShaderVariant};
use crate::peak::RoundTrip;
use crate::range::SumRange;

/// One measured backend: `seq`, `cpu`, or an adapter with a shader variant (and the best
/// reduction the adapter has). Written `seq`, `cpu` or `gpu:<name (api)>:<variant>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendId {
    /// One CPU thread.
    Seq,
    /// The rayon pool.
    Cpu,
    /// A GPU adapter running one shader variant.
    Gpu {
        /// "name (api)".
        adapter: String,
        /// The shader variant.
        variant: ShaderVariant,
    },
}

impl fmt::Display for BackendId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendId::Seq => f.write_str("seq"),
            BackendId::Cpu => f.write_str("cpu"),
            BackendId::Gpu { adapter, variant } => write!(f, "gpu:{adapter}:{variant}"),
        }
    }
}

impl Serialize for BackendId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One entry of `--backends`: `seq`, `cpu`, `gpu` (every adapter), `gpu:TEXT` (adapters whose
/// "name (api)" contains TEXT) or `gpu:TEXT:VARIANT`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendSelector {
    /// `seq`.
    Seq,
    /// `cpu`.
    Cpu,
    /// `gpu`, `gpu:TEXT` or `gpu:TEXT:VARIANT`.
    Gpu {
        /// Text the adapter's "name (api)" must contain; `None` for any.
        adapter: Option<String>,
        /// The one variant; `None` for every variant the adapter has.
        variant: Option<ShaderVariant>,
    },
}

impl BackendSelector {
    /// Whether this entry asks for `id`.
    #[must_use]
    pub fn matches(&self, id: &BackendId) -> bool {
        match (self, id) {
            (BackendSelector::Seq, BackendId::Seq) | (BackendSelector::Cpu, BackendId::Cpu) => true,
            (
                BackendSelector::Gpu {
                    adapter: wanted,
                    variant: wanted_variant,
                },
                BackendId::Gpu { adapter, variant },
            ) => {
                wanted
                    .as_deref()
                    .is_none_or(|text| gpu::name_matches(adapter, text))
                    && wanted_variant.is_none_or(|v| v == *variant)
            }
            _ => false,
        }
    }
}

impl fmt::Display for BackendSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendSelector::Seq => f.write_str("seq"),
            BackendSelector::Cpu => f.write_str("cpu"),
            BackendSelector::Gpu { adapter, variant } => {
                f.write_str("gpu")?;
                match (adapter, variant) {
                    (None, None) => Ok(()),
                    (adapter, None) => write!(f, ":{}", adapter.as_deref().unwrap_or("")),
                    (adapter, Some(variant)) => {
                        write!(f, ":{}:{variant}", adapter.as_deref().unwrap_or(""))
                    }
                }
            }
        }
    }
}

impl FromStr for BackendSelector {
    type Err = BenchError;

    fn from_str(text: &str) -> Result<Self, BenchError> {
        let entry = text.trim().to_lowercase();
        let parts: Vec<&str> = entry.splitn(3, ':').collect();
        let text_or_any = |t: &str| (!t.is_empty()).then(|| t.to_owned());
        match parts.as_slice() {
            ["seq"] => Ok(Self::Seq),
            ["cpu"] => Ok(Self::Cpu),
            ["gpu"] => Ok(Self::Gpu {
                adapter: None,
                variant: None,
            }),
            ["gpu", adapter] => Ok(Self::Gpu {
                adapter: text_or_any(adapter),
                variant: None,
            }),
            ["gpu", adapter, variant] => match variant.parse::<ShaderVariant>() {
                Ok(variant) => Ok(Self::Gpu {
                    adapter: text_or_any(adapter),
                    variant: Some(variant),
                }),
                Err(_) => Err(BenchError::UnknownBackend(text.to_owned())),
            },
            _ => Err(BenchError::UnknownBackend(text.to_owned())),
        }
    }
}

/// An opened backend, ready to sum.
pub(crate) struct Backend {
    pub(crate) id: BackendId,
    pub(crate) label: String,
    /// Sums the timed runs, without timestamps.
    pub(crate) engine: Engine,
    /// The same kernel on the same device with timestamps, for kernel times; GPUs only.
    pub(crate) timing: Option<GpuContext>,
    /// Index into the machine's adapter list, for peaks.
    pub(crate) adapter_index: Option<usize>,
}

impl Backend {
    pub(crate) fn kernel(&self) -> Option<KernelChoice> {
        self.engine.gpu().map(GpuContext::kernel)
    }

    /// Its label without the shader variant: for workloads with one kernel per adapter.
    pub(crate) fn device_label(&self) -> String {
        self.label.split(':').next().unwrap_or_default().to_owned()
    }
}

/// The backends opened, their start-up costs, the adapters they run on, and the adapters that
/// could not be opened.
pub(crate) struct Opened {
    pub(crate) backends: Vec<Backend>,
    pub(crate) startup: Vec<Startup>,
    pub(crate) adapters: Vec<AdapterReport>,
    pub(crate) unavailable: Vec<Unavailable>,
}

/// Opens every backend `selectors` ask for (all of them for `None`), timing the GPU start-up
/// steps. An adapter whose device cannot be opened is reported as unavailable, unless a selector
/// names it, which makes it an error.
pub(crate) fn open(selectors: Option<&[BackendSelector]>) -> Result<Opened, BenchError> {
    let wanted = |id: &BackendId| selectors.is_none_or(|list| list.iter().any(|s| s.matches(id)));
    let named = |adapter: &str| {
        selectors.is_some_and(|list| {
            list.iter().any(|s| {
                matches!(s, BackendSelector::Gpu { adapter: Some(text), .. }
                    if gpu::name_matches(adapter, text))
            })
        })
    };
    let mut opened = Opened {
        backends: Vec::new(),
        startup: Vec::new(),
        adapters: Vec::new(),
        unavailable: Vec::new(),
    };
    for (id, choice) in [
        (BackendId::Seq, BackendChoice::Seq),
        (BackendId::Cpu, BackendChoice::Cpu),
    ] {
        if wanted(&id) {
            opened.backends.push(Backend {
                label: id.to_string(),
                id,
                engine: Engine::open(&EngineOptions::new(choice))?,
                timing: None,
                adapter_index: None,
            });
        }
    }

    let started = Instant::now();
    let instance = gpu::instance();
    let adapters = gpu::compute_adapters(&instance);
    let instance_seconds = started.elapsed().as_secs_f64();
    for adapter in adapters {
        let label = gpu::adapter_label(&adapter.get_info());
        let features = adapter.features();
        let variants: Vec<ShaderVariant> = ShaderVariant::ALL
            .into_iter()
            .filter(|&variant| {
                let kernel = KernelChoice::resolve(Some(variant), None, features);
                kernel.is_ok()
                    && wanted(&BackendId::Gpu {
                        adapter: label.clone(),
                        variant,
                    })
            })
            .collect();
        if variants.is_empty() {
            continue;
        }
        let started = Instant::now();
        let (device, queue) = match gpu::open_device(&adapter) {
            Ok(opened) => opened,
            Err(error) if !named(&label) => {
                opened.unavailable.push(Unavailable {
                    adapter: label,
                    reason: error.to_string(),
                });
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        let device_seconds = started.elapsed().as_secs_f64();
        let index = opened.adapters.len();
        opened.adapters.push(AdapterReport::of(&adapter));
        // The first context takes over the device; the others share it.
        let mut first_on_device: Option<usize> = None;
        for variant in variants {
            let started = Instant::now();
            let options = GpuOptions::new().with_variant(variant);
            let sibling = first_on_device.and_then(|i| opened.backends[i].engine.gpu());
            let context = match sibling {
                Some(context) => context.with_options(&options)?,
                None => GpuContext::from_device(
                    adapter.get_info(),
                    device.clone(),
                    queue.clone(),
                    &options,
                )?,
            };
            let pipeline_seconds = started.elapsed().as_secs_f64();
            // Timestamps cost every call, so the timed runs go without; a twin with them
            // gives the kernel times.
            let timing = context.with_options(&options.with_kernel_timing(true))?;
            let engine = Engine::from_context(context);
            let calls = time_calls(&engine)?;
            let id = BackendId::Gpu {
                adapter: label.clone(),
                variant,
            };
            opened.startup.push(Startup {
                backend: id.clone(),
                instance_seconds,
                device_seconds,
                pipeline_seconds,
                first_dispatch_seconds: calls.first,
                one_element_seconds: calls.one_element,
                round_trip_seconds: calls.round_trip,
            });
            first_on_device.get_or_insert(opened.backends.len());
            opened.backends.push(Backend {
                id,
                label: format!("gpu{index}:{variant}"),
                engine,
                timing: Some(timing),
                adapter_index: Some(index),
            });
        }
    }
    Ok(opened)
}

/// The first call, and the medians of a warm one-element sum and of a minimal dispatch plus
/// readback on the same device, taken in turns so that both see the same load.
struct Calls {
    first: f64,
    one_element: f64,
    round_trip: Option<f64>,
}

fn time_calls(engine: &Engine) -> Result<Calls, BenchError> {
    let control = Control::new();
    let timed_sum = |range| {
        let started = Instant::now();
        engine
            .sum(range, &control)
            .map(|_| started.elapsed().as_secs_f64())
    };
    let first = timed_sum(SumRange::new(1, 1024))?;
    let round_trip = engine.gpu().map(RoundTrip::new).transpose()?;
    let (mut one_element, mut round_trips) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        one_element.push(timed_sum(SumRange::new(7, 7))?);
        if let Some(round_trip) = &round_trip {
            round_trips.push(round_trip.measure_once(&control)?);
        }
    }
    Ok(Calls {
        first,
        one_element: median(&mut one_element),
        round_trip: (!round_trips.is_empty()).then(|| median(&mut round_trips)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_grammar_parses_and_matches() {
        assert!("tpu".parse::<BackendSelector>().is_err());
        assert!("gpu:x:fast".parse::<BackendSelector>().is_err());
        let selector: BackendSelector = "gpu:Vulkan:native".parse().unwrap();
        assert_eq!(selector.to_string(), "gpu:vulkan:native");
        let id = BackendId::Gpu {
            adapter: "llvmpipe (vulkan)".into(),
            variant: ShaderVariant::Native,
        };
        assert!(selector.matches(&id));
        assert!(!"cpu".parse::<BackendSelector>().unwrap().matches(&id));
        assert!("gpu".parse::<BackendSelector>().unwrap().matches(&id));
        assert_eq!(id.to_string(), "gpu:llvmpipe (vulkan):native");
    }
}
