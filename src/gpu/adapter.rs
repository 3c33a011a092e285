//! Finding, describing and choosing adapters.

use serde::Serialize;

use super::DispatchShape;
use super::dx12::Dx12ShaderCompiler;
use crate::Error;
use crate::kernel::{KernelChoice, Reduction, ShaderVariant};

/// A wgpu instance configured from the environment (`WGPU_BACKEND` and wgpu's other variables),
/// with the DX12 shader compiler [`Dx12ShaderCompiler::for_this_process`] picks.
#[must_use]
pub fn instance() -> wgpu::Instance {
    instance_on(None)
}

/// An instance like [`instance`]'s, on `backends` where given (`WGPU_BACKEND` still wins).
fn instance_on(backends: Option<wgpu::Backends>) -> wgpu::Instance {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    if let (Some(backends), None) = (backends, std::env::var_os("WGPU_BACKEND")) {
        descriptor.backends = backends;
    }
    descriptor.backend_options.dx12.shader_compiler =
        Dx12ShaderCompiler::for_this_process().to_wgpu();
    wgpu::Instance::new(descriptor)
}

/// The adapter [`select_adapter`] picks, starting only the drivers it needs: the native APIs
/// (Vulkan, Metal, DX12) first, OpenGL only when none of them has a match. Starting EGL costs
/// start-up time and prints warnings on some systems.
///
/// # Errors
/// As for [`select_adapter`]; an adapter name that matches nothing lists every adapter.
pub fn find_adapter(name: Option<&str>) -> Result<wgpu::Adapter, Error> {
    if std::env::var_os("WGPU_BACKEND").is_none() {
        for backends in [wgpu::Backends::PRIMARY, wgpu::Backends::SECONDARY] {
            match select_adapter(&instance_on(Some(backends)), name) {
                Ok(adapter) => return Ok(adapter),
                Err(Error::NoAdapter { .. } | Error::AdapterNotFound { .. }) => continue,
                Err(error) => return Err(error),
            }
        }
    }
    select_adapter(&instance(), name)
}

/// The `turn`-th (counting round) of the adapters like the one [`find_adapter`] picks: the
/// same API and device type, matching the same name. Processes that share a node (MPI ranks,
/// say) pass their place on the node and so open different GPUs of one kind.
///
/// # Errors
/// As for [`find_adapter`].
pub fn find_adapter_in_turn(name: Option<&str>, turn: usize) -> Result<wgpu::Adapter, Error> {
    let first = find_adapter(name)?;
    if turn == 0 {
        return Ok(first);
    }
    let info = first.get_info();
    let wanted = name
        .map(str::to_owned)
        .or_else(|| std::env::var("WGPU_ADAPTER_NAME").ok())
        .filter(|wanted| !wanted.is_empty());
    let alike: Vec<wgpu::Adapter> =
        adapters_on(&instance_on(Some(info.backend.into())), info.backend.into())
            .into_iter()
            .filter(|adapter| {
                let theirs = adapter.get_info();
                theirs.device_type == info.device_type
                    && wanted
                        .as_deref()
                        .is_none_or(|w| name_matches(&adapter_label(&theirs), w))
            })
            .collect();
    Ok(in_turn(&alike, turn).unwrap_or(first))
}

/// Of `adapters`, the `turn`-th counting round (see [`find_adapter_in_turn`]).
pub(crate) fn in_turn<T: Clone>(adapters: &[T], turn: usize) -> Option<T> {
    (!adapters.is_empty()).then(|| adapters[turn % adapters.len()].clone())
}

/// The adapters `auto` weighs, best first: the native APIs' (Vulkan, Metal, DX12), or OpenGL's
/// where those list none at all, as [`find_adapter`] looks (starting EGL costs 15 to 20 ms on a
/// software stack); every API `WGPU_BACKEND` names where it is set.
pub(crate) fn auto_adapters() -> Vec<wgpu::Adapter> {
    if std::env::var_os("WGPU_BACKEND").is_some() {
        return compute_adapters(&instance());
    }
    let on = |backends| adapters_on(&instance_on(Some(backends)), backends);
    let primary = on(wgpu::Backends::PRIMARY);
    if primary.is_empty() {
        on(wgpu::Backends::SECONDARY)
    } else {
        primary
    }
}

