//! The array workload on the GPU: pipelines per element type and layout (built when first
//! used), the bindings of a window of data, and how a window's bytes become dispatches and its
//! partials a total. The WGSL is shaders/array_*.wgsl (integers) and float_*.wgsl; the CPU
//! twins are `cpu::array` and `float`. Streams go through the ring
//! (`ring.rs`); data already on the device is summed here, window by window.

use std::collections::HashMap;
use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};

mod data;
mod part;

pub(crate) use data::*;
pub(crate) use part::Part;

use super::device::{Device, lock};
use super::kernel::{WgslCompiler, Workload, float_partial_bytes, kernel_wgsl};
use super::readback::{Batches, Dispatch};
use super::shape::{DispatchShape, PARTIAL_BYTES};
use crate::Error;
use crate::array::Dtype;
use crate::control::Control;
use crate::engine::Outcome;
use crate::kernel::{ArrayLayout, FloatAccumulation, KernelChoice};

/// Bytes of a unit: what one invocation loads at a time (a `vec4<u32>`, or one texel).
pub(crate) const UNIT_BYTES: u64 = 16;

/// Most units one invocation adds in a dispatch: with the two edge units the first invocation
/// may add, its sum stays below (2^14 + 2) units * 2 elements * 2^64 < 2^80, the bound the
/// reductions assume (as for ranges).
pub const MAX_UNITS_PER_INVOCATION: u32 = 1 << 14;

/// An edge slot with no unit in it (the shaders' `NO_EDGE`).
const NO_EDGE: u32 = u32::MAX;

/// Longest window of data one binding covers: keeps the shaders' byte offsets (16 * unit) far
/// below 2^32.
pub(crate) const MAX_WINDOW_BYTES: u64 = 1 << 30;

/// Bytes of [`Params`].
pub(crate) const PARAMS_BYTES: u64 = size_of::<Params>() as u64;

/// The shaders' `Params` uniform (array_params.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    first_unit: u32,
    units: u32,
    per_invocation: u32,
    begin_byte: u32,
    end_byte: u32,
    edge_a: u32,
    edge_b: u32,
    pad: u32,
}

