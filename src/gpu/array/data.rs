//! Where an array window lives on the device (a storage buffer or an rgba32uint texture), how it
//! is bound, and how a texture is laid out in rows.

use super::{MAX_WINDOW_BYTES, UNIT_BYTES};
use crate::gpu::device::Device;
use crate::gpu::kernel::TEXTURE_WIDTH;
use crate::kernel::ArrayLayout;

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

    /// Writes `chunk` through the queue, its last partial unit padded with zeros: the web's
    /// upload, where a mapped range is copied into and out of a fresh `Vec` (wgpu's WebGPU
    /// backend) and each map is a round trip to the browser's GPU process.
    pub(crate) fn write(&self, queue: &wgpu::Queue, chunk: &[u8]) {
        let whole = chunk.len() / UNIT_BYTES as usize * UNIT_BYTES as usize;
        let rest = &chunk[whole..];
        let mut tail = [0u8; UNIT_BYTES as usize];
        tail[..rest.len()].copy_from_slice(rest);
        match self {
            OwnedData::Buffer(buffer) => {
                if whole > 0 {
                    queue.write_buffer(buffer, 0, &chunk[..whole]);
                }
                if !rest.is_empty() {
                    queue.write_buffer(buffer, whole as u64, &tail);
                }
            }
            OwnedData::Texture(texture, _) => {
                let units = whole as u64 / UNIT_BYTES;
                let write = |data: &[u8], origin, extent| {
                    let at = wgpu::TexelCopyTextureInfo {
                        texture,
                        mip_level: 0,
                        origin,
                        aspect: wgpu::TextureAspect::All,
                    };
                    let layout = wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(TEXTURE_ROW_BYTES),
                        rows_per_image: None,
                    };
                    queue.write_texture(at, data, layout, extent);
                };
                for (offset, origin, extent) in texture_rows(units) {
                    write(&chunk[offset as usize..whole], origin, extent);
                }
                if !rest.is_empty() {
                    let width = u64::from(TEXTURE_WIDTH);
                    let origin = wgpu::Origin3d {
                        x: (units % width) as u32,
                        y: (units / width) as u32,
                        z: 0,
                    };
                    let one = wgpu::Extent3d {
                        width: 1,
                        height: 1,
                        depth_or_array_layers: 1,
                    };
                    write(&tail, origin, one);
                }
            }
        }
    }
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
