//! The library's one error type.

use crate::kernel::KernelPart;

/// Everything that can stop a sum. The library returns these and never prints.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No adapter that can run compute shaders was found.
    #[error(
        "no GPU adapter with compute shaders found{}; on Linux without a GPU, install a software \
         adapter: apt-get install mesa-vulkan-drivers libvulkan1",
        with_settings(.settings)
    )]
    NoAdapter {
        /// The environment variables that shaped the search, as `NAME=value`: `WGPU_BACKEND`
        /// (which graphics APIs were tried), `WGPU_ADAPTER_NAME`, and the Vulkan loader's.
        settings: Vec<String>,
    },

    /// No adapter's name contains the requested text.
    #[error("no adapter matches {wanted:?}; available: {}", list_or_none(.available))]
    AdapterNotFound {
        /// The text asked for.
        wanted: String,
        /// Every adapter found, as "name (api)".
        available: Vec<String>,
    },

    /// The adapter lacks a feature that a forced part of the kernel needs.
    #[error("the {part} needs {missing}, which {adapter} does not have")]
    KernelUnsupported {
        /// The part asked for.
        part: KernelPart,
        /// The adapter, as "name (api)".
        adapter: String,
        /// The missing wgpu feature, by name.
        missing: &'static str,
    },

    /// A dispatch shape that the kernel or the adapter cannot take.
    #[error("invalid dispatch shape: {reason}")]
    InvalidShape {
        /// What is wrong with it.
        reason: String,
    },

    /// The adapter refused to open a device.
    #[error("could not open a device on {adapter}")]
    RequestDevice {
        /// The adapter, as "name (api)".
        adapter: String,
        /// wgpu's reason.
        #[source]
        source: wgpu::RequestDeviceError,
    },

    /// wgpu reported a validation or internal error.
    #[error("GPU error on {adapter}")]
    Gpu {
        /// The adapter, as "name (api)".
        adapter: String,
        /// wgpu's error.
        #[source]
        source: wgpu::Error,
    },

    /// The device ran out of memory.
    #[error("the GPU ran out of memory on {adapter}")]
    OutOfMemory {
        /// The adapter, as "name (api)".
        adapter: String,
    },

    /// The device was lost (driver reset, removal, or a watchdog).
    #[error("the GPU device was lost: {reason}")]
    DeviceLost {
        /// The driver's reason, as its device-lost callback gave it.
        reason: String,
    },

    /// Waiting on the device failed.
    #[error("waiting for the GPU failed")]
    Poll(#[from] wgpu::PollError),

    /// Mapping the partials for reading failed.
    #[error("reading the partial sums back failed")]
    Map(#[from] wgpu::BufferAsyncError),

    /// The mapped partials could not be viewed.
    #[error("viewing the partial sums failed")]
    MapRange(#[from] wgpu::MapRangeError),

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
    #[must_use]
    pub fn is_gpu_failure(&self) -> bool {
        matches!(
            self,
            Error::Gpu { .. }
                | Error::OutOfMemory { .. }
                | Error::DeviceLost { .. }
                | Error::Poll(_)
                | Error::Map(_)
                | Error::MapRange(_)
        )
    }

    /// Whether this machine offers no usable GPU: none found, none that opens, or one that
    /// failed. `BackendChoice::Auto` sums on the CPU for these
    /// and for nothing else: what the caller asked for (an adapter name, a kernel part, a shape)
    /// stays an error.
    #[must_use]
    pub fn means_no_usable_gpu(&self) -> bool {
        matches!(self, Error::NoAdapter { .. } | Error::RequestDevice { .. })
            || self.is_gpu_failure()
    }
}

impl Error {
    /// [`Error::NoAdapter`], naming the environment variables that shaped the search.
    #[must_use]
    pub fn no_adapter() -> Self {
        const VARIABLES: [&str; 5] = [
            "WGPU_BACKEND",
            "WGPU_ADAPTER_NAME",
            "VK_DRIVER_FILES",
            "VK_ICD_FILENAMES",
            "VK_ADD_DRIVER_FILES",
        ];
        let settings = VARIABLES
            .iter()
            .filter_map(|name| Some(format!("{name}={}", std::env::var(name).ok()?)))
            .collect();
        Error::NoAdapter { settings }
    }
}

fn with_settings(settings: &[String]) -> String {
    if settings.is_empty() {
        String::new()
    } else {
        format!(" with {}", settings.join(", "))
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}
