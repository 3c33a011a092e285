//! The WGSL gpusum embeds, and how a workload's kernel is composed from it.
//!
//! A kernel is the workgroup size, a reduction (which owns the entry point), the limb helpers, and
//! the workload's parameters and arithmetic for the chosen [`ShaderVariant`](crate::ShaderVariant).

use crate::array::Dtype;
use crate::kernel::{ArrayLayout, KernelChoice, Reduction, ShaderVariant};

/// What a kernel sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Workload {
    /// An inclusive i64 range whose elements each invocation generates.
    Range,
    /// An array of one type, read from a buffer or a texture.
    Array(Dtype, ArrayLayout),
    /// An f32 array summed plainly (float additions, neither exact nor reproducible): the
    /// bench's yardstick for the exact float kernel.
    #[cfg(feature = "tools")]
    PlainF32(ArrayLayout),
    /// Sums along axes of an array of one type (shaders/grouped_*.wgsl): one module with an
    /// entry point for a piece per workgroup and one for a piece per invocation.
    Grouped(Dtype, ArrayLayout),
    /// Sums by key of an array of one type (shaders/keyed_*.wgsl).
    Keyed(Dtype, ArrayLayout),
}

/// Texels in a row of an array texture: a power of two within every adapter's limits (GLES 3.1
/// and WebGPU's downlevel defaults allow 2048).
pub(crate) const TEXTURE_WIDTH: u32 = 2048;

/// Every WGSL file gpusum embeds, by file name (a test checks that shaders/ holds no other);
/// the bench's peaks and plain sum only with the `tools` feature.
pub(crate) const SHADERS: &[(&str, &str)] = &[
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
    #[cfg(feature = "tools")]
    ("peak_add.wgsl", include_str!("../../shaders/peak_add.wgsl")),
    (
        "array_params.wgsl",
        include_str!("../../shaders/array_params.wgsl"),
    ),
    (
        "array_load_buffer.wgsl",
        include_str!("../../shaders/array_load_buffer.wgsl"),
    ),
    (
        "array_load_texture.wgsl",
        include_str!("../../shaders/array_load_texture.wgsl"),
    ),
    (
        "array_sum_emulated.wgsl",
        include_str!("../../shaders/array_sum_emulated.wgsl"),
    ),
    (
        "array_sum_native.wgsl",
        include_str!("../../shaders/array_sum_native.wgsl"),
    ),
    #[cfg(feature = "tools")]
    (
        "peak_read.wgsl",
        include_str!("../../shaders/peak_read.wgsl"),
    ),
    (
        "float_add.wgsl",
        include_str!("../../shaders/float_add.wgsl"),
    ),
    (
        "float_sum.wgsl",
        include_str!("../../shaders/float_sum.wgsl"),
    ),
    ("element.wgsl", include_str!("../../shaders/element.wgsl")),
    (
        "grouped_params.wgsl",
        include_str!("../../shaders/grouped_params.wgsl"),
    ),
    (
        "grouped_int.wgsl",
        include_str!("../../shaders/grouped_int.wgsl"),
    ),
    (
        "grouped_float.wgsl",
        include_str!("../../shaders/grouped_float.wgsl"),
    ),
    (
        "keyed_params.wgsl",
        include_str!("../../shaders/keyed_params.wgsl"),
    ),
    (
        "keyed_int.wgsl",
        include_str!("../../shaders/keyed_int.wgsl"),
    ),
    (
        "keyed_float.wgsl",
        include_str!("../../shaders/keyed_float.wgsl"),
    ),
    (
        "float_every_digit.wgsl",
        include_str!("../../shaders/float_every_digit.wgsl"),
    ),
    #[cfg(feature = "tools")]
    (
        "float_plain.wgsl",
        include_str!("../../shaders/float_plain.wgsl"),
    ),
];

/// 32-bit digits a float kernel's partial holds, and the words one value spans: f32 values
/// reach 2^277 units of the smallest subnormal (digits 0 to 8, two words each), f64 values
/// 2^2098 (digits 0 to 65, three words each).
pub(crate) const fn float_digits(dtype: Dtype) -> (u32, u32) {
    match dtype {
        Dtype::F32 => (9, 2),
        _ => (66, 3),
    }
}

