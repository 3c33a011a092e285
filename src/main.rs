//! The `gpusum` binary: parses arguments, runs one command of the library, maps the outcome to
//! an exit code. Everything else lives in `src/cli/` (arguments, lowering, renderers) and in the
//! library.

mod cli;

use std::process::ExitCode;

use cli::args::{self, Command};

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
    if parsed.mpi {
        // Logging starts once the rank is known: the ranks past 0 log errors only.
        return finish(cli::mpi::run(&parsed, talk));
    }
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
    finish(result)
}

/// The exit code of a command's outcome, its failure said on stderr.
fn finish(result: cli::Outcome) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(failure) => ExitCode::from(cli::say_failure(failure)),
    }
}

/// Prints a clap error (see [`cli::say_usage`]) and gives its exit code.
fn usage(error: &clap::Error) -> ExitCode {
    ExitCode::from(cli::say_usage(error))
}