/// Every adapter the instance reaches that can run gpusum's compute shaders, best first (see
/// [`select_adapter`] for the order). Opening the list starts every API's driver, OpenGL's too.
#[must_use]
pub fn compute_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    adapters_on(instance, wgpu::Backends::all())
}

/// Every adapter the instance lists that cannot run gpusum's kernels, with the reason, for
/// `gpusum adapters` to show: [`compute_adapters`] passes over them.
#[must_use]
pub fn passed_over_adapters(instance: &wgpu::Instance) -> Vec<PassedOver> {
    enumerate(instance, wgpu::Backends::all())
        .iter()
        .filter_map(|adapter| {
            let reason = no_compute(adapter)?;
            Some(PassedOver {
                adapter: adapter_label(&adapter.get_info()),
                reason,
            })
        })
        .collect()
}

/// An adapter wgpu lists that cannot run gpusum's kernels.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct PassedOver {
    /// "name (api)".
    pub adapter: String,
    /// Why.
    pub reason: String,
}

/// Why an adapter cannot run compute shaders through wgpu, if it cannot.
fn no_compute(adapter: &wgpu::Adapter) -> Option<String> {
    let flags = adapter.get_downlevel_capabilities().flags;
    if !flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS) {
        return Some("no compute shaders".into());
    }
    let info = adapter.get_info();
    match desktop_gl_version(&info.driver_info) {
        // NVIDIA's EGL hands wgpu the OpenGL 3.3 context it asks for, with
        // GL_ARB_compute_shader, so wgpu reports compute; but naga writes compute shaders only
        // for GLSL 4.30 and up, and opening the device fails.
        Some(version) if info.backend == wgpu::Backend::Gl && version < (4, 3) => Some(format!(
            "its OpenGL context is {}.{}, and wgpu translates compute shaders only for OpenGL \
             4.3 and up (or ES 3.1); use its Vulkan adapter",
            version.0, version.1
        )),
        _ => None,
    }
}

/// The version of a desktop OpenGL context from its version string ("3.3.0 NVIDIA 580.159.04",
/// "4.5 (Core Profile) Mesa 22.3.6"); `None` for OpenGL ES ("OpenGL ES 3.2 ...") or anything else.
fn desktop_gl_version(version: &str) -> Option<(u32, u32)> {
    let number = version.split_whitespace().next()?;
    let mut parts = number.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Every adapter `instance` lists on `backends`; none on the web, where listing needs an await
/// (the page asks the browser for its adapter instead).
fn enumerate(instance: &wgpu::Instance, backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    super::wait::block(async { Ok(instance.enumerate_adapters(backends).await) })
        .unwrap_or_default()
}

fn adapters_on(instance: &wgpu::Instance, backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    let mut adapters: Vec<wgpu::Adapter> = enumerate(instance, backends)
        .into_iter()
        .filter(|adapter| no_compute(adapter).is_none())
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

/// Picks an adapter: the first whose "name (api)" contains `name` (case-insensitive, so `gl` or
/// `vulkan` picks by graphics API), else the `WGPU_ADAPTER_NAME` match, else the best by device
/// type (`WGPU_POWER_PREF=low` prefers integrated GPUs) and API.
///
/// # Errors
/// [`Error::AdapterNotFound`] when a name matches nothing, [`Error::NoAdapter`] when there is no
/// adapter at all.
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
            .ok_or_else(Error::no_adapter);
    };
    let adapters = compute_adapters(instance);
    let available: Vec<String> = adapters
        .iter()
        .map(|a| adapter_label(&a.get_info()))
        .collect();
    adapters
        .into_iter()
        .find(|adapter| name_matches(&adapter_label(&adapter.get_info()), &wanted))
        .ok_or(Error::AdapterNotFound { wanted, available })
}

