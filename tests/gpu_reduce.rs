//! Sums along axes and by key: every adapter's outputs == the CPU twin's (one thread and the
//! pool) == a plain per-output oracle, bit for bit, for every element type, both byte orders, C
//! and Fortran order, shapes around the workgroup size, chunks that cut rows, keys dense and
//! sparse.

use crate::common;

use std::collections::BTreeMap;

use gpusum::engine::{Request, StridedBytes};
use gpusum::gpu::{self, DispatchShape};
use gpusum::kernel::ArrayLayout;
use gpusum::reduce::Outputs;
use gpusum::{
    ArrayTotal, BackendChoice, ByteOrder, Control, Dtype, Engine, EngineOptions, ExactFloatSum,
    GpuContext, GpuOptions,
};

/// Every adapter in both layouts, with its own shape and a small one, and chunks of 48 bytes
/// (rows cut anywhere) or a few KiB.
fn engines() -> Vec<(String, Engine)> {
    let instance = gpu::instance();
    let adapters = gpu::compute_adapters(&instance);
    common::found(adapters.len());
    let mut engines = Vec::new();
    for adapter in &adapters {
        for layout in ArrayLayout::ALL {
            for (shape, chunk) in [(Some(common::SMALL_SHAPE), 48), (None, 4096)] {
                let mut options = GpuOptions::new()
                    .with_array_layout(layout)
                    .with_array_chunk_bytes(chunk);
                if let Some(shape) = shape {
                    options = options.with_shape(shape);
                }
                let context = GpuContext::new(adapter, &options).unwrap();
                let label = format!(
                    "{} / {layout} / chunk {chunk}{}",
                    context.adapter_label(),
                    if shape.is_some() {
                        " / small shape"
                    } else {
                        ""
                    }
                );
                engines.push((label, Engine::from_context(context)));
            }
        }
    }
    engines
}

fn cpu(backend: BackendChoice) -> Engine {
    Engine::open(&EngineOptions::new(backend)).unwrap()
}

/// Repeatable bytes (xorshift64).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Elements of `dtype` from bytes: integers with their extremes; floats over some sixty binades
/// (so that windows move within a run), with zeros, and a special or two where `specials`.
fn elements(dtype: Dtype, count: usize, seed: u64, specials: bool) -> Vec<u8> {
    let size = dtype.size();
    let mut bytes = noise(count * size, seed);
    if dtype.is_float() {
        for (k, chunk) in bytes.chunks_exact_mut(size).enumerate() {
            let top = size - 1;
            // Sign, and an exponent from 0x3c0 (f64) or 0x78 (f32) up by 0 to 63 binades.
            let spread = chunk[top] & 0x3f;
            let exponent = if size == 8 {
                0x3c0 + u16::from(spread)
            } else {
                0x78 + u16::from(spread / 2)
            };
            let shift = if size == 8 { 4 } else { 7 };
            let field = exponent << shift;
            chunk[top] = (chunk[top] & 0x80) | (field >> 8) as u8;
            let low_mask = (1u8 << shift) - 1;
            chunk[top - 1] = (chunk[top - 1] & low_mask) | (field as u8 & !low_mask);
            if k % 29 == 3 {
                chunk.fill(0);
            }
        }
        if specials && count > 5 {
            let inf: Vec<u8> = match dtype {
                Dtype::F32 => f32::INFINITY.to_le_bytes().to_vec(),
                _ => f64::INFINITY.to_le_bytes().to_vec(),
            };
            bytes[2 * size..3 * size].copy_from_slice(&inf);
        }
    } else {
        // Every 7th element the type's largest or smallest: sums past 64 bits.
        for (k, chunk) in bytes.chunks_exact_mut(size).enumerate() {
            match k % 7 {
                0 => chunk.fill(0xff),
                1 => {
                    chunk.fill(0);
                    chunk[size - 1] = if dtype.is_signed() { 0x80 } else { 0 };
                }
                2 => {
                    chunk.fill(0xff);
                    chunk[size - 1] = if dtype.is_signed() { 0x7f } else { 0xff };
                }
                _ => {}
            }
        }
    }
    bytes
}

