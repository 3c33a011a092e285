//! [`GpuContext`]: a device with its kernels and buffers, built once and reused by every sum.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::array::{ArrayKernels, PARAMS_BYTES, UNIT_BYTES};
use super::device::{Device, lock, open_device_async};
use super::range::RangeKernel;
use super::readback::Batches;
use super::ring::{DEFAULT_CHUNK_BYTES, Ring, max_chunk_bytes};
use super::shape::{DispatchShape, PARTIAL_BYTES};
use crate::Error;
use crate::control::Control;
use crate::kernel::{ArrayLayout, FloatAccumulation, KernelChoice, Reduction, ShaderVariant};
use crate::range::SumRange;

mod arrays;

pub use arrays::DeviceArray;

/// How to build a [`GpuContext`]. The default takes the best kernel the device supports, the
/// adapter's shape, and no timestamps.
///
/// ```
/// use gpusum::{GpuOptions, ShaderVariant};
/// let options = GpuOptions::new().with_variant(ShaderVariant::Emulated);
/// assert_eq!(options.variant, Some(ShaderVariant::Emulated));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GpuOptions {
    /// Force a shader variant; `None` takes the best the device supports.
    pub variant: Option<ShaderVariant>,
    /// Force a workgroup reduction; `None` takes the best the device supports.
    pub reduction: Option<Reduction>,
    /// Override the dispatch shape; `None` takes [`DispatchShape::for_adapter`].
    pub shape: Option<DispatchShape>,
    /// Force the workgroup size (a power of two the device allows), in the shape given or the
    /// adapter's; `None` keeps the shape's.
    pub workgroup_size: Option<u32>,
    /// Measure each submission's kernel time with GPU timestamps (where the device has them).
    /// Off by default: writing and reading them back costs every call.
    pub kernel_timing: bool,
    /// Where arrays live on the device; `None` takes [`ArrayLayout::for_adapter`].
    pub array_layout: Option<ArrayLayout>,
    /// Bytes per chunk of an array stream (a multiple of 16); `None` takes 32 MiB, or less where
    /// the adapter's limits say so.
    pub array_chunk_bytes: Option<u64>,
    /// How the exact float kernels accumulate; `None` takes [`FloatAccumulation::for_adapter`].
    pub float_accumulation: Option<FloatAccumulation>,
}

impl GpuOptions {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Forces a shader variant.
    #[must_use]
    pub fn with_variant(self, variant: ShaderVariant) -> Self {
        Self {
            variant: Some(variant),
            ..self
        }
    }

    /// Forces a workgroup reduction.
    #[must_use]
    pub fn with_reduction(self, reduction: Reduction) -> Self {
        Self {
            reduction: Some(reduction),
            ..self
        }
    }

    /// Forces both parts of the kernel.
    #[must_use]
    pub fn with_kernel(self, kernel: KernelChoice) -> Self {
        self.with_variant(kernel.variant)
            .with_reduction(kernel.reduction)
    }

    /// Overrides the dispatch shape.
    #[must_use]
    pub fn with_shape(self, shape: DispatchShape) -> Self {
        Self {
            shape: Some(shape),
            ..self
        }
    }

    /// Forces the workgroup size.
    #[must_use]
    pub fn with_workgroup_size(self, workgroup_size: u32) -> Self {
        Self {
            workgroup_size: Some(workgroup_size),
            ..self
        }
    }

    /// Measures kernel time with GPU timestamps.
    #[must_use]
    pub fn with_kernel_timing(self, on: bool) -> Self {
        Self {
            kernel_timing: on,
            ..self
        }
    }

    /// Forces where arrays live on the device.
    #[must_use]
    pub fn with_array_layout(self, layout: ArrayLayout) -> Self {
        Self {
            array_layout: Some(layout),
            ..self
        }
    }

    /// Forces how the exact float kernels accumulate.
    #[must_use]
    pub fn with_float_accumulation(self, accumulation: FloatAccumulation) -> Self {
        Self {
            float_accumulation: Some(accumulation),
            ..self
        }
    }

    /// Sets the bytes per chunk of an array stream.
    #[must_use]
    pub fn with_array_chunk_bytes(self, bytes: u64) -> Self {
        Self {
            array_chunk_bytes: Some(bytes),
            ..self
        }
    }
}

/// A GPU sum and where its time went.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct GpuOutcome {
    /// The exact sum.
    pub sum: i128,
    /// Time the kernels ran by GPU timestamps, when [`GpuOptions::kernel_timing`] is on and the
    /// device has TIMESTAMP_QUERY.
    pub kernel_seconds: Option<f64>,
    /// Submissions made.
    pub submissions: u32,
}

