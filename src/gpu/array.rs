//! The array workload on the GPU: pipelines per element type and layout (built when first
//! used), the bindings of a window of data, and how a window's bytes become dispatches. The WGSL
//! is shaders/array_*.wgsl; the CPU twin is `cpu::array`. Streams go through the ring
//! (`ring.rs`); data already on the device is summed here, window by window.

use std::collections::HashMap;
use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};

use super::device::{Device, lock};
use super::kernel::{TEXTURE_WIDTH, WgslCompiler, Workload, kernel_wgsl};
use super::readback::{Batches, Dispatch, limbs_to_u128};
use super::shape::DispatchShape;
use crate::Error;
use crate::array::Dtype;
use crate::control::Control;
use crate::kernel::{ArrayLayout, KernelChoice};

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

/// Where a window's data lives.
#[derive(Clone, Copy)]
pub(crate) enum DataRef<'a> {
    /// A storage buffer; the window's binding starts at `start` (aligned for storage bindings)
    /// and runs to the end of the buffer or [`MAX_WINDOW_BYTES`], whichever comes first.
    Buffer {
        buffer: &'a wgpu::Buffer,
        start: u64,
    },
    /// An rgba32uint texture [`TEXTURE_WIDTH`] texels wide.
    Texture(&'a wgpu::TextureView),
}

impl DataRef<'_> {
    pub(crate) fn layout(&self) -> ArrayLayout {
        match self {
            DataRef::Buffer { .. } => ArrayLayout::Buffer,
            DataRef::Texture(_) => ArrayLayout::Texture,
        }
    }
}

/// Data gpusum owns on the device: a ring slot's, or a [`DeviceArray`](super::DeviceArray)'s.
pub(crate) enum OwnedData {
    Buffer(wgpu::Buffer),
    Texture(wgpu::Texture, wgpu::TextureView),
}

impl OwnedData {
    /// Room for `bytes` of data in `layout`.
    pub(crate) fn new(device: &Device, layout: ArrayLayout, bytes: u64) -> Self {
        match layout {
            ArrayLayout::Buffer => OwnedData::Buffer(device.buffer(
                "array data",
                bytes.next_multiple_of(UNIT_BYTES),
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            )),
            ArrayLayout::Texture => {
                let (texture, view) = array_texture(device, bytes.div_ceil(UNIT_BYTES));
                OwnedData::Texture(texture, view)
            }
        }
    }

    pub(crate) fn as_ref(&self) -> DataRef<'_> {
        match self {
            OwnedData::Buffer(buffer) => DataRef::Buffer { buffer, start: 0 },
            OwnedData::Texture(_, view) => DataRef::Texture(view),
        }
    }

    /// Records the copy of a chunk's `bytes` from the staging buffer into this data.
    pub(crate) fn upload(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        staging: &wgpu::Buffer,
        bytes: u64,
    ) {
        match self {
            OwnedData::Buffer(buffer) => {
                let size = bytes.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
                encoder.copy_buffer_to_buffer(staging, 0, buffer, 0, size);
            }
            OwnedData::Texture(texture, _) => {
                for (offset, origin, extent) in texture_rows(bytes.div_ceil(UNIT_BYTES)) {
                    encoder.copy_buffer_to_texture(
                        wgpu::TexelCopyBufferInfo {
                            buffer: staging,
                            layout: wgpu::TexelCopyBufferLayout {
                                offset,
                                bytes_per_row: Some(TEXTURE_ROW_BYTES),
                                rows_per_image: None,
                            },
                        },
                        wgpu::TexelCopyTextureInfo {
                            texture,
                            mip_level: 0,
                            origin,
                            aspect: wgpu::TextureAspect::All,
                        },
                        extent,
                    );
                }
            }
        }
    }
}

/// The array kernels of one context: bind group layouts, and pipelines built on first use.
pub(crate) struct ArrayKernels {
    choice: KernelChoice,
    shape: DispatchShape,
    layouts: HashMap<ArrayLayout, (wgpu::BindGroupLayout, wgpu::PipelineLayout)>,
    pipelines: Mutex<HashMap<(Dtype, ArrayLayout), wgpu::ComputePipeline>>,
    /// Bound as the whole-units binding of a window too short to hold a unit, which the kernel
    /// then reads only word by word.
    empty_units: wgpu::Buffer,
}

