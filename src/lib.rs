//! Exact sums of inclusive i64 ranges and of integer arrays on any GPU that wgpu reaches, with a
//! rayon CPU twin.
//!
//! # How to use
//!
//! Open an [`Engine`] once and reuse it. [`BackendChoice::Auto`] takes the best GPU adapter and
//! falls back to the CPU (saying why in [`Engine::fallback`]) where there is none, or where the
//! GPU fails during a sum; the result is exact either way.
//!
//! ```
//! use gpusum::{BackendChoice, Control, Engine, EngineOptions, SumRange};
//!
//! let engine = Engine::open(&EngineOptions::new(BackendChoice::Auto))?;
//! let range = SumRange::new(1, 20);
//! assert_eq!(engine.sum(range, &Control::new())?, 210);
//!
//! // Past u64 a plain sum wraps; gpusum's i128 result stays exact.
//! let big = SumRange::new(i64::MAX - 1_000, i64::MAX);
//! assert_eq!(engine.sum(big, &Control::new())?, big.closed_form());
//! # Ok::<(), gpusum::Error>(())
//! ```
//!
//! Integer arrays (`i8` to `u64`) sum exactly into an [`ExactIntSum`], from a slice, or from a
//! `.npy` file, raw file or stream through an [`input::ArrayReader`], in chunks of bounded size:
//!
//! ```
//! use gpusum::input::{ArrayReader, InputHints};
//! use gpusum::{BackendChoice, Control, Engine, EngineOptions, IntSlice};
//!
//! let engine = Engine::open(&EngineOptions::new(BackendChoice::Auto))?;
//! let values = [u64::MAX; 1000];
//! let outcome = engine.sum_ints(IntSlice::U64(&values), &Control::new())?;
//! assert_eq!(outcome.total.int_sum(), Some(1000 * u64::MAX as i128));
//!
//! // Raw big-endian i16 data from any reader; a .npy header would give the type itself.
//! let bytes: Vec<u8> = (-500i16..500).flat_map(i16::to_be_bytes).collect();
//! let hints = InputHints::raw(gpusum::Dtype::I16).with_big_endian(true);
//! let mut reader = ArrayReader::new(&bytes[..], "the bytes", hints, Some(bytes.len() as u64))?;
//! let outcome = engine.sum_reader(&mut reader, false, &Control::new())?;
//! assert_eq!((outcome.total.int_sum(), outcome.total.count()), (Some(-500), 1000));
//!
//! // Floats: summed exactly, rounded once, the same bits on every GPU and CPU.
//! let floats = [1e308, 1.0, -1e308];
//! let outcome = engine.sum_floats(gpusum::FloatSlice::F64(&floats), &Control::new())?;
//! assert_eq!(outcome.total.to_string(), "1");
//! # Ok::<(), gpusum::Error>(())
//! ```
//!
//! To choose the adapter and kernel yourself, build a [`GpuContext`] (from an adapter, or from a
//! device and queue you already have) and wrap it with [`Engine::from_context`], or call
//! [`GpuContext::sum`] directly:
//!
//! ```no_run
//! use gpusum::{Control, GpuContext, GpuOptions, ShaderVariant, SumRange, gpu};
//!
//! let instance = gpu::instance();
//! let adapter = gpu::select_adapter(&instance, Some("vulkan"))?;
//! let options = GpuOptions::new().with_variant(ShaderVariant::Emulated);
//! let context = GpuContext::new(&adapter, &options)?;
//! for end in [20, 1_000_000, i64::MAX] {
//!     let range = SumRange::new(1, end);
//!     assert_eq!(context.sum(range, &Control::new())?, range.closed_form());
//! }
//! # Ok::<(), gpusum::Error>(())
//! ```
//!
//! [`Control`] carries a cancel flag, a deadline and a progress callback; every wait honours it.
//! Errors are one typed enum, [`Error`], and the library never prints.
//!
//! # On the web
//!
//! The library builds for `wasm32-unknown-unknown`, where a page may not block: open the context
//! with [`GpuContext::new_async`] on the browser's adapter and sum ranges with
//! [`GpuContext::sum_async`], which the blocking [`GpuContext::new`] and [`GpuContext::sum`] wrap
//! natively (one implementation). Calls that still wait without awaiting (arrays, floats) return
//! [`Error::Blocking`] there, and the CPU twins run on the page's one thread. `web/` holds the
//! page built on this (`web/build.sh`, `gpusum web`).
//!
//! # Crate layout
//!
//! - [`range`]: the inclusive range and its closed form (the test oracle).
//! - [`array`](mod@array): element types, typed slices and the exact, mergeable integer accumulator.
//! - [`float`]: the exact, mergeable, serializable sum of `f32` and `f64` values, rounded once
//!   (the CPU twin of the float kernels and what their partials are added into), and the plain
//!   float sum the bench sets beside it.
//! - [`npy`] and [`input`]: the `.npy` header parser, and the chunked reader of `.npy` files, raw
//!   files and streams.
//! - [`kernel`]: the kernel vocabulary, [`ShaderVariant`] × [`Reduction`] = [`KernelChoice`].
//! - [`gpu`]: adapters, device plumbing, kernel composition, dispatch shapes, readback, and the
//!   reusable [`GpuContext`].
//! - [`cpu`]: the rayon path and its one-thread baseline, twins of the GPU kernels.
//! - [`engine`]: where a sum runs, the CPU fallback, and what happens after a timeout.
//! - [`control`]: cancellation, deadlines and progress.
//! - [`peak`]: each device's integer-add peak and memory, upload and device-read bandwidths.
//! - [`selftest`]: the battery behind `gpusum selftest`.
//! - [`bench`](mod@bench): the sweep, analysis and report behind `gpusum bench`.
//! - [`parse`]: the parsers for bounds, lengths and durations that the CLI uses.
//! - [`json`]: the conventions of every JSON report (exact integers as strings, a schema).
//! - `shaders/` (next to `src/`): the WGSL that [`gpu::kernel_wgsl`] composes.
//!
//! A workload (ranges, integer arrays, float arrays) is a seam: its WGSL in `shaders/`, its GPU
//! module in `src/gpu/` (`range.rs`, `array/`), its CPU twin in `src/cpu/` (floats: `src/float/`),
//! its cases in `src/selftest/` (`battery.rs`, `arrays.rs`, `floats.rs`), its rows in
//! `src/bench/` (`arrays.rs`, `floats.rs`).
//!
//! The `gpusum` binary (`src/main.rs` and `src/cli/`) is behind the default `cli` feature; with
//! `default-features = false` the library builds without clap, anyhow, indicatif, ctrlc,
//! serde_json or plotters.

#![deny(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod array;
#[cfg(feature = "tools")]
pub mod bench;
pub mod control;
pub mod cpu;
pub mod engine;
mod error;
pub mod float;
pub mod gpu;
pub mod input;
pub mod json;
pub mod kernel;
pub mod npy;
#[cfg(feature = "tools")]
pub mod parse;
#[cfg(feature = "tools")]
pub mod peak;
pub mod range;
#[cfg(feature = "tools")]
pub mod selftest;
pub mod total;

pub use array::{ByteOrder, Dtype, ExactIntSum, IntSlice};
pub use control::Control;
pub use engine::{
    ArrayBytes, BackendChoice, Engine, EngineOptions, Outcome, Place, Plan, Reason, Request, Source,
};
pub use error::{Error, InputProblem};
pub use float::{ExactFloat, ExactFloatSum, Rounded};
pub use gpu::{DispatchShape, GpuContext, GpuOptions};
pub use kernel::{KernelChoice, Reduction, ShaderVariant};
pub use range::SumRange;
pub use total::{ArrayTotal, FloatSlice};
/// The wgpu this crate is built against, for adapters, devices and the types in [`Error`].
pub use wgpu;

/// The README's Rust examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
