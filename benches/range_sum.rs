//! criterion benches of the three paths: `seq`, `cpu` and every GPU adapter × shader variant.
//!
//! Each GPU context is built outside the timed loop; the readback is inside it. Set
//! `GPUSUM_BENCH_QUICK=1` to shrink the lengths and the sampling (CI, or a quick look).
//! Under `cargo test` each benchmark runs once, as a smoke test.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

mod common;

use common::{contexts, group, quick};
use gpusum::cpu::{CpuTwin, Threads};
use gpusum::{Control, SumRange};

fn range_sum(c: &mut Criterion) {
    let lengths: &[u64] = if quick() {
        &[1 << 12, 1 << 16]
    } else {
        &[1 << 16, 1 << 20, 1 << 24]
    };
    let contexts = contexts();
    let control = Control::new();
    let mut group = group(c, "range_sum");
    for &length in lengths {
        let range = SumRange::new(1, length as i64);
        let expected = range.closed_form();
        group.throughput(Throughput::Elements(length));
        group.bench_with_input(BenchmarkId::new("seq", length), &range, |b, &range| {
            b.iter(|| {
                assert_eq!(
                    CpuTwin::new(Threads::One)
                        .sum_range(black_box(range), &control)
                        .unwrap(),
                    expected
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("cpu", length), &range, |b, &range| {
            b.iter(|| {
                assert_eq!(
                    CpuTwin::new(Threads::All)
                        .sum_range(black_box(range), &control)
                        .unwrap(),
                    expected
                )
            })
        });
        for (label, context) in &contexts {
            group.bench_with_input(BenchmarkId::new(label, length), &range, |b, &range| {
                b.iter(|| assert_eq!(context.sum(black_box(range), &control).unwrap(), expected))
            });
        }
    }
    group.finish();
}

/// A warm engine's short sums under `auto` beside the CPU twin's own call: what the planner and
/// the one entry point cost a caller (the target: within 2x of the twin).
fn engine_overhead(c: &mut Criterion) {
    use gpusum::{BackendChoice, Engine, EngineOptions};
    let engine = Engine::open(&EngineOptions::new(BackendChoice::Auto)).unwrap();
    let control = Control::new();
    let mut group = group(c, "engine_overhead");
    for length in [20u64, 1 << 12] {
        let range = SumRange::new(1, length as i64);
        let expected = range.closed_form();
        group.throughput(Throughput::Elements(length));
        group.bench_with_input(BenchmarkId::new("auto", length), &range, |b, &range| {
            b.iter(|| assert_eq!(engine.sum(black_box(range), &control).unwrap(), expected))
        });
        for (name, threads) in [("twin-one", Threads::One), ("twin-all", Threads::All)] {
            let twin = CpuTwin::new(threads);
            group.bench_with_input(BenchmarkId::new(name, length), &range, |b, &range| {
                b.iter(|| {
                    assert_eq!(
                        twin.sum_range(black_box(range), &control).unwrap(),
                        expected
                    )
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, range_sum, engine_overhead);
criterion_main!(benches);
