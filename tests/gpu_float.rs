//! Float arrays on every adapter: the GPU's exact sum has the same bytes (so the same rounded
//! bits) as the CPU's `ExactFloatSum` (which tests/float_sum.rs holds to a big-integer oracle),
//! on every layout, workgroup size and chunk size, for the adversarial cases and random data
//! over the whole exponent range, through slices, streams, a caller's buffer and device arrays.

use crate::common;

use std::sync::OnceLock;

use common::{MEDIUM_SHAPE, SMALL_SHAPE};
use gpusum::cpu::{CpuTwin, Threads};
use gpusum::gpu::{self, DispatchShape};
use gpusum::input::{ArrayReader, InputHints};
use gpusum::kernel::{ArrayLayout, FloatAccumulation};
use gpusum::{ArrayTotal, Control, Dtype, ExactFloatSum, FloatSlice, GpuContext, GpuOptions};

struct FloatTarget {
    label: String,
    context: GpuContext,
    chunk: u64,
}

/// Every adapter x layout, with small shapes and chunks (many dispatches, both ring slots,
/// workgroups of 64 and 128) and each f32 accumulation forced, and with the adapter's own shape
/// and choice.
fn float_targets() -> &'static [FloatTarget] {
    static TARGETS: OnceLock<Vec<FloatTarget>> = OnceLock::new();
    let targets = TARGETS.get_or_init(|| {
        let instance = gpu::instance();
        let adapters = gpu::compute_adapters(&instance);
        common::adapter_backends();
        let mut targets = Vec::new();
        for adapter in &adapters {
            for layout in ArrayLayout::ALL {
                let shapes: [(Option<DispatchShape>, u64, Option<FloatAccumulation>); 3] = [
                    (Some(SMALL_SHAPE), 48, Some(FloatAccumulation::Window)),
                    (
                        Some(MEDIUM_SHAPE),
                        1024,
                        Some(FloatAccumulation::EveryDigit),
                    ),
                    (None, 4096, None),
                ];
                for (shape, chunk, accumulation) in shapes {
                    let mut options = GpuOptions::new()
                        .with_array_layout(layout)
                        .with_array_chunk_bytes(chunk);
                    if let Some(shape) = shape {
                        options = options.with_shape(shape);
                    }
                    if let Some(accumulation) = accumulation {
                        options = options.with_float_accumulation(accumulation);
                    }
                    let context = GpuContext::new(adapter, &options).unwrap();
                    let label = format!(
                        "{} / {layout} / chunk {chunk} / workgroup {} / {:?} walk / {}",
                        context.adapter_label(),
                        context.shape().workgroup_size,
                        context.shape().walk,
                        accumulation.map_or("default", FloatAccumulation::name)
                    );
                    targets.push(FloatTarget {
                        label,
                        context,
                        chunk,
                    });
                }
            }
        }
        targets
    });
    common::found(targets.len());
    targets
}

/// A xorshift stream, so every run sees the same data.
fn random_bits(seed: u64, len: usize) -> Vec<u64> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        })
        .collect()
}

/// The adversarial cases and random finite data, as f64.
fn cases_f64(len: usize) -> Vec<(&'static str, Vec<f64>)> {
    let mut every_exponent: Vec<f64> = (0..2046u64)
        .map(|e| f64::from_bits(if e == 0 { 1 } else { e << 52 }))
        .collect();
    every_exponent.push(f64::MAX);
    let negated: Vec<f64> = every_exponent.iter().map(|v| -v * 0.75).collect();
    every_exponent.extend(negated);
    let random = random_bits(0x9E37_79B9 ^ len as u64, len)
        .into_iter()
        .map(f64::from_bits)
        .map(|v| if v.is_finite() { v } else { 1.5 })
        .collect();
    vec![
        ("cancellation", vec![1e308, 1.0, -1e308]),
        ("subnormals", (1..=len as u64).map(f64::from_bits).collect()),
        ("every exponent", every_exponent),
        (
            "alternating signs",
            (0..len)
                .map(|i| if i % 2 == 0 { 0.1 } else { -0.3 })
                .collect(),
        ),
        ("negative zeros", vec![-0.0; len]),
        ("overflow", vec![f64::MAX; len.max(2)]),
        ("nan", vec![1.0, f64::NAN, 2.0]),
        (
            "both infinities",
            vec![f64::INFINITY, 1.0, f64::NEG_INFINITY],
        ),
        ("one infinity", vec![f64::NEG_INFINITY, f64::MAX, f64::MAX]),
        ("random over every exponent", random),
    ]
}

