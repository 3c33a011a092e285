//! Command-line arguments: parsing and the usage errors clap reports (exit code 2).

use clap::{Args, Parser, Subcommand, ValueEnum};

use gpusum::{BackendChoice, ShaderVariant};

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
    /// Exits 0 only when every case passed on every adapter and variant, 1 when any failed, and 1
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
    /// A sweep that finishes in about a minute on a software adapter.
    #[arg(long)]
    pub quick: bool,

    /// Lengths to measure instead of the sweep, e.g. 1e6,2^30,1_000.
    #[arg(long, value_delimiter = ',', value_parser = gpusum::bench::parse_size, value_name = "LIST")]
    pub sizes: Option<Vec<u64>>,

    /// Backends to measure: seq, cpu, gpu, gpu:ADAPTER or gpu:ADAPTER:emulated|native.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub backends: Option<Vec<String>>,

    /// Time budget per backend for the sweep, in seconds [default: 20, or 5 with --quick].
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub budget: Option<std::time::Duration>,

    /// Print one JSON object instead of the table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Print the rows as CSV instead of the table.
    #[arg(long)]
    pub csv: bool,

    /// Also draw throughput against length (log-log, SVG) to this file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct SelftestArgs {
    /// Seed for the random cases (printed by every run, to replay it).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Only test adapters whose "name (backend)" contains this text.
    #[arg(long, value_name = "SUBSTRING")]
    pub adapter: Option<String>,

    /// Pass with the CPU paths alone when there is no GPU adapter.
    #[arg(long)]
    pub allow_cpu_only: bool,

    /// Bound on each sum, in seconds [default: 10 s plus 1 s per 5e7 elements].
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,

    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SumArgs {
    /// First integer of the range (e.g. -5, 1_000_000).
    #[arg(value_parser = parse_bound, allow_negative_numbers = true, required = true)]
    pub start: Option<i64>,

    /// Last integer of the range, included.
    #[arg(value_parser = parse_bound, allow_negative_numbers = true, required = true)]
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
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,

    /// Print the chosen backend, adapter and timings to stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Where to run, shared by every command that runs sums.
#[derive(Args, Debug)]
pub struct DeviceArgs {
    /// Where to run: auto uses a GPU if there is one, else the CPU.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,

    /// Use the first adapter whose "name (backend)" contains this text, case-insensitive
    /// (e.g. `nvidia`, `gl`); see `gpusum adapters`.
    #[arg(long, value_name = "SUBSTRING")]
    pub adapter: Option<String>,

    /// Force a shader variant; native needs an adapter with SHADER_INT64.
    #[arg(long, value_enum)]
    pub shader: Option<Shader>,

    /// Force the workgroup reduction; subgroup needs an adapter with SUBGROUP.
    #[arg(long, value_enum)]
    pub reduction: Option<ReductionArg>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ReductionArg {
    /// A tree in workgroup memory; runs on every adapter.
    Tree,
    /// subgroupAdd, then one partial per subgroup; needs SUBGROUP.
    Subgroup,
}

impl From<ReductionArg> for gpusum::gpu::Reduction {
    fn from(reduction: ReductionArg) -> Self {
        match reduction {
            ReductionArg::Tree => gpusum::gpu::Reduction::Tree,
            ReductionArg::Subgroup => gpusum::gpu::Reduction::Subgroup,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Backend {
    /// A GPU if one is found, else the CPU (with a notice on stderr).
    Auto,
    /// A GPU adapter; an error if there is none.
    Gpu,
    /// The CPU, on all cores (rayon).
    Cpu,
    /// The CPU, on one thread.
    Seq,
}

impl From<Backend> for BackendChoice {
    fn from(backend: Backend) -> Self {
        match backend {
            Backend::Auto => BackendChoice::Auto,
            Backend::Gpu => BackendChoice::Gpu,
            Backend::Cpu => BackendChoice::Cpu,
            Backend::Seq => BackendChoice::Seq,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Shader {
    /// 64-bit values as u32 limbs with carries; runs on every adapter.
    Emulated,
    /// Native 64-bit integers; needs SHADER_INT64.
    Native,
}

impl From<Shader> for ShaderVariant {
    fn from(shader: Shader) -> Self {
        match shader {
            Shader::Emulated => ShaderVariant::Emulated,
            Shader::Native => ShaderVariant::Native,
        }
    }
}

/// Parses the command line. An extra word after the bounds reads to clap as a subcommand in
/// conflict with them; it is reported as the unexpected argument it is.
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    Cli::try_parse().map_err(|error| {
        match (error.kind(), error.get(ContextKind::InvalidSubcommand)) {
            (ErrorKind::ArgumentConflict, Some(ContextValue::String(extra))) => {
                <Cli as clap::CommandFactory>::command().error(
                    ErrorKind::UnknownArgument,
                    format!(
                        "unexpected argument '{extra}': gpusum takes two bounds, START and END"
                    ),
                )
            }
            _ => error,
        }
    })
}

/// A positive number of seconds, fractions allowed.
pub fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds.is_finite() && seconds < 1e15 => {
            Ok(std::time::Duration::from_secs_f64(seconds))
        }
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

/// An i64 written as digits with an optional sign and `_` between digits.
pub fn parse_bound(text: &str) -> Result<i64, String> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let well_formed = digits.starts_with(|c: char| c.is_ascii_digit())
        && !digits.ends_with('_')
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Err(format!(
            "{text:?} is not an integer (write digits, e.g. -5 or 1_000_000)"
        ));
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    plain.parse::<i64>().map_err(|_| {
        format!(
            "{text} is outside the i64 range [{}, {}]",
            i64::MIN,
            i64::MAX
        )
    })
}

#[cfg(test)]
mod tests {
    use super::parse_bound;

    #[test]
    fn bounds_accept_signs_and_separators() {
        assert_eq!(parse_bound("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_bound("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_bound("+7"), Ok(7));
        for bad in ["abc", "1.5", "", "-", "_1", "1_", "1e6", "0x10"] {
            assert!(
                parse_bound(bad).unwrap_err().contains("not an integer"),
                "{bad}"
            );
        }
        assert!(
            parse_bound("9223372036854775808")
                .unwrap_err()
                .contains("outside the i64 range")
        );
        assert!(
            parse_bound("-99999999999999999999999999999999999999999")
                .unwrap_err()
                .contains("outside")
        );
    }
}