impl ArrayKernels {
    pub(crate) fn new(
        device: &Device,
        choice: KernelChoice,
        shape: DispatchShape,
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
            shape,
            layouts,
            pipelines: Mutex::new(HashMap::new()),
            empty_units: device.buffer("no whole units", UNIT_BYTES, wgpu::BufferUsages::STORAGE),
        })
    }

    /// The pipeline for `dtype` read from `layout`, built the first time it is asked for.
    pub(crate) fn pipeline(
        &self,
        device: &Device,
        dtype: Dtype,
        layout: ArrayLayout,
    ) -> Result<wgpu::ComputePipeline, Error> {
        if let Some(pipeline) = lock(&self.pipelines).get(&(dtype, layout)) {
            return Ok(pipeline.clone());
        }
        let label = format!("array sum, {dtype} from a {layout}, {}", self.choice);
        let source = kernel_wgsl(
            Workload::Array(dtype, layout),
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
                    entry_point: Some("main"),
                    compilation_options: Default::default(),
                    cache: None,
                })
        })?;
        lock(&self.pipelines).insert((dtype, layout), pipeline.clone());
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
    pub(crate) fn empty_units(&self) -> &wgpu::Buffer {
        &self.empty_units
    }

    /// The dispatches that cover bytes `[begin_byte, end_byte)` of a window, grouped into
    /// submissions of at most the shape's dispatches per submission. The whole units are
    /// walked; the (at most two) units the window holds only in part go to the first dispatch's
    /// first invocation. A short window spreads over every workgroup of a dispatch with as few
    /// units per invocation as that allows.
    pub(crate) fn plan(&self, begin_byte: u64, end_byte: u64) -> Vec<Vec<Dispatch>> {
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
                .clamp(1, MAX_UNITS_PER_INVOCATION as u64);
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
            dispatches.push(Dispatch {
                params: bytemuck::bytes_of(&params).to_vec(),
                // per >= units / (size * workgroups): at most the shape's workgroups, and at
                // least one, whose first invocation adds the edges.
                workgroups: units.div_ceil(size * per).max(1) as u32,
            });
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

    /// The biased sum of bytes `[begin_byte, end_byte)` of a window already on the device, with
    /// the kernel time where the batches measure it, and the submissions made.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sum_window(
        &self,
        device: &Device,
        batches: &Batches,
        dtype: Dtype,
        data: DataRef<'_>,
        begin_byte: u64,
        end_byte: u64,
        control: &Control,
    ) -> Result<WindowSum, Error> {
        let pipeline = self.pipeline(device, dtype, data.layout())?;
        let bind_group = self.bind_group(device, batches, data);
        let mut total = WindowSum::default();
        for submission in self.plan(begin_byte, end_byte) {
            control.check()?;
            let pending = batches.submit(device, &pipeline, &bind_group, &submission, |_| {});
            total.add(batches.finish(device, pending, control, decode_partials)?);
        }
        Ok(total)
    }
}

/// What the submissions over a window gave back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WindowSum {
    /// The biased sum.
    pub(crate) biased: u128,
    /// Kernel time, while every submission had a trustworthy one.
    pub(crate) kernel_seconds: Option<f64>,
    pub(crate) submissions: u32,
}

impl Default for WindowSum {
    fn default() -> Self {
        Self {
            biased: 0,
            kernel_seconds: Some(0.0),
            submissions: 0,
        }
    }
}

impl WindowSum {
    pub(crate) fn add(&mut self, outcome: super::readback::BatchOutcome<u128>) {
        // A window holds fewer than 2^30 elements below 2^64: no overflow.
        self.biased += outcome.dispatches.iter().sum::<u128>();
        self.kernel_seconds = match (self.kernel_seconds, outcome.kernel_seconds) {
            (Some(total), Some(seconds)) => Some(total + seconds),
            _ => None,
        };
        self.submissions += 1;
    }
}

/// The sum of one dispatch's partials: each below 2^88, at most 2^16 of them.
pub(crate) fn decode_partials(partials: &[u8]) -> u128 {
    partials.chunks_exact(16).map(limbs_to_u128).sum()
}

