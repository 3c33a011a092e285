//! [`GpuContext`]'s sums along axes and by key: host data uploaded a chunk at a time, data on
//! the device summed where it lives, each rectangle or pass of keys dispatched and its partials
//! added to the outputs.

use std::sync::Arc;

use super::{GpuContext, Tap};
use crate::Error;
use crate::array::{ByteOrder, Dtype};
use crate::control::Control;
use crate::engine::{ArrayBytes, Source};
use crate::gpu::array::{DataRef, OwnedData, UNIT_BYTES, partial_bytes};
use crate::gpu::grouped::{self, Pieces, Rect, add_pieces};
use crate::gpu::kernel::Workload;
use crate::gpu::keyed::{self, Pass, slot_bytes};
use crate::gpu::readback::{Batches, Dispatch};
use crate::gpu::ring::Chunks;
use crate::gpu::shape::DispatchShape;
use crate::reduce::keys::KeyTable;
use crate::reduce::sums::Sums;
use crate::reduce::walk::Walk;

/// What a sum by key's passes are shown before they are uploaded: the engine's check by the CPU
/// twin, or nothing.
pub(crate) type KeyTap<'t> = &'t mut dyn FnMut(ArrayBytes<'_>, ArrayBytes<'_>) -> Result<(), Error>;

/// Bytes of partials one dispatch of a grouped kernel may write.
const PARTIALS_PER_DISPATCH_BYTES: u64 = 8 << 20;

/// Where a window's elements are: its data, the stream element its first is, and the element of
/// the binding that holds it.
struct Window<'a> {
    data: DataRef<'a>,
    first: u64,
    offset: u64,
}

impl GpuContext {
    /// Adds the elements of `chunks` (host data, little-endian, whole chunks of the stream in
    /// order) along `walk` to `sums`.
    pub(crate) async fn along_chunks(
        &self,
        chunks: &mut Chunks<'_>,
        walk: &Walk,
        sums: &mut Sums,
        tap: Tap<'_>,
        control: &Control<'_>,
    ) -> Result<(), Error> {
        let dtype = chunks.dtype();
        let _turn = self.turn.take(control).await?;
        self.device.check_health()?;
        let capacity = self.array_chunk_bytes.min(
            (walk.elements * dtype.size() as u64)
                .next_multiple_of(UNIT_BYTES)
                .max(UNIT_BYTES),
        );
        let data = self
            .device
            .scoped(|| OwnedData::new(&self.device, self.array_layout, capacity))?;
        let mut first = 0u64;
        loop {
            control.check()?;
            let chunk = chunks.next(capacity as usize).await?;
            if chunk.is_empty() {
                return Ok(());
            }
            let len = (chunk.len() / dtype.size()) as u64;
            tap(chunk)?;
            let staging = self.staging(chunk)?;
            let window = Window {
                data: data.as_ref(),
                first,
                offset: 0,
            };
            let upload = |encoder: &mut wgpu::CommandEncoder| {
                data.upload(encoder, &staging, chunk.len() as u64);
            };
            self.along_window(&window, dtype, walk, len, sums, upload, control)
                .await?;
            first += len;
            control.report(u128::from(first), u128::from(walk.elements));
        }
    }

    /// Adds the elements of an array on this device (a [`Source::Device`] or
    /// [`Source::Buffer`]) along `walk` to `sums`.
    pub(crate) async fn along_device(
        &self,
        source: &Source<'_>,
        walk: &Walk,
        sums: &mut Sums,
        control: &Control<'_>,
    ) -> Result<(), Error> {
        let (dtype, _, windows) = match source {
            Source::Device(array) => self.windows_of(array)?,
            Source::Buffer(slice) => self.windows_in(slice)?,
            _ => unreachable!("host data goes through along_chunks"),
        };
        let _turn = self.turn.take(control).await?;
        self.device.check_health()?;
        let size = dtype.size() as u64;
        let mut first = 0u64;
        for (data, begin, end) in windows {
            let len = (end - begin) / size;
            let window = Window {
                data,
                first,
                offset: begin / size,
            };
            self.along_window(&window, dtype, walk, len, sums, |_| {}, control)
                .await?;
            first += len;
            control.report(u128::from(first), u128::from(walk.elements));
        }
        Ok(())
    }

