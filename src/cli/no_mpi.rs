//! `--mpi` in a build without the `mpi` feature: a usage error that says how to get it.

use clap::error::ErrorKind;

use super::args::{Cli, usage_error};
use super::{Failure, Outcome, Talk};

pub fn run(_: &Cli, _: Talk) -> Outcome {
    Err(Failure::Usage(usage_error(
        ErrorKind::ArgumentConflict,
        "this gpusum was built without MPI; build it with `cargo build --release --features mpi` \
         (on Debian: apt-get install libopenmpi-dev openmpi-bin libclang-dev pkgconf)",
    )))
}
