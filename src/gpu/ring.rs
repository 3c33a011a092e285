//! Streaming an array to the GPU through a ring of slots, so that filling one slot's staging
//! buffer on the host overlaps the device summing the slot before it.
//!
//! Each slot is a mappable staging buffer (unless chunks are written through the queue, as on
//! the web), the data it is copied into (a storage buffer or an array texture), and its own
//! batches (parameters, partials, readback). A chunk is: wait for the slot's previous chunk and
//! read its partials, copy the next bytes into its staging buffer, record the copy and the
//! dispatches into one submission. Memory stays at the ring's size, for any length of input.
//! Every wait is awaited, so the same ring runs in a browser.

use super::array::{
    ArrayKernels, MAX_WINDOW_BYTES, OwnedData, PARAMS_BYTES, Part, UNIT_BYTES,
    min_units_per_invocation, partial_bytes, texture_capacity,
};
use super::device::Device;
use super::kernel::Workload;
use super::options::ChunkUpload;
use super::readback::{Batches, Pending};
use super::shape::DispatchShape;
use super::wait::{bounded, poll_now, yield_now};
use crate::Error;
use crate::array::{ByteOrder, Dtype, swap_to_little_endian};
use crate::control::Control;
use crate::engine::{ArrayBytes, Outcome};
use crate::input::ChunkRead;
use crate::kernel::ArrayLayout;

/// Slots in the ring: one filling while one is summed.
pub const RING_SLOTS: usize = 2;

/// Bytes per slot unless the caller says otherwise: large enough that a submission's fixed cost
/// is small against its copy and kernel, small enough for a modest ring (2 slots of staging
/// and data: 128 MiB in all).
pub const DEFAULT_CHUNK_BYTES: u64 = 32 << 20;

/// What a stream's chunks come from: host memory, or a reader. Either way the ring gets whole
/// elements in little-endian order.
pub(crate) enum Feed<'a> {
    Slice(ArrayBytes<'a>),
    Reader(&'a mut dyn ChunkRead),
}

/// A feed, chunk by chunk: slices in this machine's order are handed out in place; the rest pass
/// through one buffer where their bytes are put in little-endian order.
pub(crate) struct Chunks<'a> {
    feed: Feed<'a>,
    buffer: Vec<u8>,
}

impl<'a> Chunks<'a> {
    pub(crate) fn new(feed: Feed<'a>) -> Self {
        Self {
            feed,
            buffer: Vec::new(),
        }
    }

    pub(crate) fn dtype(&self) -> Dtype {
        match &self.feed {
            Feed::Slice(array) => array.dtype(),
            Feed::Reader(reader) => reader.format().dtype,
        }
    }

    /// The next chunk of at most `max` bytes (a multiple of 16); empty at the end.
    pub(crate) async fn next(&mut self, max: usize) -> Result<&[u8], Error> {
        let dtype = self.dtype();
        match &mut self.feed {
            Feed::Slice(array) => {
                let (chunk, rest) = array.bytes().split_at(max.min(array.bytes().len()));
                *array = ArrayBytes::new(rest, dtype, array.order())?;
                if array.order() == ByteOrder::Little {
                    return Ok(chunk);
                }
                self.buffer.clear();
                self.buffer.extend_from_slice(chunk);
                swap_to_little_endian(dtype, &mut self.buffer);
                Ok(&self.buffer)
            }
            Feed::Reader(reader) => {
                self.buffer.resize(max, 0);
                let filled = reader.read_chunk(&mut self.buffer).await?;
                let chunk = &mut self.buffer[..filled];
                if reader.format().order == ByteOrder::Big {
                    swap_to_little_endian(dtype, chunk);
                }
                Ok(chunk)
            }
        }
    }
}

/// The ring of one context, built at its first stream (and again when a stream's kernel
/// writes partials of another size: integers or f32 or f64).
pub(crate) struct Ring {
    slots: Vec<Slot>,
    chunk_bytes: u64,
    partial_bytes: u64,
}