    /// Adds the `len` stream elements of `window` along `walk`: every rectangle of their blocks,
    /// its dispatches in submissions, the first after `upload`.
    #[allow(clippy::too_many_arguments)]
    async fn along_window(
        &self,
        window: &Window<'_>,
        dtype: Dtype,
        walk: &Walk,
        len: u64,
        sums: &mut Sums,
        upload: impl FnOnce(&mut wgpu::CommandEncoder),
        control: &Control<'_>,
    ) -> Result<(), Error> {
        let batches = self.grouped_batches(grouped::PARAMS_BYTES, partial_bytes(dtype), false)?;
        let bind_group = self.arrays.bind_group(&self.device, &batches, window.data);
        let workload = Workload::Grouped(dtype, window.data.layout());
        let size = self.shape.workgroup_size;
        let width = u64::from(self.shape.workgroups_per_dispatch) * u64::from(size);
        let mut upload = Some(upload);
        let blocks = walk.blocks(window.first, len);
        for rect in blocks
            .iter()
            .flat_map(|block| Rect::of_block(block, window.first, window.offset))
        {
            let mode = rect.mode(size);
            let pipeline = self
                .arrays
                .pipeline_at(&self.device, workload, mode.entry())?;
            let dispatches = rect.dispatches(mode, size, width, batches.partials_per_dispatch());
            // The batches' slots, not the context's: grouped batches hold fewer (at most 4).
            for submission in dispatches.chunks(batches.slots()) {
                control.check()?;
                let (dispatches, pieces): (Vec<Dispatch>, Vec<&Pieces>) =
                    submission.iter().map(|(d, p)| (d.clone(), p)).unzip();
                let before = upload.take();
                let pending = batches.submit(
                    &self.device,
                    &pipeline,
                    &bind_group,
                    &dispatches,
                    |encoder| {
                        if let Some(upload) = before {
                            upload(encoder);
                        }
                    },
                );
                let readback = batches
                    .finish(&self.device, pending, control, |partials| partials.to_vec())
                    .await?;
                for (partials, pieces) in readback.dispatches.iter().zip(pieces) {
                    add_pieces(dtype, partials, pieces, sums)?;
                }
            }
        }
        if let Some(upload) = upload {
            // A window whose elements formed no rectangle still takes its upload's turn.
            let mut encoder = self
                .device
                .wgpu()
                .create_command_encoder(&Default::default());
            upload(&mut encoder);
            self.device.queue().submit([encoder.finish()]);
        }
        Ok(())
    }