/// The array kernels of one context: bind group layouts, and pipelines built on first use.
pub(crate) struct ArrayKernels {
    choice: KernelChoice,
    float_accumulation: FloatAccumulation,
    shape: DispatchShape,
    layouts: HashMap<ArrayLayout, (wgpu::BindGroupLayout, wgpu::PipelineLayout)>,
    /// Each workload's pipeline per entry point.
    pipelines: Mutex<HashMap<(Workload, &'static str), wgpu::ComputePipeline>>,
    /// Bound as the whole-units binding of a window too short to hold a unit, which the kernel
    /// then reads only word by word.
    empty_units: wgpu::Buffer,
}

impl ArrayKernels {
    pub(crate) fn new(
        device: &Device,
        choice: KernelChoice,
        shape: DispatchShape,
        float_accumulation: FloatAccumulation,
    ) -> Result<Self, Error> {
        let layouts = device.scoped(|| {
            ArrayLayout::ALL
                .into_iter()
                .map(|layout| {
                    let label = format!("array sum, {layout}");
                    let mut entries = Batches::layout_entries().to_vec();
                    entries.extend(data_layout_entries(layout));
                    let bind_group_layout =
                        device
                            .wgpu()
                            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                                label: Some(&label),
                                entries: &entries,
                            });
                    let pipeline_layout =
                        device
                            .wgpu()
                            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                                label: Some(&label),
                                bind_group_layouts: &[Some(&bind_group_layout)],
                                immediate_size: 0,
                            });
                    (layout, (bind_group_layout, pipeline_layout))
                })
                .collect()
        })?;
        Ok(Self {
            choice,
            float_accumulation,
            shape,
            layouts,
            pipelines: Mutex::new(HashMap::new()),
            empty_units: device.buffer("no whole units", UNIT_BYTES, wgpu::BufferUsages::STORAGE),
        })
    }

    /// The pipeline of `workload` (an array one), built the first time it is asked for.
    pub(crate) fn pipeline(
        &self,
        device: &Device,
        workload: Workload,
    ) -> Result<wgpu::ComputePipeline, Error> {
        self.pipeline_at(device, workload, "main")
    }

    /// The pipeline of `workload` from entry point `entry` (`main`, or a grouped kernel's
    /// `narrow`), built the first time it is asked for.
    pub(crate) fn pipeline_at(
        &self,
        device: &Device,
        workload: Workload,
        entry: &'static str,
    ) -> Result<wgpu::ComputePipeline, Error> {
        if let Some(pipeline) = lock(&self.pipelines).get(&(workload, entry)) {
            return Ok(pipeline.clone());
        }
        let (what, layout) = match workload {
            Workload::Array(dtype, layout) => (format!("array sum, {dtype}"), layout),
            #[cfg(feature = "tools")]
            Workload::PlainF32(layout) => ("plain f32 sum".to_owned(), layout),
            Workload::Grouped(dtype, layout) => {
                (format!("sum along axes ({entry}), {dtype}"), layout)
            }
            Workload::Keyed(dtype, layout) => (format!("sum by key, {dtype}"), layout),
            Workload::Range => unreachable!("array kernels only"),
        };
        let label = format!("{what} from a {layout}, {}", self.choice);
        // The float kernels' accumulation is a pipeline constant (float_add.wgsl).
        let every_digit = f64::from(u8::from(
            self.float_accumulation == FloatAccumulation::EveryDigit,
        ));
        let walk = self.shape.walk.pipeline_constant(self.shape.workgroup_size);
        // Counters of a piece or a key of their own, in storage (float_add.wgsl).
        let storage_counters = ("STORAGE_COUNTERS", 1.0);
        let constants: &[(&str, f64)] = match workload {
            Workload::Array(Dtype::F32 | Dtype::F64, _) => &[walk, ("EVERY_DIGIT", every_digit)],
            Workload::Grouped(Dtype::F32 | Dtype::F64, _) if entry == "narrow" => {
                &[storage_counters]
            }
            Workload::Keyed(Dtype::F32 | Dtype::F64, _) => &[storage_counters],
            Workload::Grouped(..) | Workload::Keyed(..) => &[],
            _ => &[walk],
        };
        let source = kernel_wgsl(
            workload,
            self.choice,
            self.shape.workgroup_size,
            WgslCompiler::for_this_target(),
        );
        let pipeline = device.scoped(|| {
            let module = device.trusted_module(&label, &source);
            device
                .wgpu()
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&label),
                    layout: Some(&self.layouts[&layout].1),
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants,
                        ..Default::default()
                    },
                    cache: None,
                })
        })?;
        lock(&self.pipelines).insert((workload, entry), pipeline.clone());
        Ok(pipeline)
    }

    /// The bindings of `batches`' buffers and the window `data`.
    pub(crate) fn bind_group(
        &self,
        device: &Device,
        batches: &Batches,
        data: DataRef<'_>,
    ) -> wgpu::BindGroup {
        let mut entries = batches.bind_entries().to_vec();
        entries.extend(data_entries(data, &self.empty_units));
        device.wgpu().create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("array window"),
            layout: &self.layouts[&data.layout()].0,
            entries: &entries,
        })
    }

    /// A buffer to bind where a window holds no whole unit.
    #[cfg(feature = "tools")]
    pub(crate) fn empty_units(&self) -> &wgpu::Buffer {
        &self.empty_units
    }

    /// The dispatches that cover bytes `[begin_byte, end_byte)` of a window, grouped into
    /// submissions of at most the shape's dispatches per submission. The whole units are
    /// walked; the (at most two) units the window holds only in part go to the first dispatch's
    /// first invocation. A short window spreads over every workgroup of a dispatch with as few
    /// units per invocation as that allows, but at least `min_units` (see
    /// [`min_units_per_invocation`]).
    pub(crate) fn plan(
        &self,
        begin_byte: u64,
        end_byte: u64,
        min_units: u64,
    ) -> Vec<Vec<Dispatch>> {
        debug_assert!(begin_byte.is_multiple_of(4) && end_byte <= MAX_WINDOW_BYTES);
        debug_assert!(begin_byte < end_byte);
        let whole_begin = begin_byte.div_ceil(UNIT_BYTES);
        let whole_end = (end_byte / UNIT_BYTES).max(whole_begin);
        let mut edges = Vec::new();
        if !begin_byte.is_multiple_of(UNIT_BYTES) {
            edges.push(begin_byte / UNIT_BYTES);
        }
        if !end_byte.is_multiple_of(UNIT_BYTES) && end_byte / UNIT_BYTES >= whole_begin {
            edges.push(end_byte / UNIT_BYTES);
        }
        let edge = |i: usize| edges.get(i).map_or(NO_EDGE, |&unit| unit as u32);
        let size = self.shape.workgroup_size as u64;
        let workgroups = self.shape.workgroups_per_dispatch as u64;
        let capacity = size * workgroups * MAX_UNITS_PER_INVOCATION as u64;
        let mut dispatches = Vec::new();
        let mut unit = whole_begin;
        loop {
            let units = (whole_end - unit).min(capacity);
            let per = units
                .div_ceil(size * workgroups)
                .clamp(min_units, MAX_UNITS_PER_INVOCATION as u64);
            let first = dispatches.is_empty();
            let params = Params {
                first_unit: unit as u32,
                units: units as u32,
                per_invocation: per as u32,
                begin_byte: begin_byte as u32,
                end_byte: end_byte as u32,
                edge_a: if first { edge(0) } else { NO_EDGE },
                edge_b: if first { edge(1) } else { NO_EDGE },
                pad: 0,
            };
            dispatches.push(Dispatch::new(
                bytemuck::bytes_of(&params).to_vec(),
                // per >= units / (size * workgroups): at most the shape's workgroups, and at
                // least one, whose first invocation adds the edges.
                units.div_ceil(size * per).max(1) as u32,
            ));
            unit += units;
            if unit >= whole_end {
                break;
            }
        }
        dispatches
            .chunks(self.shape.dispatches_per_submit as usize)
            .map(<[Dispatch]>::to_vec)
            .collect()
    }

    /// Most bytes one submission covers.
    pub(crate) fn bytes_per_submission(&self) -> u64 {
        self.shape.workgroup_size as u64
            * self.shape.workgroups_per_dispatch as u64
            * MAX_UNITS_PER_INVOCATION as u64
            * UNIT_BYTES
            * self.shape.dispatches_per_submit as u64
    }

    /// Adds bytes `[begin_byte, end_byte)` of a window already on the device (whole elements of
    /// `dtype`) into `outcome`, submission by submission. `batches` must hold `dtype`'s
    /// partials.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn sum_window(
        &self,
        device: &Device,
        batches: &Batches,
        dtype: Dtype,
        data: DataRef<'_>,
        begin_byte: u64,
        end_byte: u64,
        control: &Control<'_>,
        outcome: &mut Outcome,
    ) -> Result<(), Error> {
        debug_assert_eq!(batches.partial_bytes(), partial_bytes(dtype));
        let pipeline = self.pipeline(device, Workload::Array(dtype, data.layout()))?;
        let bind_group = self.bind_group(device, batches, data);
        // The whole count goes with the first submission: the bias comes off the sum of all
        // of them, so how it is split does not matter.
        let mut count = (end_byte - begin_byte) / dtype.size() as u64;
        for submission in self.plan(begin_byte, end_byte, min_units_per_invocation(dtype)) {
            control.check()?;
            let readback = batches
                .run(device, &pipeline, &bind_group, &submission, control, |p| {
                    Part::decode(dtype, p)
                })
                .await?;
            let total = Part::total(dtype, readback.dispatches, std::mem::take(&mut count))?;
            outcome.add_submission(&total, readback.kernel_seconds)?;
        }
        Ok(())
    }
}

