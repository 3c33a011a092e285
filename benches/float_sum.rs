//! criterion benches of exact f64 sums on the CPU, beside what they are measured against: a plain
//! (order-dependent, not exact) f64 sum in eight accumulators, and the `xsum` crate's small
//! superaccumulator (exact, one thread). `Throughput::Elements`. Every exact sum is checked against
//! the others' bits. (The crate's large superaccumulator, 0.1.6, overflows an i64 and returned a
//! wrong sum for 2^20 of these values, so it is not the reference.)
//!
//! Set `GPUSUM_BENCH_QUICK=1` to shrink the lengths and the sampling. Under `cargo test` each
//! benchmark runs once, as a smoke test.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use gpusum::{Control, ExactFloatSum, float};
use xsum::{Xsum, XsumSmall};

mod common;

use common::{group, quick};

/// Seeded values over twenty orders of magnitude, both signs.
fn values(len: usize) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let magnitude = (state >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 10f64.powi((state % 21) as i32 - 10);
            if state & 1 == 0 {
                magnitude * scale
            } else {
                -magnitude * scale
            }
        })
        .collect()
}

fn plain(values: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for (lane, value) in lanes.iter_mut().zip(chunk) {
            *lane += value;
        }
    }
    lanes.iter().sum::<f64>() + chunks.remainder().iter().sum::<f64>()
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
        group.bench_with_input(BenchmarkId::new("plain", length), &values, |b, values| {
            b.iter(|| plain(black_box(values)))
        });
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
}

criterion_group!(benches, float_sum);
criterion_main!(benches);