/// Whether an adapter labelled `label` ("name (api)") matches what the user asked for:
/// case-insensitive containment, so "nvidia" and "gl" both work.
pub(crate) fn name_matches(label: &str, wanted: &str) -> bool {
    label.to_lowercase().contains(&wanted.to_lowercase())
}

/// The driver as an adapter reports it, its name and details in one string: with the adapter's
/// label, the key of its measured rates in a saved profile.
#[must_use]
pub fn driver_of(info: &wgpu::AdapterInfo) -> String {
    [info.driver.as_str(), info.driver_info.as_str()]
        .iter()
        .filter(|part| !part.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// "name (api)", the way every message, table and report names an adapter.
#[must_use]
pub fn adapter_label(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({})", info.name, info.backend)
}

/// What gpusum needs to know about an adapter, as `gpusum adapters` shows it.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct AdapterReport {
    /// Adapter name as the driver reports it.
    pub name: String,
    /// The graphics API wgpu reaches it through: vulkan, metal, dx12, gl.
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
    /// Invocations per workgroup gpusum uses here: 32 on software adapters, else 256 or the
    /// largest power of two the adapter allows.
    pub workgroup_size: u32,
    /// On DX12, the shader compiler gpusum configured (FXC limits it to the portable kernel);
    /// null elsewhere.
    pub dx12_shader_compiler: Option<String>,
    /// Most workgroups in one dispatch dimension.
    pub max_workgroups_per_dimension: u32,
    /// Most invocations in one workgroup.
    pub max_invocations_per_workgroup: u32,
    /// Most bytes of workgroup memory.
    pub max_workgroup_storage_bytes: u32,
    /// Largest storage buffer binding, in bytes.
    #[serde(serialize_with = "crate::json::string")]
    pub max_storage_binding_bytes: u64,
    /// Largest buffer, in bytes.
    #[serde(serialize_with = "crate::json::string")]
    pub max_buffer_bytes: u64,
}

impl AdapterReport {
    /// Reads the report off an adapter.
    #[must_use]
    pub fn of(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let features = adapter.features();
        let limits = adapter.limits();
        let supported = KernelChoice::all_supported(features);
        let driver = driver_of(&info);
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
            variants: ShaderVariant::ALL
                .into_iter()
                .filter(|&v| supported.iter().any(|k| k.variant == v))
                .collect(),
            reductions: Reduction::ALL
                .into_iter()
                .filter(|&r| supported.iter().any(|k| k.reduction == r))
                .collect(),
            workgroup_size: DispatchShape::for_adapter(&info, &limits).workgroup_size,
            dx12_shader_compiler: (info.backend == wgpu::Backend::Dx12)
                .then(|| Dx12ShaderCompiler::for_this_process().to_string()),
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            max_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_workgroup_storage_bytes: limits.max_compute_workgroup_storage_size,
            max_storage_binding_bytes: limits.max_storage_buffer_binding_size,
            max_buffer_bytes: limits.max_buffer_size,
        }
    }

    /// "name (api)", as [`adapter_label`] writes it.
    #[must_use]
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.backend)
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

#[cfg(test)]
mod tests {
    use super::desktop_gl_version;

    #[test]
    fn desktop_gl_versions_are_read_and_es_is_not_one() {
        assert_eq!(desktop_gl_version("3.3.0 NVIDIA 580.159.04"), Some((3, 3)));
        assert_eq!(
            desktop_gl_version("4.5 (Core Profile) Mesa 22.3.6"),
            Some((4, 5))
        );
        assert_eq!(desktop_gl_version("OpenGL ES 3.2 Mesa 22.3.6"), None);
        assert_eq!(desktop_gl_version(""), None);
    }
}