    /// Adds `values` (host data) by `keys` (as many elements, integers) into `table`, a pass of
    /// at most one dispatch's slots at a time, each pass shown to `tap` first.
    pub(crate) async fn by_key_chunks(
        &self,
        values: &mut Chunks<'_>,
        keys: &mut Chunks<'_>,
        table: &mut KeyTable,
        total: u64,
        tap: KeyTap<'_>,
        control: &Control<'_>,
    ) -> Result<(), Error> {
        let (value_dtype, key_dtype) = (values.dtype(), keys.dtype());
        let _turn = self.turn.take(control).await?;
        self.device.check_health()?;
        let batches = self.grouped_batches(keyed::PARAMS_BYTES, slot_bytes(value_dtype), true)?;
        let workload = Workload::Keyed(value_dtype, self.array_layout);
        let pipeline = self.arrays.pipeline(&self.device, workload)?;
        // Every element of a pass may be a slot of its own, and the binding holds its value and
        // its slot.
        let bytes_each = value_dtype.size() as u64 + 4;
        // A multiple of 16 elements: whole 16-byte chunks of any type.
        let elements = (batches
            .partials_per_dispatch()
            .min(self.array_chunk_bytes / bytes_each)
            .min(1 << 31)
            / 16
            * 16)
            .max(16);
        let capacity = (elements * bytes_each + 4).next_multiple_of(UNIT_BYTES);
        let data = self
            .device
            .scoped(|| OwnedData::new(&self.device, self.array_layout, capacity))?;
        let bind_group = self
            .arrays
            .bind_group(&self.device, &batches, data.as_ref());
        let (mut read_keys, mut read_values) = (0u64, 0u64);
        loop {
            control.check()?;
            let k = keys.next(elements as usize * key_dtype.size()).await?;
            let k = ArrayBytes::new(k, key_dtype, ByteOrder::Little)?;
            let v = values.next(elements as usize * value_dtype.size()).await?;
            read_keys += k.len();
            read_values += (v.len() / value_dtype.size()) as u64;
            if k.len() != (v.len() / value_dtype.size()) as u64 {
                return Err(Error::KeyCount {
                    keys: read_keys,
                    values: read_values,
                });
            }
            if v.is_empty() {
                return Ok(());
            }
            tap(k, ArrayBytes::new(v, value_dtype, ByteOrder::Little)?)?;
            let pass = Pass::new(k, v);
            let staging = self.staging(&pass.bytes)?;
            let dispatch = pass.dispatch(self.shape.workgroup_size);
            let pending = batches.submit(
                &self.device,
                &pipeline,
                &bind_group,
                &[dispatch],
                |encoder| {
                    data.upload(encoder, &staging, pass.bytes.len() as u64);
                },
            );
            let readback = batches
                .finish(&self.device, pending, control, |partials| {
                    pass.table(key_dtype, value_dtype, partials)
                })
                .await?;
            for local in readback.dispatches {
                table.merge(&local?);
            }
            control.report(u128::from(read_values), u128::from(total));
        }
    }

    /// A mapped staging buffer holding `bytes`, ready to copy from.
    fn staging(&self, bytes: &[u8]) -> Result<wgpu::Buffer, Error> {
        let staging = self.device.scoped(|| {
            self.device.wgpu().create_buffer(&wgpu::BufferDescriptor {
                label: Some("grouped upload"),
                size: (bytes.len() as u64)
                    .next_multiple_of(UNIT_BYTES)
                    .max(UNIT_BYTES),
                usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: true,
            })
        })?;
        staging
            .slice(..)
            .get_mapped_range_mut()
            .map(|mut view| view.slice(..bytes.len()).copy_from_slice(bytes))?;
        staging.unmap();
        Ok(staging)
    }

    /// The batches of a grouped or keyed kernel with `params_bytes` of uniform and
    /// `partial_bytes` per partial (cleared before each submission where `clears`), built the
    /// first time they are asked for: each dispatch holds [`PARTIALS_PER_DISPATCH_BYTES`] of
    /// partials, or the device's width of them if fewer.
    fn grouped_batches(
        &self,
        params_bytes: u64,
        partial_bytes: u64,
        clears: bool,
    ) -> Result<Arc<Batches>, Error> {
        let mut built = crate::gpu::device::lock(&self.grouped_batches);
        let key = (params_bytes, partial_bytes, clears);
        if let Some((_, batches)) = built.iter().find(|(k, _)| *k == key) {
            return Ok(batches.clone());
        }
        let partials = (PARTIALS_PER_DISPATCH_BYTES / partial_bytes).max(1);
        let shape = DispatchShape {
            workgroups_per_dispatch: partials.min(u64::from(u32::MAX)) as u32,
            dispatches_per_submit: self.shape.dispatches_per_submit.min(4),
            ..self.shape
        };
        let batches = self.device.scoped(|| {
            Batches::new(
                &self.device,
                &shape,
                params_bytes,
                partial_bytes,
                self.timestamps,
            )
        })??;
        let batches = Arc::new(if clears { batches.clearing() } else { batches });
        built.push((key, batches.clone()));
        Ok(batches)
    }
}
