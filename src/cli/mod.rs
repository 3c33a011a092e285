//! The binary's side: arguments, their lowering to library types, and every renderer. The
//! library measures and reports; everything a person or a pipe reads is written here.

pub mod adapters;
pub mod args;
pub mod bench;
mod bench_compare;
mod bench_export;
mod bench_table;
pub mod file;
mod grouped;
mod json;
mod junit;
#[cfg_attr(not(feature = "mpi"), path = "no_mpi.rs")]
pub mod mpi;
#[cfg(feature = "mpi")]
mod mpi_part;
pub mod out;
mod plot;
mod progress;
pub mod selftest;
pub mod sum;
mod values;
pub mod version;
pub mod web;

/// How much to say on stderr, from `-v` and `-q`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Talk {
    /// `-v`: the backend, adapter and timings, and informational logs.
    pub verbose: bool,
    /// `-q`: no notices and no progress.
    pub quiet: bool,
}

/// Logs through `RUST_LOG` (default: warnings, wgpu's included; `-v` adds information, `-q`
/// keeps errors only). wgpu's EGL probing logs an error for each display it tries before the one
/// that works, on every machine without a display, and the Vulkan loader an error where it finds
/// no driver: those modules are quiet unless `RUST_LOG` (or, for the loader, `WGPU_VALIDATION`)
/// says otherwise.
pub fn start_logging(talk: Talk) {
    let level = match (talk.verbose, talk.quiet) {
        (true, _) => "info",
        (_, true) => "error",
        _ => "warn",
    };
    // The Vulkan loader's own messages ("Found no drivers!" where the loader is installed but no
    // driver is) reach wgpu's messenger as errors; with validation on they carry its findings.
    let loader = if std::env::var_os("WGPU_VALIDATION").is_some() {
        ""
    } else {
        ",wgpu_hal::vulkan::instance=off"
    };
    let default = format!("{level},wgpu_hal::gles::egl=off{loader}");
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(&default))
        .format_timestamp(None)
        .try_init();
}

/// `gpusum completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut args::command(), "gpusum", &mut script);
    out::print(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}

/// `gpusum man`.
pub fn man() -> Outcome {
    let mut page = Vec::new();
    clap_mangen::Man::new(args::command()).render(&mut page)?;
    out::print(&String::from_utf8_lossy(&page))?;
    Ok(ExitCode::SUCCESS)
}

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

/// Says `failure` on stderr as every command does, and gives its exit code: a usage error in
/// clap's format (2), a runtime failure after `gpusum:` (1, or 130 when cancelled), nothing for a
/// reader of stdout that went away (141).
pub fn say_failure(failure: Failure) -> u8 {
    match failure {
        Failure::Usage(error) => say_usage(&error),
        Failure::Runtime(error) => {
            if let Some(write) = error.downcast_ref::<out::WriteError>()
                && write.is_broken_pipe()
            {
                return out::BROKEN_PIPE;
            }
            out::say!("gpusum: {error:#}");
            let cancelled = matches!(error.downcast_ref(), Some(gpusum::Error::Cancelled));
            if cancelled { INTERRUPTED } else { RUNTIME }
        }
    }
}

/// Prints a clap error to stderr (exit 2), or help or the version to stdout (exit 0, checked
/// like every other write to stdout).
pub fn say_usage(error: &clap::Error) -> u8 {
    if error.use_stderr() {
        let _ = error.print();
        return USAGE;
    }
    match out::print(&error.render().to_string()) {
        Ok(()) => 0,
        Err(write) if write.is_broken_pipe() => out::BROKEN_PIPE,
        Err(write) => {
            out::say!("gpusum: {write}");
            RUNTIME
        }
    }
}
