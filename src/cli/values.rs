//! The value parsers of the command line's arguments: the library's names, sizes and grammars
//! turned into clap's parsers, with their possible values listed in `--help`.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use gpusum::bench::{BackendSelector, BenchWorkload};
use gpusum::input::InputFormat;
use gpusum::kernel::ArrayLayout;
use gpusum::{BackendChoice, Dtype, Reduction, ShaderVariant, parse};

pub(super) fn backend_parser() -> impl TypedValueParser<Value = BackendChoice> {
    PossibleValuesParser::new(
        BackendChoice::ALL.map(|choice| PossibleValue::new(choice.name()).help(choice.summary())),
    )
    .map(|name| {
        BackendChoice::ALL
            .into_iter()
            .find(|choice| choice.name() == name)
            .unwrap_or_default()
    })
}

pub(super) fn variant_parser() -> impl TypedValueParser<Value = ShaderVariant> {
    PossibleValuesParser::new(
        ShaderVariant::ALL
            .map(|variant| PossibleValue::new(variant.name()).help(variant.summary())),
    )
    .try_map(|name| name.parse::<ShaderVariant>())
}

pub(super) fn reduction_parser() -> impl TypedValueParser<Value = Reduction> {
    PossibleValuesParser::new(
        Reduction::ALL
            .map(|reduction| PossibleValue::new(reduction.name()).help(reduction.summary())),
    )
    .try_map(|name| name.parse::<Reduction>())
}

pub(super) fn workload_parser() -> impl TypedValueParser<Value = BenchWorkload> {
    PossibleValuesParser::new([
        PossibleValue::new("range").help("1..=N, generated on the device: compute-bound"),
        PossibleValue::new("array")
            .help("i64, i32 and u8 arrays read from memory: bandwidth-bound"),
        PossibleValue::new("float").help(
            "f32 and f64 arrays summed exactly, beside a plain (inexact) float sum of the same data",
        ),
        PossibleValue::new("grouped")
            .help("i64 and f64 matrices summed along axis 0 and axis 1, and by 1,000 keys"),
    ])
    .map(|name| match name.as_str() {
        "array" => BenchWorkload::Array,
        "float" => BenchWorkload::Float,
        "grouped" => BenchWorkload::Grouped,
        _ => BenchWorkload::Range,
    })
}

pub(super) fn dtype_parser() -> impl TypedValueParser<Value = Dtype> {
    PossibleValuesParser::new(Dtype::ALL.map(|dtype| PossibleValue::new(dtype.name())))
        .try_map(|name| name.parse::<Dtype>())
}

pub(super) fn layout_parser() -> impl TypedValueParser<Value = ArrayLayout> {
    PossibleValuesParser::new(
        ArrayLayout::ALL.map(|layout| PossibleValue::new(layout.name()).help(layout.summary())),
    )
    .try_map(|name| name.parse::<ArrayLayout>())
}

pub(super) fn format_parser() -> impl TypedValueParser<Value = InputFormat> {
    const FORMATS: [(&str, InputFormat, &str); 3] = [
        (
            "auto",
            InputFormat::Auto,
            ".npy if the input starts with numpy's magic bytes, else raw",
        ),
        (
            "npy",
            InputFormat::Npy,
            "a .npy file; anything else is an error",
        ),
        (
            "raw",
            InputFormat::Raw,
            "raw elements of --dtype, whatever the first bytes are",
        ),
    ];
    PossibleValuesParser::new(FORMATS.map(|(name, _, help)| PossibleValue::new(name).help(help)))
        .map(|name| {
            FORMATS
                .iter()
                .find(|(candidate, _, _)| *candidate == name)
                .map_or(InputFormat::Auto, |(_, format, _)| *format)
        })
}

pub(super) fn parse_chunk_bytes(text: &str) -> Result<u64, String> {
    match parse::bytes(text) {
        Ok(bytes) if bytes.is_multiple_of(16) => Ok(bytes),
        Ok(bytes) => Err(format!("{bytes} bytes is not a multiple of 16")),
        Err(error) => Err(error.to_string()),
    }
}

pub(super) fn parse_workgroup_size(text: &str) -> Result<u32, String> {
    let max = gpusum::gpu::MAX_WORKGROUP_SIZE;
    match text.parse::<u32>() {
        Ok(size) if size.is_power_of_two() && size <= max => Ok(size),
        _ => Err(format!("{text:?} is not a power of two from 1 to {max}")),
    }
}

pub(super) fn parse_selector(text: &str) -> Result<BackendSelector, String> {
    text.parse().map_err(|error| format!("{error}"))
}
