//! criterion benches of exact f64 and f32 sums on the CPU, beside what they are measured against:
//! gpusum's plain (order-dependent, not exact) sum on one thread and on all, and the `xsum` crate's
//! small superaccumulator (exact, one thread). `Throughput::Elements`. Every exact sum is checked against
//! the others' bits. (The crate's large superaccumulator, 0.1.6, overflows an i64 and returned a
//! wrong sum for 2^20 of these values, so it is not the reference.)
//!
//! A second group sums f32 arrays already on each GPU adapter exactly, beside gpusum's plain f32
//! sum of the same array (`GpuContext::sum_plain_f32`): what exactness costs there. A third sums
//! the f64 values on each adapter exactly (WGSL has no f64 for a plain sum).
//!
//! Set `GPUSUM_BENCH_QUICK=1` to shrink the lengths and the sampling. Under `cargo test` each
//! benchmark runs once, as a smoke test.

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use std::hint::black_box;

use gpusum::cpu::{CpuTwin, Threads};
use gpusum::gpu::DeviceArray;
use gpusum::{Control, ExactFloatSum, FloatSlice, GpuContext, float};
use xsum::{Xsum, XsumSmall};

mod common;

use common::{contexts, group, quick};

/// Seeded values over twenty orders of magnitude, both signs: the float bench's own.
fn values(len: usize) -> Vec<f64> {
    gpusum::bench::float_values(len)
}