struct Slot {
    /// The mappable buffer a chunk is copied into; `None` where chunks are written through the
    /// queue ([`ChunkUpload::Queue`]).
    staging: Option<wgpu::Buffer>,
    data: OwnedData,
    batches: Batches,
    bind_group: wgpu::BindGroup,
    /// Set while the staging buffer is being mapped for the next chunk.
    mapping: Option<MapReceiver>,
    /// The chunk in flight, if any: its submission and element count.
    in_flight: Option<(Pending, u64)>,
}

type MapReceiver =
    futures_intrusive::channel::shared::OneshotReceiver<Result<(), wgpu::BufferAsyncError>>;

/// The largest chunk `layout` allows on a device with `limits` and kernels of `shape`.
pub(crate) fn max_chunk_bytes(
    layout: ArrayLayout,
    limits: &wgpu::Limits,
    kernels: &ArrayKernels,
) -> u64 {
    let binding = match layout {
        ArrayLayout::Buffer => limits.max_storage_buffer_binding_size,
        ArrayLayout::Texture => texture_capacity(limits),
    };
    binding
        .min(limits.max_buffer_size)
        .min(MAX_WINDOW_BYTES)
        .min(kernels.bytes_per_submission())
        / UNIT_BYTES
        * UNIT_BYTES
}

impl Ring {
    /// A ring of chunks of `chunk_bytes` (a multiple of 16 that `max_chunk_bytes` allows) whose
    /// batches hold `dtype`'s partials.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        device: &Device,
        kernels: &ArrayKernels,
        shape: &DispatchShape,
        layout: ArrayLayout,
        chunk_bytes: u64,
        upload: ChunkUpload,
        dtype: Dtype,
        timestamps: bool,
    ) -> Result<Self, Error> {
        let partial_bytes = partial_bytes(dtype);
        debug_assert!(chunk_bytes.is_multiple_of(UNIT_BYTES) && chunk_bytes > 0);
        log::debug!(
            "stream ring: {RING_SLOTS} slots of {chunk_bytes} bytes, {layout} layout, {upload:?} upload"
        );
        use wgpu::BufferUsages as U;
        let slots = device.scoped(|| {
            (0..RING_SLOTS)
                .map(|_| {
                    let staging = (upload == ChunkUpload::Staging).then(|| {
                        device.wgpu().create_buffer(&wgpu::BufferDescriptor {
                            label: Some("array staging"),
                            size: chunk_bytes,
                            usage: U::MAP_WRITE | U::COPY_SRC,
                            mapped_at_creation: true,
                        })
                    });
                    let data = OwnedData::new(device, layout, chunk_bytes);
                    let batches =
                        Batches::new(device, shape, PARAMS_BYTES, partial_bytes, timestamps)?;
                    let bind_group = kernels.bind_group(device, &batches, data.as_ref());
                    Ok(Slot {
                        staging,
                        data,
                        batches,
                        bind_group,
                        mapping: None,
                        in_flight: None,
                    })
                })
                .collect::<Result<Vec<Slot>, Error>>()
        })??;
        Ok(Self {
            slots,
            chunk_bytes,
            partial_bytes,
        })
    }

    /// Whether the ring's batches hold `dtype`'s partials.
    pub(crate) fn fits(&self, dtype: Dtype) -> bool {
        self.partial_bytes == partial_bytes(dtype)
    }

    pub(crate) fn layout(&self) -> ArrayLayout {
        self.slots[0].data.as_ref().layout()
    }

    /// Adds everything `chunks` gives into `outcome`, with `tap` shown each chunk (little-endian,
    /// whole elements) before it is uploaded. On an error the ring is left mid-stream: drop it.
    pub(crate) async fn sum(
        &mut self,
        device: &Device,
        kernels: &ArrayKernels,
        chunks: &mut Chunks<'_>,
        control: &Control<'_>,
        tap: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
        outcome: &mut Outcome,
    ) -> Result<(), Error> {
        let dtype = chunks.dtype();
        debug_assert!(self.fits(dtype));
        let layout = self.layout();
        let pipeline = kernels.pipeline(device, Workload::Array(dtype, layout))?;
        let mut next = 0;
        loop {
            control.check()?;
            let slot = &mut self.slots[next];
            if slot.collect(device, dtype, control, outcome).await? {
                control.report(outcome.total.count() as u128, 0);
            }
            let chunk = chunks.next(self.chunk_bytes as usize).await?;
            if chunk.is_empty() {
                break;
            }
            tap(chunk)?;
            slot.wait_mapped(device, control).await?;
            let bytes = chunk.len() as u64;
            slot.put(device, chunk)?;
            let count = bytes / dtype.size() as u64;
            let [submission] = &kernels.plan(0, bytes, min_units_per_invocation(dtype))[..] else {
                unreachable!("a chunk is at most one submission")
            };
            let (staging, data) = (&slot.staging, &slot.data);
            let pending =
                slot.batches
                    .submit(device, &pipeline, &slot.bind_group, submission, |encoder| {
                        if let Some(staging) = staging {
                            data.upload(encoder, staging, bytes);
                        }
                    });
            slot.in_flight = Some((pending, count));
            next = (next + 1) % self.slots.len();
        }
        // The other slot may still hold the chunk before the last.
        for slot in &mut self.slots {
            slot.collect(device, dtype, control, outcome).await?;
        }
        control.report(outcome.total.count() as u128, 0);
        Ok(())
    }
}

