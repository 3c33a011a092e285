//! Exact sums of inclusive i64 ranges and of integer and float arrays on any GPU that wgpu
//! reaches, with a rayon CPU twin, and one engine that runs each sum where it finishes first.
//!
//! # How to use
//!
//! Open an [`Engine`] once and reuse it. Under [`BackendChoice::Auto`] each sum is planned: the
//! planner weighs the CPU twin (one thread, or rayon's pool) against the GPU and runs the sum
//! where it expects it to finish first, opening a GPU only for a sum that goes there. The result
//! is exact wherever it runs, with the same bits.
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
//! Every sum is a [`Request`]: what is summed (a [`Source`]: a range, bytes of a [`Dtype`] in
//! either byte order, a stream, data already on a device) and how it is reduced. The engine plans
//! it ([`Engine::plan`]: a [`Plan`] with its place, its estimate and its [`Reason`] in one
//! sentence) and runs it ([`Engine::run_async`], the one implementation; [`Engine::run`] blocks
//! on it natively). Every sum ends in one [`Outcome`]: the exact, mergeable total (an
//! [`ArrayTotal`]), the plan it ran under, and where its time went.
//!
//! ```
//! use gpusum::input::{ArrayReader, InputHints};
//! use gpusum::{BackendChoice, Control, Engine, EngineOptions, IntSlice, Place, Request};
//!
//! let engine = Engine::open(&EngineOptions::new(BackendChoice::Auto))?;
//! let values = [u64::MAX; 1000];
//! let request = Request::new(IntSlice::U64(&values));
//! let plan = engine.plan(&request)?;
//! assert_ne!(plan.place, Place::Gpu); // a thousand values finish before a GPU could open
//! let outcome = engine.run(request, &plan, &Control::new())?;
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
//! A request can also sum along axes ([`Request::along`], with numpy's axes, of a
//! [`StridedBytes`](engine::StridedBytes) view, a `.npy` stream or a shaped
//! [`DeviceArray`](gpu::DeviceArray)) or by key ([`Request::by_key`]); its outcome then carries
//! [`Outputs`](reduce::Outputs), one exact total per output, each mergeable and rounded once when
//! read:
//!
//! ```
//! use gpusum::engine::StridedBytes;
//! use gpusum::{BackendChoice, ByteOrder, Control, Dtype, Engine, EngineOptions, Request};
//!
//! let engine = Engine::open(&EngineOptions::new(BackendChoice::Auto))?;
//! let columns: Vec<u8> = [1e308f64, 1.0, -1e308, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
//! let matrix = StridedBytes::c_order(&columns, vec![2, 2], Dtype::F64, ByteOrder::Little)?;
//! let outputs = engine.sum_request(Request::along(matrix, &[0]), &Control::new())?.outputs;
//! assert_eq!(outputs.unwrap().to_string(), "0\n3"); // 1e308 + -1e308, then 1 + 2
//! # Ok::<(), gpusum::Error>(())
//! ```
//!
//! To choose the adapter and kernel yourself, build a [`GpuContext`] (from an adapter, or from a
//! device and queue you already have) and wrap it with [`Engine::from_context`], or call
//! [`GpuContext::run`] directly:
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
//! Errors are one typed enum, [`Error`]. The library never prints: it logs its plans, adapters,
//! kernels and fallbacks through the `log` facade (`info`), and shapes, chunks and timings
//! (`debug`).
//!
//! # On the web
//!
//! The library builds for `wasm32-unknown-unknown`, where a page may not block: open the context
//! with [`GpuContext::new_async`] on the browser's adapter, wrap it in an engine
//! ([`Engine::from_context`]) and sum with [`Engine::sum_request_async`] or
//! [`Engine::run_async`]: ranges, arrays and floats alike, every wait awaited (the blocking calls
//! return [`Error::Blocking`] there once they would wait). The CPU twins run on the page's one
//! thread. `web/` holds the page built on this (`web/build.sh`, `gpusum web`).
//!
//! # Crate layout
//!
//! - [`engine`]: requests, the planner and its rates and profiles, the one async core, outcomes.
//! - [`range`]: the inclusive range and its closed form (the test oracle).
//! - [`array`](mod@array) and [`total`]: element types, typed slices, and the exact, mergeable
//!   totals (integers; floats in [`float`]: the CPU twin of the float kernels, rounded once).
//! - [`reduce`]: sums along axes and by key, their [`Outputs`](reduce::Outputs) with one exact
//!   total per output, and how a stream of elements maps to them.
//! - [`npy`] and [`input`]: the `.npy` header parser, and the chunked readers of `.npy` files,
//!   raw files and streams ([`input::ChunkRead`]).
//! - [`kernel`]: the kernel vocabulary, [`ShaderVariant`] × [`Reduction`] = [`KernelChoice`], and
//!   the array layouts and float accumulations.
//! - [`gpu`]: adapters, device plumbing, kernel composition, dispatch shapes, the ring, readback,
//!   and the reusable [`GpuContext`].
//! - [`cpu`]: the CPU twin of every kernel, [`cpu::CpuTwin`], on one thread or the pool.
//! - [`control`]: cancellation, deadlines and progress. [`json`]: the JSON conventions.
//! - `shaders/` (next to `src/`): the WGSL that [`gpu::kernel_wgsl`] composes.
//!
//! With the `tools` feature (which the binary's default `cli` feature turns on) the crate also
//! has what `gpusum` is built from: `bench` (the sweep, analysis, report and `--save-profile`),
//! `selftest` (the battery), `peak` (each device's add peak and bandwidths) and `parse` (the
//! parsers for what users type), and the bench-only kernels. Without default features the
//! library is the sums, the accumulators, the readers and the planner, and builds without clap,
//! anyhow, indicatif, ctrlc, serde_json or plotters.
//!
//! A workload (ranges, integer arrays, float arrays, sums along axes and by key) is a seam: its
//! WGSL in `shaders/`, its GPU module in `src/gpu/` (`range.rs`, `array/`, `grouped.rs`,
//! `keyed.rs`), its CPU twin in `src/cpu/` (floats: `src/float/`), its selftest cases and its
//! bench rows.

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
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod npy;
pub(crate) mod pages;
#[cfg(feature = "tools")]
pub mod parse;
#[cfg(feature = "tools")]
pub mod peak;
pub mod range;
pub mod reduce;
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
pub use gpu::{ChunkUpload, DispatchShape, GpuContext, GpuOptions};
pub use kernel::{KernelChoice, Reduction, ShaderVariant};
pub use range::SumRange;
pub use total::{ArrayTotal, FloatSlice};
/// The wgpu this crate is built against, for adapters, devices and the types in [`Error`].
pub use wgpu;

/// The README's Rust examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
