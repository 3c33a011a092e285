//! Command-line arguments: the clap structs, with value lists derived from the library's types.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use gpusum::bench::BackendSelector;
use gpusum::{BackendChoice, Reduction, ShaderVariant, parse};

#[derive(Parser, Debug)]
#[command(
    name = "gpusum",
    version,
    about = "Sum every integer of an inclusive range, exactly, on the GPU (or the CPU).",
    long_about = "Sum every integer of an inclusive range [START, END] exactly, in parallel, on any GPU \
                  wgpu reaches (Vulkan, Metal, DX12, OpenGL), or on the CPU with rayon.\n\n\
                  Bounds are i64 (negatives and `_` separators allowed); the sum is an exact integer.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub sum: SumArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every adapter wgpu finds, with the capabilities and limits gpusum uses.
    Adapters {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check that every adapter (and the CPU) adds correctly: a fixed battery of awkward ranges.
    ///
    /// Exits 0 only when every case passed on every adapter and kernel, 1 when any failed, and 1
    /// when no adapter was found (unless --allow-cpu-only).
    Selftest(SelftestArgs),
    /// Measure every backend side by side: seq, cpu, and each GPU adapter and shader variant.
    ///
    /// Sums 1..=N for a sweep of lengths N (powers of two from 2^10 until a time budget per backend
    /// runs out), checks every sum, and reports times, throughput, speedups, the GPU/CPU crossover
    /// and each device's integer-add peak.
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// A shorter sweep: every other power of two, 5 s per backend.
    #[arg(long)]
    pub quick: bool,

    /// Lengths to measure instead of the sweep, e.g. 1e6,2^30,1_000.
    #[arg(long, value_delimiter = ',', value_parser = parse::length, value_name = "LIST")]
    pub sizes: Option<Vec<u64>>,

    /// Backends to measure: seq, cpu, gpu, gpu:ADAPTER or gpu:ADAPTER:VARIANT.
    #[arg(long, value_delimiter = ',', value_name = "LIST", value_parser = parse_selector)]
    pub backends: Option<Vec<BackendSelector>>,

    /// Time budget per backend for the sweep, in seconds [default: 20, or 5 with --quick].
    #[arg(long, value_name = "SECONDS", value_parser = parse::seconds)]
    pub budget: Option<Duration>,

    /// Print one JSON object instead of the table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Print the rows as CSV instead of the table.
    #[arg(long)]
    pub csv: bool,

    /// Also draw throughput against length (log-log, SVG) to this file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SelftestArgs {
    /// Seed for the random cases (printed by every run, to replay it).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Only test adapters whose "name (api)" contains this text.
    #[arg(long, value_name = "SUBSTRING")]
    pub adapter: Option<String>,

    /// Pass with the CPU paths alone when there is no GPU adapter.
    #[arg(long)]
    pub allow_cpu_only: bool,

    /// Force this workgroup size (a power of two up to 256) on every adapter, e.g. 128 or 64 as
    /// devices with low limits get [default: each adapter's largest allowed].
    #[arg(long, value_name = "N", value_parser = parse_workgroup_size)]
    pub workgroup_size: Option<u32>,

    /// Bound on each sum, in seconds [default: 10 s plus 1 s per 5e7 elements].
    #[arg(long, value_name = "SECONDS", value_parser = parse::seconds)]
    pub timeout: Option<Duration>,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SumArgs {
    /// First integer of the range (e.g. -5, 1_000_000).
    #[arg(value_parser = parse::bound, allow_negative_numbers = true, required = true)]
    pub start: Option<i64>,

    /// Last integer of the range, included.
    #[arg(value_parser = parse::bound, allow_negative_numbers = true, required = true)]
    pub end: Option<i64>,

    #[command(flatten)]
    pub device: DeviceArgs,

    /// Check the result against the closed form; exit 1 on a mismatch.
    #[arg(long)]
    pub verify: bool,

    /// Print one JSON object instead of the bare sum.
    #[arg(long)]
    pub json: bool,

    /// Give up after this many seconds with exit code 1, stuck GPU included
    /// [default: 10 s plus 1 s per 5e7 elements].
    #[arg(long, value_name = "SECONDS", value_parser = parse::seconds)]
    pub timeout: Option<Duration>,

    /// Print the chosen backend, adapter and timings to stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Where to run, shared by every command that runs sums.
#[derive(Args, Debug)]
pub struct DeviceArgs {
    /// Where to run: auto uses a GPU if there is one, else the CPU.
    #[arg(long, default_value = "auto", value_parser = backend_parser())]
    pub backend: BackendChoice,

    /// Use the first adapter whose "name (api)" contains this text, case-insensitive
    /// (e.g. `nvidia`, `gl`); see `gpusum adapters`.
    #[arg(long, value_name = "SUBSTRING")]
    pub adapter: Option<String>,

    /// Force a shader variant; native needs an adapter with SHADER_INT64.
    #[arg(long, value_parser = variant_parser())]
    pub shader: Option<ShaderVariant>,

    /// Force the workgroup reduction; subgroup needs an adapter with SUBGROUP.
    #[arg(long, value_parser = reduction_parser())]
    pub reduction: Option<Reduction>,
}

fn backend_parser() -> impl TypedValueParser<Value = BackendChoice> {
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

fn variant_parser() -> impl TypedValueParser<Value = ShaderVariant> {
    PossibleValuesParser::new(
        ShaderVariant::ALL
            .map(|variant| PossibleValue::new(variant.name()).help(variant.summary())),
    )
    .try_map(|name| name.parse::<ShaderVariant>())
}

fn reduction_parser() -> impl TypedValueParser<Value = Reduction> {
    PossibleValuesParser::new(
        Reduction::ALL
            .map(|reduction| PossibleValue::new(reduction.name()).help(reduction.summary())),
    )
    .try_map(|name| name.parse::<Reduction>())
}

fn parse_workgroup_size(text: &str) -> Result<u32, String> {
    let max = gpusum::gpu::MAX_WORKGROUP_SIZE;
    match text.parse::<u32>() {
        Ok(size) if size.is_power_of_two() && size <= max => Ok(size),
        _ => Err(format!("{text:?} is not a power of two from 1 to {max}")),
    }
}

fn parse_selector(text: &str) -> Result<BackendSelector, String> {
    text.parse().map_err(|error| format!("{error}"))
}

/// Parses the command line. An extra word after the bounds reads to clap as a subcommand in
/// conflict with them; it is reported as the unexpected argument it is.
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    Cli::try_parse().map_err(|error| {
        match (error.kind(), error.get(ContextKind::InvalidSubcommand)) {
            (ErrorKind::ArgumentConflict, Some(ContextValue::String(extra))) => usage_error(
                ErrorKind::UnknownArgument,
                format!("unexpected argument '{extra}': gpusum takes two bounds, START and END"),
            ),
            _ => error,
        }
    })
}

/// A usage error in clap's words and format (exit code 2).
pub fn usage_error(kind: clap::error::ErrorKind, message: impl std::fmt::Display) -> clap::Error {
    <Cli as clap::CommandFactory>::command().error(kind, message)
}

/// A usage error of one subcommand, with that subcommand's usage line.
pub fn subcommand_usage_error(
    name: &str,
    kind: clap::error::ErrorKind,
    message: impl std::fmt::Display,
) -> clap::Error {
    let mut command = <Cli as clap::CommandFactory>::command();
    command.build();
    match command.find_subcommand_mut(name) {
        Some(subcommand) => subcommand.error(kind, message),
        None => command.error(kind, message),
    }
}
