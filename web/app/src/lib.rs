//! gpusum in the browser: what web/main.js calls. One engine on the browser's WebGPU adapter,
//! opened by [`start`] and reused; exact range sums on it, on the wasm CPU twin (one thread: a
//! page has no rayon pool) and by the closed form; exact array sums through the engine's async
//! path and on the twin; the selftest's range battery; and a small bench of GPU against wasm
//! CPU. Every answer is a string (decimal sums, JSON reports), so no i128 crosses into
//! JavaScript's doubles.

mod batteries;
mod file;

use std::cell::RefCell;
use std::rc::Rc;

use gpusum::cpu::{CpuTwin, Threads};
use gpusum::engine::{ArrayBytes, Request};
use gpusum::gpu::AdapterReport;
use gpusum::{
    ByteOrder, Control, Dtype, Engine, GpuContext, GpuOptions, SumRange, parse, selftest,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_time::Instant;

thread_local! {
    static GPU: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
}

/// Bytes per chunk of an array on the page's GPU. A file of 256 MiB on SwiftShader: 8 MiB took
/// its GPU pass from 0.78-0.85 s (4 MiB: twice the submissions) to 0.62-0.70 s with the tab's
/// memory as it was; 16 MiB grew the tab by 30 MiB more for no more speed.
const ARRAY_CHUNK_BYTES: u64 = 8 << 20;

fn js_error(error: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&error.to_string())
}

fn gpu() -> Option<Rc<Engine>> {
    GPU.with(|gpu| gpu.borrow().clone())
}

fn range(start: &str, end: &str) -> Result<SumRange, JsValue> {
    let start = parse::bound(start).map_err(js_error)?;
    let end = parse::bound(end).map_err(js_error)?;
    Ok(SumRange::new(start, end))
}

/// A generous bound on one sum, as the CLI's: nothing here may hang the page.
fn control(range: SumRange) -> Control<'static> {
    Control::new().with_timeout(gpusum::control::default_timeout(range.count()))
}

#[derive(Serialize)]
struct Started {
    /// Whether the browser gave a WebGPU adapter and gpusum opened a device on it.
    webgpu: bool,
    /// What the adapter is, as `gpusum adapters --json` says it; null without WebGPU.
    adapter: Option<AdapterReport>,
    /// "name (api)" or why there is no GPU.
    description: String,
}

/// Opens the browser's WebGPU adapter (the high-performance one), once. Returns a JSON
/// [`Started`]; without WebGPU it says why, and sums go to the CPU.
#[wasm_bindgen]
pub async fn start() -> String {
    let started = match open().await {
        Ok((report, context)) => {
            let description = report.label();
            let engine = Engine::from_context(context);
            GPU.with(|gpu| *gpu.borrow_mut() = Some(Rc::new(engine)));
            Started {
                webgpu: true,
                adapter: Some(report),
                description,
            }
        }
        Err(reason) => Started {
            webgpu: false,
            adapter: None,
            description: reason,
        },
    };
    serde_json::to_string(&started).unwrap_or_default()
}

async fn open() -> Result<(AdapterReport, GpuContext), String> {
    let instance = gpusum::gpu::instance();
    let options = gpusum::wgpu::RequestAdapterOptions {
        power_preference: gpusum::wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    };
    let adapter = instance
        .request_adapter(&options)
        .await
        // wgpu's message lists every backend it was not built with; the page needs one line.
        .map_err(|_| "this browser offers no WebGPU adapter".to_owned())?;
    let report = AdapterReport::of(&adapter);
    let options = GpuOptions::new().with_array_chunk_bytes(ARRAY_CHUNK_BYTES);
    let context = GpuContext::new_async(&adapter, &options)
        .await
        .map_err(|error| error.to_string())?;
    Ok((report, context))
}

/// The exact sum of [start, end] as a decimal: on the GPU if [`start`] opened one, else on the
/// CPU.
#[wasm_bindgen]
pub async fn sum(start: String, end: String) -> Result<String, JsValue> {
    let range = range(&start, &end)?;
    let total = match gpu() {
        Some(engine) => engine.sum_async(range, &control(range)).await,
        None => CpuTwin::new(Threads::One).sum_range(range, &control(range)),
    };
    total.map(|sum| sum.to_string()).map_err(js_error)
}

