//! The library's one error type.

use crate::gpu::{Reduction, ShaderVariant};

/// Everything that can stop a sum. The library returns these and never prints.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No adapter that can run compute shaders was found.
    #[error(
        "no GPU adapter with compute shaders found (on Linux without a GPU, install a software adapter: \
         apt-get install mesa-vulkan-drivers libvulkan1)"
    )]
    NoAdapter,

    /// No adapter's name contains the requested text.
    #[error("no adapter matches {wanted:?}; available: {}", list_or_none(.available))]
    AdapterNotFound {
        /// The text asked for.
        wanted: String,
        /// Every adapter found, as "name (backend)".
        available: Vec<String>,
    },

    /// The adapter lacks a feature the requested shader variant needs.
    #[error("the {variant} shader needs {missing}, which {adapter} does not have")]
    VariantUnsupported {
        /// The variant asked for.
        variant: ShaderVariant,
        /// The adapter, as "name (backend)".
        adapter: String,
        /// The missing wgpu feature.
        missing: &'static str,
    },

    /// The adapter lacks a feature the requested reduction needs.
    #[error("the {reduction} reduction needs {missing}, which {adapter} does not have")]
    ReductionUnsupported {
        /// The reduction asked for.
        reduction: Reduction,
        /// The adapter, as "name (backend)".
        adapter: String,
        /// The missing wgpu feature.
        missing: &'static str,
    },

    /// The adapter's limits are below what the kernel needs.
    #[error("{adapter} cannot run gpusum's kernel: {reason}")]
    AdapterUnsupported {
        /// The adapter, as "name (backend)".
        adapter: String,
        /// Which limit falls short.
        reason: String,
    },

    /// A dispatch shape that the kernel or the adapter cannot take.
    #[error("invalid dispatch shape: {reason}")]
    InvalidShape {
        /// What is wrong with it.
        reason: String,
    },

    /// Options that cannot be honoured (a benchmark backend that does not exist, say).
    #[error("{reason}")]
    InvalidOptions {
        /// What is wrong.
        reason: String,
    },

    /// A measured sum differed from the closed form.
    #[error(
        "wrong sum on {backend} for [{start}, {end}]: got {observed}, the closed form gives {expected}"
    )]
    WrongSum {
        /// The backend that added wrong.
        backend: String,
        /// First element.
        start: i64,
        /// Last element.
        end: i64,
        /// The closed form.
        expected: i128,
        /// What the backend returned.
        observed: i128,
    },

    /// Writing a report file failed.
    #[error("could not write {path}: {reason}")]
    Output {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },

    /// The adapter refused to open a device.
    #[error("could not open a device on {adapter}")]
    RequestDevice {
        /// The adapter, as "name (backend)".
        adapter: String,
        /// wgpu's reason.
        #[source]
        source: wgpu::RequestDeviceError,
    },

    /// wgpu reported a validation or internal error.
    #[error("GPU error on {adapter}: {message}")]
    Gpu {
        /// The adapter, as "name (backend)".
        adapter: String,
        /// wgpu's message.
        message: String,
    },

    /// The device ran out of memory.
    #[error("the GPU ran out of memory on {adapter}")]
    OutOfMemory {
        /// The adapter, as "name (backend)".
        adapter: String,
    },

    /// The device was lost (driver reset, removal, or a watchdog).
    #[error("the GPU device was lost: {reason}")]
    DeviceLost {
        /// The driver's reason.
        reason: String,
    },

    /// Waiting on the device failed.
    #[error("waiting for the GPU failed: {0}")]
    Poll(wgpu::PollError),

    /// Mapping the partials for reading failed.
    #[error("reading the partial sums back failed")]
    Map(#[from] wgpu::BufferAsyncError),

    /// The mapped partials could not be viewed.
    #[error("reading the partial sums back failed: {reason}")]
    Readback {
        /// wgpu's reason.
        reason: String,
    },

    /// The deadline passed before the sum finished.
    #[error("timed out: the deadline passed before the sum finished")]
    Timeout,

    /// The caller cancelled the sum.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// Whether the GPU itself failed (lost, out of memory, an error from wgpu or the driver), as
    /// opposed to the caller's choices, a cancel, or a deadline.
    pub fn is_gpu_failure(&self) -> bool {
        matches!(
            self,
            Error::Gpu { .. }
                | Error::OutOfMemory { .. }
                | Error::DeviceLost { .. }
                | Error::Poll(_)
                | Error::Map(_)
                | Error::Readback { .. }
        )
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}
