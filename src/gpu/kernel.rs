//! The WGSL gpusum embeds, and how a workload's kernel is composed from it.
//!
//! A kernel is a reduction (which owns the entry point), the limb helpers, and the workload's
//! parameters and arithmetic for the chosen [`ShaderVariant`](crate::ShaderVariant).

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

/// The WGSL of `workload`'s kernel for `choice`, as gpusum hands it to wgpu.
pub fn kernel_wgsl(workload: Workload, choice: KernelChoice) -> String {
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
    [reduction, "limbs.wgsl", params, arithmetic]
        .map(shader)
        .join("\n")
}

/// The WGSL of the integer-add peak microkernel.
#[must_use]
pub fn peak_wgsl() -> &'static str {
    shader("peak_add.wgsl")
}

#[cfg(test)]
mod tests;