impl Slot {
    /// Waits for the chunk in flight, if any, adds its sum to `outcome`, and starts mapping the
    /// staging buffer for the next; returns whether there was one.
    async fn collect(
        &mut self,
        device: &Device,
        dtype: Dtype,
        control: &Control<'_>,
        outcome: &mut Outcome,
    ) -> Result<bool, Error> {
        let Some((pending, count)) = self.in_flight.take() else {
            return Ok(false);
        };
        let readback = self
            .batches
            .finish(device, pending, control, |p| Part::decode(dtype, p))
            .await?;
        outcome.add_submission(
            &Part::total(dtype, readback.dispatches, count)?,
            readback.kernel_seconds,
        )?;
        self.start_mapping();
        Ok(true)
    }

    /// Puts `chunk` where the slot's next submission takes it: into the mapped staging buffer,
    /// or straight into the data through the queue (ordered before that submission).
    fn put(&self, device: &Device, chunk: &[u8]) -> Result<(), Error> {
        let Some(staging) = &self.staging else {
            self.data.write(device.queue(), chunk);
            return Ok(());
        };
        {
            let mut view = staging.slice(..).get_mapped_range_mut()?;
            view.slice(..chunk.len()).copy_from_slice(chunk);
        }
        staging.unmap();
        Ok(())
    }

    /// Starts mapping the staging buffer for writing, if there is one; the device finished with
    /// it.
    fn start_mapping(&mut self) {
        let Some(staging) = &self.staging else {
            return;
        };
        let (sender, receiver) = futures_intrusive::channel::shared::oneshot_channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Write, move |result| {
                sender.send(result).ok();
            });
        self.mapping = Some(receiver);
    }

    /// Waits until the staging buffer is mapped (at once, unless this is its first chunk since
    /// it was released). Natively a poll delivers the callback: the buffer's last use has
    /// finished, so this does not wait on the chunk in flight in the other slot. On the web the
    /// browser delivers it while this awaits.
    async fn wait_mapped(&mut self, device: &Device, control: &Control<'_>) -> Result<(), Error> {
        let Some(receiver) = self.mapping.take() else {
            return Ok(()); // Mapped at creation.
        };
        let mapped = if cfg!(target_arch = "wasm32") {
            bounded(receiver.receive(), control).await?
        } else {
            let mut receive = std::pin::pin!(receiver.receive());
            loop {
                control.check()?;
                device.poll_once()?;
                if let std::task::Poll::Ready(result) = poll_now(receive.as_mut()) {
                    break result;
                }
                yield_now().await;
            }
        };
        match mapped {
            Some(result) => result.map_err(Error::Map),
            None => Err(Error::DeviceLost {
                reason: "the map callback was dropped".into(),
            }),
        }
    }
}
