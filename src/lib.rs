//! Exact sums of inclusive i64 ranges on any GPU that wgpu reaches, with a rayon CPU twin.
//!
//! # How to use
//!
//! ```
//! use gpusum::{Control, Engine, SumRange, cpu};
//!
//! // The CPU path needs no adapter; `Engine::open(BackendChoice::Auto, ..)` picks a GPU if present.
//! let range = SumRange::new(1, 20);
//! assert_eq!(cpu::sum_parallel(range, &Control::default())?, 210);
//!
//! // Past u64 a plain sum wraps; gpusum's i128 result stays exact.
//! let big = SumRange::new(i64::MAX - 1_000, i64::MAX);
//! assert_eq!(Engine::Cpu.sum(big, &Control::default())?, big.closed_form());
//! # Ok::<(), gpusum::Error>(())
//! ```
//!
//! On a GPU, build one [`GpuContext`] and reuse it:
//!
//! ```no_run
//! use gpusum::{Control, GpuContext, GpuOptions, SumRange, gpu};
//!
//! let instance = gpu::instance();
//! let adapter = gpu::select_adapter(&instance, None)?;
//! let context = GpuContext::new(&adapter, &GpuOptions::default())?;
//! for end in [20, 1_000_000, i64::MAX] {
//!     let range = SumRange::new(1, end);
//!     assert_eq!(context.sum(range, &Control::default())?, range.closed_form());
//! }
//! # Ok::<(), gpusum::Error>(())
//! ```
//!
//! # Crate layout
//!
//! - [`range`]: the inclusive range, its closed form (the test oracle), and the biased blocks
//!   both paths consume.
//! - [`cpu`]: the rayon path and its one-thread baseline, twins of the GPU kernel.
//! - [`gpu`]: adapters, shader variants, and the reusable [`GpuContext`].
//! - [`engine`]: choosing where a sum runs, with the automatic CPU fallback.
//! - [`control`]: cancellation, deadlines and progress.
//! - [`selftest`]: the battery behind `gpusum selftest`.
//! - [`bench`](mod@bench): the sweep, peaks and reports behind `gpusum bench`.
//! - `shaders/` (next to `src/`): the kernel parts that [`gpu::kernel_source`] composes, and the
//!   add-peak microkernel.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod bench;
pub mod control;
pub mod cpu;
pub mod engine;
mod error;
pub mod gpu;
pub mod range;
pub mod selftest;

pub use control::Control;
pub use engine::{BackendChoice, Engine, Opened};
pub use error::Error;
pub use gpu::{GpuContext, GpuOptions, ShaderVariant};
pub use range::SumRange;

/// The README's Rust examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
