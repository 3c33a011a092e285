//! C entry points into the engine's CPU path, for running it under an emulator of a CPU this
//! machine lacks: `scripts/emulate-isa.py` loads this library twice, calls one copy natively and
//! the other inside Bochs (a Tiger Lake with AVX-512), and compares their sums bit for bit.
//!
//! Each copy has its own feature-detection cache, filled by its first call: the emulated copy's
//! `gpusum_emulated_init` runs first under the emulator, so that copy's CPU path takes AVX-512.
//! Nothing called under the emulator may make a system call (there is no kernel there): the
//! engine is opened natively, and the sums read `.npy` bytes from memory on one thread.

use std::io::Cursor;

use gpusum::cpu::Isa;
use gpusum::engine::StridedBytes;
use gpusum::input::{ArrayReader, ChunkRead, InputHints};
use gpusum::{
    BackendChoice, Control, Engine, EngineOptions, Error, ExactFloat, ExactFloatSum, Request,
    Source, SumRange,
};

/// The instruction set this copy's CPU path takes, as an index into [`Isa::ALL`]; called first,
/// it fills the feature-detection cache on the CPU it runs on.
#[unsafe(no_mangle)]
pub extern "C" fn gpusum_emulated_init() -> u32 {
    let best = Isa::best();
    Isa::ALL
        .iter()
        .position(|&isa| isa == best)
        .unwrap_or(usize::MAX) as u32
}

/// An engine on one CPU thread, to pass to [`gpusum_emulated_sum`]; null if it cannot open.
/// Call it natively: opening asks the system how many threads there are.
#[unsafe(no_mangle)]
pub extern "C" fn gpusum_emulated_engine() -> *mut Engine {
    match Engine::open(&EngineOptions::new(BackendChoice::Seq)) {
        Ok(engine) => Box::into_raw(Box::new(engine)),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Sums the `.npy` file in `npy[..npy_len]` whole (`axis` = `i64::MIN`), along `axis`, or by the
/// keys in the `.npy` file `keys[..keys_len]` (when `keys` is not null), read in chunks as the
/// CLI reads files or `in_memory` as the Python package hands arrays over, and writes each
/// output's text on a line of its own into `out[..out_cap]`, or `error: MESSAGE`. Returns the
/// bytes written, or -1 if they did not fit.
///
/// # Safety
/// `engine` comes from [`gpusum_emulated_engine`]; each pointer is valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpusum_emulated_sum(
    engine: *const Engine,
    npy: *const u8,
    npy_len: usize,
    keys: *const u8,
    keys_len: usize,
    axis: i64,
    in_memory: bool,
    out: *mut u8,
    out_cap: usize,
) -> i64 {
    // SAFETY: the caller's promises above.
    let (engine, npy) = unsafe { (&*engine, std::slice::from_raw_parts(npy, npy_len)) };
    let keys = (!keys.is_null()).then(|| unsafe { std::slice::from_raw_parts(keys, keys_len) });
    // SAFETY: as the caller promises.
    unsafe { write(sum(engine, npy, keys, axis, in_memory), out, out_cap) }
}

/// Sums the range `first..=last` and writes its text into `out[..out_cap]`, as
/// [`gpusum_emulated_sum`] does.
///
/// # Safety
/// `engine` comes from [`gpusum_emulated_engine`]; `out` is valid for `out_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpusum_emulated_range(
    engine: *const Engine,
    first: i64,
    last: i64,
    out: *mut u8,
    out_cap: usize,
) -> i64 {
    // SAFETY: as the caller promises.
    let engine = unsafe { &*engine };
    let request = Request::new(SumRange::new(first, last));
    let text = engine
        .sum_request(request, &Control::new())
        .map(|outcome| format!("{}\n", outcome.total));
    // SAFETY: as the caller promises.
    unsafe { write(text, out, out_cap) }
}

/// Writes the float bench's first `count` values into `out[..count]`, for
/// [`gpusum_emulated_exact_sum`]. Call it natively: the emulator would count its work.
///
/// # Safety
/// `out` is valid for `count` f64.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpusum_emulated_bench_values(count: usize, out: *mut f64) {
    let values = gpusum::bench::float_values(count);
    // SAFETY: as the caller promises.
    unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), out, count) };
}