/// Bindings 2 and (for buffers) 3 of the window `data`: whole units (or `empty_units` where the
/// window holds none) and the same bytes word by word.
pub(crate) fn data_entries<'a>(
    data: DataRef<'a>,
    empty_units: &'a wgpu::Buffer,
) -> Vec<wgpu::BindGroupEntry<'a>> {
    match data {
        DataRef::Buffer { buffer, start } => {
            let available = (buffer.size() - start).min(MAX_WINDOW_BYTES);
            let whole_units = available / UNIT_BYTES * UNIT_BYTES;
            let units = if whole_units == 0 {
                empty_units.as_entire_buffer_binding()
            } else {
                buffer_binding(buffer, start, whole_units)
            };
            vec![
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::Buffer(units),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::Buffer(buffer_binding(
                        buffer,
                        start,
                        available / 4 * 4,
                    )),
                },
            ]
        }
        DataRef::Texture(view) => vec![wgpu::BindGroupEntry {
            binding: 2,
            resource: wgpu::BindingResource::TextureView(view),
        }],
    }
}

/// Bindings 2 and (for buffers) 3: the data, whole units and word by word.
pub(crate) fn data_layout_entries(layout: ArrayLayout) -> Vec<wgpu::BindGroupLayoutEntry> {
    let storage = |binding| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only: true },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    match layout {
        ArrayLayout::Buffer => vec![storage(2), storage(3)],
        ArrayLayout::Texture => vec![wgpu::BindGroupLayoutEntry {
            binding: 2,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::StorageTexture {
                access: wgpu::StorageTextureAccess::ReadOnly,
                format: wgpu::TextureFormat::Rgba32Uint,
                view_dimension: wgpu::TextureViewDimension::D2,
            },
            count: None,
        }],
    }
}

fn buffer_binding(buffer: &wgpu::Buffer, offset: u64, size: u64) -> wgpu::BufferBinding<'_> {
    wgpu::BufferBinding {
        buffer,
        offset,
        size: wgpu::BufferSize::new(size),
    }
}

/// An array texture holding `units` units: [`TEXTURE_WIDTH`] texels a row.
pub(crate) fn array_texture(device: &Device, units: u64) -> (wgpu::Texture, wgpu::TextureView) {
    let texture = device.wgpu().create_texture(&wgpu::TextureDescriptor {
        label: Some("array data"),
        size: texture_extent(units),
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba32Uint,
        usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    });
    let view = texture.create_view(&Default::default());
    (texture, view)
}

fn texture_extent(units: u64) -> wgpu::Extent3d {
    wgpu::Extent3d {
        width: TEXTURE_WIDTH,
        height: units.div_ceil(TEXTURE_WIDTH as u64).max(1) as u32,
        depth_or_array_layers: 1,
    }
}

/// Most bytes one array texture can hold on a device with `limits`.
pub(crate) fn texture_capacity(limits: &wgpu::Limits) -> u64 {
    TEXTURE_WIDTH as u64 * limits.max_texture_dimension_2d as u64 * UNIT_BYTES
}

/// The texture copies that put `units` units, laid out row after row from `offset` in a
/// buffer, into an array texture: the whole rows at once, then the last, partial row.
pub(crate) fn texture_rows(units: u64) -> Vec<(u64, wgpu::Origin3d, wgpu::Extent3d)> {
    let width = TEXTURE_WIDTH as u64;
    let rows = units / width;
    let rest = units % width;
    let mut copies = Vec::new();
    if rows > 0 {
        let extent = wgpu::Extent3d {
            width: TEXTURE_WIDTH,
            height: rows as u32,
            depth_or_array_layers: 1,
        };
        copies.push((0, wgpu::Origin3d::ZERO, extent));
    }
    if rest > 0 {
        let origin = wgpu::Origin3d {
            x: 0,
            y: rows as u32,
            z: 0,
        };
        let extent = wgpu::Extent3d {
            width: rest as u32,
            height: 1,
            depth_or_array_layers: 1,
        };
        copies.push((rows * width * UNIT_BYTES, origin, extent));
    }
    copies
}

/// Bytes per texture row, as copies into an array texture lay them out.
pub(crate) const TEXTURE_ROW_BYTES: u32 = TEXTURE_WIDTH * UNIT_BYTES as u32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texture_rows_cover_every_unit_once() {
        assert!(texture_rows(0).is_empty());
        let copies = texture_rows(5000);
        assert_eq!(copies.len(), 2);
        assert_eq!((copies[0].2.width, copies[0].2.height), (2048, 2));
        assert_eq!(copies[1].0, 2 * 2048 * 16);
        assert_eq!((copies[1].1.y, copies[1].2.width), (2, 5000 - 4096));
        assert_eq!(texture_rows(2048).len(), 1);
        assert_eq!(texture_extent(1).height, 1);
    }
}
