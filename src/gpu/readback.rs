//! One submission of dispatches and its readback: the buffers every workload's batches use, the
//! encoding, the bounded map and poll, and the decoding of partials and timestamps.

use super::device::Device;
use super::shape::DispatchShape;
use crate::Error;
use crate::control::Control;

/// Begin and end timestamps of the pass, 8 bytes each.
const TIMESTAMP_BYTES: u64 = 16;

/// The buffers of one kernel's batches: a uniform slot per dispatch, a region of partials per
/// dispatch, a mappable copy of both partials and timestamps, and the timestamp queries.
pub(crate) struct Batches {
    params: wgpu::Buffer,
    partials: wgpu::Buffer,
    readback: wgpu::Buffer,
    params_size: u64,
    params_stride: u64,
    /// Bytes of one workgroup's partial, as the kernel writes them.
    partial_bytes: u64,
    partials_stride: u64,
    slots: u64,
    timestamps: Option<Timestamps>,
    /// Whether each submission zeroes its partials first (kernels that add into them).
    clears: bool,
}

struct Timestamps {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    period_ns: f64,
}

/// One dispatch of a batch: its parameters (the workload's uniform), its workgroups, and the
/// partials it writes (one per workgroup, for most kernels).
#[derive(Clone)]
pub(crate) struct Dispatch {
    pub(crate) params: Vec<u8>,
    pub(crate) workgroups: u32,
    pub(crate) partials: u32,
}

impl Dispatch {
    /// A dispatch of `workgroups` that write one partial each.
    pub(crate) fn new(params: Vec<u8>, workgroups: u32) -> Self {
        Self {
            params,
            workgroups,
            partials: workgroups,
        }
    }
}

/// What one submission's readback held.
pub(crate) struct Readback<T> {
    /// The decoded partials of each dispatch, in order.
    pub(crate) dispatches: Vec<T>,
    /// Time the pass ran, by GPU timestamps, when they were asked for and make sense.
    pub(crate) kernel_seconds: Option<f64>,
}

