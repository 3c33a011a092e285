//! The range workload on the GPU: its pipeline, its per-dispatch uniform, and how a range's
//! blocks become batches. The WGSL is shaders/range_*.wgsl; the CPU twin is `cpu::range`.

use bytemuck::{Pod, Zeroable};

use super::device::Device;
use super::kernel::{WgslCompiler, Workload, kernel_wgsl};
use super::readback::{Batches, Dispatch, limbs_to_u128};
use super::shape::{DispatchShape, PARTIAL_BYTES};
use crate::Error;
use crate::array::ExactIntSum;
use crate::control::Control;
use crate::engine::Outcome;
use crate::kernel::KernelChoice;
use crate::range::{Block, SumRange};

/// The shaders' `Params` uniform (range_params.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    base_lo: u32,
    base_hi: u32,
    count: u32,
    per_invocation: u32,
}

/// The range kernel's pipeline and buffers, built once per context.
pub(crate) struct RangeKernel {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    batches: Batches,
    shape: DispatchShape,
}

impl RangeKernel {
    pub(crate) fn new(
        device: &Device,
        choice: KernelChoice,
        shape: DispatchShape,
        timestamps: bool,
    ) -> Result<Self, Error> {
        let batches = Batches::new(
            device,
            &shape,
            size_of::<Params>() as u64,
            PARTIAL_BYTES,
            timestamps,
        )?;
        let (pipeline, bind_group) = device.scoped(|| {
            let wgpu_device = device.wgpu();
            let label = format!("range sum, {choice}");
            let source = kernel_wgsl(
                Workload::Range,
                choice,
                shape.workgroup_size,
                WgslCompiler::for_this_target(),
            );
            let module = device.trusted_module(&label, &source);
            let layout = wgpu_device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(&label),
                entries: &Batches::layout_entries(),
            });
            let pipeline_layout =
                wgpu_device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: Some(&label),
                    bind_group_layouts: &[Some(&layout)],
                    immediate_size: 0,
                });
            let pipeline = wgpu_device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
            let bind_group = wgpu_device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(&label),
                layout: &layout,
                entries: &batches.bind_entries(),
            });
            (pipeline, bind_group)
        })?;
        Ok(Self {
            pipeline,
            bind_group,
            batches,
            shape,
        })
    }

    pub(crate) fn has_timestamps(&self) -> bool {
        self.batches.has_timestamps()
    }

    /// The exact sum of `range`, one submission of up to `dispatches_per_submit` blocks at a
    /// time, with each submission's kernel time and count added to `outcome`.
    pub(crate) async fn sum(
        &self,
        device: &Device,
        range: SumRange,
        control: &Control<'_>,
        outcome: &mut Outcome,
    ) -> Result<ExactIntSum, Error> {
        let total_count = range.count();
        // Refused before any work: the total's count could not hold the range.
        let count = u64::try_from(total_count)
            .ok()
            .filter(|&count| count <= crate::array::MAX_ELEMENTS)
            .ok_or(Error::RangeTooLong { count: total_count })?;
        let mut blocks = range.blocks(self.shape.elements_per_dispatch());
        let mut sum: i128 = 0;
        let mut done: u128 = 0;
        loop {
            let batch: Vec<Block> = blocks
                .by_ref()
                .take(self.shape.dispatches_per_submit as usize)
                .collect();
            if batch.is_empty() {
                return ExactIntSum::from_parts(sum, count);
            }
            control.check()?;
            let dispatches: Vec<Dispatch> =
                batch.iter().map(|block| self.dispatch(block)).collect();
            let readback = self
                .batches
                .run(
                    device,
                    &self.pipeline,
                    &self.bind_group,
                    &dispatches,
                    control,
                    // Each partial < 2^88 and a dispatch has at most 2^16 of them: < 2^104.
                    |partials| partials.chunks_exact(16).map(limbs_to_u128).sum::<u128>(),
                )
                .await?;
            for (block, biased) in batch.iter().zip(readback.dispatches) {
                // Any prefix of an i64 range sums to less than 2^126 in magnitude: no overflow.
                sum += block.unbias(biased);
                done += block.len as u128;
            }
            outcome.submissions += 1;
            outcome.kernel_seconds = outcome
                .kernel_seconds
                .zip(readback.kernel_seconds)
                .map(|(a, b)| a + b);
            control.report(done, total_count);
        }
    }

    fn dispatch(&self, block: &Block) -> Dispatch {
        let (per_invocation, workgroups) = self.shape.layout(block.len);
        let params = Params {
            base_lo: block.first_biased as u32,
            base_hi: (block.first_biased >> 32) as u32,
            // Blocks are at most elements_per_dispatch <= 2^31 long.
            count: block.len as u32,
            per_invocation,
        };
        Dispatch::new(bytemuck::bytes_of(&params).to_vec(), workgroups)
    }
}
