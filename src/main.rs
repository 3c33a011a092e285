//! The `gpusum` binary: parses arguments, runs one command of the library, maps the outcome to
//! an exit code. Everything else lives in `src/cli/` (arguments, lowering, renderers) and in the
//! library.

mod cli;

use std::process::ExitCode;

use cli::args::{self, Command};
use cli::out::{self, WriteError, say};
use cli::{Failure, INTERRUPTED, RUNTIME, USAGE};

fn main() -> ExitCode {
    let parsed = match args::parse() {
        Ok(parsed) => parsed,
        Err(error) => return usage(&error),
    };
    if let (Some(_), Some(start)) = (&parsed.command, parsed.sum.start) {
        return usage(&args::usage_error(
            clap::error::ErrorKind::UnknownArgument,
            format!("unexpected argument '{start}': a subcommand takes no bounds"),
        ));
    }
    let talk = cli::Talk {
        verbose: parsed.verbose,
        quiet: parsed.quiet,
    };
    cli::start_logging(talk);
    let result = match parsed.command {
        Some(Command::Adapters { json }) => cli::adapters::run(json),
        Some(Command::Selftest(args)) => cli::selftest::run(&args, talk),
        Some(Command::Bench(args)) => cli::bench::run(&args, talk),
        Some(Command::File(args)) => cli::file::run(&args, talk),
        Some(Command::Completions { shell }) => cli::completions(shell),
        Some(Command::Man) => cli::man(),
        Some(Command::Web(args)) => cli::web::run(&args),
        None => cli::sum::run(&parsed.sum, talk),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(error)) => usage(&error),
        Err(Failure::Runtime(error)) => {
            if let Some(write) = error.downcast_ref::<WriteError>()
                && write.is_broken_pipe()
            {
                return ExitCode::from(out::BROKEN_PIPE);
            }
            say!("gpusum: {error:#}");
            let cancelled = matches!(error.downcast_ref(), Some(gpusum::Error::Cancelled));
            ExitCode::from(if cancelled { INTERRUPTED } else { RUNTIME })
        }
    }
}

/// Prints a clap error to stderr (exit 2), or help or the version to stdout (exit 0, checked
/// like every other write to stdout).
fn usage(error: &clap::Error) -> ExitCode {
    if error.use_stderr() {
        let _ = error.print();
        return ExitCode::from(USAGE);
    }
    match out::print(&error.render().to_string()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(write) if write.is_broken_pipe() => ExitCode::from(out::BROKEN_PIPE),
        Err(write) => {
            say!("gpusum: {write}");
            ExitCode::from(RUNTIME)
        }
    }
}