impl Batches {
    /// Buffers for batches of `shape`, with `params_size`-byte uniforms and `partial_bytes` of
    /// partial per workgroup; timestamps only when asked for and the device has them.
    pub(crate) fn new(
        device: &Device,
        shape: &DispatchShape,
        params_size: u64,
        partial_bytes: u64,
        timestamps: bool,
    ) -> Result<Self, Error> {
        let limits = device.wgpu().limits();
        let slots = shape.dispatches_per_submit as u64;
        let params_stride = align(params_size, limits.min_uniform_buffer_offset_alignment);
        let partials_bytes = shape.workgroups_per_dispatch as u64 * partial_bytes;
        let partials_stride = align(partials_bytes, limits.min_storage_buffer_offset_alignment);
        let readback_bytes = slots * partials_stride + TIMESTAMP_BYTES;
        if readback_bytes > limits.max_buffer_size {
            return Err(Error::InvalidShape {
                reason: format!(
                    "{readback_bytes} bytes of partials exceed this adapter's buffer limit"
                ),
            });
        }
        use wgpu::BufferUsages as U;
        let timestamps = (timestamps
            && device
                .wgpu()
                .features()
                .contains(wgpu::Features::TIMESTAMP_QUERY))
        .then(|| Timestamps {
            queries: device.wgpu().create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("pass begin and end"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
            resolve: device.buffer(
                "timestamps",
                TIMESTAMP_BYTES,
                U::QUERY_RESOLVE | U::COPY_SRC,
            ),
            period_ns: device.queue().get_timestamp_period() as f64,
        });
        Ok(Self {
            params: device.buffer("params", slots * params_stride, U::UNIFORM | U::COPY_DST),
            // COPY_DST for the batches that clear their partials (`clearing`).
            partials: device.buffer(
                "partials",
                slots * partials_stride,
                U::STORAGE | U::COPY_SRC | U::COPY_DST,
            ),
            readback: device.buffer("readback", readback_bytes, U::MAP_READ | U::COPY_DST),
            params_size,
            params_stride,
            partial_bytes,
            partials_stride,
            slots,
            timestamps,
            clears: false,
        })
    }

    /// The same batches, each submission zeroing its partials before its dispatches add to
    /// them.
    pub(crate) fn clearing(self) -> Self {
        Self {
            clears: true,
            ..self
        }
    }

    /// Most dispatches one submission may hold: one per slot.
    pub(crate) fn slots(&self) -> usize {
        self.slots as usize
    }

    /// Most partials one dispatch may write.
    pub(crate) fn partials_per_dispatch(&self) -> u64 {
        self.partials_stride / self.partial_bytes
    }

    /// Bytes of one workgroup's partial.
    pub(crate) fn partial_bytes(&self) -> u64 {
        self.partial_bytes
    }

    /// Whether batches report kernel time.
    pub(crate) fn has_timestamps(&self) -> bool {
        self.timestamps.is_some()
    }

    /// Layout entries for binding 0 (the parameters) and 1 (the partials), both with dynamic
    /// offsets; a workload adds its own bindings after them.
    pub(crate) fn layout_entries() -> [wgpu::BindGroupLayoutEntry; 2] {
        [
            layout_entry(0, wgpu::BufferBindingType::Uniform),
            layout_entry(1, wgpu::BufferBindingType::Storage { read_only: false }),
        ]
    }

    /// Bind group entries matching [`Batches::layout_entries`].
    pub(crate) fn bind_entries(&self) -> [wgpu::BindGroupEntry<'_>; 2] {
        let partials_bytes = self.partials_stride.min(self.partials.size());
        [
            binding(0, &self.params, self.params_size),
            binding(1, &self.partials, partials_bytes),
        ]
    }

    /// Records `dispatches` (at most one per slot) into one submission, reads their partials back
    /// with one map, and hands each dispatch's partials to `decode`; without blocking on the web.
    pub(crate) async fn run<T>(
        &self,
        device: &Device,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        dispatches: &[Dispatch],
        control: &Control<'_>,
        decode: impl FnMut(&[u8]) -> T,
    ) -> Result<Readback<T>, Error> {
        let pending = self.submit(device, pipeline, bind_group, dispatches, |_| {});
        self.finish(device, pending, control, decode).await
    }

    /// Records `before` (a copy of the data, say), then `dispatches` (at most one per slot), and
    /// the copy of their partials into one submission, and starts mapping the partials. The
    /// buffers are busy until [`Batches::finish`] takes the returned [`Pending`].
    pub(crate) fn submit(
        &self,
        device: &Device,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        dispatches: &[Dispatch],
        before: impl FnOnce(&mut wgpu::CommandEncoder),
    ) -> Pending {
        assert!(!dispatches.is_empty() && dispatches.len() as u64 <= self.slots);
        let mut params = vec![0u8; (dispatches.len() as u64 * self.params_stride) as usize];
        for (slot, dispatch) in dispatches.iter().enumerate() {
            let offset = slot * self.params_stride as usize;
            params[offset..offset + dispatch.params.len()].copy_from_slice(&dispatch.params);
        }
        let last = dispatches.len() - 1;
        let partials_bytes = last as u64 * self.partials_stride
            + dispatches[last].partials as u64 * self.partial_bytes;
        // The readback holds the timestamps first, then the partials: a call maps only the bytes
        // it wrote, which mattered for small sums (the whole buffer is slots x 128 KiB on
        // hardware).
        let mapped_bytes = TIMESTAMP_BYTES + partials_bytes;

        // No error scopes here: pushing and popping them cost every call a few percent of a small
        // sum, and anything wgpu reports reaches the uncaptured-error handler, which the wait
        // in `finish` checks.
        device.queue().write_buffer(&self.params, 0, &params);
        let mut encoder = device.wgpu().create_command_encoder(&Default::default());
        if self.clears {
            encoder.clear_buffer(&self.partials, 0, Some(partials_bytes.next_multiple_of(4)));
        }
        before(&mut encoder);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("gpusum"),
                timestamp_writes: self.timestamps.as_ref().map(|t| {
                    wgpu::ComputePassTimestampWrites {
                        query_set: &t.queries,
                        beginning_of_pass_write_index: Some(0),
                        end_of_pass_write_index: Some(1),
                    }
                }),
            });
            pass.set_pipeline(pipeline);
            for (slot, dispatch) in dispatches.iter().enumerate() {
                let offsets = [
                    (slot as u64 * self.params_stride) as u32,
                    (slot as u64 * self.partials_stride) as u32,
                ];
                pass.set_bind_group(0, bind_group, &offsets);
                pass.dispatch_workgroups(dispatch.workgroups, 1, 1);
            }
        }
        encoder.copy_buffer_to_buffer(
            &self.partials,
            0,
            &self.readback,
            TIMESTAMP_BYTES,
            partials_bytes,
        );
        if let Some(t) = &self.timestamps {
            encoder.resolve_query_set(&t.queries, 0..2, &t.resolve, 0);
            encoder.copy_buffer_to_buffer(&t.resolve, 0, &self.readback, 0, TIMESTAMP_BYTES);
        }
        let submission = device.queue().submit([encoder.finish()]);

        let (sender, receiver) = futures_intrusive::channel::shared::oneshot_channel();
        self.readback
            .slice(..mapped_bytes)
            .map_async(wgpu::MapMode::Read, move |result| {
                sender.send(result).ok();
            });
        Pending {
            submission,
            receiver,
            mapped_bytes,
            partials: dispatches.iter().map(|d| d.partials).collect(),
        }
    }

    /// Waits for a submission from [`Batches::submit`], bounded by `control`, and hands each
    /// dispatch's partials to `decode`.
    pub(crate) async fn finish<T>(
        &self,
        device: &Device,
        pending: Pending,
        control: &Control<'_>,
        mut decode: impl FnMut(&[u8]) -> T,
    ) -> Result<Readback<T>, Error> {
        if let Err(error) = device.wait_async(Some(pending.submission), control).await {
            // Drop the pending map so the next call starts clean.
            self.readback.unmap();
            return Err(error);
        }
        let mapped = match super::wait::bounded(pending.receiver.receive(), control).await {
            Ok(mapped) => mapped,
            Err(error) => {
                self.readback.unmap();
                return Err(error);
            }
        };
        match mapped {
            Some(Ok(())) => device.check_health()?,
            Some(Err(source)) => return Err(Error::Map(source)),
            None => {
                return Err(Error::DeviceLost {
                    reason: "the map callback never ran".into(),
                });
            }
        }

        let slice = self.readback.slice(..pending.mapped_bytes);
        let outcome = slice.get_mapped_range().map(|view| {
            let dispatches = pending
                .partials
                .iter()
                .enumerate()
                .map(|(slot, &partials)| {
                    let start = (TIMESTAMP_BYTES + slot as u64 * self.partials_stride) as usize;
                    let end = start + (partials as u64 * self.partial_bytes) as usize;
                    decode(&view[start..end])
                })
                .collect();
            let kernel_seconds = self.timestamps.as_ref().and_then(|t| {
                let at = |i: usize| {
                    let offset = 8 * i;
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(&view[offset..offset + 8]);
                    u64::from_le_bytes(bytes)
                };
                kernel_seconds(at(0), at(1), t.period_ns)
            });
            Readback {
                dispatches,
                kernel_seconds,
            }
        });
        self.readback.unmap();
        Ok(outcome?)
    }
}

