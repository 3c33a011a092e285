//! Finding, describing and choosing adapters.

use serde::Serialize;

use super::{Reduction, ShaderVariant};
use crate::Error;

/// A wgpu instance configured from the environment (`WGPU_BACKEND` and wgpu's other variables).
pub fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter the instance reaches that can run compute shaders, best first (see
/// [`select_adapter`] for the order).
pub fn compute_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    adapters_on(instance, wgpu::Backends::all())
}

fn adapters_on(instance: &wgpu::Instance, backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    let mut adapters: Vec<wgpu::Adapter> =
        pollster::block_on(instance.enumerate_adapters(backends))
            .into_iter()
            .filter(|adapter| {
                adapter
                    .get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
            })
            .collect();
    let power = wgpu::PowerPreference::from_env().unwrap_or(wgpu::PowerPreference::HighPerformance);
    adapters.sort_by_key(|adapter| rank(&adapter.get_info(), power));
    adapters
}

/// Sort key: hardware before software, then the native APIs before OpenGL.
fn rank(info: &wgpu::AdapterInfo, power: wgpu::PowerPreference) -> (u8, u8) {
    use wgpu::DeviceType::*;
    let device = match (info.device_type, power) {
        (IntegratedGpu, wgpu::PowerPreference::LowPower) => 0,
        (DiscreteGpu, _) => 0,
        (IntegratedGpu, _) => 1,
        (VirtualGpu, _) => 2,
        (Other, _) => 3,
        (Cpu, _) => 4,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    };
    (device, backend)
}

/// Picks an adapter: the first whose "name (backend)" contains `name` (case-insensitive, so
/// `gl` or `vulkan` picks by backend), else the
/// `WGPU_ADAPTER_NAME` match, else the best by device type (`WGPU_POWER_PREF=low` prefers
/// integrated GPUs) and backend.
pub fn select_adapter(
    instance: &wgpu::Instance,
    name: Option<&str>,
) -> Result<wgpu::Adapter, Error> {
    let wanted = name
        .map(str::to_owned)
        .or_else(|| std::env::var("WGPU_ADAPTER_NAME").ok())
        .filter(|wanted| !wanted.is_empty());
    let Some(wanted) = wanted else {
        // OpenGL is only opened when no native API has an adapter: starting EGL is slow and noisy.
        let best = |backends| adapters_on(instance, backends).into_iter().next();
        return best(wgpu::Backends::PRIMARY)
            .or_else(|| best(wgpu::Backends::SECONDARY))
            .ok_or(Error::NoAdapter);
    };
    let adapters = compute_adapters(instance);
    let available: Vec<String> = adapters
        .iter()
        .map(|a| describe_short(&a.get_info()))
        .collect();
    adapters
        .into_iter()
        .find(|adapter| name_matches(&describe_short(&adapter.get_info()), &wanted))
        .ok_or(Error::AdapterNotFound { wanted, available })
}

/// Whether an adapter named `described` ("name (backend)") matches what the user asked for:
/// case-insensitive containment, so "nvidia" and "gl" both work.
pub fn name_matches(described: &str, wanted: &str) -> bool {
    described.to_lowercase().contains(&wanted.to_lowercase())
}

/// "name (backend)", the way messages and tables name an adapter.
pub fn describe_short(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({})", info.name, info.backend)
}

/// What gpusum needs to know about an adapter, as `gpusum adapters` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct AdapterReport {
    /// Adapter name as the driver reports it.
    pub name: String,
    /// wgpu backend: vulkan, metal, dx12, gl.
    pub backend: String,
    /// Discrete, integrated, virtual, cpu or other.
    pub device_type: String,
    /// True for CPU (software) adapters such as lavapipe, llvmpipe or WARP.
    pub software: bool,
    /// Driver name and version text.
    pub driver: String,
    /// Whether SHADER_INT64 is present (the native shader variant).
    pub int64: bool,
    /// Whether SUBGROUP operations are present, with the size range when known.
    pub subgroups: bool,
    /// Smallest and largest subgroup size the adapter reports.
    pub subgroup_sizes: (u32, u32),
    /// Whether TIMESTAMP_QUERY is present (kernel timings in `gpusum bench`).
    pub timestamps: bool,
    /// Shader variants this adapter can run.
    pub variants: Vec<ShaderVariant>,
    /// Workgroup reductions this adapter can run.
    pub reductions: Vec<Reduction>,
    /// Limits that bound a dispatch.
    pub max_workgroups_per_dimension: u32,
    pub max_invocations_per_workgroup: u32,
    pub max_workgroup_storage_bytes: u32,
    pub max_storage_binding_bytes: u64,
    pub max_buffer_bytes: u64,
}

impl AdapterReport {
    /// Reads the report off an adapter.
    pub fn of(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let features = adapter.features();
        let limits = adapter.limits();
        let driver = [info.driver.as_str(), info.driver_info.as_str()]
            .iter()
            .filter(|part| !part.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            name: info.name.clone(),
            backend: info.backend.to_string(),
            device_type: device_type_name(info.device_type).to_owned(),
            software: info.device_type == wgpu::DeviceType::Cpu,
            driver,
            int64: features.contains(wgpu::Features::SHADER_INT64),
            subgroups: features.contains(wgpu::Features::SUBGROUP),
            subgroup_sizes: (info.subgroup_min_size, info.subgroup_max_size),
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            variants: ShaderVariant::supported_by(features),
            reductions: Reduction::supported_by(features),
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            max_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_workgroup_storage_bytes: limits.max_compute_workgroup_storage_size,
            max_storage_binding_bytes: limits.max_storage_buffer_binding_size,
            max_buffer_bytes: limits.max_buffer_size,
        }
    }
}

fn device_type_name(device_type: wgpu::DeviceType) -> &'static str {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => "discrete GPU",
        wgpu::DeviceType::IntegratedGpu => "integrated GPU",
        wgpu::DeviceType::VirtualGpu => "virtual GPU",
        wgpu::DeviceType::Cpu => "CPU (software adapter)",
        wgpu::DeviceType::Other => "other",
    }
}
