//! [`GpuContext`]'s array sums: slices and streams through the ring, a caller's buffer in place,
//! and arrays gpusum keeps on the device ([`DeviceArray`]). Integers and floats take the same
//! paths; only the kernel and its partials differ.

use std::io::Read;
use std::sync::Arc;

use super::GpuContext;
use crate::Error;
use crate::array::{ArrayOutcome, ByteOrder, Dtype, ExactIntSum, IntSlice, swap_to_little_endian};
use crate::control::Control;
use crate::gpu::array::{DataRef, MAX_WINDOW_BYTES, OwnedData, UNIT_BYTES, partial_bytes};
use crate::gpu::readback::Batches;
use crate::gpu::ring::{ChunkSource, Ring};
use crate::gpu::shape::PARTIAL_BYTES;
use crate::input::ArrayReader;
use crate::kernel::ArrayLayout;
use crate::total::{ArrayTotal, FloatSlice};

/// An array gpusum keeps on the device, in the layout its context reads fastest, for
/// sums that move no data (see [`GpuContext::upload`]).
pub struct DeviceArray {
    /// The device it lives on, by address: its context's.
    device: usize,
    dtype: Dtype,
    len: u64,
    layout: ArrayLayout,
    /// Each window's data and bytes.
    windows: Vec<(OwnedData, u64)>,
}

impl DeviceArray {
    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// Number of elements.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the array holds no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the data lives.
    pub fn layout(&self) -> ArrayLayout {
        self.layout
    }
}

impl std::fmt::Debug for DeviceArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceArray")
            .field("dtype", &self.dtype)
            .field("len", &self.len)
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

/// A slice's bytes, chunk by chunk, with no copy (this machine is little-endian).
struct SliceSource<'a> {
    bytes: &'a [u8],
}

impl ChunkSource for SliceSource<'_> {
    fn next_chunk(&mut self, max: usize) -> Result<&[u8], Error> {
        let (chunk, rest) = self.bytes.split_at(max.min(self.bytes.len()));
        self.bytes = rest;
        Ok(chunk)
    }
}

/// A reader's data, read into one buffer a chunk at a time and put in little-endian order.
struct ReaderSource<'a, R> {
    reader: &'a mut ArrayReader<R>,
    buffer: Vec<u8>,
}

impl<R: Read> ChunkSource for ReaderSource<'_, R> {
    fn next_chunk(&mut self, max: usize) -> Result<&[u8], Error> {
        self.buffer.resize(max, 0);
        let filled = self.reader.fill(&mut self.buffer)?;
        let format = self.reader.format();
        let chunk = &mut self.buffer[..filled];
        if format.order == ByteOrder::Big {
            swap_to_little_endian(format.dtype, chunk);
        }
        Ok(chunk)
    }
}

impl GpuContext {
    /// Where this context's arrays live on the device.
    pub fn array_layout(&self) -> ArrayLayout {
        self.array_layout
    }

    /// Bytes of data per chunk of a stream (each of the ring's slots holds one).
    pub fn array_chunk_bytes(&self) -> u64 {
        self.array_chunk_bytes
    }

    /// The exact sum of `data`, uploaded in chunks through the ring and every element added on
    /// the device.
    ///
    /// # Errors
    /// As for [`GpuContext::sum`].
    pub fn sum_ints(&self, data: IntSlice<'_>, control: &Control) -> Result<ArrayOutcome, Error> {
        self.sum_native_bytes(data.dtype(), data.as_bytes(), control)
    }

    /// The exact sum of `data`, rounded once (see [`ArrayTotal`]), every value added on the
    /// device with integer operations only: the same bits as the CPU's
    /// [`ExactFloatSum`](crate::ExactFloatSum).
    ///
    /// # Errors
    /// As for [`GpuContext::sum`].
    pub fn sum_floats(
        &self,
        data: FloatSlice<'_>,
        control: &Control,
    ) -> Result<ArrayOutcome, Error> {
        self.sum_native_bytes(data.dtype(), data.as_bytes(), control)
    }

