//! The integration tests, one binary: one build and link instead of one per file, and the
//! harness runs every file's tests side by side, sharing the GPU targets `common` builds once.
//! `tests/mpi.rs`, which needs the `mpi` feature, is a binary of its own.

mod common;

#[cfg(feature = "cli")]
mod bench;
mod bench_workloads;
#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
mod cli_file;
mod cli_float;
mod cli_habits;
#[cfg(feature = "cli")]
mod cli_reduce;
mod engine;
mod float_sum;
mod gpu_array;
mod gpu_context;
mod gpu_float;
mod gpu_props;
mod gpu_reduce;
mod gpu_sum;
mod npy_fixtures;
#[cfg(feature = "cli")]
mod output;
#[cfg(feature = "cli")]
mod readme;
#[cfg(feature = "cli")]
mod selftest;
mod shared;