fn float_sum(c: &mut Criterion) {
    let lengths: &[usize] = if quick() {
        &[1 << 12, 1 << 16]
    } else {
        &[1 << 16, 1 << 20, 1 << 24]
    };
    let control = Control::new();
    let mut group = group(c, "float_sum_f64");
    for &length in lengths {
        let values = values(length);
        let mut reference = XsumSmall::new();
        reference.add_list(&values);
        let expected = reference.sum().to_bits();
        group.throughput(Throughput::Elements(length as u64));
        group.bench_with_input(
            BenchmarkId::new("plain-seq", length),
            &values,
            |b, values| b.iter(|| float::plain_sum(black_box(values), false, &control).unwrap()),
        );
        group.bench_with_input(
            BenchmarkId::new("plain-cpu", length),
            &values,
            |b, values| b.iter(|| float::plain_sum(black_box(values), true, &control).unwrap()),
        );
        group.bench_with_input(BenchmarkId::new("xsum", length), &values, |b, values| {
            b.iter(|| {
                let mut sum = XsumSmall::new();
                sum.add_list(black_box(values));
                assert_eq!(sum.sum().to_bits(), expected);
            })
        });
        group.bench_with_input(
            BenchmarkId::new("exact-seq", length),
            &values,
            |b, values| {
                b.iter(|| {
                    let mut sum = ExactFloatSum::<f64>::new();
                    sum.add_slice(black_box(values)).unwrap();
                    assert_eq!(sum.round().value.to_bits(), expected);
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("exact-cpu", length),
            &values,
            |b, values| {
                b.iter(|| {
                    let sum = float::sum_parallel(black_box(values), &control).unwrap();
                    assert_eq!(sum.round().value.to_bits(), expected);
                })
            },
        );
    }
    group.finish();
    float_sum_f32(c, lengths);
}

/// The same rows for the values rounded to f32. `xsum` sums f64 only: its row sums the f32
/// values widened (the same real numbers, so the same exact sum), and rounding its f64 result to
/// f32 gives gpusum's bits for these seeded values (a second rounding could differ only if the
/// f64 result fell exactly halfway between two f32 values).
fn float_sum_f32(c: &mut Criterion, lengths: &[usize]) {
    let control = Control::new();
    let mut group = group(c, "float_sum_f32");
    for &length in lengths {
        let values: Vec<f32> = values(length).iter().map(|&v| v as f32).collect();
        let widened: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
        let mut reference = XsumSmall::new();
        reference.add_list(&widened);
        let expected = (reference.sum() as f32).to_bits();
        group.throughput(Throughput::Elements(length as u64));
        group.bench_with_input(
            BenchmarkId::new("plain-seq", length),
            &values,
            |b, values| b.iter(|| float::plain_sum(black_box(values), false, &control).unwrap()),
        );
        group.bench_with_input(
            BenchmarkId::new("plain-cpu", length),
            &values,
            |b, values| b.iter(|| float::plain_sum(black_box(values), true, &control).unwrap()),
        );
        group.bench_with_input(BenchmarkId::new("xsum", length), &widened, |b, widened| {
            b.iter(|| {
                let mut sum = XsumSmall::new();
                sum.add_list(black_box(widened));
                assert_eq!((sum.sum() as f32).to_bits(), expected);
            })
        });
        group.bench_with_input(
            BenchmarkId::new("exact-seq", length),
            &values,
            |b, values| {
                b.iter(|| {
                    let mut sum = ExactFloatSum::<f32>::new();
                    sum.add_slice(black_box(values)).unwrap();
                    assert_eq!(sum.round().value.to_bits(), expected);
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("exact-cpu", length),
            &values,
            |b, values| {
                b.iter(|| {
                    let sum = float::sum_parallel(black_box(values), &control).unwrap();
                    assert_eq!(sum.round().value.to_bits(), expected);
                })
            },
        );
    }
    group.finish();
}

/// One context per adapter, by adapter: floats have one kernel whatever the shader variant.
fn adapter_contexts() -> Vec<(String, GpuContext)> {
    let mut seen: Vec<(String, GpuContext)> = Vec::new();
    for (label, context) in contexts() {
        let adapter = label.split(':').next().unwrap_or_default().to_owned();
        if !seen.iter().any(|(name, _)| *name == adapter) {
            seen.push((adapter, context));
        }
    }
    seen
}

/// Uploads `data` to `context` and benches its exact sum as `id`, each run checked against the
/// CPU twin's; returns the array for more rows.
fn bench_exact(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    context: &GpuContext,
    data: FloatSlice<'_>,
) -> DeviceArray {
    let control = Control::new();
    let expected = CpuTwin::new(Threads::All)
        .sum_array(data.into(), &control)
        .unwrap();
    let array = context.upload_floats(data, &control).unwrap();
    group.bench_function(id, |b| {
        b.iter(|| {
            let outcome = context.sum_device_array(&array, &control).unwrap();
            assert_eq!(outcome.total, expected);
        })
    });
    array
}

fn gpu_float_sum(c: &mut Criterion) {
    let length: usize = if quick() { 1 << 16 } else { 1 << 24 };
    let control = Control::new();
    let doubles = values(length);
    let singles: Vec<f32> = doubles.iter().map(|&v| v as f32).collect();
    let contexts = adapter_contexts();
    let mut group_f32 = group(c, "float_sum_gpu_f32");
    group_f32.throughput(Throughput::Elements(length as u64));
    for (adapter, context) in &contexts {
        let id = BenchmarkId::new(format!("{adapter}:exact-f32"), length);
        let floats = bench_exact(&mut group_f32, id, context, FloatSlice::F32(&singles));
        group_f32.bench_function(
            BenchmarkId::new(format!("{adapter}:plain-f32"), length),
            |b| b.iter(|| context.sum_plain_f32(black_box(&floats), &control).unwrap()),
        );
    }
    group_f32.finish();
    // WGSL has no f64, so the exact sum stands alone; the CPU's rows are float_sum_f64's.
    let mut group_f64 = group(c, "float_sum_gpu_f64");
    group_f64.throughput(Throughput::Elements(length as u64));
    for (adapter, context) in &contexts {
        let id = BenchmarkId::new(format!("{adapter}:exact-f64"), length);
        bench_exact(&mut group_f64, id, context, FloatSlice::F64(&doubles));
    }
    group_f64.finish();
}

criterion_group!(benches, float_sum, gpu_float_sum);
criterion_main!(benches);