/// A device with its kernels and buffers, built once and reused by every call.
///
/// Calls on one context take turns; a call waiting for its turn still stops at its deadline or
/// cancel. Build one context per device and kernel, and share it (it is `Send + Sync`).
pub struct GpuContext {
    device: Arc<Device>,
    kernel: KernelChoice,
    shape: DispatchShape,
    range: RangeKernel,
    arrays: ArrayKernels,
    /// Batches for arrays already on the device, one per partial size: the integer kernels'
    /// (built with the context), and the float kernels' (built at first use).
    window_batches: Mutex<Vec<Arc<Batches>>>,
    /// The stream ring, built at the first stream.
    ring: Mutex<Option<Ring>>,
    array_layout: ArrayLayout,
    array_chunk_bytes: u64,
    timestamps: bool,
    turn: Turn,
}

impl GpuContext {
    /// Opens a device on `adapter` with the features gpusum can use, and builds the context.
    ///
    /// # Errors
    /// A forced kernel part the adapter lacks, a shape beyond its limits, limits below the
    /// kernel's needs, or a device that cannot be opened or fails while building.
    pub fn new(adapter: &wgpu::Adapter, options: &GpuOptions) -> Result<Self, Error> {
        super::web::block(Self::new_async(adapter, options))
    }

    /// [`GpuContext::new`] without blocking: the web's way (a browser forbids blocking waits).
    ///
    /// # Errors
    /// As for [`GpuContext::new`].
    pub async fn new_async(adapter: &wgpu::Adapter, options: &GpuOptions) -> Result<Self, Error> {
        let info = adapter.get_info();
        // Refuse a forced part before paying for a device.
        resolve_kernel(options, adapter.features(), &info)?;
        let (device, queue) = open_device_async(adapter).await?;
        Self::from_device(info, device, queue, options)
    }

    /// Builds the context on a caller's device and queue (tests and benches inject theirs).
    /// The device's enabled features decide which kernels it can run.
    ///
    /// The context installs the device's lost callback and uncaptured-error handler (wgpu keeps
    /// one of each), replacing any the caller set: it reports both as [`Error`]s. To build more
    /// contexts on the same device, use [`GpuContext::with_options`], which shares them.
    ///
    /// # Errors
    /// As for [`GpuContext::new`].
    pub fn from_device(
        info: wgpu::AdapterInfo,
        device: wgpu::Device,
        queue: wgpu::Queue,
        options: &GpuOptions,
    ) -> Result<Self, Error> {
        Self::build(Arc::new(Device::new(info, device, queue)), options)
    }

    /// Another context on this context's device, with other options.
    ///
    /// # Errors
    /// As for [`GpuContext::new`].
    pub fn with_options(&self, options: &GpuOptions) -> Result<Self, Error> {
        Self::build(Arc::clone(&self.device), options)
    }

    fn build(device: Arc<Device>, options: &GpuOptions) -> Result<Self, Error> {
        let limits = device.wgpu().limits();
        let kernel = resolve_kernel(options, device.wgpu().features(), device.info())?;
        let shape = options
            .shape
            .unwrap_or_else(|| DispatchShape::for_adapter(device.info(), &limits));
        let shape = match options.workgroup_size {
            Some(size) => shape.with_workgroup_size(size),
            None => shape,
        };
        shape.validate(&limits)?;
        let range = RangeKernel::new(&device, kernel, shape, options.kernel_timing)?;
        let float_accumulation = options
            .float_accumulation
            .unwrap_or_else(|| FloatAccumulation::for_adapter(device.info()));
        let arrays = ArrayKernels::new(&device, kernel, shape, float_accumulation)?;
        let integer_batches = Arc::new(Batches::new(
            &device,
            &shape,
            PARAMS_BYTES,
            PARTIAL_BYTES,
            options.kernel_timing,
        )?);
        let array_layout = options
            .array_layout
            .unwrap_or_else(|| ArrayLayout::for_adapter(device.info()));
        let largest = max_chunk_bytes(array_layout, &limits, &arrays);
        let array_chunk_bytes = match options.array_chunk_bytes {
            None => DEFAULT_CHUNK_BYTES.min(largest),
            Some(bytes) if bytes > 0 && bytes % UNIT_BYTES == 0 && bytes <= largest => bytes,
            Some(bytes) => {
                return Err(Error::InvalidShape {
                    reason: format!(
                        "an array chunk must be a multiple of 16 bytes from 16 to {largest} on \
                         this adapter, not {bytes}"
                    ),
                });
            }
        };
        let timestamps = range.has_timestamps();
        Ok(Self {
            device,
            kernel,
            shape,
            range,
            arrays,
            window_batches: Mutex::new(vec![integer_batches]),
            ring: Mutex::new(None),
            array_layout,
            array_chunk_bytes,
            timestamps,
            turn: Turn::default(),
        })
    }