    fn sum_native_bytes(
        &self,
        dtype: Dtype,
        bytes: &[u8],
        control: &Control,
    ) -> Result<ArrayOutcome, Error> {
        if cfg!(target_endian = "big") {
            let mut reader = ArrayReader::new(
                bytes,
                "the slice",
                crate::input::InputHints::raw(dtype).with_big_endian(true),
                Some(bytes.len() as u64),
            )?;
            return self.sum_reader(&mut reader, control);
        }
        let mut source = SliceSource { bytes };
        self.stream(dtype, &mut source, control, &mut |_| Ok(()))
    }

    /// The exact sum of everything `reader` holds, streamed through the ring: memory stays at
    /// the ring's size (two chunks of staging and two of device data) plus one chunk on the
    /// host, for any length of input.
    ///
    /// # Errors
    /// The reader's errors, and those of [`GpuContext::sum`].
    pub fn sum_reader<R: Read>(
        &self,
        reader: &mut ArrayReader<R>,
        control: &Control,
    ) -> Result<ArrayOutcome, Error> {
        self.sum_reader_tapped(reader, control, &mut |_| Ok(()))
    }

    /// [`GpuContext::sum_reader`], showing `tap` each chunk (little-endian, whole elements)
    /// before it is uploaded: the CPU twin checks a stream this way without reading it twice.
    pub(crate) fn sum_reader_tapped<R: Read>(
        &self,
        reader: &mut ArrayReader<R>,
        control: &Control,
        tap: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<ArrayOutcome, Error> {
        let dtype = reader.format().dtype;
        let mut source = ReaderSource {
            reader,
            buffer: Vec::new(),
        };
        self.stream(dtype, &mut source, control, tap)
    }

    fn device_id(&self) -> usize {
        std::sync::Arc::as_ptr(&self.device) as usize
    }

    fn stream(
        &self,
        dtype: Dtype,
        source: &mut dyn ChunkSource,
        control: &Control,
        tap: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<ArrayOutcome, Error> {
        let _turn = self.turn.take(control)?;
        self.device.check_health()?;
        // A ring that failed mid-stream is dropped here; the next call builds a fresh one.
        let kept = super::lock(&self.ring).take();
        let mut ring = match kept.filter(|ring| ring.fits(dtype)) {
            Some(ring) => ring,
            None => Ring::new(
                &self.device,
                &self.arrays,
                &self.shape,
                self.array_layout,
                self.array_chunk_bytes,
                dtype,
                self.timestamps,
            )?,
        };
        let window = ring.sum(&self.device, &self.arrays, dtype, source, control, tap)?;
        *super::lock(&self.ring) = Some(ring);
        Ok(ArrayOutcome {
            kernel_seconds: window.kernel_seconds.filter(|_| self.timestamps),
            ..ArrayOutcome::new(window.total)
        })
    }

    /// The batches for sums already on the device with `bytes` of partial per workgroup
    /// ([`partial_bytes`] of the type), built the first time that size is asked for.
    fn window_batches(&self, bytes: u64) -> Result<Arc<Batches>, Error> {
        let mut built = super::lock(&self.window_batches);
        if let Some(batches) = built.iter().find(|b| b.partial_bytes() == bytes) {
            return Ok(batches.clone());
        }
        let batches = Arc::new(self.device.scoped(|| {
            Batches::new(
                &self.device,
                &self.shape,
                crate::gpu::array::PARAMS_BYTES,
                bytes,
                self.timestamps,
            )
        })??);
        built.push(batches.clone());
        Ok(batches)
    }

    /// The exact sum of `len` elements of `dtype` at byte `offset` of a caller's buffer, summed
    /// in place: the buffer needs `STORAGE` usage, `offset` must be a multiple of 4 and of the
    /// element size, and the buffer must hold the elements' bytes rounded up to a multiple of 4.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] for a buffer or range the kernels cannot read, and those of
    /// [`GpuContext::sum`].
    pub fn sum_buffer(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        len: u64,
        dtype: Dtype,
        control: &Control,
    ) -> Result<ArrayOutcome, Error> {
        let invalid = |reason: String| Err(Error::InvalidArray { reason });
        if !buffer.usage().contains(wgpu::BufferUsages::STORAGE) {
            return invalid("the buffer needs STORAGE usage".into());
        }
        let size = dtype.size() as u64;
        if !offset.is_multiple_of(size.max(4)) {
            return invalid(format!(
                "the offset {offset} is not a multiple of 4 and of {dtype}'s {size} bytes"
            ));
        }
        let end = len
            .checked_mul(size)
            .and_then(|bytes| bytes.checked_add(offset))
            .filter(|end| end.next_multiple_of(4) <= buffer.size());
        let Some(end) = end else {
            return invalid(format!(
                "{len} {dtype} elements from byte {offset}, rounded up to whole words, pass \
                 the buffer's {} bytes",
                buffer.size()
            ));
        };
        ExactIntSum::from_parts(0, len)?;
        let _turn = self.turn.take(control)?;
        self.device.check_health()?;
        let batches = self.window_batches(partial_bytes(dtype))?;
        let alignment = self
            .device
            .wgpu()
            .limits()
            .min_storage_buffer_offset_alignment as u64;
        let mut total = ArrayTotal::new(dtype);
        let mut kernel_seconds = Some(0.0);
        let mut begin = offset;
        while begin < end {
            let start = begin / alignment * alignment;
            // Windows end on element boundaries, at most MAX_WINDOW_BYTES past their start.
            let window_end = end.min((start + MAX_WINDOW_BYTES) / size * size);
            let data = DataRef::Buffer { buffer, start };
            let window = self.arrays.sum_window(
                &self.device,
                &batches,
                dtype,
                data,
                begin - start,
                window_end - start,
                control,
            )?;
            total.merge(&window.total)?;
            kernel_seconds = kernel_seconds
                .zip(window.kernel_seconds)
                .map(|(a, b)| a + b);
            control.report(total.count() as u128, len as u128);
            begin = window_end;
        }
        Ok(ArrayOutcome {
            kernel_seconds: kernel_seconds.filter(|_| self.timestamps),
            ..ArrayOutcome::new(total)
        })
    }

    /// Puts `data` on the device in this context's layout, for [`GpuContext::sum_device_array`].
    ///
    /// # Errors
    /// The device's failures (out of memory, most likely).
    pub fn upload(&self, data: IntSlice<'_>, control: &Control) -> Result<DeviceArray, Error> {
        self.upload_bytes(data.dtype(), data.as_bytes(), control)
    }

    /// Puts float `data` on the device, as [`GpuContext::upload`] does integers.
    ///
    /// # Errors
    /// As for [`GpuContext::upload`].
    pub fn upload_floats(
        &self,
        data: FloatSlice<'_>,
        control: &Control,
    ) -> Result<DeviceArray, Error> {
        self.upload_bytes(data.dtype(), data.as_bytes(), control)
    }

    fn upload_bytes(
        &self,
        dtype: Dtype,
        bytes: &[u8],
        control: &Control,
    ) -> Result<DeviceArray, Error> {
        let _turn = self.turn.take(control)?;
        self.device.check_health()?;
        let layout = self.array_layout;
        let window_bytes =
            super::super::ring::max_chunk_bytes(layout, &self.device.wgpu().limits(), &self.arrays);
        let mut owned;
        let bytes = if cfg!(target_endian = "big") {
            owned = bytes.to_vec();
            swap_to_little_endian(dtype, &mut owned);
            &owned[..]
        } else {
            bytes
        };
        let windows = self.device.scoped(|| {
            bytes
                .chunks(window_bytes as usize)
                .map(|window| {
                    let data = OwnedData::new(&self.device, layout, window.len() as u64);
                    let staging = self.device.wgpu().create_buffer(&wgpu::BufferDescriptor {
                        label: Some("array upload"),
                        size: (window.len() as u64).next_multiple_of(UNIT_BYTES),
                        usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                        mapped_at_creation: true,
                    });
                    staging
                        .slice(..)
                        .get_mapped_range_mut()
                        .map(|mut view| view.slice(..window.len()).copy_from_slice(window))?;
                    staging.unmap();
                    let mut encoder = self
                        .device
                        .wgpu()
                        .create_command_encoder(&Default::default());
                    data.upload(&mut encoder, &staging, window.len() as u64);
                    self.device.queue().submit([encoder.finish()]);
                    Ok((data, window.len() as u64))
                })
                .collect::<Result<Vec<_>, Error>>()
        })??;
        self.device.wait(None, control)?;
        Ok(DeviceArray {
            device: self.device_id(),
            dtype,
            len: bytes.len() as u64 / dtype.size() as u64,
            layout,
            windows,
        })
    }

    /// The exact sum of an array on the device: kernels and readback only, no data moved.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] for an array uploaded by another context, and those of
    /// [`GpuContext::sum`].
    pub fn sum_device_array(
        &self,
        array: &DeviceArray,
        control: &Control,
    ) -> Result<ArrayOutcome, Error> {
        self.check_owned(array)?;
        let _turn = self.turn.take(control)?;
        self.device.check_health()?;
        let dtype = array.dtype;
        let batches = self.window_batches(partial_bytes(dtype))?;
        let mut total = ArrayTotal::new(dtype);
        let mut kernel_seconds = Some(0.0);
        for (data, bytes) in &array.windows {
            let window = self.arrays.sum_window(
                &self.device,
                &batches,
                dtype,
                data.as_ref(),
                0,
                *bytes,
                control,
            )?;
            total.merge(&window.total)?;
            kernel_seconds = kernel_seconds
                .zip(window.kernel_seconds)
                .map(|(a, b)| a + b);
            control.report(total.count() as u128, array.len as u128);
        }
        Ok(ArrayOutcome {
            kernel_seconds: kernel_seconds.filter(|_| self.timestamps),
            ..ArrayOutcome::new(total)
        })
    }

    /// The plain sum of an f32 array on the device: float additions in the GPU's order, so
    /// neither exact nor reproducible. It exists as the yardstick that shows what
    /// [`GpuContext::sum_device_array`]'s exact sum costs (`gpusum bench --workload float`); the
    /// workgroups' f32 partials are added in f64 on the host.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] for an array of another type or from another context, and those
    /// of [`GpuContext::sum`].
    pub fn sum_plain_f32(&self, array: &DeviceArray, control: &Control) -> Result<f32, Error> {
        self.check_owned(array)?;
        if array.dtype != Dtype::F32 {
            return Err(Error::InvalidArray {
                reason: format!("the plain float sum takes f32 arrays, not {}", array.dtype),
            });
        }
        let _turn = self.turn.take(control)?;
        self.device.check_health()?;
        let batches = self.window_batches(PARTIAL_BYTES)?;
        let mut sum = 0.0;
        for (data, bytes) in &array.windows {
            sum += self.arrays.plain_f32_window(
                &self.device,
                &batches,
                data.as_ref(),
                0,
                *bytes,
                control,
            )?;
        }
        Ok(sum as f32)
    }

    /// Fails unless `array` was uploaded by a context on this device.
    fn check_owned(&self, array: &DeviceArray) -> Result<(), Error> {
        if array.device == self.device_id() {
            return Ok(());
        }
        Err(Error::InvalidArray {
            reason: "the array was uploaded to another device".into(),
        })
    }
}