#[cfg(feature = "tools")]
impl ArrayKernels {
    /// The plain (order-dependent, inexact) sum of the f32 values in bytes `[begin_byte,
    /// end_byte)` of a window already on the device, each workgroup's f32 partial added in f64
    /// in dispatch order: the bench's yardstick. `batches` must hold [`PARTIAL_BYTES`] partials.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn plain_f32_window(
        &self,
        device: &Device,
        batches: &Batches,
        data: DataRef<'_>,
        begin_byte: u64,
        end_byte: u64,
        control: &Control<'_>,
    ) -> Result<f64, Error> {
        debug_assert_eq!(batches.partial_bytes(), PARTIAL_BYTES);
        let pipeline = self.pipeline(device, Workload::PlainF32(data.layout()))?;
        let bind_group = self.bind_group(device, batches, data);
        let mut sum = 0.0;
        for submission in self.plan(begin_byte, end_byte, 1) {
            control.check()?;
            let readback = batches
                .run(
                    device,
                    &pipeline,
                    &bind_group,
                    &submission,
                    control,
                    |partials| {
                        partials
                            .chunks_exact(PARTIAL_BYTES as usize)
                            .map(|p| f64::from(f32::from_le_bytes(p[..4].try_into().unwrap())))
                            .sum::<f64>()
                    },
                )
                .await?;
            sum += readback.dispatches.iter().sum::<f64>();
        }
        Ok(sum)
    }
}

/// Fewest units each invocation of `dtype`'s kernel adds in a dispatch. An exact float kernel's
/// invocation ends by adding every counter it holds to the workgroup's with atomics (18 for
/// f32); spread over one unit each, as the integer kernels may be on a large GPU, those atomics
/// would outweigh the adds.
pub(crate) const fn min_units_per_invocation(dtype: Dtype) -> u64 {
    if dtype.is_float() { 16 } else { 1 }
}

/// Bytes of one workgroup's partial from `dtype`'s kernel.
pub(crate) const fn partial_bytes(dtype: Dtype) -> u64 {
    if dtype.is_float() {
        float_partial_bytes(dtype)
    } else {
        PARTIAL_BYTES
    }
}
