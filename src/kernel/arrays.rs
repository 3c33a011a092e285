//! The array kernels' choices that are not device features: where a chunk lives on the GPU
//! ([`ArrayLayout`]) and how the exact float kernels accumulate ([`FloatAccumulation`]). Both
//! give the same bits; the adapter's kind picks the faster.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::{UnknownName, parse_name};

/// Where the array kernels read their data from. Not a device feature: every adapter has both,
/// and the adapter's kind picks the faster (see [`ArrayLayout::for_adapter`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ArrayLayout {
    /// A storage buffer, read as `vec4<u32>`: the natural home of data on hardware, and the only
    /// one for a caller's `wgpu::Buffer`.
    Buffer,
    /// An rgba32uint texture, one 16-byte unit per texel: software adapters fetch texels with
    /// vector gathers and storage buffers one invocation at a time.
    Texture,
}

impl ArrayLayout {
    /// Both layouts, the buffer first.
    pub const ALL: [ArrayLayout; 2] = [ArrayLayout::Buffer, ArrayLayout::Texture];

    /// Lower-case name, as the CLI and JSON spell it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ArrayLayout::Buffer => "buffer",
            ArrayLayout::Texture => "texture",
        }
    }

    /// One line for help texts.
    #[must_use]
    pub const fn summary(self) -> &'static str {
        match self {
            ArrayLayout::Buffer => "a storage buffer; the default on hardware",
            ArrayLayout::Texture => {
                "an rgba32uint texture; the default on software adapters, which read it faster"
            }
        }
    }

    /// The faster layout on this kind of adapter, by measurement (docs/BENCHMARKS.md): the
    /// texture on Mesa's software adapters (lavapipe and llvmpipe read storage buffers one
    /// invocation at a time, textures with vector gathers: 3 to 4x), the buffer elsewhere,
    /// SwiftShader included (its buffers read 10 to 35% faster than its textures). A browser's
    /// CPU adapter is SwiftShader: Chromium's fallback adapter, which names itself only there.
    #[must_use]
    pub fn for_adapter(info: &wgpu::AdapterInfo) -> Self {
        let swiftshader =
            info.name.contains("SwiftShader") || info.backend == wgpu::Backend::BrowserWebGpu;
        if info.device_type == wgpu::DeviceType::Cpu && !swiftshader {
            ArrayLayout::Texture
        } else {
            ArrayLayout::Buffer
        }
    }
}

impl fmt::Display for ArrayLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ArrayLayout {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, UnknownName> {
        parse_name("array layout", &Self::ALL, Self::name, text)
    }
}

/// How the exact float kernels keep each invocation's sum. Not a device feature: both are exact
/// and give the same bits everywhere; the adapter's kind picks the faster
/// ([`FloatAccumulation::for_adapter`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FloatAccumulation {
    /// Counters for every digit a value may touch, each value placed by selects: no branch per
    /// value, which CPUs running invocations as SIMD lanes (llvmpipe, SwiftShader) pay for on
    /// every value whether or not a lane takes it. f32: twelve 24-bit digits. f64: a ring of
    /// eight 22-bit digits for each batch of 510 values; a batch whose values touch more digits
    /// is added again through the window.
    EveryDigit,
    /// A window of 4 digits that moves when a value falls outside it: fewer operations per
    /// value where a branch that no lane takes is free, as on GPUs.
    Window,
}

impl FloatAccumulation {
    /// Both, every digit first.
    pub const ALL: [FloatAccumulation; 2] =
        [FloatAccumulation::EveryDigit, FloatAccumulation::Window];

    /// Lower-case name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            FloatAccumulation::EveryDigit => "every-digit",
            FloatAccumulation::Window => "window",
        }
    }

    /// The faster on this kind of adapter, by measurement (docs/BENCHMARKS.md): every digit on
    /// software adapters (on lavapipe 3x the window's speed for f32, 5x for f64 over twenty
    /// decades), the window elsewhere (1.5x every digit's f32 speed on an H100).
    #[must_use]
    pub fn for_adapter(info: &wgpu::AdapterInfo) -> Self {
        if info.device_type == wgpu::DeviceType::Cpu {
            FloatAccumulation::EveryDigit
        } else {
            FloatAccumulation::Window
        }
    }
}

impl fmt::Display for FloatAccumulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(
        name: &str,
        device_type: wgpu::DeviceType,
        backend: wgpu::Backend,
    ) -> wgpu::AdapterInfo {
        wgpu::AdapterInfo {
            name: name.into(),
            ..wgpu::AdapterInfo::new(device_type, backend)
        }
    }

    #[test]
    fn the_texture_layout_is_for_mesas_software_adapters_only() {
        use wgpu::{Backend as B, DeviceType as D};
        let layout = |name, kind, backend| ArrayLayout::for_adapter(&adapter(name, kind, backend));
        assert_eq!(
            layout("llvmpipe (LLVM 15.0.6, 256 bits)", D::Cpu, B::Vulkan),
            ArrayLayout::Texture
        );
        assert_eq!(
            layout("llvmpipe (LLVM 15.0.6, 256 bits)", D::Cpu, B::Gl),
            ArrayLayout::Texture
        );
        assert_eq!(
            layout("SwiftShader Device (Subzero)", D::Cpu, B::Vulkan),
            ArrayLayout::Buffer
        );
        // Chromium's fallback adapter, which the page sees without a name.
        assert_eq!(layout("", D::Cpu, B::BrowserWebGpu), ArrayLayout::Buffer);
        assert_eq!(
            layout("NVIDIA H100", D::DiscreteGpu, B::Vulkan),
            ArrayLayout::Buffer
        );
    }
}
