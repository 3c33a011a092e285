//! The selftest's array and float batteries on the page: each case on the GPU (through an
//! engine on the page's device with the selftest's small chunks, so lengths around a chunk
//! cross the ring) and on the wasm CPU twin, against the known answer or the twin's.

use gpusum::cpu::{CpuTwin, Threads};
use gpusum::engine::{ArrayBytes, Request};
use gpusum::selftest::{ARRAY_CHUNK_BYTES, OwnedCase};
use gpusum::{ByteOrder, Control, Engine, GpuContext, GpuOptions};
use serde::Serialize;

#[derive(Serialize)]
pub(crate) struct BatteryReport {
    pub(crate) ok: bool,
    cases: Vec<CaseReport>,
}

#[derive(Serialize)]
struct CaseReport {
    name: String,
    dtype: String,
    count: String,
    expected: String,
    gpu: Option<String>,
    cpu: String,
    ok: bool,
}

fn text(result: Result<gpusum::ArrayTotal, gpusum::Error>) -> String {
    match result {
        Ok(total) => total.to_string(),
        Err(error) => format!("error: {error}"),
    }
}

/// Runs `cases` on `context`'s device (none: the CPU alone) and the twin.
pub(crate) async fn run(cases: Vec<OwnedCase>, context: Option<&GpuContext>) -> BatteryReport {
    let options = GpuOptions::new().with_array_chunk_bytes(ARRAY_CHUNK_BYTES);
    let engine = context.map(|context| context.with_options(&options).map(Engine::from_context));
    let mut reports = Vec::new();
    for case in cases {
        let array = match ArrayBytes::new(&case.bytes, case.dtype, ByteOrder::Little) {
            Ok(array) => array,
            Err(error) => {
                reports.push(failed(&case, error.to_string()));
                continue;
            }
        };
        let control =
            Control::new().with_timeout(gpusum::control::default_timeout(u128::from(array.len())));
        let cpu = text(CpuTwin::new(Threads::One).sum_array(array, &control));
        let gpu = match &engine {
            Some(Ok(engine)) => Some(text(
                engine
                    .sum_request_async(Request::new(array), &control)
                    .await
                    .map(|outcome| outcome.total),
            )),
            Some(Err(error)) => Some(format!("error: {error}")),
            None => None,
        };
        let expected = case.expected.clone().unwrap_or_else(|| cpu.clone());
        let ok = cpu == expected && gpu.as_ref().is_none_or(|gpu| *gpu == expected);
        reports.push(CaseReport {
            name: case.name,
            dtype: case.dtype.to_string(),
            count: array.len().to_string(),
            expected,
            gpu,
            cpu,
            ok,
        });
    }
    BatteryReport {
        ok: reports.iter().all(|case| case.ok),
        cases: reports,
    }
}

fn failed(case: &OwnedCase, error: String) -> CaseReport {
    CaseReport {
        name: case.name.clone(),
        dtype: case.dtype.to_string(),
        count: String::new(),
        expected: case.expected.clone().unwrap_or_default(),
        gpu: None,
        cpu: format!("error: {error}"),
        ok: false,
    }
}
