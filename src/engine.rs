//! Where a sum runs: a GPU context, the rayon pool, or one thread; the CPU fallback of
//! [`BackendChoice::Auto`]; and what happens to a device that timed out.

use std::fmt;
use std::io::Read;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use web_time::Instant;

use serde::Serialize;

use crate::array::{ArrayOutcome, IntSlice};
use crate::control::Control;
use crate::gpu::{self, GpuContext, GpuOptions};
use crate::input::ArrayReader;
use crate::range::SumRange;
use crate::{Error, cpu};

/// Where the caller asks sums to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendChoice {
    /// The best GPU adapter, else the rayon pool (the engine says why in
    /// [`Engine::fallback`]).
    #[default]
    Auto,
    /// A GPU adapter, or an error.
    Gpu,
    /// The rayon pool.
    Cpu,
    /// One CPU thread.
    Seq,
}

impl BackendChoice {
    /// Every choice, in the order the CLI lists them.
    pub const ALL: [BackendChoice; 4] = [
        BackendChoice::Auto,
        BackendChoice::Gpu,
        BackendChoice::Cpu,
        BackendChoice::Seq,
    ];

    /// Lower-case name, as the CLI spells it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Gpu => "gpu",
            BackendChoice::Cpu => "cpu",
            BackendChoice::Seq => "seq",
        }
    }

    /// One line for help texts.
    #[must_use]
    pub const fn summary(self) -> &'static str {
        match self {
            BackendChoice::Auto => "a GPU if one is found, else the CPU (with a notice on stderr)",
            BackendChoice::Gpu => "a GPU adapter; an error if there is none",
            BackendChoice::Cpu => "the CPU, on all cores (rayon)",
            BackendChoice::Seq => "the CPU, on one thread",
        }
    }

    /// Whether this choice may use a GPU (and so whether GPU options mean anything).
    #[must_use]
    pub const fn may_use_gpu(self) -> bool {
        matches!(self, BackendChoice::Auto | BackendChoice::Gpu)
    }
}

/// Where an engine's sums actually run.
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

/// How to open an [`Engine`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineOptions {
    /// Where to run.
    pub backend: BackendChoice,
    /// Pick the first adapter whose "name (api)" contains this text; `None` takes
    /// `WGPU_ADAPTER_NAME`, else the best adapter.
    pub adapter: Option<String>,
    /// How to build the GPU context.
    pub gpu: GpuOptions,
}

impl EngineOptions {
    /// Options for `backend`, with the default adapter and GPU options.
    #[must_use]
    pub fn new(backend: BackendChoice) -> Self {
        Self {
            backend,
            ..Self::default()
        }
    }

    /// Picks the adapter by name.
    #[must_use]
    pub fn with_adapter(self, adapter: impl Into<String>) -> Self {
        Self {
            adapter: Some(adapter.into()),
            ..self
        }
    }

    /// Sets the GPU options.
    #[must_use]
    pub fn with_gpu(self, gpu: GpuOptions) -> Self {
        Self { gpu, ..self }
    }
}

/// A sum and where its time went.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SumOutcome {
    /// The exact sum.
    pub sum: i128,
    /// Time the GPU kernels ran, by timestamps, where they were asked for and available.
    pub kernel_seconds: Option<f64>,
}

/// A ready place to run sums: opened once, used for every sum, shareable across threads.
///
/// Under [`BackendChoice::Auto`] a GPU that cannot be used when the engine opens, or that fails
/// during a sum, is replaced by the rayon pool for good; [`Engine::fallback`] says why, and the sum
/// is still exact. After a GPU sum times out, the engine never waits for that device again: it is
/// left to the process's exit instead of being dropped, since dropping a stuck device blocks.
///
/// ```
/// use gpusum::{BackendChoice, Control, Engine, EngineOptions, SumRange};
/// let engine = Engine::open(&EngineOptions::new(BackendChoice::Cpu))?;
/// let range = SumRange::new(1, 20);
/// assert_eq!(engine.sum(range, &Control::new())?, 210);
/// # Ok::<(), gpusum::Error>(())
/// ```
pub struct Engine {
    gpu: Option<Box<GpuContext>>,
    cpu: Place,
    /// Bytes the CPU path reads from a stream at a time.
    cpu_chunk_bytes: usize,
    choice: BackendChoice,
    fallback: OnceLock<Error>,
    abandoned: AtomicBool,
    setup: Duration,
}

