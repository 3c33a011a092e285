//! Command-line arguments: the clap structs, with value lists derived from the library's types.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use gpusum::bench::{BackendSelector, BenchWorkload};
use gpusum::input::InputFormat;
use gpusum::kernel::ArrayLayout;
use gpusum::{BackendChoice, Dtype, Reduction, ShaderVariant, parse};

use super::values::{
    backend_parser, dtype_parser, format_parser, layout_parser, parse_chunk_bytes, parse_selector,
    parse_workgroup_size, reduction_parser, variant_parser, workload_parser,
};

#[derive(Parser, Debug)]
#[command(
    name = "gpusum",
    version,
    about = "Sum every integer of an inclusive range, exactly, on the GPU (or the CPU).",
    long_about = "Sum every integer of an inclusive range [START, END] exactly, in parallel, on any GPU \
                  wgpu reaches (Vulkan, Metal, DX12, OpenGL), or on the CPU with rayon.\n\n\
                  Bounds are i64 (negatives and `_` separators allowed); the sum is an exact integer.",
    after_long_help = LONG_HELP,
    override_usage = "gpusum [OPTIONS] <START> <END>\n       gpusum [OPTIONS] <COMMAND>",
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub sum: SumArgs,

    /// Say more on stderr: the backend, adapter and timings of a sum, and wgpu's and gpusum's
    /// informational messages.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Say less on stderr: no notices (a CPU fallback, say) and no progress; errors still print.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Under mpiexec: each rank sums its share of the range or file, and rank 0 prints the
    /// merged exact sum (a build with `--features mpi`).
    #[arg(long, global = true)]
    pub mpi: bool,
}

const LONG_HELP: &str = "\
Examples:
  gpusum 1 20                         210
  gpusum -- -5 5                      negative bounds after --
  gpusum --json --verify 1 1_000_000_000
  gpusum --backend cpu 1 1_000_000    on all cores, no GPU
  gpusum adapters                     what wgpu finds here
  gpusum selftest --junit out.xml     check every adapter, with a report for CI
  gpusum bench --quick --plot b.svg   GPU against CPU, with a plot

Exit codes: 0 success, 1 runtime failure (no adapter where one was required, a GPU error, a
timeout, a failed --verify, stdout that cannot be written), 2 usage error, 130 Ctrl-C, 141 the
reader of stdout went away.

Environment:
  WGPU_BACKEND        graphics APIs to try: vulkan, metal, dx12, gl (comma-separated)
  WGPU_ADAPTER_NAME   an adapter by name, as --adapter does
  WGPU_POWER_PREF     low prefers integrated GPUs
  WGPU_DX12_COMPILER  fxc, dxc or static-dxc
  WGPU_VALIDATION     1 turns wgpu's validation on (see RUST_LOG)
  GPUSUM_CPU_ISA      a narrower instruction set for the CPU path: avx2, sse2, ...
  RUST_LOG            log filter, e.g. warn or wgpu=info (default: warn)
  XDG_RUNTIME_DIR     Mesa's EGL complains on stderr when it is unset";

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
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `gpusum man > gpusum.1`.
    Man,
    /// Sum every element of an integer or float array, exactly: a .npy file, raw binary data, or
    /// `-` for standard input.
    ///
    /// A .npy file may have any shape, byte order and C or Fortran order; its header gives the
    /// type. Raw data needs --dtype (little-endian unless --big-endian). Input is read in chunks,
    /// so files larger than memory and endless pipes work. Prints an integer sum in full; a float
    /// sum is rounded once and printed as the shortest decimal that reads back to it (or nan, inf,
    /// -inf).
    File(FileArgs),
    /// Measure every backend side by side: seq, cpu, and each GPU adapter and shader variant.
    ///
    /// Sums 1..=N (or, with --workload array or float, arrays of N elements) for a sweep of
    /// lengths N (powers of two from 2^10 until a time budget per backend runs out), checks every
    /// sum, and reports times, throughput, speedups, the GPU/CPU crossover and each device's peak:
    /// its integer adds for ranges, its memory, upload and device-read bandwidths for arrays. The
    /// float workload puts each exact float sum beside a plain float sum of the same data.
    Bench(BenchArgs),
    /// Serve the browser page (built by web/build.sh into web/dist/) on 127.0.0.1 and print its
    /// URL: the same kernels on the browser's WebGPU, a selftest, a range form and a bench.
    Web(WebArgs),
}