/// A float kernel's partial, one per workgroup, in u32 words: the flags (`float::FLAG_*`), spare
/// words up to this many, then each digit's 64-bit counter as (low, high). Defined here alone:
/// the kernels get it as constants ([`float_constants`]), `Part::decode` reads it.
pub(crate) const FLOAT_PARTIAL_HEADER_WORDS: usize = 4;

/// Words of a float kernel's partial for `dtype`.
pub(crate) const fn float_partial_words(dtype: Dtype) -> usize {
    FLOAT_PARTIAL_HEADER_WORDS + 2 * float_digits(dtype).0 as usize
}

/// Bytes of a float kernel's partial for `dtype`.
pub(crate) const fn float_partial_bytes(dtype: Dtype) -> u64 {
    4 * float_partial_words(dtype) as u64
}

/// The constants a float kernel takes from the host: its digits, the words a value spans, the
/// partial's layout and the flag values the host decodes.
fn float_constants(dtype: Dtype) -> String {
    use crate::float::{
        FLAG_NAN, FLAG_NEGATIVE_INFINITY, FLAG_NOT_NEGATIVE_ZERO, FLAG_POSITIVE_INFINITY,
    };
    let (digits, pieces) = float_digits(dtype);
    format!(
        "const DIGITS: u32 = {digits}u;\nconst PIECES: u32 = {pieces}u;\n\
         const PARTIAL_HEADER_WORDS: u32 = {FLOAT_PARTIAL_HEADER_WORDS}u;\n\
         const PARTIAL_WORDS: u32 = {}u;\n\
         const FLAG_NAN: u32 = {FLAG_NAN}u;\n\
         const FLAG_POSITIVE_INFINITY: u32 = {FLAG_POSITIVE_INFINITY}u;\n\
         const FLAG_NEGATIVE_INFINITY: u32 = {FLAG_NEGATIVE_INFINITY}u;\n\
         const FLAG_NOT_NEGATIVE_ZERO: u32 = {FLAG_NOT_NEGATIVE_ZERO}u;\n",
        float_partial_words(dtype)
    )
}

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
/// `compiler`. Float arrays have one kernel for every choice: integer operations on u32 words
/// only, its own workgroup accumulation in place of a reduction.
pub fn kernel_wgsl(
    workload: Workload,
    choice: KernelChoice,
    workgroup_size: u32,
    compiler: WgslCompiler,
) -> String {
    match workload {
        Workload::Array(dtype, layout) if dtype.is_float() => {
            return float_kernel_wgsl(dtype, layout, workgroup_size);
        }
        Workload::Grouped(dtype, layout) | Workload::Keyed(dtype, layout) if dtype.is_float() => {
            let entry = match workload {
                Workload::Grouped(..) => ["grouped_params.wgsl", "grouped_float.wgsl"],
                _ => ["keyed_params.wgsl", "keyed_float.wgsl"],
            };
            let files = ["limbs.wgsl", layout_file(layout), "element.wgsl", entry[0]]
                .into_iter()
                .chain(["float_add.wgsl", "float_every_digit.wgsl", entry[1]]);
            return composed(workgroup_size, float_kernel_constants(dtype), files);
        }
        Workload::Keyed(dtype, layout) => {
            let files = ["limbs.wgsl", layout_file(layout), "element.wgsl"]
                .into_iter()
                .chain(["keyed_params.wgsl", "keyed_int.wgsl"]);
            return composed(workgroup_size, array_constants(dtype), files);
        }
        #[cfg(feature = "tools")]
        Workload::PlainF32(layout) => return plain_kernel_wgsl(layout, workgroup_size),
        _ => {}
    }
    let reduction = match choice.reduction {
        Reduction::Tree => "reduce_tree.wgsl",
        Reduction::Subgroup => "reduce_subgroup.wgsl",
    };
    let enable = match (compiler, choice.reduction) {
        (WgslCompiler::Tint, Reduction::Subgroup) => "enable subgroups;\n",
        _ => "",
    };
    let (constants, files) = match workload {
        Workload::Range => {
            let arithmetic = match choice.variant {
                ShaderVariant::Emulated => "range_sum_emulated.wgsl",
                ShaderVariant::Native => "range_sum_native.wgsl",
            };
            (String::new(), vec!["range_params.wgsl", arithmetic])
        }
        Workload::Array(dtype, layout) => {
            let arithmetic = match choice.variant {
                ShaderVariant::Emulated => "array_sum_emulated.wgsl",
                ShaderVariant::Native => "array_sum_native.wgsl",
            };
            (
                array_constants(dtype),
                vec!["array_params.wgsl", layout_file(layout), arithmetic],
            )
        }
        // Emulated only: the pieces' sums are a few adds an element either way.
        Workload::Grouped(dtype, layout) => (
            array_constants(dtype),
            vec![
                layout_file(layout),
                "element.wgsl",
                "grouped_params.wgsl",
                "grouped_int.wgsl",
            ],
        ),
        #[cfg(feature = "tools")]
        Workload::PlainF32(_) => unreachable!("composed above"),
        Workload::Keyed(..) => unreachable!("composed above"),
    };
    let parts: Vec<&str> = [reduction, "limbs.wgsl"]
        .into_iter()
        .chain(files)
        .map(shader)
        .collect();
    format!(
        "{enable}{}\n{constants}{}",
        workgroup_size_line(workgroup_size),
        parts.join("\n")
    )
}

