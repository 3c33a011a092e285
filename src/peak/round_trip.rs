//! The floor under any GPU call: one dispatch of a one-invocation kernel, a 16-byte copy to a
//! mappable buffer, the map and the wait; what a minimal wgpu program does per readback. The bench
//! sets a one-element sum beside it.

use std::fmt;

use super::timed;
use crate::Error;
use crate::control::Control;
use crate::gpu::GpuContext;
use crate::gpu::device::Device;

const KERNEL: &str = "@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(1)
fn main() { out[0] = out[0] + 1u; }";

/// A minimal dispatch plus readback, built on a context's device.
pub struct RoundTrip<'a> {
    device: &'a Device,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    storage: wgpu::Buffer,
    readback: wgpu::Buffer,
}

impl<'a> RoundTrip<'a> {
    /// Builds the kernel and buffers on `context`'s device.
    ///
    /// # Errors
    /// A wgpu error while building.
    pub fn new(context: &'a GpuContext) -> Result<Self, Error> {
        let device = context.shared_device();
        use wgpu::BufferUsages as U;
        let storage = device.buffer("round trip", 16, U::STORAGE | U::COPY_SRC);
        let readback = device.buffer("round trip readback", 16, U::MAP_READ | U::COPY_DST);
        let (pipeline, bind_group) = device.scoped(|| {
            let module = device.trusted_module("round trip", KERNEL);
            let pipeline =
                device
                    .wgpu()
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some("round trip"),
                        layout: None,
                        module: &module,
                        entry_point: Some("main"),
                        compilation_options: Default::default(),
                        cache: None,
                    });
            let bind_group = device.wgpu().create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("round trip"),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: storage.as_entire_binding(),
                }],
            });
            (pipeline, bind_group)
        })?;
        Ok(Self {
            device,
            pipeline,
            bind_group,
            storage,
            readback,
        })
    }

    /// Seconds one round trip takes.
    ///
    /// # Errors
    /// [`Error::Timeout`] or [`Error::Cancelled`] from `control`, and the device's failures.
    pub fn measure_once(&self, control: &Control) -> Result<f64, Error> {
        let (result, seconds) = timed(|| {
            let mut encoder = self
                .device
                .wgpu()
                .create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &self.bind_group, &[]);
                pass.dispatch_workgroups(1, 1, 1);
            }
            encoder.copy_buffer_to_buffer(&self.storage, 0, &self.readback, 0, 16);
            let submission = self.device.queue().submit([encoder.finish()]);
            let slice = self.readback.slice(..);
            slice.map_async(wgpu::MapMode::Read, |_| {});
            let waited = self.device.wait(Some(submission), control);
            if waited.is_ok() {
                let _ = std::hint::black_box(slice.get_mapped_range().map(|view| view[0]));
            }
            self.readback.unmap();
            waited
        });
        result.map(|()| seconds)
    }
}

impl fmt::Debug for RoundTrip<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoundTrip")
            .field("adapter", &self.device.label())
            .finish_non_exhaustive()
    }
}