/// The exact sum of `count` values at `values` (f32 when `single`, else f64), through
/// [`ExactFloatSum::add_slice`] on one thread: what the instructions a value costs are counted
/// on. Returns the values summed.
///
/// # Safety
/// `values` is valid for `count` values of its type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpusum_emulated_exact_sum(
    values: *const u8,
    count: usize,
    single: bool,
) -> u64 {
    fn sum<T: ExactFloat>(values: &[T]) -> u64 {
        let mut sum = ExactFloatSum::<T>::new();
        sum.add_slice(values).map_or(0, |()| sum.count())
    }
    // SAFETY: as the caller promises.
    unsafe {
        if single {
            sum(std::slice::from_raw_parts(values.cast::<f32>(), count))
        } else {
            sum(std::slice::from_raw_parts(values.cast::<f64>(), count))
        }
    }
}

/// Writes `text`, or `error: MESSAGE`, into `out[..out_cap]`: the bytes written, or -1.
unsafe fn write(text: Result<String, Error>, out: *mut u8, out_cap: usize) -> i64 {
    let text = text.unwrap_or_else(|error| format!("error: {error}\n"));
    if text.len() > out_cap {
        return -1;
    }
    // SAFETY: `out` holds `out_cap` bytes, and the text fits.
    unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), out, text.len()) };
    text.len() as i64
}

fn reader<'a>(bytes: &'a [u8], name: &str) -> Result<ArrayReader<Cursor<&'a [u8]>>, Error> {
    ArrayReader::new(
        Cursor::new(bytes),
        name,
        InputHints::auto(None),
        Some(bytes.len() as u64),
    )
}

fn sum(
    engine: &Engine,
    npy: &[u8],
    keys: Option<&[u8]>,
    axis: i64,
    in_memory: bool,
) -> Result<String, Error> {
    let mut values = reader(npy, "values")?;
    let mut keys_reader = keys.map(|keys| reader(keys, "keys")).transpose()?;
    // In memory, as the Python package hands arrays over; else read in chunks, as the CLI does.
    let request = if in_memory {
        // As the Python package does: a whole sum takes one block as an array, the others the
        // view.
        let values = strided(&mut values, npy)?;
        match (keys, &mut keys_reader, axis) {
            (Some(bytes), Some(keys), _) => Request::by_key(
                Source::Strided(values),
                Source::Strided(strided(keys, bytes)?),
            ),
            (_, _, i64::MIN) => Request::new(Source::strided(values)),
            (_, _, axis) => Request::along(Source::Strided(values), &[axis]),
        }
    } else {
        match (&mut keys_reader, axis) {
            (Some(keys), _) => Request::by_key(Source::Reader(&mut values), Source::Reader(keys)),
            (None, i64::MIN) => Request::new(Source::Reader(&mut values)),
            (None, axis) => Request::along(Source::Reader(&mut values), &[axis]),
        }
    };
    let outcome = engine.sum_request(request, &Control::new())?;
    Ok(match outcome.outputs {
        None => format!("{}\n", outcome.total),
        Some(outputs) => (0..outputs.len())
            .map(|i| format!("{}\n", outputs.text(i)))
            .collect(),
    })
}

/// The `.npy` file's data in place, at the strides its header's shape and order give.
fn strided<'a>(
    reader: &mut ArrayReader<Cursor<&'a [u8]>>,
    npy: &'a [u8],
) -> Result<StridedBytes<'a>, Error> {
    let format = reader.format();
    let shape = reader.shape();
    let dims: Vec<usize> = shape.as_ref().map_or(vec![], |shape| {
        shape.dims.iter().map(|&n| n as usize).collect()
    });
    let fortran = shape.is_some_and(|shape| shape.fortran_order);
    let data = &npy[reader.data_start()? as usize..];
    let size = format.dtype.size() as isize;
    let mut strides = vec![0isize; dims.len()];
    let mut step = size;
    let axes: Vec<usize> = if fortran {
        (0..dims.len()).collect()
    } else {
        (0..dims.len()).rev().collect()
    };
    for axis in axes {
        strides[axis] = step;
        step *= dims[axis] as isize;
    }
    StridedBytes::new(data, 0, dims, strides, format.dtype, format.order)
}
