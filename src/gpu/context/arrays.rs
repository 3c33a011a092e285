//! [`GpuContext`]'s arrays on the device: [`DeviceArray`]s it uploads, a caller's buffer summed in
//! place, the one loop over their windows, and the one-line conveniences over
//! [`GpuContext::run`]. Integers and floats take the same paths; only the kernel and its partials
//! differ.

use std::io::Read;
use std::sync::Arc;

use super::GpuContext;
use crate::Error;
use crate::array::{ByteOrder, Dtype, ExactIntSum, IntSlice, swap_to_little_endian};
use crate::control::Control;
use crate::engine::{ArrayBytes, BufferSlice, Outcome, Source};
use crate::gpu::array::{DataRef, MAX_WINDOW_BYTES, OwnedData, UNIT_BYTES, partial_bytes};
use crate::gpu::readback::Batches;
use crate::input::ArrayReader;
use crate::kernel::ArrayLayout;
use crate::total::FloatSlice;

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
    /// The shape of its elements in C order, for sums along axes; `None` is one axis.
    shape: Option<Vec<u64>>,
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

    /// The same array as a C-order array of `shape`, for sums along axes
    /// ([`Request::along`](crate::Request::along)).
    ///
    /// # Errors
    /// [`Error::InvalidArray`] when the shape does not hold exactly the array's elements.
    pub fn with_shape(self, shape: Vec<u64>) -> Result<Self, Error> {
        let count = shape.iter().try_fold(1u64, |n, &len| n.checked_mul(len));
        if count != Some(self.len) {
            return Err(Error::InvalidArray {
                reason: format!("a shape of {shape:?} does not hold {} elements", self.len),
            });
        }
        Ok(Self {
            shape: Some(shape),
            ..self
        })
    }

    /// The shape the array was given ([`DeviceArray::with_shape`]); `None` for one axis.
    pub fn shape(&self) -> Option<&[u64]> {
        self.shape.as_deref()
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

/// Data on the device, window by window: each binding's data and the bytes `[begin, end)` of it
/// to sum, with the element type and count.
pub(super) type Windows<'a> = (Dtype, u64, Vec<(DataRef<'a>, u64, u64)>);

impl GpuContext {
    fn device_id(&self) -> usize {
        Arc::as_ptr(&self.device) as usize
    }