impl Engine {
    /// Opens the engine `options` ask for.
    ///
    /// # Errors
    /// Under `Gpu`, any failure to find or open an adapter. Under `Auto`, only what the caller
    /// asked for and the machine cannot give (an adapter name that matches nothing, a kernel part
    /// the adapter lacks, an invalid shape); a machine without a usable GPU falls back instead.
    pub fn open(options: &EngineOptions) -> Result<Engine, Error> {
        let started = Instant::now();
        // What the caller asked for is checked before looking for a GPU, so that a machine
        // without one cannot hide the mistake behind the fallback.
        if let (true, Some(shape)) = (options.backend.may_use_gpu(), options.gpu.shape) {
            shape.check_kernel_bounds()?;
        }
        if let Some(bytes) = options.gpu.array_chunk_bytes
            && (bytes == 0 || !bytes.is_multiple_of(16))
        {
            return Err(Error::InvalidShape {
                reason: format!(
                    "an array chunk must be a positive multiple of 16 bytes, not {bytes}"
                ),
            });
        }
        let (gpu, fallback) = match options.backend {
            BackendChoice::Cpu | BackendChoice::Seq => (None, None),
            BackendChoice::Gpu => (Some(open_gpu(options)?), None),
            BackendChoice::Auto => match open_gpu(options) {
                Ok(context) => (Some(context), None),
                Err(error) if error.means_no_usable_gpu() => (None, Some(error)),
                Err(error) => return Err(error),
            },
        };
        let engine = Self {
            gpu,
            cpu: if options.backend == BackendChoice::Seq {
                Place::Seq
            } else {
                Place::Cpu
            },
            cpu_chunk_bytes: options
                .gpu
                .array_chunk_bytes
                .map_or(cpu::STREAM_CHUNK_BYTES, |bytes| bytes as usize),
            choice: options.backend,
            fallback: OnceLock::new(),
            abandoned: AtomicBool::new(false),
            setup: started.elapsed(),
        };
        if let Some(error) = fallback {
            let _ = engine.fallback.set(error);
        }
        Ok(engine)
    }

    /// An engine on a context the caller built. Like [`BackendChoice::Gpu`], it reports the
    /// device's failures rather than falling back.
    pub fn from_context(context: GpuContext) -> Engine {
        Self {
            cpu_chunk_bytes: context.array_chunk_bytes() as usize,
            gpu: Some(Box::new(context)),
            cpu: Place::Cpu,
            choice: BackendChoice::Gpu,
            fallback: OnceLock::new(),
            abandoned: AtomicBool::new(false),
            setup: Duration::ZERO,
        }
    }

    /// The exact sum of `range`.
    ///
    /// # Errors
    /// [`Error::Timeout`] or [`Error::Cancelled`] from `control`; under `Gpu`, the device's
    /// failures. Under `Auto` a device failure moves the engine to the CPU, which sums again.
    pub fn sum(&self, range: SumRange, control: &Control) -> Result<i128, Error> {
        self.sum_outcome(range, control).map(|outcome| outcome.sum)
    }

    /// The exact sum of `range`, with kernel time where the GPU measured it.
    ///
    /// # Errors
    /// As for [`Engine::sum`].
    pub fn sum_outcome(&self, range: SumRange, control: &Control) -> Result<SumOutcome, Error> {
        if let Some(context) = self.active_gpu() {
            match context.sum_outcome(range, control) {
                Ok(outcome) => {
                    return Ok(SumOutcome {
                        sum: outcome.sum,
                        kernel_seconds: outcome.kernel_seconds,
                    });
                }
                Err(error) => self.gpu_failed(error, true)?,
            }
        }
        let sum = match self.cpu {
            Place::Seq => cpu::sum_sequential(range, control)?,
            _ => cpu::sum_parallel(range, control)?,
        };
        Ok(SumOutcome {
            sum,
            kernel_seconds: None,
        })
    }

    /// The exact sum of `data`, with its element count.
    ///
    /// # Errors
    /// As for [`Engine::sum`].
    pub fn sum_ints(&self, data: IntSlice<'_>, control: &Control) -> Result<ArrayOutcome, Error> {
        if let Some(context) = self.active_gpu() {
            match context.sum_ints(data, control) {
                Ok(outcome) => return Ok(outcome),
                Err(error) => self.gpu_failed(error, true)?,
            }
        }
        let sum = match self.cpu {
            Place::Seq => cpu::sum_ints_sequential(data, control)?,
            _ => cpu::sum_ints(data, control)?,
        };
        Ok(ArrayOutcome::new(sum))
    }

