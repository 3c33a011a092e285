//! [`GpuContext`]: a device with its kernels and buffers, built once and reused by every sum,
//! and its one entry point, [`GpuContext::run_async`], which every other sum method wraps.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::array::{ArrayKernels, PARAMS_BYTES, UNIT_BYTES};
use super::device::{Device, open_device_async};
use super::options::{ChunkUpload, GpuOptions};
use super::range::RangeKernel;
use super::readback::Batches;
use super::ring::{Chunks, DEFAULT_CHUNK_BYTES, Feed, Ring, max_chunk_bytes};
use super::shape::{DispatchShape, PARTIAL_BYTES};
use super::turn::Turn;
use crate::Error;
use crate::control::Control;
use crate::engine::{Outcome, Source};
use crate::kernel::{ArrayLayout, FloatAccumulation, KernelChoice};
use crate::range::SumRange;

mod arrays;
mod grouped;

pub use arrays::DeviceArray;

/// Batches by uniform size, partial size and whether they clear their partials.
type BatchesKey = (u64, u64, bool);

/// What a stream's chunks are shown before they are uploaded: the engine's check by the CPU
/// twin, or nothing.
pub(crate) type Tap<'t> = &'t mut dyn FnMut(&[u8]) -> Result<(), Error>;

/// A device with its kernels and buffers, built once and reused by every call.
///
/// Calls on one context take turns; a call waiting for its turn still stops at its deadline or
/// cancel, and awaits rather than blocks. Build one context per device and kernel, and share it
/// (it is `Send + Sync`).
pub struct GpuContext {
    device: Arc<Device>,
    kernel: KernelChoice,
    shape: DispatchShape,
    range: RangeKernel,
    arrays: ArrayKernels,
    /// Batches for arrays already on the device, one per partial size: the integer kernels'
    /// (built with the context), and the float kernels' (built at first use).
    window_batches: Mutex<Vec<Arc<Batches>>>,
    /// Batches of the kernels that sum along axes and by key, by uniform size, partial size and
    /// whether they clear their partials (built at first use).
    grouped_batches: Mutex<Vec<(BatchesKey, Arc<Batches>)>>,
    /// The stream ring, built at the first stream.
    ring: Mutex<Option<Ring>>,
    array_layout: ArrayLayout,
    array_chunk_bytes: u64,
    chunk_upload: ChunkUpload,
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
        super::wait::block(Self::new_async(adapter, options))
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
        log::info!(
            "gpu: {} with the {kernel} kernel, {array_layout} arrays, {float_accumulation} float \
             accumulation",
            device.label()
        );
        log::debug!(
            "gpu: workgroups of {}, {} elements per invocation, {} workgroups per dispatch, {} \
             dispatches per submission, {:?} walk, {array_chunk_bytes}-byte stream chunks",
            shape.workgroup_size,
            shape.per_invocation,
            shape.workgroups_per_dispatch,
            shape.dispatches_per_submit,
            shape.walk
        );
        Ok(Self {
            device,
            kernel,
            shape,
            range,
            arrays,
            window_batches: Mutex::new(vec![integer_batches]),
            grouped_batches: Mutex::new(Vec::new()),
            ring: Mutex::new(None),
            array_layout,
            array_chunk_bytes,
            chunk_upload: options.chunk_upload.unwrap_or(ChunkUpload::for_target()),
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
        self.timestamps
    }

    /// Where this context's arrays live on the device.
    pub fn array_layout(&self) -> ArrayLayout {
        self.array_layout
    }

    /// Bytes of data per chunk of a stream (each of the ring's slots holds one).
    pub fn array_chunk_bytes(&self) -> u64 {
        self.array_chunk_bytes
    }

    /// The exact sum of `source`, every element added on the device: the one entry point. Host
    /// data streams through the ring (memory stays at the ring's two chunks of staging and
    /// device data, plus one chunk on the host, for any length); data on this device is summed
    /// where it lives.
    ///
    /// # Errors
    /// [`Error::Timeout`] or [`Error::Cancelled`] from `control` (also while waiting for another
    /// call's turn); the device's failures: loss, out of memory, wgpu errors; a reader's errors;
    /// [`Error::InvalidArray`] for a buffer the kernels cannot read or an array from another
    /// device; on the web also [`Error::Busy`] while another sum runs on this context.
    pub async fn run_async(
        &self,
        mut source: Source<'_>,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        self.run_tapped(&mut source, control, &mut |_| Ok(())).await
    }

    /// [`GpuContext::run_async`], blocking natively.
    ///
    /// # Errors
    /// As for [`GpuContext::run_async`].
    pub fn run(&self, source: Source<'_>, control: &Control<'_>) -> Result<Outcome, Error> {
        super::wait::block(self.run_async(source, control))
    }

    /// The one implementation: with `tap` shown each chunk of a stream before it is uploaded.
    pub(crate) async fn run_tapped(
        &self,
        source: &mut Source<'_>,
        control: &Control<'_>,
        tap: Tap<'_>,
    ) -> Result<Outcome, Error> {
        let work = crate::engine::work_of(source);
        let mut outcome = Outcome::on_gpu(work, self.adapter_label(), self.timestamps);
        // What can be refused without the device is refused before waiting for a turn.
        let windows = match source {
            Source::Device(array) => Some(self.windows_of(array)?),
            Source::Buffer(slice) => Some(self.windows_in(slice)?),
            _ => None,
        };
        let _turn = self.turn.take(control).await?;
        self.device.check_health()?;
        match source {
            Source::Range(range) => {
                let total = self
                    .range
                    .sum(&self.device, *range, control, &mut outcome)
                    .await?;
                outcome.total = crate::ArrayTotal::Int(total);
            }
            Source::Array(array) => {
                let mut chunks = Chunks::new(Feed::Slice(*array));
                self.stream(&mut chunks, control, tap, &mut outcome).await?;
            }
            Source::Reader(reader) => {
                let mut chunks = Chunks::new(Feed::Reader(&mut **reader));
                self.stream(&mut chunks, control, tap, &mut outcome).await?;
            }
            Source::Strided(view) => {
                let mut gather = view.gather();
                let mut chunks = Chunks::new(Feed::Reader(&mut gather));
                self.stream(&mut chunks, control, tap, &mut outcome).await?;
            }
            Source::Device(_) | Source::Buffer(_) => {
                let (dtype, len, windows) = windows.expect("listed above");
                self.sum_windows(dtype, len, &windows, control, &mut outcome)
                    .await?;
            }
        }
        Ok(outcome)
    }

    /// Streams `chunks` through the context's ring (built at the first stream, and again for
    /// partials of another size, or after a stream that failed midway).
    async fn stream(
        &self,
        chunks: &mut Chunks<'_>,
        control: &Control<'_>,
        tap: Tap<'_>,
        outcome: &mut Outcome,
    ) -> Result<(), Error> {
        let dtype = chunks.dtype();
        let kept = super::device::lock(&self.ring).take();
        let mut ring = match kept.filter(|ring| ring.fits(dtype)) {
            Some(ring) => ring,
            None => Ring::new(
                &self.device,
                &self.arrays,
                &self.shape,
                self.array_layout,
                self.array_chunk_bytes,
                self.chunk_upload,
                dtype,
                self.timestamps,
            )?,
        };
        ring.sum(&self.device, &self.arrays, chunks, control, tap, outcome)
            .await?;
        *super::device::lock(&self.ring) = Some(ring);
        Ok(())
    }

    /// The exact sum of `range`, every element added on the device.
    ///
    /// # Errors
    /// As for [`GpuContext::run_async`].
    pub fn sum(&self, range: SumRange, control: &Control) -> Result<i128, Error> {
        super::wait::block(self.sum_async(range, control))
    }

    /// [`GpuContext::sum`] without blocking: on the web it returns to the browser while the GPU
    /// works, and its waits are bounded by `control` all the same.
    ///
    /// # Errors
    /// As for [`GpuContext::run_async`].
    pub async fn sum_async(&self, range: SumRange, control: &Control<'_>) -> Result<i128, Error> {
        let outcome = self.run_async(Source::Range(range), control).await?;
        Ok(outcome.int_sum().unwrap_or_default())
    }

    #[cfg(feature = "tools")]
    pub(crate) fn shared_device(&self) -> &Device {
        &self.device
    }

    #[cfg(feature = "tools")]
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
