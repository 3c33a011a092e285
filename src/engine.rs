//! Where a sum runs: a GPU context, the rayon pool, or one thread.

use std::time::{Duration, Instant};

use crate::control::Control;
use crate::gpu::{GpuContext, GpuOptions};
use crate::range::SumRange;
use crate::{Error, cpu, gpu};

/// Where the user asked the sum to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendChoice {
    /// The best GPU adapter, else the rayon pool (with a notice).
    #[default]
    Auto,
    /// A GPU adapter, or an error.
    Gpu,
    /// The rayon pool.
    Cpu,
    /// One CPU thread.
    Seq,
}

/// A ready place to run sums: built once, used for every sum.
pub enum Engine {
    /// A GPU context.
    Gpu(Box<GpuContext>),
    /// All cores, through rayon.
    Cpu,
    /// One thread.
    Seq,
}

/// An engine as opened for a [`BackendChoice`], which remembers the choice so that `Auto` can
/// fall back to the CPU when the GPU fails mid-sum.
pub struct Opened {
    /// The engine.
    pub engine: Engine,
    /// What the caller asked for.
    pub choice: BackendChoice,
    /// Why `Auto` fell back to the CPU, if it did (at opening or during a sum).
    pub fallback: Option<Error>,
    /// Time to find the adapter, open the device and build the pipeline.
    pub setup: Duration,
}

impl Opened {
    /// The exact sum of `range`. Under `Auto`, a GPU failure (see [`Error::is_gpu_failure`])
    /// moves this engine to the CPU for good, records why in `fallback`, and sums there.
    pub fn sum(&mut self, range: SumRange, control: &Control) -> Result<i128, Error> {
        match self.engine.sum(range, control) {
            Err(error) if self.choice == BackendChoice::Auto && error.is_gpu_failure() => {
                self.engine = Engine::Cpu;
                self.fallback = Some(error);
                self.engine.sum(range, control)
            }
            result => result,
        }
    }
}

impl Engine {
    /// Opens the engine for `choice`. `adapter` picks a GPU by name; `Auto` falls back to
    /// [`Engine::Cpu`] when no GPU can be opened and says why in [`Opened::fallback`].
    pub fn open(
        choice: BackendChoice,
        adapter: Option<&str>,
        options: &GpuOptions,
    ) -> Result<Opened, Error> {
        let started = Instant::now();
        let opened = |engine, fallback| Opened {
            engine,
            choice,
            fallback,
            setup: started.elapsed(),
        };
        match choice {
            BackendChoice::Cpu => Ok(opened(Engine::Cpu, None)),
            BackendChoice::Seq => Ok(opened(Engine::Seq, None)),
            BackendChoice::Gpu => Ok(opened(Engine::open_gpu(adapter, options)?, None)),
            BackendChoice::Auto => match Engine::open_gpu(adapter, options) {
                Ok(engine) => Ok(opened(engine, None)),
                // A name or variant the user asked for that does not exist is their error,
                // not a reason to fall back.
                Err(error @ (Error::AdapterNotFound { .. } | Error::VariantUnsupported { .. })) => {
                    Err(error)
                }
                Err(error) => Ok(opened(Engine::Cpu, Some(error))),
            },
        }
    }

    fn open_gpu(adapter: Option<&str>, options: &GpuOptions) -> Result<Engine, Error> {
        let instance = gpu::instance();
        let adapter = gpu::select_adapter(&instance, adapter)?;
        Ok(Engine::Gpu(Box::new(GpuContext::new(&adapter, options)?)))
    }

    /// The exact sum of `range`.
    pub fn sum(&self, range: SumRange, control: &Control) -> Result<i128, Error> {
        match self {
            Engine::Gpu(context) => context.sum(range, control),
            Engine::Cpu => cpu::sum_parallel(range, control),
            Engine::Seq => cpu::sum_sequential(range, control),
        }
    }

    /// "gpu", "cpu" or "seq".
    pub fn backend_name(&self) -> &'static str {
        match self {
            Engine::Gpu(_) => "gpu",
            Engine::Cpu => "cpu",
            Engine::Seq => "seq",
        }
    }

    /// The GPU context, if this engine is one.
    pub fn gpu(&self) -> Option<&GpuContext> {
        match self {
            Engine::Gpu(context) => Some(context),
            _ => None,
        }
    }
}
