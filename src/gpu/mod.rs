//! The wgpu path: adapters, shader variants and the reusable [`GpuContext`].

mod adapter;
mod context;
mod peak;

use serde::Serialize;

pub use adapter::{
    AdapterReport, compute_adapters, describe_short, instance, name_matches, select_adapter,
};
pub use context::{
    DispatchShape, GpuContext, GpuOptions, GpuOutcome, MAX_DISPATCH_ELEMENTS, MAX_PER_INVOCATION,
    USEFUL_FEATURES, WORKGROUP_SIZE, open_device,
};
pub use peak::PeakKernel;

/// Every WGSL file gpusum embeds, by file name (the naga test checks that shaders/ holds no other).
pub const SHADERS: [(&str, &str); 7] = [
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

fn shader(name: &str) -> &'static str {
    SHADERS
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, source)| *source)
        .unwrap_or_default()
}

/// The WGSL of a range-sum kernel: the reduction (which owns the entry point), the limb helpers,
/// the parameters and each invocation's share, and the variant's arithmetic.
pub fn kernel_source(variant: ShaderVariant, reduction: Reduction) -> String {
    [
        reduction.source(),
        shader("limbs.wgsl"),
        shader("range_params.wgsl"),
        variant.source(),
    ]
    .join("\n")
}

/// How a workgroup combines its invocations' sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reduction {
    /// A tree in workgroup memory, log2(256) steps with barriers. Runs everywhere.
    Tree,
    /// `subgroupAdd` first, then one partial per subgroup; needs SUBGROUP.
    Subgroup,
}

impl Reduction {
    /// Both reductions, portable first.
    pub const ALL: [Reduction; 2] = [Reduction::Tree, Reduction::Subgroup];

    /// The WGSL of this reduction and the kernel's entry point.
    pub fn source(self) -> &'static str {
        match self {
            Reduction::Tree => shader("reduce_tree.wgsl"),
            Reduction::Subgroup => shader("reduce_subgroup.wgsl"),
        }
    }

    /// Device features this reduction needs.
    pub fn required_features(self) -> wgpu::Features {
        match self {
            Reduction::Tree => wgpu::Features::empty(),
            Reduction::Subgroup => wgpu::Features::SUBGROUP,
        }
    }

    /// The wgpu feature this reduction needs, by name, for messages.
    pub fn required_feature_name(self) -> Option<&'static str> {
        match self {
            Reduction::Tree => None,
            Reduction::Subgroup => Some("SUBGROUP"),
        }
    }

    /// The reductions a device with `features` can run, portable first.
    pub fn supported_by(features: wgpu::Features) -> Vec<Reduction> {
        Self::ALL
            .into_iter()
            .filter(|r| features.contains(r.required_features()))
            .collect()
    }

    /// The fastest reduction `features` allow.
    pub fn best_for(features: wgpu::Features) -> Reduction {
        if features.contains(wgpu::Features::SUBGROUP) {
            Reduction::Subgroup
        } else {
            Reduction::Tree
        }
    }

    /// Lower-case name, as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Tree => "tree",
            Reduction::Subgroup => "subgroup",
        }
    }
}

impl std::fmt::Display for Reduction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which kernel adds the elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShaderVariant {
    /// Core WGSL: 64-bit values emulated with u32 limbs and carries. Runs everywhere.
    Emulated,
    /// Native u64 arithmetic; needs SHADER_INT64.
    Native,
}

impl ShaderVariant {
    /// Both variants, portable first.
    pub const ALL: [ShaderVariant; 2] = [ShaderVariant::Emulated, ShaderVariant::Native];

    /// The WGSL of this variant's arithmetic (see [`kernel_source`] for a whole kernel).
    pub fn source(self) -> &'static str {
        match self {
            ShaderVariant::Emulated => shader("range_sum_emulated.wgsl"),
            ShaderVariant::Native => shader("range_sum_native.wgsl"),
        }
    }

    /// The wgpu feature this variant needs, by name, for messages.
    pub fn required_feature_name(self) -> Option<&'static str> {
        match self {
            ShaderVariant::Emulated => None,
            ShaderVariant::Native => Some("SHADER_INT64"),
        }
    }

    /// Device features this variant needs.
    pub fn required_features(self) -> wgpu::Features {
        match self {
            ShaderVariant::Emulated => wgpu::Features::empty(),
            ShaderVariant::Native => wgpu::Features::SHADER_INT64,
        }
    }

    /// The variants a device or adapter with `features` can run, portable first.
    pub fn supported_by(features: wgpu::Features) -> Vec<ShaderVariant> {
        Self::ALL
            .into_iter()
            .filter(|variant| features.contains(variant.required_features()))
            .collect()
    }

    /// The fastest variant `features` allow.
    pub fn best_for(features: wgpu::Features) -> ShaderVariant {
        if features.contains(wgpu::Features::SHADER_INT64) {
            ShaderVariant::Native
        } else {
            ShaderVariant::Emulated
        }
    }

    /// Lower-case name, as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            ShaderVariant::Emulated => "emulated",
            ShaderVariant::Native => "native",
        }
    }
}

impl std::fmt::Display for ShaderVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
