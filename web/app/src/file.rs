//! A user's own file on the page: a `.npy` or raw file the browser holds, read through
//! `Blob.slice` a chunk at a time (never whole), summed on the GPU through the engine's async
//! stream and again on the wasm CPU twin, with the CLI's messages for a bad file.

use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};

use gpusum::input::{ArrayFormat, ArrayReader, ChunkFuture, ChunkRead, InputHints};
use gpusum::{BackendChoice, Control, Dtype, Engine, EngineOptions, Error, Request, Source};
use js_sys::{Function, Promise, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_time::Instant;

use crate::{ArraySums, gpu, js_error};

/// Set by [`cancel_file`]; cleared by [`begin_file`], which the page calls before it reads a
/// file's first bytes, so a click during that read still cancels.
static CANCEL: AtomicBool = AtomicBool::new(false);

/// What JavaScript hands over of a file: its name, its size, and `read(offset, length)`, which
/// resolves to a `Uint8Array` of those bytes (`file.slice(...).arrayBuffer()`).
struct BlobReader {
    read: Function,
    name: String,
    format: ArrayFormat,
    /// Where the data starts in the file, and the next byte to read.
    start: u64,
    next: u64,
    end: u64,
    /// Called with (bytes done, bytes in all) after each chunk.
    progress: Option<Function>,
    /// Bytes read before this pass (the GPU's pass, when this is the twin's).
    before: u64,
    total: u64,
}

impl BlobReader {
    /// A reader of the data again from its start.
    fn again(&self, before: u64) -> BlobReader {
        BlobReader {
            read: self.read.clone(),
            name: self.name.clone(),
            format: self.format,
            start: self.start,
            next: self.start,
            end: self.end,
            progress: self.progress.clone(),
            before,
            total: self.total,
        }
    }

    async fn fill(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        let want = (self.end - self.next).min(buffer.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let failed = |reason: String| Error::Read {
            input: self.name.clone(),
            source: std::io::Error::other(reason),
        };
        let promise = self
            .read
            .call2(
                &JsValue::NULL,
                &JsValue::from_f64(self.next as f64),
                &JsValue::from_f64(want as f64),
            )
            .map_err(|error| failed(format!("{error:?}")))?;
        let bytes = JsFuture::from(Promise::from(promise))
            .await
            .map_err(|error| failed(format!("{error:?}")))?;
        // A view, not `Uint8Array::new`, which would copy the chunk once more.
        let bytes: Uint8Array = bytes
            .dyn_into()
            .map_err(|other| failed(format!("read gave {other:?}, not bytes")))?;
        if bytes.length() as usize != want {
            return Err(failed(format!(
                "the file gave {} bytes where {want} were asked for: did it change?",
                bytes.length()
            )));
        }
        bytes.copy_to(&mut buffer[..want]);
        self.next += want as u64;
        if let Some(progress) = &self.progress {
            let done = JsValue::from_f64((self.before + self.next - self.start) as f64);
            let _ = progress.call2(&JsValue::NULL, &done, &JsValue::from_f64(self.total as f64));
        }
        Ok(want)
    }
}

impl ChunkRead for BlobReader {
    fn format(&self) -> ArrayFormat {
        self.format
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn bytes_read(&self) -> u64 {
        self.next - self.start
    }

    fn read_chunk<'a>(&'a mut self, buffer: &'a mut [u8]) -> ChunkFuture<'a> {
        Box::pin(self.fill(buffer))
    }
}

/// What the page shows of a file: where it came from, and its sums as an array's (the twin's
/// from a second read of the file).
#[derive(Serialize)]
struct FileSums {
    name: String,
    format: &'static str,
    byte_order: &'static str,
    #[serde(flatten)]
    sums: ArraySums,
}

/// Sums a browser file: `head` is its first bytes (at least a `.npy` header's worth; the whole
/// file if shorter), `size` its length, `read(offset, length)` a promise of more; `dtype` and
/// `big_endian` describe raw data (a `.npy` header says its own). Calls `progress(done, total)`
/// as bytes pass (each byte twice: the GPU's pass, then the twin's). JSON [`FileSums`]; errors
/// with the CLI's messages (`cannot sum NAME: ...`).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub async fn sum_file(
    name: String,
    size: f64,
    head: Vec<u8>,
    read: Function,
    dtype: String,
    big_endian: bool,
    progress: Option<Function>,
) -> Result<String, JsValue> {
    let given: Option<Dtype> = match dtype.as_str() {
        "" => None,
        text => Some(text.parse().map_err(js_error)?),
    };
    // The type and byte order are raw data's: a .npy header says its own.
    let hints = match head.starts_with(gpusum::npy::MAGIC) {
        true => InputHints::auto(None),
        false => InputHints::auto(given).with_big_endian(big_endian),
    };
    let size = size as u64;
    let mut header = ArrayReader::new(Cursor::new(&head[..]), name.clone(), hints, Some(size))
        .map_err(file_error)?;
    let format = header.format();
    let count = format.count.unwrap_or_default();
    // The CLI's checks of the file's length against its header, and where the data starts.
    header.select(0..count).map_err(file_error)?;
    let start = header.data_start().map_err(file_error)?;
    let bytes = count * format.dtype.size() as u64;
    let engine = gpu();
    let passes = if engine.is_some() { 2 } else { 1 };
    let mut reader = BlobReader {
        read,
        name,
        format,
        start,
        next: start,
        end: start + bytes,
        progress,
        before: 0,
        total: passes * bytes,
    };
    let control = Control::new()
        .with_cancel(&CANCEL)
        .with_timeout(gpusum::control::default_timeout(u128::from(count)));

    let (mut on_gpu, mut gpu_seconds) = (None, None);
    if let Some(engine) = engine {
        let started = Instant::now();
        let request = Request::new(Source::Reader(&mut reader));
        let outcome = engine.sum_request_async(request, &control).await;
        gpu_seconds = Some(started.elapsed().as_secs_f64());
        on_gpu = Some(outcome.map_err(file_error)?.total.to_string());
    }
    let mut twin_reader = reader.again((passes - 1) * bytes);
    let twin = Engine::open(&EngineOptions::new(BackendChoice::Seq)).map_err(js_error)?;
    let started = Instant::now();
    let request = Request::new(Source::Reader(&mut twin_reader));
    let cpu = twin
        .sum_request_async(request, &control)
        .await
        .map_err(file_error)?
        .total
        .to_string();
    let sums = FileSums {
        name: reader.name.clone(),
        format: if format.npy { "npy" } else { "raw" },
        byte_order: format.order.name(),
        sums: ArraySums::new(format.dtype, count, (on_gpu, gpu_seconds), (cpu, started)),
    };
    serde_json::to_string(&sums).map_err(js_error)
}

/// An error as the CLI says it: the message and each cause after a colon.
fn file_error(error: Error) -> JsValue {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    JsValue::from_str(&text)
}

#[derive(Serialize)]
struct DeviceRate {
    count: String,
    seconds: f64,
    values_per_second: f64,
}

/// The yardstick a file's GPU sum is measured against: `length` i32 values already on the
/// page's device (uploaded once), summed exactly through the same engine, best of `runs`. JSON
/// [`DeviceRate`]; an error without WebGPU.
#[wasm_bindgen]
pub async fn device_rate(length: f64, runs: u32) -> Result<String, JsValue> {
    let engine = gpu().ok_or_else(|| js_error("no WebGPU here"))?;
    let context = engine
        .gpu()
        .ok_or_else(|| js_error("the page's GPU is gone"))?;
    let values: Vec<i32> = (0..length as i64)
        .map(|i| (i as i32).wrapping_mul(40503))
        .collect();
    let expected: i128 = values.iter().map(|&v| i128::from(v)).sum();
    let control =
        Control::new().with_timeout(gpusum::control::default_timeout(values.len() as u128));
    let array = context
        .upload_async(gpusum::IntSlice::I32(&values), &control)
        .await
        .map_err(file_error)?;
    drop(values);
    let mut best = f64::INFINITY;
    for _ in 0..=runs.max(1) {
        let started = Instant::now();
        let outcome = engine
            .sum_request_async(Request::new(Source::Device(&array)), &control)
            .await
            .map_err(file_error)?;
        if outcome.total.int_sum() != Some(expected) {
            return Err(js_error(format!("wrong device sum: {}", outcome.total)));
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    let rate = DeviceRate {
        count: (length as u64).to_string(),
        seconds: best,
        values_per_second: length / best,
    };
    serde_json::to_string(&rate).map_err(js_error)
}

/// A new file's sum begins: no cancel is pending.
#[wasm_bindgen]
pub fn begin_file() {
    CANCEL.store(false, Ordering::Relaxed);
}

/// Stops the file's sum in progress, soon, with "cancelled".
#[wasm_bindgen]
pub fn cancel_file() {
    CANCEL.store(true, Ordering::Relaxed);
}