/// Element `k` of little-endian `bytes` as an exact total of one element.
fn one(dtype: Dtype, bytes: &[u8], k: usize) -> ArrayTotal {
    let size = dtype.size();
    let mut raw = [0u8; 8];
    raw[..size].copy_from_slice(&bytes[k * size..(k + 1) * size]);
    let bits = u64::from_le_bytes(raw);
    match dtype {
        Dtype::F32 => {
            let mut sum = ExactFloatSum::new();
            sum.add(f32::from_bits(bits as u32)).unwrap();
            ArrayTotal::F32(sum)
        }
        Dtype::F64 => {
            let mut sum = ExactFloatSum::new();
            sum.add(f64::from_bits(bits)).unwrap();
            ArrayTotal::F64(sum)
        }
        _ => {
            let width = 8 * size as u32;
            let value = if dtype.is_signed() {
                i128::from(((bits << (64 - width)) as i64) >> (64 - width))
            } else {
                i128::from(bits)
            };
            let mut sum = gpusum::ExactIntSum::new();
            sum.add_values([value]).unwrap();
            ArrayTotal::Int(sum)
        }
    }
}

/// The outputs of summing a C-order array of `shape` along `axes`, the plain way.
fn oracle_along(dtype: Dtype, bytes: &[u8], shape: &[usize], axes: &[usize]) -> Vec<ArrayTotal> {
    let kept: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).collect();
    let outputs: usize = kept.iter().map(|&a| shape[a]).product();
    let mut totals = vec![ArrayTotal::new(dtype); outputs];
    let count: usize = shape.iter().product();
    for k in 0..count {
        let mut rest = k;
        let mut index = vec![0; shape.len()];
        for a in (0..shape.len()).rev() {
            index[a] = rest % shape[a];
            rest /= shape[a];
        }
        let out = kept.iter().fold(0, |out, &a| out * shape[a] + index[a]);
        totals[out].merge(&one(dtype, bytes, k)).unwrap();
    }
    totals
}

fn check_outputs(outputs: &Outputs, expected: &[ArrayTotal], label: &str) {
    assert_eq!(outputs.len(), expected.len(), "{label}");
    for (i, expected) in expected.iter().enumerate() {
        let got = outputs.total(i).unwrap();
        assert_eq!(got.to_bytes(), expected.to_bytes(), "{label}: output {i}");
        assert_eq!(got.count(), expected.count(), "{label}: output {i}");
    }
}

/// `bytes` (a C-order array of `shape`) as a view: C order, or the same elements transposed into
/// Fortran order (so that the view's logical array is the same), in either byte order.
fn view<'a>(
    storage: &'a mut Vec<u8>,
    bytes: &[u8],
    dtype: Dtype,
    shape: &[usize],
    fortran: bool,
    order: ByteOrder,
) -> StridedBytes<'a> {
    let size = dtype.size();
    let count: usize = shape.iter().product();
    storage.clear();
    storage.resize(bytes.len(), 0);
    let mut strides = vec![0isize; shape.len()];
    let mut stride = size;
    let axes: Vec<usize> = if fortran {
        (0..shape.len()).collect()
    } else {
        (0..shape.len()).rev().collect()
    };
    for &a in &axes {
        strides[a] = stride as isize;
        stride *= shape[a].max(1);
    }
    for k in 0..count {
        let mut rest = k;
        let mut at = 0usize;
        for a in (0..shape.len()).rev() {
            at += (rest % shape[a]) * strides[a] as usize;
            rest /= shape[a];
        }
        let element = &bytes[k * size..(k + 1) * size];
        let target = &mut storage[at..at + size];
        target.copy_from_slice(element);
        if order == ByteOrder::Big {
            target.reverse();
        }
    }
    StridedBytes::new(storage, 0, shape.to_vec(), strides, dtype, order).unwrap()
}

