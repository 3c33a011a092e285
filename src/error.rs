//! The library's one error type.

use crate::array::Dtype;
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

    /// Ranks of an MPI job sent nothing before the deadline (see the `mpi` module).
    #[error(
        "rank{} {} of {size} sent nothing before the deadline",
        if .ranks.len() == 1 { "" } else { "s" },
        .ranks.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    RanksSilent {
        /// The ranks that sent nothing.
        ranks: Vec<i32>,
        /// Ranks in the communicator.
        size: i32,
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

    /// On the web, a sum was started on a context while another was still running there: the
    /// browser's one thread cannot wait for it, so the caller must await the first.
    #[error("another sum is still running on this GPU context; await it first")]
    Busy,

    /// On the web, a call that waits for the GPU without awaiting: a browser forbids blocking,
    /// so only the async API runs there (GpuContext::new_async, Engine::run_async).
    #[error(
        "this call waits for the GPU, which a browser forbids; on the web use the async API \
         (GpuContext::new_async, Engine::run_async, Engine::sum_request_async) or the CPU"
    )]
    Blocking,

    /// The caller cancelled the sum.
    #[error("cancelled")]
    Cancelled,

    /// An input file or stream cannot be summed as it is.
    #[error("cannot sum {input}")]
    Input {
        /// The input, as messages name it: a path, or "standard input".
        input: String,
        /// What is wrong with it.
        #[source]
        problem: InputProblem,
    },

    /// Reading an input failed.
    #[error("cannot read {input}")]
    Read {
        /// The input, as messages name it.
        input: String,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// A sum would pass 2^63 - 1 elements, where its exact i128 total could overflow.
    #[error("more than 2^63 - 1 elements: past what an exact i128 sum can take")]
    TooManyElements,

    /// A range with more elements than one exact total counts.
    #[error(
        "the range holds {count} elements, more than the 2^63 - 1 that one exact total counts \
         (at 4e12 elements/s, a month's work): sum it in parts"
    )]
    RangeTooLong {
        /// Its elements.
        count: u128,
    },

    /// Bytes that are not a serialized exact float sum.
    #[error("not an exact float sum: {reason}")]
    InvalidAccumulator {
        /// What is wrong with them.
        reason: String,
    },

    /// A saved profile that cannot be read as one.
    #[error("not a gpusum profile: {reason}")]
    InvalidProfile {
        /// What is wrong with it.
        reason: String,
    },

    /// A caller's array or buffer that the GPU kernels cannot take as given.
    #[error("invalid array: {reason}")]
    InvalidArray {
        /// What is wrong with it.
        reason: String,
    },

    /// A sum along axes that names an axis the array does not have, names one twice, or asks an
    /// array without a shape (raw data) for an axis past its one.
    #[error("invalid axis: {reason}")]
    InvalidAxis {
        /// What is wrong with it.
        reason: String,
    },

    /// Keys of a type a sum by key cannot group by: floats.
    #[error("keys must be integers (i8 to u64), not {dtype}")]
    KeyType {
        /// The keys' type.
        dtype: Dtype,
    },

    /// Keys and values of different lengths.
    #[error(
        "the keys hold {keys} elements but the values {values}: a sum by key needs one key per value"
    )]
    KeyCount {
        /// Elements of the keys (read so far, for a stream that ended early).
        keys: u64,
        /// Elements of the values.
        values: u64,
    },
}

/// Why an input cannot be summed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputProblem {
    /// Neither a .npy file nor raw data of a known type.
    #[error(
        "not a .npy file (it does not start with \\x93NUMPY); for raw binary data give --dtype"
    )]
    NotNpy,
    /// A .npy header that cannot be read.
    #[error("malformed .npy header: {reason}")]
    BadHeader {
        /// What is wrong with it.
        reason: String,
    },
    /// A .npy array of a type gpusum does not sum.
    #[error(
        "the array holds {kind} ({descr}); gpusum sums integers of 8 to 64 bits and f32 and f64 floats"
    )]
    UnsupportedDtype {
        /// The header's type string.
        descr: String,
        /// What that type is, in words.
        kind: &'static str,
    },
    /// The type asked for is not the header's.
    #[error("--dtype {given} contradicts the .npy header, which says {header}")]
    DtypeMismatch {
        /// The type asked for.
        given: Dtype,
        /// The header's type.
        header: Dtype,
    },
    /// A byte order was given for a .npy file, whose header has its own.
    #[error("--big-endian applies to raw input; a .npy header gives its own byte order")]
    OrderWithNpy,
    /// Fewer bytes than the header (or the file's length, when reading began) promised.
    #[error("truncated: expected {expected} bytes of data, but the input ends after {got}")]
    Truncated {
        /// Bytes of data promised.
        expected: u64,
        /// Bytes of data there were.
        got: u64,
    },
    /// Raw data whose length is not a whole number of elements.
    #[error(
        "{bytes} bytes of raw data are not a whole number of {dtype} elements ({} bytes each)",
        .dtype.size()
    )]
    PartialElement {
        /// The element type.
        dtype: Dtype,
        /// Bytes of data there were.
        bytes: u64,
    },
}

impl InputProblem {
    /// Whether the command line, not the input, must change: a type or byte order that is
    /// missing or contradicts the header. The CLI exits 2 for these.
    #[must_use]
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            InputProblem::NotNpy | InputProblem::DtypeMismatch { .. } | InputProblem::OrderWithNpy
        )
    }
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
