//! The device's integer-add peak (shaders/peak_add.wgsl), so a report can say what fraction of it
//! the range sum reaches.

use std::time::{Duration, Instant};

use bytemuck::{Pod, Zeroable};

use super::context::{create_buffer, trusted_module};
use super::{GpuContext, WORKGROUP_SIZE};
use crate::Error;
use crate::bench::PeakMeasurement;

/// Ops per invocation per loop iteration: 8 vec4 adds (`ADDS_PER_ITERATION` in the shader).
const OPS_PER_ITERATION: u64 = 8 * 4;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PeakParams {
    iterations: u32,
    seed: u32,
    _pad: [u32; 2],
}

/// The peak kernel, built on a context's device.
pub struct PeakKernel<'a> {
    context: &'a GpuContext,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    params: wgpu::Buffer,
    workgroups: u32,
}

impl<'a> PeakKernel<'a> {
    /// Builds the kernel on `context`'s device: enough workgroups to fill a hardware GPU (2^12),
    /// or a software adapter's threads (2^6).
    pub fn new(context: &'a GpuContext) -> Result<Self, Error> {
        let device = context.device();
        let software = context.adapter_info().device_type == wgpu::DeviceType::Cpu;
        let workgroups = if software { 1 << 6 } else { 1 << 12 };
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        // Built like the range-sum kernels, so both are compared on the same terms.
        let module = trusted_module(device, "peak_add", super::shader("peak_add.wgsl"));
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("peak_add"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let buffer = |label, size, usage| create_buffer(device, label, size, usage);
        let params = buffer(
            "peak params",
            size_of::<PeakParams>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let sink = buffer(
            "peak sink",
            workgroups as u64 * WORKGROUP_SIZE as u64 * 4,
            wgpu::BufferUsages::STORAGE,
        );
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
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
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu {
                adapter: context.adapter_name(),
                message: error.to_string(),
            });
        }
        Ok(Self {
            context,
            pipeline,
            bind_group,
            params,
            workgroups,
        })
    }

    /// Doubles the loop length until one run takes at least `min_seconds`, and reports that run.
    pub fn measure(&self, min_seconds: f64) -> Result<PeakMeasurement, Error> {
        let mut iterations: u32 = 64;
        loop {
            let seconds = self.run(iterations)?;
            if seconds >= min_seconds || iterations >= 1 << 24 {
                let invocations = self.workgroups as u64 * WORKGROUP_SIZE as u64;
                let ops = invocations * iterations as u64 * OPS_PER_ITERATION;
                return Ok(PeakMeasurement {
                    ops_per_second: ops as f64 / seconds,
                    ops,
                    seconds,
                });
            }
            // Aim a little past the target, at most 16x per step.
            let scale = (min_seconds * 1.2 / seconds.max(1e-6)).clamp(2.0, 16.0);
            iterations = (iterations as f64 * scale).min((1u32 << 24) as f64) as u32;
        }
    }

    fn run(&self, iterations: u32) -> Result<f64, Error> {
        let device = self.context.device();
        let queue = self.context.queue();
        queue.write_buffer(
            &self.params,
            0,
            bytemuck::bytes_of(&PeakParams {
                iterations,
                seed: 0x9e37_79b9,
                _pad: [0; 2],
            }),
        );
        let mut encoder = device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.dispatch_workgroups(self.workgroups, 1, 1);
        }
        // Let the parameter upload finish first, so the timed span is the kernel's.
        device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: Some(Duration::from_secs(60)),
            })
            .map_err(Error::Poll)?;
        let started = Instant::now();
        let submission = queue.submit([encoder.finish()]);
        device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
                timeout: Some(Duration::from_secs(60)),
            })
            .map_err(|error| match error {
                wgpu::PollError::Timeout => Error::Timeout,
                other => Error::Poll(other),
            })?;
        Ok(started.elapsed().as_secs_f64())
    }
}
