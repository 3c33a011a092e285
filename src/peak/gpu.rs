//! The device's integer-add peak (shaders/peak_add.wgsl), built on a context's device.

use std::fmt;

use bytemuck::{Pod, Zeroable};

use super::{PeakMeasurement, measure_runs, timed};
use crate::Error;
use crate::control::Control;
use crate::gpu::device::Device;
use crate::gpu::{GpuContext, peak_wgsl};

/// Ops per invocation per loop iteration: 32 vec4 adds (`ADDS_PER_ITERATION` in the shader).
const OPS_PER_ITERATION: u64 = 32 * 4;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PeakParams {
    iterations: u32,
    seed: u32,
    _pad: [u32; 2],
}

/// The peak kernel, built on a context's device.
pub struct GpuPeak<'a> {
    device: &'a Device,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    params: wgpu::Buffer,
    workgroups: u32,
    workgroup_size: u32,
}

impl<'a> GpuPeak<'a> {
    /// Builds the kernel on `context`'s device: enough workgroups to fill a hardware GPU (2^12),
    /// or a software adapter's threads (2^6).
    ///
    /// # Errors
    /// A wgpu error while building.
    pub fn new(context: &'a GpuContext) -> Result<Self, Error> {
        let device = context.shared_device();
        let software = device.info().device_type == wgpu::DeviceType::Cpu;
        let workgroups = if software { 1 << 6 } else { 1 << 12 };
        let workgroup_size = context.shape().workgroup_size;
        use wgpu::BufferUsages as U;
        let params = device.buffer(
            "peak params",
            size_of::<PeakParams>() as u64,
            U::UNIFORM | U::COPY_DST,
        );
        let sink = device.buffer(
            "peak sink",
            workgroups as u64 * workgroup_size as u64 * 4,
            U::STORAGE,
        );
        let (pipeline, bind_group) = device.scoped(|| {
            // Built like the sum kernels, so both are compared on the same terms.
            let module = device.trusted_module("peak_add", &peak_wgsl(workgroup_size));
            let pipeline =
                device
                    .wgpu()
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some("peak_add"),
                        layout: None,
                        module: &module,
                        entry_point: Some("main"),
                        compilation_options: Default::default(),
                        cache: None,
                    });
            let bind_group = device.wgpu().create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("peak_add"),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: params.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: sink.as_entire_binding(),
                    },
                ],
            });
            (pipeline, bind_group)
        })?;
        Ok(Self {
            device,
            pipeline,
            bind_group,
            params,
            workgroups,
            workgroup_size,
        })
    }

    /// Grows the loop length until one run takes at least `min_seconds`, and reports that run.
    ///
    /// # Errors
    /// [`Error::Timeout`] or [`Error::Cancelled`] from `control`, and the device's failures.
    pub fn measure(&self, min_seconds: f64, control: &Control) -> Result<PeakMeasurement, Error> {
        let invocations = self.workgroups as u64 * self.workgroup_size as u64;
        measure_runs(
            min_seconds,
            (64, 1 << 24),
            invocations * OPS_PER_ITERATION,
            control,
            |iterations| self.run(iterations as u32, control),
        )
    }

    fn run(&self, iterations: u32, control: &Control) -> Result<f64, Error> {
        let queue = self.device.queue();
        queue.write_buffer(
            &self.params,
            0,
            bytemuck::bytes_of(&PeakParams {
                iterations,
                seed: 0x9e37_79b9,
                _pad: [0; 2],
            }),
        );
        let mut encoder = self
            .device
            .wgpu()
            .create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.dispatch_workgroups(self.workgroups, 1, 1);
        }
        // Let the parameter upload finish first, so the timed span is the kernel's.
        self.device.wait(None, control)?;
        let (waited, seconds) = timed(|| {
            let submission = queue.submit([encoder.finish()]);
            self.device.wait(Some(submission), control)
        });
        waited.map(|()| seconds)
    }
}

impl fmt::Debug for GpuPeak<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuPeak")
            .field("adapter", &self.device.label())
            .field("workgroups", &self.workgroups)
            .finish_non_exhaustive()
    }
}
