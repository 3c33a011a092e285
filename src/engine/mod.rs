//! The one engine: a [`Request`] is planned ([`Engine::plan`]: where it finishes first, and why)
//! and run ([`Engine::run_async`], the one implementation; [`Engine::run`] blocks on it
//! natively). Under [`BackendChoice::Auto`] the planner weighs the CPU twin against the GPU,
//! opens a GPU only for a request that goes there, and moves to the CPU for good if the GPU
//! fails. Every other sum method is one line over these.

mod calls;
mod cpu_run;
mod gpus;
mod grouped;
mod grouped_gpu;
mod options;
mod outcome;
mod plan;
mod profile;
mod rates;
mod request;
pub(crate) mod strided;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;

use crate::Error;
use crate::array::MAX_ELEMENTS;
use crate::control::Control;
use crate::cpu::Isa;
use crate::gpu::GpuContext;

pub use options::{BackendChoice, EngineOptions, ProfileChoice};
pub use outcome::Outcome;
pub use plan::{Plan, Reason, seconds as human_seconds};
pub use profile::{AdapterProfile, CpuProfile, Profile};
pub use rates::{GpuRates, Rates};
pub use request::{ArrayBytes, BufferSlice, Reduce, Request, Source};
pub use strided::StridedBytes;

use gpus::{Looked, Tiny, looked_gpus};
use plan::{Decision, Gpus};
use rates::Work;

/// Where a sum runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Place {
    /// A GPU adapter.
    Gpu,
    /// The rayon pool.
    Cpu,
    /// One CPU thread.
    Seq,
}

impl Place {
    /// "gpu", "cpu" or "seq".
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Place::Gpu => "gpu",
            Place::Cpu => "cpu",
            Place::Seq => "seq",
        }
    }
}

/// What the planner knows of a source before running it.
pub(crate) fn work_of(source: &Source<'_>) -> Work {
    Work::new(source.dtype(), source.count(), source.on_device())
}

/// A ready place to run sums: opened once, used for every sum, shareable across threads.
///
/// Under [`BackendChoice::Auto`] each request runs where the planner expects it to finish first
/// (see [`Plan`]); a GPU is opened at the first request that goes there. A GPU that cannot be
/// opened, or that fails during a sum, is replaced by the CPU for good; [`Engine::fallback`] says
/// why, and the sum is still exact. After a GPU sum times out, the engine never waits for that
/// device again: it is left to the process's exit instead of being dropped, since dropping a
/// stuck device blocks.
///
/// ```
/// use gpusum::{BackendChoice, Control, Engine, EngineOptions, SumRange};
/// let engine = Engine::open(&EngineOptions::new(BackendChoice::Cpu))?;
/// let range = SumRange::new(1, 20);
/// assert_eq!(engine.sum(range, &Control::new())?, 210);
/// # Ok::<(), gpusum::Error>(())
/// ```
pub struct Engine {
    options: EngineOptions,
    /// The CPU twin's rates on one thread and on the pool.
    one: Rates,
    all: Rates,
    tiny: Tiny,
    profile: Option<Profile>,
    /// Bytes the CPU path reads from a stream at a time.
    cpu_chunk_bytes: usize,
    /// Under `auto`, what looking for adapters found (looked for once, when first needed).
    looked: OnceLock<Looked>,
    gpu: OnceLock<Box<GpuContext>>,
    /// Held while a GPU is being opened, so two threads do not open two.
    opening: Mutex<()>,
    fallback: OnceLock<Error>,
    abandoned: AtomicBool,
    setup: Mutex<Duration>,
}

