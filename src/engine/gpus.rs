//! The engine's GPU: what `auto` knows before looking (the sizes no GPU could win), looking for
//! adapters once, the rates it weighs them by, and opening the one it uses.

use web_time::Instant;

use super::plan::Gpus;
use super::rates::{self, GpuRates, Rates, Work};
use super::{BackendChoice, Engine};
use crate::Error;
use crate::gpu::device::lock;
use crate::gpu::{self, GpuContext};

/// The sizes below which one CPU thread finishes before any GPU could be opened, by a margin of
/// twenty: the planner answers them without weighing any GPU, only one thread against the pool
/// (a warm 20-element sum costs about 50 ns, as much as the full weighing).
pub(super) struct Tiny {
    range: u64,
    int_bytes: u64,
    f32: u64,
    f64: u64,
}

impl Tiny {
    pub(super) fn new(one: &Rates) -> Self {
        let seconds = (rates::OPEN_FLOOR / 20.0 - one.call).max(0.0);
        Self {
            range: (seconds * one.range) as u64,
            int_bytes: (seconds * one.ints) as u64,
            f32: (seconds * one.f32) as u64,
            f64: (seconds * one.f64) as u64,
        }
    }

    /// Whether `work` (known in length, on the host) is below them.
    pub(super) fn holds(&self, work: &Work) -> bool {
        let Some(elements) = work.elements.filter(|_| !work.on_device) else {
            return false;
        };
        match work.dtype {
            None => elements <= self.range,
            Some(crate::Dtype::F32) => elements <= self.f32,
            Some(crate::Dtype::F64) => elements <= self.f64,
            Some(dtype) => elements.saturating_mul(dtype.size() as u64) <= self.int_bytes,
        }
    }
}

/// What looking found, as the planner weighs it.
pub(super) fn looked_gpus(looked: &Looked) -> Gpus {
    match &looked.candidate {
        Some((_, label, rates)) => Gpus::Candidate {
            label: label.clone(),
            rates: *rates,
            open: false,
        },
        None => Gpus::None {
            software: looked.software.clone(),
            found_any: looked.found_any,
        },
    }
}

/// The adapter `auto` would open, found by looking once.
pub(super) struct Looked {
    /// The best hardware adapter (matching `WGPU_ADAPTER_NAME` where set), if any.
    candidate: Option<(wgpu::Adapter, String, GpuRates)>,
    software: Vec<String>,
    pub(super) found_any: bool,
}

impl Engine {
    /// The rates a saved profile gives the adapter, else the defaults for its kind.
    pub(super) fn rates_of(&self, info: &wgpu::AdapterInfo) -> GpuRates {
        let driver = gpu::driver_of(info);
        self.profile
            .as_ref()
            .and_then(|profile| profile.adapter_rates(&gpu::adapter_label(info), &driver))
            .unwrap_or_else(|| GpuRates::for_device_type(info.device_type))
    }

    /// What any GPU could do at best before looking: the fastest adapter the profile measured,
    /// or the ceiling of current hardware where it measured none.
    pub(super) fn best_known_gpu(&self) -> GpuRates {
        self.profile
            .as_ref()
            .and_then(|profile| {
                profile
                    .adapters
                    .iter()
                    .map(|entry| entry.rates)
                    .reduce(|a, b| if a.sums.range >= b.sums.range { a } else { b })
            })
            .unwrap_or(GpuRates::CEILING)
    }

    /// Looks for adapters, once per engine ([`gpu::auto_adapters`]: the native APIs', or
    /// OpenGL's where those have none), hardware first. Finding none at all is recorded as the
    /// fallback (the CLI says so once).
    pub(super) fn look(&self) -> &Looked {
        self.looked.get_or_init(|| {
            let started = Instant::now();
            let adapters = if cfg!(target_arch = "wasm32") {
                Vec::new()
            } else {
                gpu::auto_adapters()
            };
            let wanted = std::env::var("WGPU_ADAPTER_NAME")
                .ok()
                .filter(|w| !w.is_empty());
            let mut software = Vec::new();
            let mut hardware = Vec::new();
            for adapter in &adapters {
                let info = adapter.get_info();
                let label = gpu::adapter_label(&info);
                if info.device_type == wgpu::DeviceType::Cpu {
                    software.push(label);
                } else if wanted
                    .as_deref()
                    .is_none_or(|w| gpu::name_matches(&label, w))
                {
                    hardware.push((adapter, info, label));
                }
            }
            // The best kind first; processes sharing the node take its adapters in turn.
            if let Some((_, best, _)) = hardware.first() {
                let kind = (best.device_type, best.backend);
                hardware.retain(|(_, info, _)| (info.device_type, info.backend) == kind);
            }
            let candidate = gpu::in_turn(&hardware, self.options.adapter_turn)
                .map(|(adapter, info, label)| ((*adapter).clone(), label, self.rates_of(&info)));
            *lock(&self.setup) += started.elapsed();
            log::info!(
                "looked for adapters in {:.1} ms: {}",
                started.elapsed().as_secs_f64() * 1e3,
                match (&candidate, adapters.len()) {
                    (Some((_, label, _)), _) => format!("auto may use {label}"),
                    (None, 0) => "none".to_owned(),
                    (None, _) => format!("only software adapters ({})", software.join(", ")),
                }
            );
            if adapters.is_empty() {
                self.fall_back(Error::no_adapter());
            }
            Looked {
                found_any: !adapters.is_empty(),
                candidate,
                software,
            }
        })
    }

    /// The engine's GPU, opened the first time it is needed: the adapter the options name (or
    /// the best one) under `Gpu` and a named `Auto`, else the one `auto` looked for.
    pub(super) fn open_gpu(&self) -> Result<&GpuContext, Error> {
        if let Some(context) = self.gpu.get() {
            return Ok(context);
        }
        let _opening = lock(&self.opening);
        if let Some(context) = self.gpu.get() {
            return Ok(context);
        }
        let started = Instant::now();
        let adapter = match (self.options.backend, self.looked.get()) {
            (BackendChoice::Auto, Some(looked)) if !self.options.opens_gpu_early() => looked
                .candidate
                .as_ref()
                .map(|(adapter, _, _)| adapter.clone())
                .ok_or_else(Error::no_adapter)?,
            _ => gpu::find_adapter_in_turn(
                self.options.adapter.as_deref(),
                self.options.adapter_turn,
            )?,
        };
        let context = GpuContext::new(&adapter, &self.options.gpu)?;
        *lock(&self.setup) += started.elapsed();
        log::info!(
            "opened {} in {:.1} ms",
            context.adapter_label(),
            started.elapsed().as_secs_f64() * 1e3
        );
        Ok(self.gpu.get_or_init(|| Box::new(context)))
    }
}
