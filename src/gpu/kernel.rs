//! The WGSL gpusum embeds, and how a workload's kernel is composed from it.
//!
//! A kernel is the workgroup size, a reduction (which owns the entry point), the limb helpers, and
//! the workload's parameters and arithmetic for the chosen [`ShaderVariant`](crate::ShaderVariant).

use crate::kernel::{KernelChoice, Reduction, ShaderVariant};

/// What a kernel sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Workload {
    /// An inclusive i64 range whose elements each invocation generates.
    Range,
}

/// Every WGSL file gpusum embeds, by file name (a test checks that shaders/ holds no other).
pub(crate) const SHADERS: [(&str, &str); 7] = [
    (
        "range_sum_emulated.wgsl",
        include_str!("../../shaders/range_sum_emulated.wgsl"),
    ),
    (
        "range_sum_native.wgsl",
        include_str!("../../shaders/range_sum_native.wgsl"),
    ),
    ("limbs.wgsl", include_str!("../../shaders/limbs.wgsl")),
    (
        "range_params.wgsl",
        include_str!("../../shaders/range_params.wgsl"),
    ),
    (
        "reduce_tree.wgsl",
        include_str!("../../shaders/reduce_tree.wgsl"),
    ),
    (
        "reduce_subgroup.wgsl",
        include_str!("../../shaders/reduce_subgroup.wgsl"),
    ),
    ("peak_add.wgsl", include_str!("../../shaders/peak_add.wgsl")),
];

pub(crate) fn shader(name: &str) -> &'static str {
    SHADERS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, source)| *source)
        .unwrap_or_default()
}

/// Which WGSL compiler a kernel's text is for: they disagree on one directive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WgslCompiler {
    /// naga, wgpu's own: takes subgroup operations from the device's capabilities and rejects
    /// `enable subgroups;`.
    Naga,
    /// Tint, the browsers' (Chromium and Dawn): needs `enable subgroups;` before any subgroup
    /// operation.
    Tint,
}

impl WgslCompiler {
    /// The compiler that reads the WGSL gpusum hands to wgpu on this target: the browser's Tint
    /// on the web, naga elsewhere.
    pub const fn for_this_target() -> Self {
        if cfg!(target_arch = "wasm32") {
            WgslCompiler::Tint
        } else {
            WgslCompiler::Naga
        }
    }
}

/// The WGSL of `workload`'s kernel for `choice` with `workgroup_size` invocations per workgroup
/// (a power of two, at most [`MAX_WORKGROUP_SIZE`](super::MAX_WORKGROUP_SIZE)), written for
/// `compiler`.
pub fn kernel_wgsl(
    workload: Workload,
    choice: KernelChoice,
    workgroup_size: u32,
    compiler: WgslCompiler,
) -> String {
    let reduction = match choice.reduction {
        Reduction::Tree => "reduce_tree.wgsl",
        Reduction::Subgroup => "reduce_subgroup.wgsl",
    };
    let (params, arithmetic) = match (workload, choice.variant) {
        (Workload::Range, ShaderVariant::Emulated) => {
            ("range_params.wgsl", "range_sum_emulated.wgsl")
        }
        (Workload::Range, ShaderVariant::Native) => ("range_params.wgsl", "range_sum_native.wgsl"),
    };
    let enable = match (compiler, choice.reduction) {
        (WgslCompiler::Tint, Reduction::Subgroup) => "enable subgroups;\n",
        _ => "",
    };
    let parts = [reduction, "limbs.wgsl", params, arithmetic].map(shader);
    format!(
        "{enable}{}\n{}",
        workgroup_size_line(workgroup_size),
        parts.join("\n")
    )
}

/// The WGSL of the integer-add peak microkernel with `workgroup_size` invocations per workgroup.
#[must_use]
pub fn peak_wgsl(workgroup_size: u32) -> String {
    format!(
        "{}\n{}",
        workgroup_size_line(workgroup_size),
        shader("peak_add.wgsl")
    )
}

/// The one place the workgroup size enters a kernel; the host's dispatch arithmetic uses the
/// same value.
fn workgroup_size_line(workgroup_size: u32) -> String {
    format!("const WORKGROUP_SIZE: u32 = {workgroup_size}u;")
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod translate_tests;