fn cases_f32(len: usize) -> Vec<(&'static str, Vec<f32>)> {
    let mut every_exponent: Vec<f32> = (0..255u32)
        .map(|e| f32::from_bits(if e == 0 { 1 } else { e << 23 }))
        .collect();
    every_exponent.push(f32::MAX);
    let random = random_bits(0x2545_F491 ^ len as u64, len)
        .into_iter()
        .map(|bits| f32::from_bits(bits as u32))
        .map(|v| if v.is_finite() { v } else { -2.5 })
        .collect();
    vec![
        ("2^24, 1, 1", vec![16777216.0, 1.0, 1.0]),
        ("cancellation", vec![3e38, 1.0, -3e38]),
        ("subnormals", (1..=len as u32).map(f32::from_bits).collect()),
        ("every exponent", every_exponent),
        (
            "alternating signs",
            (0..len)
                .map(|i| if i % 2 == 0 { 0.1 } else { -0.3 })
                .collect(),
        ),
        ("negative zeros", vec![-0.0; len]),
        ("overflow", vec![f32::MAX; len.max(2)]),
        ("nan", vec![f32::NAN]),
        ("negative nan", vec![-1.0, -f32::NAN, f32::NEG_INFINITY]),
        ("both infinities", vec![f32::INFINITY, f32::NEG_INFINITY]),
        ("negative infinity", vec![f32::NEG_INFINITY, -f32::MAX, 1.0]),
        ("zeros of both signs", vec![-0.0, 0.0, -0.0]),
        (
            "negative zeros and a negative value",
            vec![-0.0, -1e-45, -0.0],
        ),
        ("random over every exponent", random),
    ]
}

/// Lengths around workgroups and chunks, in values of `size` bytes.
fn lengths(size: usize, target: &FloatTarget) -> Vec<usize> {
    let per_chunk = target.chunk as usize / size;
    let group = target.context.shape().workgroup_size as usize;
    vec![
        0,
        1,
        3,
        5,
        group + 1,
        per_chunk - 1,
        per_chunk + 1,
        3 * per_chunk + 7,
    ]
}

fn cpu_total(data: FloatSlice<'_>) -> ArrayTotal {
    CpuTwin::new(Threads::One)
        .sum_array(data.into(), &Control::new())
        .unwrap()
}

fn check(target: &FloatTarget, data: FloatSlice<'_>, what: &str) {
    let control = Control::new();
    let expected = cpu_total(data);
    let gpu = target
        .context
        .sum_floats(data, &control)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(gpu.total, expected, "{what}: {} vs {}", gpu.total, expected);
    assert_eq!(gpu.total.to_string(), expected.to_string(), "{what}");
}

#[test]
fn gpu_sums_have_the_cpus_bytes_on_every_adapter_and_shape() {
    for target in float_targets() {
        for len in lengths(8, target) {
            for (case, values) in cases_f64(len) {
                let what = format!("{} / f64 x {} {case}", target.label, values.len());
                check(target, FloatSlice::F64(&values), &what);
            }
        }
        for len in lengths(4, target) {
            for (case, values) in cases_f32(len) {
                let what = format!("{} / f32 x {} {case}", target.label, values.len());
                check(target, FloatSlice::F32(&values), &what);
            }
        }
    }
}

/// Invocations that each add hundreds of values (so the every-digit kernel moves its small
/// counters, and its f64 ring, many times) at the largest magnitudes and significands, both
/// signs, on every adapter and each accumulation; for f64 also batches that fit the ring beside
/// ones that do not.
#[test]
fn long_invocations_of_the_largest_values_stay_exact() {
    let largest_significand = f32::from_bits(0x7f7f_ffff);
    let len = 1 << 17;
    let cases: [(&str, Vec<f32>); 4] = [
        ("largest", vec![f32::MAX; len]),
        ("largest, negative", vec![-f32::MAX; len]),
        (
            "full significands over every exponent, both signs",
            (0..len)
                .map(|k| {
                    let exponent = (k % 254) as u32 + 1;
                    let sign = ((k / 254) % 2) as u32;
                    f32::from_bits(sign << 31 | exponent << 23 | 0x7f_ffff)
                })
                .collect(),
        ),
        (
            "largest and smallest, alternating",
            (0..len)
                .map(|k| {
                    if k % 2 == 0 {
                        largest_significand
                    } else {
                        -f32::from_bits(1)
                    }
                })
                .collect(),
        ),
    ];
    // 2^19 units over the small shape's 320 invocations: 1639 each, six ring batches and a bit.
    let len = 1 << 20;
    // Random significands and signs over `binades` binades from biased exponent `first`.
    let spread = |first: u64, binades: u64| -> Vec<f64> {
        random_bits(0x5851_F42D ^ binades, len)
            .into_iter()
            .map(|bits| {
                f64::from_bits((bits & 1) << 63 | (first + bits % binades) << 52 | bits >> 12)
            })
            .collect()
    };
    let cases_f64: [(&str, Vec<f64>); 6] = [
        ("largest", vec![f64::MAX; len]),
        ("largest, negative", vec![-f64::MAX; len]),
        (
            "full significands over every exponent, both signs",
            (0..len)
                .map(|k| {
                    let exponent = (k % 2046) as u64 + 1;
                    let sign = ((k / 2046) % 2) as u64;
                    f64::from_bits(sign << 63 | exponent << 52 | 0xf_ffff_ffff_ffff)
                })
                .collect(),
        ),
        (
            "largest and smallest, alternating",
            (0..len)
                .map(|k| {
                    if k % 2 == 0 {
                        f64::MAX
                    } else {
                        -f64::from_bits(1)
                    }
                })
                .collect(),
        ),
        (
            "forty binades with zeros, and a far value now and then",
            spread(1023, 40)
                .into_iter()
                .enumerate()
                .map(|(k, v)| match k % 1500 {
                    0 => -1e-300,
                    7 => 0.0,
                    _ => v,
                })
                .collect(),
        ),
        // Shifts 1034 (22 * 47) to 1144: lowest pieces five digits apart, one more than fits.
        ("a hundred and eleven binades", spread(1035, 111)),
    ];
    let instance = gpu::instance();
    let adapters = gpu::compute_adapters(&instance);
    common::found(adapters.len());
    for adapter in adapters {
        for accumulation in FloatAccumulation::ALL {
            let options = GpuOptions::new()
                .with_shape(SMALL_SHAPE)
                .with_float_accumulation(accumulation);
            let target = FloatTarget {
                label: format!("{} / small shape / {accumulation}", adapter.get_info().name),
                context: GpuContext::new(&adapter, &options).unwrap(),
                chunk: 0,
            };
            for (case, values) in &cases {
                check(
                    &target,
                    FloatSlice::F32(values),
                    &format!("{} / {case}", target.label),
                );
            }
            for (case, values) in &cases_f64 {
                check(
                    &target,
                    FloatSlice::F64(values),
                    &format!("{} / f64 {case}", target.label),
                );
            }
        }
    }
}

