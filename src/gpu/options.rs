//! [`GpuOptions`]: how to build a [`GpuContext`](super::GpuContext): a forced kernel, shape,
//! layout, accumulation, chunk size and upload, and whether to time kernels.

use super::shape::DispatchShape;
use crate::kernel::{ArrayLayout, FloatAccumulation, KernelChoice, Reduction, ShaderVariant};

/// How to build a [`GpuContext`](super::GpuContext). The default takes the best kernel the device supports, the
/// adapter's shape, and no timestamps.
///
/// ```
/// use gpusum::{GpuOptions, ShaderVariant};
/// let options = GpuOptions::new().with_variant(ShaderVariant::Emulated);
/// assert_eq!(options.variant, Some(ShaderVariant::Emulated));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GpuOptions {
    /// Force a shader variant; `None` takes the best the device supports.
    pub variant: Option<ShaderVariant>,
    /// Force a workgroup reduction; `None` takes the best the device supports.
    pub reduction: Option<Reduction>,
    /// Override the dispatch shape; `None` takes [`DispatchShape::for_adapter`].
    pub shape: Option<DispatchShape>,
    /// Force the workgroup size (a power of two the device allows), in the shape given or the
    /// adapter's; `None` keeps the shape's.
    pub workgroup_size: Option<u32>,
    /// Measure each submission's kernel time with GPU timestamps (where the device has them).
    /// Off by default: writing and reading them back costs every call.
    pub kernel_timing: bool,
    /// Where arrays live on the device; `None` takes [`ArrayLayout::for_adapter`].
    pub array_layout: Option<ArrayLayout>,
    /// Bytes per chunk of an array stream (a multiple of 16); `None` takes 32 MiB, or less where
    /// the adapter's limits say so.
    pub array_chunk_bytes: Option<u64>,
    /// How the exact float kernels accumulate; `None` takes [`FloatAccumulation::for_adapter`].
    pub float_accumulation: Option<FloatAccumulation>,
    /// How a stream's chunks reach the device; `None` takes [`ChunkUpload::for_target`].
    pub chunk_upload: Option<ChunkUpload>,
}

/// How a stream's chunks reach the device. Both give the same sums; the target picks the
/// cheaper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChunkUpload {
    /// Copied into a mapped staging buffer, which the submission copies into the data: one copy
    /// on the host, and the map overlaps the device's work.
    Staging,
    /// Written through the queue (`write_buffer`, `write_texture`), ordered before the
    /// submission. On the web a mapped range is copied into and out of a fresh `Vec` (wgpu's
    /// WebGPU backend) and each map waits on the browser's GPU process; a write is one copy.
    Queue,
}

impl ChunkUpload {
    /// Through the queue on the web, through staging elsewhere.
    #[must_use]
    pub const fn for_target() -> Self {
        if cfg!(target_arch = "wasm32") {
            ChunkUpload::Queue
        } else {
            ChunkUpload::Staging
        }
    }
}

impl GpuOptions {
    /// The defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Forces a shader variant.
    #[must_use]
    pub fn with_variant(self, variant: ShaderVariant) -> Self {
        Self {
            variant: Some(variant),
            ..self
        }
    }

    /// Forces a workgroup reduction.
    #[must_use]
    pub fn with_reduction(self, reduction: Reduction) -> Self {
        Self {
            reduction: Some(reduction),
            ..self
        }
    }

    /// Forces both parts of the kernel.
    #[must_use]
    pub fn with_kernel(self, kernel: KernelChoice) -> Self {
        self.with_variant(kernel.variant)
            .with_reduction(kernel.reduction)
    }

    /// Overrides the dispatch shape.
    #[must_use]
    pub fn with_shape(self, shape: DispatchShape) -> Self {
        Self {
            shape: Some(shape),
            ..self
        }
    }

    /// Forces the workgroup size.
    #[must_use]
    pub fn with_workgroup_size(self, workgroup_size: u32) -> Self {
        Self {
            workgroup_size: Some(workgroup_size),
            ..self
        }
    }

    /// Measures kernel time with GPU timestamps.
    #[must_use]
    pub fn with_kernel_timing(self, on: bool) -> Self {
        Self {
            kernel_timing: on,
            ..self
        }
    }

    /// Forces where arrays live on the device.
    #[must_use]
    pub fn with_array_layout(self, layout: ArrayLayout) -> Self {
        Self {
            array_layout: Some(layout),
            ..self
        }
    }

    /// Forces how the exact float kernels accumulate.
    #[must_use]
    pub fn with_float_accumulation(self, accumulation: FloatAccumulation) -> Self {
        Self {
            float_accumulation: Some(accumulation),
            ..self
        }
    }

    /// Sets the bytes per chunk of an array stream.
    #[must_use]
    pub fn with_array_chunk_bytes(self, bytes: u64) -> Self {
        Self {
            array_chunk_bytes: Some(bytes),
            ..self
        }
    }

    /// Forces how a stream's chunks reach the device.
    #[must_use]
    pub fn with_chunk_upload(self, upload: ChunkUpload) -> Self {
        Self {
            chunk_upload: Some(upload),
            ..self
        }
    }
}

impl GpuOptions {
    /// Whether any option chooses how a GPU sums (a kernel part, a shape, a layout, an
    /// accumulation, an upload): under `auto`, such a request goes to the GPU.
    #[must_use]
    pub fn names_gpu(&self) -> bool {
        self.variant.is_some()
            || self.reduction.is_some()
            || self.shape.is_some()
            || self.workgroup_size.is_some()
            || self.array_layout.is_some()
            || self.float_accumulation.is_some()
            || self.chunk_upload.is_some()
    }
}
