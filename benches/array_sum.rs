//! criterion benches of exact i64 array sums: `seq`, `cpu`, and every GPU adapter × shader
//! variant, from host memory (the upload inside the timed loop) and from a `DeviceArray` (uploaded
//! once, outside it). `Throughput::Bytes`, so criterion reports bandwidth.
//!
//! Set `GPUSUM_BENCH_QUICK=1` to shrink the lengths and the sampling. Under `cargo test` each
//! benchmark runs once, as a smoke test.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

mod common;

use common::{contexts, group, quick};
use gpusum::cpu::{CpuTwin, Threads};
use gpusum::peak::collect_on_huge_pages;
use gpusum::{Control, IntSlice};

fn array_sum(c: &mut Criterion) {
    let lengths: &[usize] = if quick() {
        &[1 << 12, 1 << 16]
    } else {
        &[1 << 16, 1 << 20, 1 << 24]
    };
    let contexts = contexts();
    let control = Control::new();
    let mut group = group(c, "array_sum_i64");
    for &length in lengths {
        // Values near the extremes, so that an i64 accumulator would wrap; on huge pages, as
        // numpy's arrays are.
        let values = collect_on_huge_pages(
            length,
            (0..length as i64).map(|i| {
                if i % 2 == 0 {
                    i64::MAX - i
                } else {
                    i64::MIN + i
                }
            }),
        );
        let expected: i128 = values.iter().map(|&v| i128::from(v)).sum();
        let data = IntSlice::I64(&values);
        group.throughput(Throughput::Bytes(length as u64 * 8));
        group.bench_with_input(BenchmarkId::new("seq", length), &data, |b, &data| {
            b.iter(|| {
                let total = CpuTwin::new(Threads::One)
                    .sum_array(black_box(data).into(), &control)
                    .unwrap();
                assert_eq!(total.int_sum(), Some(expected));
            })
        });
        group.bench_with_input(BenchmarkId::new("cpu", length), &data, |b, &data| {
            b.iter(|| {
                let total = CpuTwin::new(Threads::All)
                    .sum_array(black_box(data).into(), &control)
                    .unwrap();
                assert_eq!(total.int_sum(), Some(expected));
            })
        });
        for (label, context) in &contexts {
            let host = format!("{label} host");
            group.bench_with_input(BenchmarkId::new(host, length), &data, |b, &data| {
                b.iter(|| {
                    let outcome = context.sum_ints(black_box(data), &control).unwrap();
                    assert_eq!(outcome.total.int_sum().unwrap(), expected);
                })
            });
            let on_device = context.upload(data, &control).unwrap();
            let device = format!("{label} device");
            group.bench_with_input(BenchmarkId::new(device, length), &on_device, |b, array| {
                b.iter(|| {
                    let outcome = context.sum_device_array(array, &control).unwrap();
                    assert_eq!(outcome.total.int_sum().unwrap(), expected);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, array_sum);
criterion_main!(benches);
