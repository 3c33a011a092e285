//! The binary's side: arguments, their lowering to library types, and every renderer. The
//! library measures and reports; everything a person or a pipe reads is written here.

pub mod adapters;
pub mod args;
pub mod bench;
mod bench_table;
mod json;
pub mod out;
mod plot;
mod progress;
pub mod selftest;
pub mod sum;

use std::process::ExitCode;

/// Exit code for runtime failures; clap uses 2 for usage errors.
pub const RUNTIME: u8 = 1;
/// Exit code for usage errors.
pub const USAGE: u8 = 2;
/// The shell's code for a process stopped by Ctrl-C.
pub const INTERRUPTED: u8 = 130;

/// How a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The arguments do not make sense together (exit 2, printed in clap's format).
    Usage(clap::Error),
    /// The work failed (exit 1, or 130 when cancelled).
    Runtime(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Runtime(error.into())
    }
}

/// What a command returns.
pub type Outcome = Result<ExitCode, Failure>;