    /// The exact sum of `data`, rounded once, with its count: the same bits on the GPU and the
    /// CPU (see [`ArrayTotal`](crate::ArrayTotal)).
    ///
    /// # Errors
    /// As for [`Engine::sum`].
    pub fn sum_floats(
        &self,
        data: crate::FloatSlice<'_>,
        control: &Control,
    ) -> Result<ArrayOutcome, Error> {
        if let Some(context) = self.active_gpu() {
            match context.sum_floats(data, control) {
                Ok(outcome) => return Ok(outcome),
                Err(error) => self.gpu_failed(error, true)?,
            }
        }
        let total = cpu::sum_floats(data, self.cpu != Place::Seq, control)?;
        Ok(ArrayOutcome::new(total))
    }

    /// The exact sum of everything `reader` holds, read once in chunks with bounded memory. With
    /// `check`, the CPU twin sums every chunk too (on the GPU as it is uploaded; on the CPU by
    /// the other of its two paths), in [`ArrayOutcome::cpu_check`].
    ///
    /// Under [`BackendChoice::Auto`] a GPU that fails before reading begins moves the engine to
    /// the CPU, as for [`Engine::sum`]; once data has been read, a stream cannot be read again,
    /// and the failure is returned.
    ///
    /// # Errors
    /// The reader's errors (a failed read, truncated or malformed data), and those of
    /// [`Engine::sum`].
    pub fn sum_reader<R: Read>(
        &self,
        reader: &mut ArrayReader<R>,
        check: bool,
        control: &Control,
    ) -> Result<ArrayOutcome, Error> {
        if let Some(context) = self.active_gpu() {
            let format = reader.format();
            let mut checked = crate::ArrayTotal::new(format.dtype);
            let quiet = control.without_progress();
            let mut tap = |chunk: &[u8]| -> Result<(), Error> {
                if check {
                    let isa = cpu::Isa::best();
                    let order = crate::array::ByteOrder::Little;
                    let sum = cpu::sum_bytes(isa, true, format.dtype, order, chunk, &quiet)?;
                    checked.merge(&sum)?;
                }
                Ok(())
            };
            match context.sum_reader_tapped(reader, control, &mut tap) {
                Ok(outcome) => {
                    return Ok(ArrayOutcome {
                        cpu_check: check.then_some(checked),
                        ..outcome
                    });
                }
                // A stream read in part cannot be summed again on the CPU.
                Err(error) => self.gpu_failed(error, reader.bytes_read() == 0)?,
            }
        }
        let parallel = self.cpu != Place::Seq;
        let chunk = self.cpu_chunk_bytes;
        let (sum, checked) = cpu::sum_reader_checked(reader, parallel, check, chunk, control)?;
        Ok(ArrayOutcome {
            cpu_check: checked,
            ..ArrayOutcome::new(sum)
        })
    }

    /// Takes a GPU failure: under `Auto`, where the sum can start again (`restartable`), moves to
    /// the CPU for good (`Ok`, so the caller sums there); otherwise returns it, and after a
    /// timeout stops waiting for that device again.
    fn gpu_failed(&self, error: Error, restartable: bool) -> Result<(), Error> {
        if self.choice == BackendChoice::Auto && restartable && error.is_gpu_failure() {
            let _ = self.fallback.set(error);
            return Ok(());
        }
        if matches!(error, Error::Timeout) {
            // Work may still be queued on a stuck device.
            self.abandoned.store(true, Ordering::Relaxed);
        }
        Err(error)
    }

    /// Where sums run now.
    pub fn place(&self) -> Place {
        match self.active_gpu() {
            Some(_) => Place::Gpu,
            None => self.cpu,
        }
    }

    /// The GPU context sums run on, if they run on one.
    pub fn gpu(&self) -> Option<&GpuContext> {
        self.active_gpu()
    }

    /// What the caller asked for.
    pub fn choice(&self) -> BackendChoice {
        self.choice
    }

    /// Why `Auto` moved to the CPU, if it did (when opening, or during a sum).
    pub fn fallback(&self) -> Option<&Error> {
        self.fallback.get()
    }

    /// Time to find the adapter, open the device and build the kernels.
    pub fn setup(&self) -> Duration {
        self.setup
    }

    fn active_gpu(&self) -> Option<&GpuContext> {
        self.gpu
            .as_deref()
            .filter(|_| self.fallback.get().is_none())
    }
}

fn open_gpu(options: &EngineOptions) -> Result<Box<GpuContext>, Error> {
    let adapter = gpu::find_adapter(options.adapter.as_deref())?;
    Ok(Box::new(GpuContext::new(&adapter, &options.gpu)?))
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.abandoned.load(Ordering::Relaxed) {
            // Dropping the device would wait for the stuck queue: leave it to the process exit.
            std::mem::forget(self.gpu.take());
        }
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("place", &self.place())
            .field("choice", &self.choice)
            .field("gpu", &self.gpu)
            .field("fallback", &self.fallback.get())
            .field("setup", &self.setup)
            .finish_non_exhaustive()
    }
}