    /// The windows of an array this context's device holds.
    pub(super) fn windows_of<'a>(&self, array: &'a DeviceArray) -> Result<Windows<'a>, Error> {
        if array.device != self.device_id() {
            return Err(Error::InvalidArray {
                reason: "the array was uploaded to another device".into(),
            });
        }
        let windows = array
            .windows
            .iter()
            .map(|(data, bytes)| (data.as_ref(), 0, *bytes))
            .collect();
        Ok((array.dtype, array.len, windows))
    }

    /// The windows of a caller's buffer: bindings start on the device's storage alignment and end
    /// on element boundaries, at most [`MAX_WINDOW_BYTES`] past their start.
    pub(super) fn windows_in<'a>(&self, slice: &BufferSlice<'a>) -> Result<Windows<'a>, Error> {
        let BufferSlice {
            buffer,
            offset,
            len,
            dtype,
        } = *slice;
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
        let alignment = self
            .device
            .wgpu()
            .limits()
            .min_storage_buffer_offset_alignment as u64;
        let mut windows = Vec::new();
        let mut begin = offset;
        while begin < end {
            let start = begin / alignment * alignment;
            let window_end = end.min((start + MAX_WINDOW_BYTES) / size * size);
            let data = DataRef::Buffer { buffer, start };
            windows.push((data, begin - start, window_end - start));
            begin = window_end;
        }
        Ok((dtype, len, windows))
    }

    /// Adds every window into `outcome`, reporting progress after each.
    pub(super) async fn sum_windows(
        &self,
        dtype: Dtype,
        len: u64,
        windows: &[(DataRef<'_>, u64, u64)],
        control: &Control<'_>,
        outcome: &mut Outcome,
    ) -> Result<(), Error> {
        let batches = self.window_batches(partial_bytes(dtype))?;
        for &(data, begin, end) in windows {
            self.arrays
                .sum_window(
                    &self.device,
                    &batches,
                    dtype,
                    data,
                    begin,
                    end,
                    control,
                    outcome,
                )
                .await?;
            control.report(outcome.total.count() as u128, len as u128);
        }
        Ok(())
    }

    /// The batches for sums already on the device with `bytes` of partial per workgroup
    /// ([`partial_bytes`] of the type), built the first time that size is asked for.
    pub(super) fn window_batches(&self, bytes: u64) -> Result<Arc<Batches>, Error> {
        let mut built = crate::gpu::device::lock(&self.window_batches);
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

    /// Puts `data` (integers or floats) on the device in this context's layout, for sums that
    /// move no data (`Source::Device`, [`GpuContext::sum_device_array`]).
    ///
    /// # Errors
    /// The device's failures (out of memory, most likely).
    pub async fn upload_async<'a>(
        &self,
        data: impl Into<ArrayBytes<'a>>,
        control: &Control<'_>,
    ) -> Result<DeviceArray, Error> {
        let data = data.into();
        let _turn = self.turn.take(control).await?;
        self.device.check_health()?;
        let (dtype, layout) = (data.dtype(), self.array_layout);
        let limits = self.device.wgpu().limits();
        let window_bytes = crate::gpu::ring::max_chunk_bytes(layout, &limits, &self.arrays);
        let mut owned;
        let bytes = if data.order() == ByteOrder::Little {
            data.bytes()
        } else {
            owned = data.bytes().to_vec();
            swap_to_little_endian(dtype, &mut owned);
            &owned[..]
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
        self.device.wait_async(None, control).await?;
        Ok(DeviceArray {
            device: self.device_id(),
            dtype,
            len: data.len(),
            layout,
            windows,
            shape: None,
        })
    }
}

/// Conveniences, each one line over [`GpuContext::run`] or [`GpuContext::upload_async`].
impl GpuContext {
    /// Puts `data` on the device, blocking natively (see [`GpuContext::upload_async`]).
    ///
    /// # Errors
    /// As for [`GpuContext::upload_async`].
    pub fn upload<'a>(
        &self,
        data: impl Into<ArrayBytes<'a>>,
        control: &Control<'_>,
    ) -> Result<DeviceArray, Error> {
        crate::gpu::wait::block(self.upload_async(data, control))
    }

    /// [`GpuContext::upload`] of floats.
    ///
    /// # Errors
    /// As for [`GpuContext::upload_async`].
    pub fn upload_floats(
        &self,
        data: FloatSlice<'_>,
        control: &Control<'_>,
    ) -> Result<DeviceArray, Error> {
        self.upload(data, control)
    }

    /// The exact sum of `data`, streamed through the ring.
    ///
    /// # Errors
    /// As for [`GpuContext::run_async`].
    pub fn sum_ints(&self, data: IntSlice<'_>, control: &Control<'_>) -> Result<Outcome, Error> {
        self.run(data.into(), control)
    }

    /// The exact sum of `data`, rounded once (see [`ArrayTotal`](crate::ArrayTotal)): the same
    /// bits as the CPU's [`ExactFloatSum`](crate::ExactFloatSum).
    ///
    /// # Errors
    /// As for [`GpuContext::run_async`].
    pub fn sum_floats(
        &self,
        data: FloatSlice<'_>,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        self.run(data.into(), control)
    }

    /// The exact sum of everything `reader` holds, streamed through the ring.
    ///
    /// # Errors
    /// As for [`GpuContext::run_async`].
    pub fn sum_reader<R: Read>(
        &self,
        reader: &mut ArrayReader<R>,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        self.run(Source::Reader(reader), control)
    }

    /// The exact sum of `len` elements of `dtype` at byte `offset` of a caller's buffer, summed
    /// in place: the buffer needs `STORAGE` usage, `offset` must be a multiple of 4 and of the
    /// element size, and the buffer must hold the elements' bytes rounded up to a multiple of 4.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] for a buffer or range the kernels cannot read, and those of
    /// [`GpuContext::run_async`].
    pub fn sum_buffer(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        len: u64,
        dtype: Dtype,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        let slice = BufferSlice {
            buffer,
            offset,
            len,
            dtype,
        };
        self.run(slice.into(), control)
    }

    /// The exact sum of an array on the device: kernels and readback only, no data moved.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] for an array uploaded by another context's device, and those of
    /// [`GpuContext::run_async`].
    pub fn sum_device_array(
        &self,
        array: &DeviceArray,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        self.run(array.into(), control)
    }
}

#[cfg(feature = "tools")]
impl GpuContext {
    /// The plain sum of an f32 array on the device: float additions in the GPU's order, so
    /// neither exact nor reproducible. It exists as the yardstick that shows what the exact sum
    /// costs (`gpusum bench --workload float`); the workgroups' f32 partials are added in f64
    /// on the host.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] for an array of another type or from another device, and those
    /// of [`GpuContext::run_async`].
    pub fn sum_plain_f32(&self, array: &DeviceArray, control: &Control<'_>) -> Result<f32, Error> {
        crate::gpu::wait::block(async {
            let (dtype, _, windows) = self.windows_of(array)?;
            if dtype != Dtype::F32 {
                return Err(Error::InvalidArray {
                    reason: format!("the plain float sum takes f32 arrays, not {dtype}"),
                });
            }
            let _turn = self.turn.take(control).await?;
            self.device.check_health()?;
            let batches = self.window_batches(crate::gpu::shape::PARTIAL_BYTES)?;
            let mut sum = 0.0;
            for (data, begin, end) in windows {
                sum += self
                    .arrays
                    .plain_f32_window(&self.device, &batches, data, begin, end, control)
                    .await?;
            }
            Ok(sum as f32)
        })
    }
}