impl Engine {
    /// Opens the engine `options` ask for. Under [`BackendChoice::Gpu`], and under `Auto` when
    /// the options name an adapter or a GPU option, the GPU is opened here; otherwise `Auto`
    /// opens nothing until a request goes to a GPU.
    ///
    /// # Errors
    /// Under `Gpu`, any failure to find or open an adapter. Under `Auto`, only what the caller
    /// asked for and the machine cannot give (an adapter name that matches nothing, a kernel part
    /// the adapter lacks, an invalid shape); a machine without a usable GPU falls back instead.
    /// A saved profile that cannot be read ([`ProfileChoice::Saved`]).
    pub fn open(options: &EngineOptions) -> Result<Engine, Error> {
        options.check()?;
        let profile = match (&options.profile, options.backend) {
            (_, BackendChoice::Cpu | BackendChoice::Seq | BackendChoice::Gpu) => None,
            (ProfileChoice::Saved, BackendChoice::Auto) => Profile::load()?,
            (ProfileChoice::Given(profile), BackendChoice::Auto) => Some(profile.clone()),
            (ProfileChoice::None, BackendChoice::Auto) => None,
        };
        let isa = Isa::best();
        let threads = crate::cpu::threads();
        let rates = profile
            .as_ref()
            .and_then(|profile| profile.cpu_rates(isa, threads))
            .unwrap_or_else(|| (Rates::cpu(isa, 1), Rates::cpu(isa, threads)));
        let chunk_bytes = options
            .gpu
            .array_chunk_bytes
            .map_or(crate::cpu::STREAM_CHUNK_BYTES, |bytes| bytes as usize);
        let engine = Self::with(options.clone(), rates, profile, chunk_bytes);
        if options.backend == BackendChoice::Gpu || options.opens_gpu_early() {
            match engine.open_gpu() {
                Ok(_) => {}
                Err(error)
                    if options.backend == BackendChoice::Auto && error.means_no_usable_gpu() =>
                {
                    engine.fall_back(error);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(engine)
    }

    /// An engine on a context the caller built: every request runs there. Like
    /// [`BackendChoice::Gpu`], it reports the device's failures rather than falling back.
    pub fn from_context(context: GpuContext) -> Engine {
        let isa = Isa::best();
        let rates = (Rates::cpu(isa, 1), Rates::cpu(isa, crate::cpu::threads()));
        let chunk_bytes = context.array_chunk_bytes() as usize;
        let options = EngineOptions::new(BackendChoice::Gpu);
        let engine = Self::with(options, rates, None, chunk_bytes);
        let _ = engine.gpu.set(Box::new(context));
        engine
    }

    /// An engine with nothing looked for or opened yet.
    fn with(
        options: EngineOptions,
        (one, all): (Rates, Rates),
        profile: Option<Profile>,
        cpu_chunk_bytes: usize,
    ) -> Engine {
        Self {
            tiny: Tiny::new(&one),
            one,
            all,
            profile,
            cpu_chunk_bytes,
            options,
            looked: OnceLock::new(),
            gpu: OnceLock::new(),
            opening: Mutex::new(()),
            fallback: OnceLock::new(),
            abandoned: AtomicBool::new(false),
            setup: Mutex::new(Duration::ZERO),
        }
    }

    /// Where `request` would run, and why: no device is opened, though under `auto` the
    /// adapters may be looked for (once per engine) when the CPU would not finish first anyway.
    ///
    /// # Errors
    /// [`Error::RangeTooLong`] for a range of more than 2^63 - 1 elements, past what the
    /// total's count holds; [`Error::InvalidArray`] for data on a device under a CPU backend.
    pub fn plan(&self, request: &Request<'_>) -> Result<Plan, Error> {
        Self::check_reduce(&request.source, &request.reduce)?;
        let work = work_of(&request.source);
        if let Source::Range(range) = &request.source
            && range.count() > u128::from(MAX_ELEMENTS)
        {
            return Err(Error::RangeTooLong {
                count: range.count(),
            });
        }
        let gpu_label = || self.gpu.get().map(|context| context.adapter_label());
        let cpu_estimate = |place| match place {
            Place::Seq => self.one.seconds(&work),
            _ => self.all.seconds(&work),
        };
        let chosen = |place: Place, reason| {
            let plan = Plan::new(place, None, reason, work);
            match work.elements {
                Some(_) if place != Place::Gpu => plan.with_estimate(cpu_estimate(place)),
                _ => plan,
            }
        };
        let plan = match self.options.backend {
            BackendChoice::Cpu | BackendChoice::Seq if work.on_device => {
                return Err(Error::InvalidArray {
                    reason: "the data is on a GPU: sum it with a GPU backend".into(),
                });
            }
            BackendChoice::Cpu => chosen(Place::Cpu, Reason::Chosen),
            BackendChoice::Seq => chosen(Place::Seq, Reason::Chosen),
            BackendChoice::Gpu => Plan::new(Place::Gpu, gpu_label(), Reason::Chosen, work),
            BackendChoice::Auto if self.fallback.get().is_some() && !work.on_device => {
                let reason = match self.looked.get() {
                    Some(looked) if !looked.found_any => Reason::NoAdapter,
                    _ => Reason::GpuFailed,
                };
                chosen(Place::Cpu, reason)
            }
            BackendChoice::Auto if work.on_device => {
                Plan::new(Place::Gpu, gpu_label(), Reason::OnDevice, work)
            }
            BackendChoice::Auto if self.options.opens_gpu_early() => {
                Plan::new(Place::Gpu, gpu_label(), Reason::Named, work)
            }
            BackendChoice::Auto if self.gpu.get().is_none() && self.tiny.holds(&work) => {
                let reason = Reason::BeforeAnyGpu {
                    gpu_at_least: rates::OPEN_FLOOR,
                };
                let (one, all) = (self.one.seconds(&work), self.all.seconds(&work));
                let (place, seconds) = if one <= all {
                    (Place::Seq, one)
                } else {
                    (Place::Cpu, all)
                };
                Plan::new(place, None, reason, work).with_estimate(seconds)
            }
            BackendChoice::Auto => self.plan_auto(work),
        };
        log::info!("plan: {plan}");
        Ok(plan)
    }

    /// The planner's choice under `auto`: decided at once where it can be, else after looking for
    /// adapters.
    fn plan_auto(&self, work: Work) -> Plan {
        let gpus = match (self.gpu.get(), self.looked.get()) {
            (Some(context), _) => Gpus::Candidate {
                label: context.adapter_label(),
                rates: self.rates_of(context.adapter_info()),
                open: true,
            },
            (None, Some(looked)) => looked_gpus(looked),
            (None, None) => Gpus::Unlooked {
                best: self.best_known_gpu(),
                look: self.profile.as_ref().and_then(|p| p.look).unwrap_or(0.0),
            },
        };
        match plan::decide(work, &self.one, &self.all, &gpus) {
            Decision::Plan(plan) => plan,
            Decision::Look => {
                match plan::decide(work, &self.one, &self.all, &looked_gpus(self.look())) {
                    Decision::Plan(plan) => plan,
                    Decision::Look => unreachable!("looked"),
                }
            }
        }
    }

    /// Runs `request` as `plan` says (a plan from [`Engine::plan`] on this engine): the one
    /// implementation of every sum. A GPU that fails under `auto`, where the request can start
    /// again, is replaced by the CPU for good and the request summed there (the second plan is
    /// made here alone).
    ///
    /// # Errors
    /// [`Error::Timeout`] or [`Error::Cancelled`] from `control`; a reader's errors; under `Gpu`
    /// (or for data on a device, or a stream already read in part), the device's failures.
    pub async fn run_async(
        &self,
        request: Request<'_>,
        plan: &Plan,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        let Request {
            mut source,
            mut reduce,
            check,
        } = request;
        if reduce.is_all() {
            if let Source::Strided(view) = &source
                && let Some(block) = view.contiguous()
            {
                source = Source::Array(block);
            }
            return self.run_all(&mut source, check, plan, control).await;
        }
        if plan.place != Place::Gpu {
            return self
                .run_grouped(&mut source, &mut reduce, check, plan, control)
                .await;
        }
        let gpu = self.run_grouped(&mut source, &mut reduce, check, plan, control);
        match Box::pin(gpu).await {
            Err(error) if reduce.restartable() => match self.fallback_plan(&source, error) {
                Ok(plan) => {
                    self.run_grouped(&mut source, &mut reduce, check, &plan, control)
                        .await
                }
                Err(error) => Err(error),
            },
            result => result,
        }
    }

    /// Every element of `source` into one total, as `plan` says.
    pub(super) async fn run_all(
        &self,
        source: &mut Source<'_>,
        check: bool,
        plan: &Plan,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        if plan.place != Place::Gpu {
            return self.run_cpu(source, check, plan, control).await;
        }
        // Boxed: the GPU's state (ring, readbacks) would otherwise make every CPU call's future
        // large, and moving it cost a 20-element sum more than the sum itself.
        let error = match Box::pin(self.run_gpu(source, check, plan, control)).await {
            Ok(outcome) => return Ok(outcome),
            Err(error) => error,
        };
        let plan = self.fallback_plan(source, error)?;
        self.run_cpu(source, check, &plan, control).await
    }

    /// After a GPU `error`: under `auto`, where `source` can start again and the GPU is what
    /// failed, the CPU for good and its plan; otherwise the error.
    fn fallback_plan(&self, source: &Source<'_>, error: Error) -> Result<Plan, Error> {
        let restartable = source.restartable() && !source.on_device();
        if self.options.backend == BackendChoice::Auto && restartable && error.means_no_usable_gpu()
        {
            self.fall_back(error);
            let work = work_of(source);
            let plan = Plan::new(Place::Cpu, None, Reason::GpuFailed, work)
                .with_estimate(self.all.seconds(&work));
            log::info!("plan: {plan}");
            return Ok(plan);
        }
        if matches!(error, Error::Timeout) {
            // Work may still be queued on a stuck device.
            self.abandoned.store(true, Ordering::Relaxed);
        }
        Err(error)
    }

    /// `source` on the engine's GPU (opened here if it is not yet), with the CPU twin's check of
    /// each chunk of host data where asked for.
    async fn run_gpu(
        &self,
        source: &mut Source<'_>,
        check: bool,
        plan: &Plan,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        let context = self.open_gpu()?;
        let check = check && !source.on_device();
        let dtype = source.dtype();
        let mut checked = dtype.map(crate::ArrayTotal::new);
        let outcome = {
            let quiet = control.without_progress();
            let twin = crate::cpu::CpuTwin::new(crate::cpu::Threads::All);
            let mut tap = |chunk: &[u8]| -> Result<(), Error> {
                if let (true, Some(checked), Some(dtype)) = (check, checked.as_mut(), dtype) {
                    let bytes = ArrayBytes::new(chunk, dtype, crate::ByteOrder::Little)?;
                    checked.merge(&twin.sum_array(bytes, &quiet)?)?;
                }
                Ok(())
            };
            context.run_tapped(source, control, &mut tap).await?
        };
        Ok(Outcome {
            plan: Plan {
                adapter: Some(context.adapter_label()),
                ..plan.clone()
            },
            cpu_check: checked.filter(|_| check),
            ..outcome
        })
    }
}