    /// The adapter this context runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        self.device.info()
    }

    /// The adapter as messages name it: "name (api)".
    pub fn adapter_label(&self) -> String {
        self.device.label()
    }

    /// The device this context runs on.
    pub fn device(&self) -> &wgpu::Device {
        self.device.wgpu()
    }

    /// The queue this context submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        self.device.queue()
    }

    /// The kernel this context runs.
    pub fn kernel(&self) -> KernelChoice {
        self.kernel
    }

    /// How this context cuts work into dispatches.
    pub fn shape(&self) -> DispatchShape {
        self.shape
    }

    /// Whether sums report kernel time from GPU timestamps.
    pub fn has_timestamps(&self) -> bool {
        self.range.has_timestamps()
    }

    /// The exact sum of `range`, every element added on the device.
    ///
    /// # Errors
    /// [`Error::Timeout`] or [`Error::Cancelled`] from `control` (also while waiting for another
    /// thread's call), and the device's failures: loss, out of memory, wgpu errors.
    pub fn sum(&self, range: SumRange, control: &Control) -> Result<i128, Error> {
        self.sum_outcome(range, control).map(|outcome| outcome.sum)
    }

    /// The exact sum of `range` with kernel timings.
    ///
    /// # Errors
    /// As for [`GpuContext::sum`].
    pub fn sum_outcome(&self, range: SumRange, control: &Control) -> Result<GpuOutcome, Error> {
        super::web::block(self.sum_outcome_async(range, control))
    }

    /// [`GpuContext::sum`] without blocking: on the web it returns to the browser while the GPU
    /// works, and its waits are bounded by `control` all the same.
    ///
    /// # Errors
    /// As for [`GpuContext::sum`]; on the web also [`Error::Busy`] while another sum runs on this
    /// context.
    pub async fn sum_async(&self, range: SumRange, control: &Control<'_>) -> Result<i128, Error> {
        self.sum_outcome_async(range, control)
            .await
            .map(|outcome| outcome.sum)
    }

    /// [`GpuContext::sum_outcome`] without blocking.
    ///
    /// # Errors
    /// As for [`GpuContext::sum_async`].
    pub async fn sum_outcome_async(
        &self,
        range: SumRange,
        control: &Control<'_>,
    ) -> Result<GpuOutcome, Error> {
        let _turn = self.turn.take(control)?;
        self.device.check_health()?;
        self.range.sum_async(&self.device, range, control).await
    }

    pub(crate) fn shared_device(&self) -> &Device {
        &self.device
    }

    pub(crate) fn array_kernels(&self) -> &ArrayKernels {
        &self.arrays
    }
}

impl fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.adapter_label())
            .field("kernel", &self.kernel)
            .field("shape", &self.shape)
            .field("timestamps", &self.has_timestamps())
            .field("array_layout", &self.array_layout)
            .field("array_chunk_bytes", &self.array_chunk_bytes)
            .finish_non_exhaustive()
    }
}

fn resolve_kernel(
    options: &GpuOptions,
    features: wgpu::Features,
    info: &wgpu::AdapterInfo,
) -> Result<KernelChoice, Error> {
    KernelChoice::resolve(options.variant, options.reduction, features).map_err(
        |(part, missing)| Error::KernelUnsupported {
            part,
            adapter: super::adapter_label(info),
            missing,
        },
    )
}

/// Whose turn it is on a context's buffers. A waiting call looks at its [`Control`] between
/// short waits, so a deadline or cancel ends the wait even while another call runs.
#[derive(Default)]
struct Turn {
    taken: Mutex<bool>,
    freed: Condvar,
}

struct TurnGuard<'a>(&'a Turn);

/// Longest single wait for a turn before the cancel flag is looked at again.
const TURN_SLICE: Duration = Duration::from_millis(10);

impl Turn {
    fn take(&self, control: &Control) -> Result<TurnGuard<'_>, Error> {
        let mut taken = lock(&self.taken);
        // The web's one thread cannot wait for a turn that only it could give back.
        if cfg!(target_arch = "wasm32") && *taken {
            return Err(Error::Busy);
        }
        while *taken {
            control.check()?;
            let slice = control
                .remaining()
                .map_or(TURN_SLICE, |left| left.min(TURN_SLICE));
            taken = self
                .freed
                .wait_timeout(taken, slice)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        *taken = true;
        Ok(TurnGuard(self))
    }
}

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        *lock(&self.0.taken) = false;
        self.0.freed.notify_one();
    }
}
