//! The `gpusum` binary: parses arguments, runs one command of the library, maps the outcome to
//! an exit code. Everything else lives in `src/cli/` (arguments, lowering, renderers) and in the
//! library.

mod cli;

use std::process::ExitCode;

use cli::args::{self, Command};
use cli::{Failure, INTERRUPTED, RUNTIME, USAGE};

fn main() -> ExitCode {
    let parsed = match args::parse() {
        Ok(parsed) => parsed,
        Err(error) => return usage(&error),
    };
    let result = match parsed.command {
        Some(Command::Adapters { json }) => cli::adapters::run(json),
        Some(Command::Selftest(args)) => cli::selftest::run(&args),
        Some(Command::Bench(args)) => cli::bench::run(&args),
        None => cli::sum::run(&parsed.sum),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(error)) => usage(&error),
        Err(Failure::Runtime(error)) => {
            eprintln!("gpusum: {error:#}");
            let cancelled = matches!(error.downcast_ref(), Some(gpusum::Error::Cancelled));
            ExitCode::from(if cancelled { INTERRUPTED } else { RUNTIME })
        }
    }
}

/// Prints a clap error (or help, or the version) and picks its exit code.
fn usage(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    ExitCode::from(if error.use_stderr() { USAGE } else { 0 })
}
