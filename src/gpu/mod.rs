//! The wgpu path: adapters, device plumbing, kernels, dispatch shapes, readback, and the
//! reusable [`GpuContext`].
//!
//! A workload on the GPU is its WGSL in `shaders/`, composed by [`kernel_wgsl`], and a module
//! here that packs its parameters and decodes its partials (`range.rs` for ranges); device
//! plumbing (`device.rs`), shapes (`shape.rs`) and readback (`readback.rs`) are shared.

mod adapter;
pub(crate) mod array;
mod context;
pub(crate) mod device;
mod dx12;
pub(crate) mod grouped;
mod kernel;
pub(crate) mod keyed;
mod options;
mod range;
mod readback;
pub(crate) mod ring;
mod shape;
mod turn;
pub(crate) mod wait;

pub use adapter::{
    AdapterReport, PassedOver, adapter_label, compute_adapters, driver_of, find_adapter,
    find_adapter_in_turn, instance, passed_over_adapters, select_adapter,
};
pub(crate) use adapter::{auto_adapters, in_turn, name_matches};
pub use array::MAX_UNITS_PER_INVOCATION;
pub use context::{DeviceArray, GpuContext};
pub use device::{USEFUL_FEATURES, open_device, open_device_async};
pub use dx12::Dx12ShaderCompiler;
pub use kernel::{WgslCompiler, Workload, kernel_wgsl};
#[cfg(feature = "tools")]
pub use kernel::{peak_read_wgsl, peak_wgsl};
pub use options::{ChunkUpload, GpuOptions};
pub use ring::{DEFAULT_CHUNK_BYTES, RING_SLOTS};
pub use shape::{
    DispatchShape, MAX_DISPATCH_ELEMENTS, MAX_PER_INVOCATION, MAX_WORKGROUP_SIZE, UnitWalk,
};