/// The exact sum on the wasm CPU twin, one thread.
#[wasm_bindgen]
pub fn cpu_sum(start: String, end: String) -> Result<String, JsValue> {
    let range = range(&start, &end)?;
    CpuTwin::new(Threads::One)
        .sum_range(range, &control(range))
        .map(|sum| sum.to_string())
        .map_err(js_error)
}

/// The closed form: the oracle, never a measured path.
#[wasm_bindgen]
pub fn closed_form(start: String, end: String) -> Result<String, JsValue> {
    Ok(range(&start, &end)?.closed_form().to_string())
}

#[derive(Serialize)]
struct SelftestReport {
    ok: bool,
    adapter: String,
    seed: String,
    cases: Vec<CaseReport>,
    arrays: batteries::BatteryReport,
    floats: batteries::BatteryReport,
}

#[derive(Serialize)]
struct CaseReport {
    name: String,
    start: String,
    end: String,
    expected: String,
    gpu: Option<String>,
    cpu: String,
    ok: bool,
}

/// The selftest's range battery for the GPU's shape (the CPU's alone without one): each case on
/// the GPU and the wasm CPU twin, against the closed form; then the array and float batteries.
/// A JSON report: `ok`, one entry per range case, and `arrays` and `floats`, each with `ok` and
/// its cases.
#[wasm_bindgen]
pub async fn selftest(seed: u32) -> String {
    let engine = gpu();
    let context = engine.as_deref().and_then(Engine::gpu);
    // Without a GPU, a small shape still spreads the lengths around its sizes.
    let shape = match context {
        Some(context) => context.shape(),
        None => gpusum::DispatchShape::new(16, 64, 4).with_workgroup_size(128),
    };
    let mut cases = Vec::new();
    for case in selftest::range_battery(&shape, u64::from(seed)) {
        let range = case.range;
        let expected = range.closed_form().to_string();
        let text = |result: Result<i128, gpusum::Error>| match result {
            Ok(sum) => sum.to_string(),
            Err(error) => format!("error: {error}"),
        };
        let gpu = match context {
            Some(context) => Some(text(context.sum_async(range, &control(range)).await)),
            None => None,
        };
        let cpu = text(CpuTwin::new(Threads::One).sum_range(range, &control(range)));
        let ok = cpu == expected && gpu.as_ref().is_none_or(|gpu| *gpu == expected);
        cases.push(CaseReport {
            name: case.name,
            start: range.start().to_string(),
            end: range.end().to_string(),
            expected,
            gpu,
            cpu,
            ok,
        });
    }
    let size = u64::from(shape.workgroup_size);
    let arrays = batteries::run(selftest::array_cases(size, u64::from(seed)), context).await;
    let floats = batteries::run(selftest::float_cases(size, u64::from(seed)), context).await;
    let report = SelftestReport {
        ok: cases.iter().all(|case| case.ok) && arrays.ok && floats.ok,
        adapter: describe(context),
        seed: seed.to_string(),
        cases,
        arrays,
        floats,
    };
    serde_json::to_string(&report).unwrap_or_default()
}

fn describe(context: Option<&GpuContext>) -> String {
    context.map_or_else(|| "no WebGPU: CPU only".into(), GpuContext::adapter_label)
}

#[derive(Serialize)]
struct BenchPoint {
    length: String,
    gpu_seconds: Option<f64>,
    cpu_seconds: f64,
}

/// Seconds per sum, timed over enough sums to pass 20 ms: a browser's clock ticks coarsely
/// (100 µs without cross-origin isolation), so one short sum would read as no time at all.
const MIN_TIMED_SECONDS: f64 = 0.02;