/// A submission in flight: what [`Batches::finish`] needs to wait for it and read it.
pub(crate) struct Pending {
    submission: wgpu::SubmissionIndex,
    receiver:
        futures_intrusive::channel::shared::OneshotReceiver<Result<(), wgpu::BufferAsyncError>>,
    mapped_bytes: u64,
    partials: Vec<u32>,
}

/// Seconds between two timestamps; `None` for a zero or backwards pair, which some drivers
/// write, rather than a kernel that took no time.
fn kernel_seconds(begin: u64, end: u64, period_ns: f64) -> Option<f64> {
    (begin != 0 && end > begin).then(|| (end - begin) as f64 * period_ns * 1e-9)
}

fn layout_entry(binding: u32, ty: wgpu::BufferBindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: true,
            min_binding_size: None,
        },
        count: None,
    }
}

fn binding(binding: u32, buffer: &wgpu::Buffer, size: u64) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset: 0,
            size: wgpu::BufferSize::new(size),
        }),
    }
}

fn align(value: u64, alignment: u32) -> u64 {
    value.next_multiple_of(alignment.max(1) as u64)
}

/// Four little-endian u32 limbs, least significant first.
pub(crate) fn limbs_to_u128(bytes: &[u8]) -> u128 {
    bytes.chunks_exact(4).rev().fold(0u128, |acc, limb| {
        let mut word = [0u8; 4];
        word.copy_from_slice(limb);
        (acc << 32) | u32::from_le_bytes(word) as u128
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limbs_are_least_significant_first() {
        let mut bytes = Vec::new();
        for limb in [1u32, 2, 3, 4] {
            bytes.extend_from_slice(&limb.to_le_bytes());
        }
        assert_eq!(limbs_to_u128(&bytes), 1 + (2 << 32) + (3 << 64) + (4 << 96));
    }

    #[test]
    fn zero_or_backwards_timestamps_are_no_kernel_time() {
        assert_eq!(kernel_seconds(0, 500, 1.0), None);
        assert_eq!(kernel_seconds(900, 500, 1.0), None);
        assert_eq!(kernel_seconds(500, 500, 1.0), None);
        assert_eq!(kernel_seconds(1000, 3000, 0.5), Some(2000.0 * 0.5 * 1e-9));
    }
}