#[derive(Args, Debug)]
pub struct WebArgs {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8417)]
    pub port: u16,

    /// The built page [default: web/dist of this checkout]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to sum: range (1..=N, compute-bound), array (i64, i32 and u8 arrays, from host and
    /// from device memory, bandwidth-bound) or float (f32 and f64 arrays, exact beside plain).
    #[arg(long, default_value = "range", value_parser = workload_parser())]
    pub workload: BenchWorkload,

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

    /// Untimed runs before each point's timed ones [default: 1].
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,

    /// Exactly N timed runs per point [default: at least 5 (3 with --quick), more until they add
    /// up to 0.2 s (0.03 s)].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: Option<u32>,

    /// Print one JSON object instead of the table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Print the rows as CSV instead of the table.
    #[arg(long)]
    pub csv: bool,

    /// Write the run as JSON to FILE, to compare a later run with (--baseline).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Measure this machine's rates for `auto`'s planner instead of sweeping, and save them to
    /// FILE [default: the user's cache directory, or GPUSUM_PROFILE]; `auto` plans with them.
    #[arg(long, value_name = "FILE", num_args = 0..=1, conflicts_with_all = ["save", "baseline", "json", "csv", "plot", "export_json", "export_csv", "export_md"])]
    pub save_profile: Option<Option<PathBuf>>,

    /// Compare each point with the same backend and length in a saved run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,

    /// Also write the rows as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,

    /// Also write the machine and the rows as a Markdown table to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_md: Option<PathBuf>,

    /// Also draw throughput against length (log-log, SVG) to this file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FileArgs {
    /// The array: a .npy file, a raw binary file (with --dtype), or - for standard input.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,

    /// The element type of raw data; with a .npy file, it must be the header's.
    #[arg(long, value_parser = dtype_parser())]
    pub dtype: Option<Dtype>,

    /// Raw data is big-endian (most significant byte first): PATH and, with --by, raw KEYS.
    #[arg(long)]
    pub big_endian: bool,

    /// How to read PATH: auto takes it as .npy when it starts with numpy's magic bytes.
    #[arg(long, default_value = "auto", value_parser = format_parser())]
    pub format: InputFormat,

    /// Sum along these axes of the array (a .npy file's shape; raw data has one axis), e.g. 0,
    /// -1 or 0,2: one exact sum per index of the other axes, a line each in C order.
    #[arg(
        long,
        value_name = "AXES",
        value_delimiter = ',',
        allow_negative_numbers = true,
        conflicts_with = "by"
    )]
    pub axis: Vec<i64>,

    /// Sum by key: KEYS holds one integer key per element of PATH (a .npy file, or raw data of
    /// --key-dtype); prints KEY<TAB>SUM lines in ascending key order.
    #[arg(long, value_name = "KEYS")]
    pub by: Option<PathBuf>,

    /// The element type of a raw KEYS file; with a .npy file, it must be the header's.
    #[arg(long, value_parser = dtype_parser(), requires = "by")]
    pub key_dtype: Option<Dtype>,

    #[command(flatten)]
    pub device: DeviceArgs,

    /// Where the array lives on the GPU [default: texture on software adapters, else buffer].
    #[arg(long, value_parser = layout_parser())]
    pub layout: Option<ArrayLayout>,

    /// Bytes read at a time, e.g. 64KiB or 32MiB (a multiple of 16); a GPU's upload ring holds
    /// two chunks of staging and two on the device [default: 32MiB on a GPU, 8MiB on the CPU].
    #[arg(long, value_name = "BYTES", value_parser = parse_chunk_bytes)]
    pub chunk_bytes: Option<u64>,

    /// Also sum every chunk with the CPU twin; exit 1 on a mismatch.
    #[arg(long)]
    pub verify: bool,

    /// Print one JSON object instead of the bare sum.
    #[arg(long)]
    pub json: bool,

    /// Give up after this many seconds with exit code 1 [default: 10 s plus 1 s per 5e7
    /// elements; none for standard input of unknown length].
    #[arg(long, value_name = "SECONDS", value_parser = parse::seconds)]
    pub timeout: Option<Duration>,
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

    /// Also write the run as JUnit XML to this file (one test case per target and case).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Fail unless each of these graphics APIs has an adapter that was tested, e.g. vulkan,gl.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub require_backends: Option<Vec<String>>,
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

/// The command line's grammar, with the version naming wgpu's too.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command().version(super::version::long())
}

/// Parses the command line. An extra word after the bounds reads to clap as a subcommand in
/// conflict with them; it is reported as the unexpected argument it is.
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let parsed = command()
        .try_get_matches()
        .and_then(|matches| refuse_range_options_before(&matches).map(|()| matches))
        .and_then(|matches| Cli::from_arg_matches(&matches));
    parsed.map_err(
        |error| match (error.kind(), error.get(ContextKind::InvalidSubcommand)) {
            (ErrorKind::ArgumentConflict, Some(ContextValue::String(extra))) => usage_error(
                ErrorKind::UnknownArgument,
                format!("unexpected argument '{extra}': gpusum takes two bounds, START and END"),
            ),
            _ => error,
        },
    )
}

/// A usage error in clap's words and format (exit code 2).
/// Options of a range sum given before a subcommand (`gpusum --backend cpu file x.npy`) would be
/// parsed as the range's and dropped: a usage error that says where they go.
fn refuse_range_options_before(matches: &clap::ArgMatches) -> Result<(), clap::Error> {
    let Some((name, _)) = matches.subcommand() else {
        return Ok(());
    };
    let given = [
        "backend",
        "adapter",
        "shader",
        "reduction",
        "verify",
        "json",
        "timeout",
    ]
    .into_iter()
    .find(|id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine));
    match given {
        Some(id) => Err(usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            format!(
                "--{id} before the subcommand applies to a range sum; for `{name}`, write it \
                 after the subcommand: `gpusum {name} --{id} ...`"
            ),
        )),
        None => Ok(()),
    }
}

pub fn usage_error(kind: clap::error::ErrorKind, message: impl std::fmt::Display) -> clap::Error {
    command().error(kind, message)
}

/// A usage error of one subcommand, with that subcommand's usage line.
pub fn subcommand_usage_error(
    name: &str,
    kind: clap::error::ErrorKind,
    message: impl std::fmt::Display,
) -> clap::Error {
    let mut command = command();
    command.build();
    match command.find_subcommand_mut(name) {
        Some(subcommand) => subcommand.error(kind, message),
        None => command.error(kind, message),
    }
}
