//! The wgpu path: adapters, shader variants and the reusable [`GpuContext`].

mod adapter;
mod context;
mod peak;

use serde::Serialize;

pub use adapter::{AdapterReport, compute_adapters, describe_short, instance, select_adapter};
pub use context::{
    DispatchShape, GpuContext, GpuOptions, GpuOutcome, MAX_DISPATCH_ELEMENTS, MAX_PER_INVOCATION,
    WORKGROUP_SIZE,
};
pub use peak::PeakKernel;

/// Every WGSL file gpusum embeds, by file name (the naga test checks that shaders/ holds no other).
pub const SHADERS: [(&str, &str); 3] = [
    (
        "range_sum_emulated.wgsl",
        include_str!("../../shaders/range_sum_emulated.wgsl"),
    ),
    (
        "range_sum_native.wgsl",
        include_str!("../../shaders/range_sum_native.wgsl"),
    ),
    ("peak_add.wgsl", include_str!("../../shaders/peak_add.wgsl")),
];

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

    /// The WGSL source of this variant's kernel.
    pub fn source(self) -> &'static str {
        match self {
            ShaderVariant::Emulated => SHADERS[0].1,
            ShaderVariant::Native => SHADERS[1].1,
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
