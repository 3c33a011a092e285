//! How to open an [`Engine`](super::Engine): where sums may run ([`BackendChoice`]), which adapter
//! and GPU options, and which rates `auto` plans with ([`ProfileChoice`]).

use super::profile::Profile;
use crate::Error;
use crate::gpu::GpuOptions;

/// Where the caller asks sums to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendChoice {
    /// Each request where the planner expects it to finish first: one CPU thread, the rayon
    /// pool, or a hardware GPU (see [`Plan`](super::Plan)).
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
            BackendChoice::Auto => "wherever the sum finishes first: a hardware GPU or the CPU",
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

/// How to open an [`Engine`](super::Engine).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct EngineOptions {
    /// Where to run.
    pub backend: BackendChoice,
    /// Pick the first adapter whose "name (api)" contains this text; `None` takes
    /// `WGPU_ADAPTER_NAME`, else the best adapter.
    pub adapter: Option<String>,
    /// Where processes share a node (MPI ranks, say): take the adapters of the chosen kind in
    /// turn, this process the `adapter_turn`-th counting round (0: the first, as alone).
    pub adapter_turn: usize,
    /// How to build the GPU context.
    pub gpu: GpuOptions,
    /// The rates `auto` plans with.
    pub profile: ProfileChoice,
}

/// The rates `auto` plans with: a saved [`Profile`]'s where it matches, else defaults by
/// instruction set and adapter kind.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum ProfileChoice {
    /// The profile at [`Profile::path`], if there is one.
    #[default]
    Saved,
    /// The defaults alone.
    None,
    /// This profile.
    Given(Profile),
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

    /// Takes the `turn`-th adapter of the chosen kind, counting round: see
    /// [`EngineOptions::adapter_turn`].
    #[must_use]
    pub fn with_adapter_turn(self, turn: usize) -> Self {
        Self {
            adapter_turn: turn,
            ..self
        }
    }

    /// Sets the GPU options.
    #[must_use]
    pub fn with_gpu(self, gpu: GpuOptions) -> Self {
        Self { gpu, ..self }
    }

    /// Sets the rates `auto` plans with.
    #[must_use]
    pub fn with_profile(self, profile: ProfileChoice) -> Self {
        Self { profile, ..self }
    }

    /// Whether `auto` goes to the GPU because the caller named an adapter or a GPU option.
    pub(crate) fn opens_gpu_early(&self) -> bool {
        self.backend == BackendChoice::Auto && (self.adapter.is_some() || self.gpu.names_gpu())
    }

    /// Refuses what no machine could run: a shape beyond the kernel's bounds (where a GPU may
    /// be used), a chunk size that is not a positive multiple of 16.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if let (true, Some(shape)) = (self.backend.may_use_gpu(), self.gpu.shape) {
            shape.check_kernel_bounds()?;
        }
        if let Some(bytes) = self.gpu.array_chunk_bytes
            && (bytes == 0 || !bytes.is_multiple_of(16))
        {
            return Err(Error::InvalidShape {
                reason: format!(
                    "an array chunk must be a positive multiple of 16 bytes, not {bytes}"
                ),
            });
        }
        Ok(())
    }
}