fn float_kernel_wgsl(dtype: Dtype, layout: ArrayLayout, workgroup_size: u32) -> String {
    let files = ["array_params.wgsl", layout_file(layout), "float_add.wgsl"]
        .into_iter()
        .chain(["float_sum.wgsl", "float_every_digit.wgsl"]);
    composed(workgroup_size, float_kernel_constants(dtype), files)
}

/// A float kernel's constants: an array kernel's and the float partial's.
fn float_kernel_constants(dtype: Dtype) -> String {
    format!("{}{}", array_constants(dtype), float_constants(dtype))
}

/// A kernel of `files` after the workgroup size and `constants`.
fn composed<'f>(
    workgroup_size: u32,
    constants: String,
    files: impl IntoIterator<Item = &'f str>,
) -> String {
    let parts: Vec<&str> = files.into_iter().map(shader).collect();
    format!(
        "{}\n{constants}{}",
        workgroup_size_line(workgroup_size),
        parts.join("\n")
    )
}

#[cfg(feature = "tools")]
fn plain_kernel_wgsl(layout: ArrayLayout, workgroup_size: u32) -> String {
    format!(
        "{}\n{}{}\n{}\n{}",
        workgroup_size_line(workgroup_size),
        array_constants(Dtype::F32),
        shader("array_params.wgsl"),
        shader(layout_file(layout)),
        shader("float_plain.wgsl"),
    )
}

fn layout_file(layout: ArrayLayout) -> &'static str {
    match layout {
        ArrayLayout::Buffer => "array_load_buffer.wgsl",
        ArrayLayout::Texture => "array_load_texture.wgsl",
    }
}

/// The constants an array kernel takes from the host: the element size, the bits that bias
/// each element (its sign bit, for signed types), and the texture's row length.
fn array_constants(dtype: Dtype) -> String {
    // Floats are not biased: their bits go to the kernel as they are.
    let flip = match (dtype.is_signed(), dtype.size()) {
        (false, _) => [0u32; 4],
        (true, 1) => [0x8080_8080; 4],
        (true, 2) => [0x8000_8000; 4],
        (true, 4) => [0x8000_0000; 4],
        // 64-bit elements are (low, high) word pairs: only the high words hold a sign.
        _ => [0, 0x8000_0000, 0, 0x8000_0000],
    };
    let flip = flip.map(|word| format!("{word:#x}u")).join(", ");
    format!(
        "const ELEMENT_BYTES: u32 = {}u;\nconst SIGN_FLIP: vec4<u32> = vec4<u32>({flip});\n\
         const TEXTURE_WIDTH: u32 = {TEXTURE_WIDTH}u;\n",
        dtype.size()
    )
}

/// The WGSL of the integer-add peak microkernel with `workgroup_size` invocations per workgroup.
#[cfg(feature = "tools")]
#[must_use]
pub fn peak_wgsl(workgroup_size: u32) -> String {
    format!(
        "{}\n{}",
        workgroup_size_line(workgroup_size),
        shader("peak_add.wgsl")
    )
}

/// The WGSL of the device-read peak microkernel, reading `layout` with `workgroup_size`
/// invocations per workgroup.
#[cfg(feature = "tools")]
#[must_use]
pub fn peak_read_wgsl(layout: ArrayLayout, workgroup_size: u32) -> String {
    format!(
        "{}\nconst TEXTURE_WIDTH: u32 = {TEXTURE_WIDTH}u;\n{}\n{}",
        workgroup_size_line(workgroup_size),
        shader(layout_file(layout)),
        shader("peak_read.wgsl")
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