#[test]
fn sums_along_axes_match_the_cpu_and_the_oracle_on_every_adapter() {
    let engines = engines();
    let (seq, pool) = (cpu(BackendChoice::Seq), cpu(BackendChoice::Cpu));
    let shapes: [&[usize]; 7] = [
        &[0, 5],
        &[1, 1],
        &[3, 7],
        &[300, 3],
        &[3, 300],
        &[4, 5, 6],
        &[65],
    ];
    let control = Control::new();
    for dtype in Dtype::ALL {
        for (s, shape) in shapes.iter().enumerate() {
            let count: usize = shape.iter().product();
            let bytes = elements(dtype, count, 31 + s as u64, s == 2);
            let ndim = shape.len();
            for mask in 0..(1u32 << ndim) {
                let axes: Vec<usize> = (0..ndim).filter(|a| mask & (1 << a) != 0).collect();
                let expected = oracle_along(dtype, &bytes, shape, &axes);
                let request_axes: Vec<i64> = axes.iter().map(|&a| a as i64 - ndim as i64).collect();
                for (fortran, order) in [
                    (false, ByteOrder::Little),
                    (true, ByteOrder::Little),
                    (false, ByteOrder::Big),
                ] {
                    let mut storage = Vec::new();
                    let data = view(&mut storage, &bytes, dtype, shape, fortran, order);
                    let label =
                        format!("{dtype} {shape:?} axes {axes:?} fortran {fortran} {order:?}");
                    for (name, engine) in [("seq", &seq), ("cpu", &pool)]
                        .into_iter()
                        .chain(engines.iter().map(|(l, e)| (l.as_str(), e)))
                    {
                        let request = Request::along(data.clone(), &request_axes);
                        let outcome = engine.sum_request(request, &control).unwrap();
                        let outputs = outcome.outputs.expect("outputs");
                        let kept: Vec<u64> = (0..ndim)
                            .filter(|a| !axes.contains(a))
                            .map(|a| shape[a] as u64)
                            .collect();
                        assert_eq!(outputs.shape(), Some(&kept[..]), "{label} on {name}");
                        check_outputs(&outputs, &expected, &format!("{label} on {name}"));
                    }
                }
            }
        }
    }
}

/// Keys of `dtype` for `count` values: one key, a few dense keys, or keys over the type's whole
/// range (its extremes among them).
fn keys(dtype: Dtype, count: usize, kind: usize, seed: u64) -> Vec<u8> {
    let size = dtype.size();
    let mut bytes = noise(count * size, seed);
    for (k, chunk) in bytes.chunks_exact_mut(size).enumerate() {
        match kind {
            0 => chunk.fill(7),
            1 => {
                let key = (chunk[0] % 5) as i8 - 2;
                let wide = i64::from(key).to_le_bytes();
                chunk.copy_from_slice(&wide[..size]);
            }
            _ => {
                if k % 11 == 0 {
                    chunk.fill(0xff);
                } else if k % 13 == 0 {
                    chunk.fill(0);
                    chunk[size - 1] = 0x80;
                }
            }
        }
    }
    bytes
}

fn oracle_by_key(
    key_dtype: Dtype,
    keys: &[u8],
    dtype: Dtype,
    values: &[u8],
) -> BTreeMap<i128, ArrayTotal> {
    let mut totals = BTreeMap::new();
    for k in 0..values.len() / dtype.size() {
        let key = one(key_dtype, keys, k).int_sum().unwrap();
        totals
            .entry(key)
            .or_insert_with(|| ArrayTotal::new(dtype))
            .merge(&one(dtype, values, k))
            .unwrap();
    }
    totals
}