/// One point of the page's bench: 1..=length on the GPU and on the wasm CPU twin, each the best
/// of `runs` timings (each over enough sums to pass 20 ms), every sum checked against the closed
/// form. JSON.
#[wasm_bindgen]
pub async fn bench_point(length: f64, runs: u32) -> Result<String, JsValue> {
    let length = length.clamp(1.0, i64::MAX as f64) as i64;
    let range = SumRange::new(1, length);
    let expected = range.closed_form();
    let check = |sum: Result<i128, gpusum::Error>| match sum {
        Ok(sum) if sum == expected => Ok(()),
        Ok(sum) => Err(js_error(format!(
            "wrong sum of 1..={length}: {sum}, expected {expected}"
        ))),
        Err(error) => Err(js_error(error)),
    };
    let mut gpu_seconds = None;
    if let Some(engine) = gpu() {
        let context = engine
            .gpu()
            .ok_or_else(|| js_error("the page's GPU is gone"))?;
        // A warm-up, then the timed runs.
        check(context.sum_async(range, &control(range)).await)?;
        let mut best = f64::INFINITY;
        for _ in 0..runs.max(1) {
            let (mut sums, started) = (0u32, Instant::now());
            while sums == 0 || started.elapsed().as_secs_f64() < MIN_TIMED_SECONDS {
                check(context.sum_async(range, &control(range)).await)?;
                sums += 1;
            }
            best = best.min(started.elapsed().as_secs_f64() / f64::from(sums));
        }
        gpu_seconds = Some(best);
    }
    let mut cpu_seconds = f64::INFINITY;
    for _ in 0..runs.max(1) {
        let (mut sums, started) = (0u32, Instant::now());
        while sums == 0 || started.elapsed().as_secs_f64() < MIN_TIMED_SECONDS {
            check(CpuTwin::new(Threads::One).sum_range(range, &control(range)))?;
            sums += 1;
        }
        cpu_seconds = cpu_seconds.min(started.elapsed().as_secs_f64() / f64::from(sums));
    }
    let point = BenchPoint {
        length: length.to_string(),
        gpu_seconds,
        cpu_seconds,
    };
    serde_json::to_string(&point).map_err(js_error)
}

#[derive(Serialize)]
pub(crate) struct ArraySums {
    dtype: String,
    count: String,
    /// The GPU's exact sum (the CLI's text), or null without WebGPU.
    gpu: Option<String>,
    gpu_seconds: Option<f64>,
    /// The wasm CPU twin's.
    cpu: String,
    cpu_seconds: f64,
    /// Whether the two agree, bit for bit.
    agree: bool,
}

/// The exact sum of `bytes`, elements of `dtype` ("i8" ... "u64", "f32", "f64") in either byte
/// order: on the GPU through the engine's async path (the ring's staging maps awaited, chunk by
/// chunk), and on the wasm CPU twin. JSON [`ArraySums`].
#[wasm_bindgen]
pub async fn sum_array(bytes: Vec<u8>, dtype: String, big_endian: bool) -> Result<String, JsValue> {
    let dtype: Dtype = dtype.parse().map_err(js_error)?;
    let order = if big_endian {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
    let array = ArrayBytes::new(&bytes, dtype, order).map_err(js_error)?;
    let control =
        Control::new().with_timeout(gpusum::control::default_timeout(u128::from(array.len())));
    let (mut on_gpu, mut gpu_seconds) = (None, None);
    if let Some(engine) = gpu() {
        let started = Instant::now();
        let outcome = engine
            .sum_request_async(Request::new(array), &control)
            .await
            .map_err(js_error)?;
        gpu_seconds = Some(started.elapsed().as_secs_f64());
        on_gpu = Some(outcome.total.to_string());
    }
    let started = Instant::now();
    let cpu = CpuTwin::new(Threads::One)
        .sum_array(array, &control)
        .map_err(js_error)?
        .to_string();
    let sums = ArraySums::new(dtype, array.len(), (on_gpu, gpu_seconds), (cpu, started));
    serde_json::to_string(&sums).map_err(js_error)
}

impl ArraySums {
    /// The GPU's sum and seconds (none without WebGPU), and the twin's sum with when it began.
    fn new(
        dtype: Dtype,
        count: u64,
        (gpu, gpu_seconds): (Option<String>, Option<f64>),
        (cpu, cpu_started): (String, Instant),
    ) -> Self {
        ArraySums {
            dtype: dtype.to_string(),
            count: count.to_string(),
            agree: gpu.as_ref().is_none_or(|gpu| *gpu == cpu),
            gpu,
            gpu_seconds,
            cpu,
            cpu_seconds: cpu_started.elapsed().as_secs_f64(),
        }
    }
}