#[test]
fn known_answers_hold_on_the_gpu() {
    let control = Control::new();
    for target in float_targets() {
        let sum = |values: &[f64]| {
            let outcome = target.context.sum_floats(FloatSlice::F64(values), &control);
            outcome.unwrap().total.to_string()
        };
        assert_eq!(sum(&[1e308, 1.0, -1e308]), "1", "{}", target.label);
        assert_eq!(sum(&[-0.0, -0.0, -0.0]), "-0", "{}", target.label);
        assert_eq!(sum(&[]), "0", "{}", target.label);
        assert_eq!(sum(&[f64::MAX, f64::MAX]), "inf", "{}", target.label);
        let f32s = [16777216.0f32, 1.0, 1.0];
        let outcome = target.context.sum_floats(FloatSlice::F32(&f32s), &control);
        assert_eq!(outcome.unwrap().total.to_string(), "16777218");
    }
}

#[test]
fn streams_buffers_and_device_arrays_agree() {
    let control = Control::new();
    for target in float_targets() {
        let values: Vec<f64> = cases_f64(1000).pop().unwrap().1;
        let expected = cpu_total(FloatSlice::F64(&values));
        // A big-endian stream.
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        let hints = InputHints::raw(Dtype::F64).with_big_endian(true);
        let mut reader = ArrayReader::new(&bytes[..], "stream", hints, None).unwrap();
        let streamed = target.context.sum_reader(&mut reader, &control).unwrap();
        assert_eq!(streamed.total, expected, "{} stream", target.label);
        // On the device already.
        let array = target
            .context
            .upload_floats(FloatSlice::F64(&values), &control)
            .unwrap();
        let resident = target.context.sum_device_array(&array, &control).unwrap();
        assert_eq!(resident.total, expected, "{} device array", target.label);
        // A caller's buffer, from an element offset.
        let device = target.context.device();
        let little: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let buffer = wgpu::util::DeviceExt::create_buffer_init(
            device,
            &wgpu::util::BufferInitDescriptor {
                label: None,
                contents: &little,
                usage: wgpu::BufferUsages::STORAGE,
            },
        );
        let tail = &values[32..];
        let outcome = target
            .context
            .sum_buffer(&buffer, 256, tail.len() as u64, Dtype::F64, &control)
            .unwrap();
        let mut expected_tail = ExactFloatSum::<f64>::new();
        expected_tail.add_slice(tail).unwrap();
        assert_eq!(
            outcome.total,
            ArrayTotal::F64(expected_tail),
            "{} buffer",
            target.label
        );
    }
}

#[test]
fn the_plain_f32_sum_adds_every_value_and_takes_only_f32() {
    let control = Control::new();
    for target in float_targets() {
        let context = &target.context;
        for len in lengths(4, target) {
            // Small integers: every partial sum stays below 2^24, so any order gives the exact
            // sum, and a skipped or doubled value shows.
            let values: Vec<f32> = (0..len).map(|k| (k % 1000) as f32 - 300.0).collect();
            let expected: f32 = values.iter().sum();
            let array = context
                .upload_floats(FloatSlice::F32(&values), &control)
                .unwrap();
            let plain = context.sum_plain_f32(&array, &control).unwrap();
            assert_eq!(plain, expected, "{} / {len}", target.label);
        }
        let array = context
            .upload_floats(FloatSlice::F32(&[1.0, f32::NAN]), &control)
            .unwrap();
        assert!(context.sum_plain_f32(&array, &control).unwrap().is_nan());
        let doubles = context
            .upload_floats(FloatSlice::F64(&[1.0]), &control)
            .unwrap();
        let error = context.sum_plain_f32(&doubles, &control).unwrap_err();
        assert!(error.to_string().contains("f32 arrays, not f64"), "{error}");
    }
}