#[test]
fn sums_by_key_match_the_cpu_and_the_oracle_on_every_adapter() {
    let engines = engines();
    let (seq, pool) = (cpu(BackendChoice::Seq), cpu(BackendChoice::Cpu));
    let control = Control::new();
    for (key_dtype, dtype) in [
        (Dtype::I64, Dtype::I64),
        (Dtype::U8, Dtype::F64),
        (Dtype::I16, Dtype::F32),
        (Dtype::U64, Dtype::U32),
        (Dtype::I32, Dtype::I8),
    ] {
        for count in [0usize, 1, 63, 700] {
            for kind in 0..3 {
                let values = elements(dtype, count, 5 + count as u64, kind == 1);
                let keys = keys(key_dtype, count, kind, 9 + kind as u64);
                let expected = oracle_by_key(key_dtype, &keys, dtype, &values);
                let label = format!("{dtype} by {key_dtype}, {count} values, keys {kind}");
                for (name, engine) in [("seq", &seq), ("cpu", &pool)]
                    .into_iter()
                    .chain(engines.iter().map(|(l, e)| (l.as_str(), e)))
                {
                    for order in [ByteOrder::Little, ByteOrder::Big] {
                        let (mut vs, mut ks) = (Vec::new(), Vec::new());
                        let v = view(&mut vs, &values, dtype, &[count], false, order);
                        let k = view(&mut ks, &keys, key_dtype, &[count], false, order);
                        let outcome = engine.sum_request(Request::by_key(v, k), &control).unwrap();
                        let outputs = outcome.outputs.expect("outputs");
                        let got: Vec<i128> = outputs.keys().unwrap().iter().collect();
                        let want: Vec<i128> = expected.keys().copied().collect();
                        assert_eq!(got, want, "{label} {order:?} on {name}");
                        let totals: Vec<ArrayTotal> = expected.values().cloned().collect();
                        check_outputs(&outputs, &totals, &format!("{label} {order:?} on {name}"));
                    }
                }
            }
        }
    }
}

#[test]
fn a_shape_of_one_dispatch_per_few_pieces_still_covers_every_element() {
    // Workgroups of 4 and 3 of them a dispatch: rectangles of many dispatches and submissions.
    let shape = DispatchShape::new(1, 3, 2).with_workgroup_size(4);
    let instance = gpu::instance();
    let adapters = gpu::compute_adapters(&instance);
    common::found(adapters.len());
    let bytes = elements(Dtype::F64, 40 * 37, 3, false);
    let expected = oracle_along(Dtype::F64, &bytes, &[40, 37], &[0]);
    for adapter in &adapters {
        let options = GpuOptions::new().with_shape(shape);
        let engine = Engine::from_context(GpuContext::new(adapter, &options).unwrap());
        let data =
            StridedBytes::c_order(&bytes, vec![40, 37], Dtype::F64, ByteOrder::Little).unwrap();
        let outcome = engine
            .sum_request(Request::along(data, &[0]), &Control::new())
            .unwrap();
        check_outputs(&outcome.outputs.unwrap(), &expected, "tiny shape");
    }
}

#[test]
fn outputs_of_more_dispatches_than_a_submission_holds_are_all_summed() {
    // 70,001 f64 outputs of one element: more pieces than four dispatches of grouped partials
    // hold (8 MiB of them each), in submissions of up to 8 dispatches where the shape allows,
    // which once overran the readback and panicked.
    let instance = gpu::instance();
    let adapters = gpu::compute_adapters(&instance);
    common::found(adapters.len());
    let count = 70_001;
    let bytes = elements(Dtype::F64, count, 11, false);
    let expected = oracle_along(Dtype::F64, &bytes, &[1, count], &[0]);
    for adapter in &adapters {
        for shape in [None, Some(DispatchShape::new(1, 64, 8))] {
            let mut options = GpuOptions::new();
            if let Some(shape) = shape {
                options = options.with_shape(shape);
            }
            let engine = Engine::from_context(GpuContext::new(adapter, &options).unwrap());
            let data = StridedBytes::c_order(&bytes, vec![1, count], Dtype::F64, ByteOrder::Little)
                .unwrap();
            let outcome = engine
                .sum_request(Request::along(data, &[0]), &Control::new())
                .unwrap();
            check_outputs(&outcome.outputs.unwrap(), &expected, "many outputs");
        }
    }
}
