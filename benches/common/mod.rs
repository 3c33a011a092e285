//! What the criterion benches share: the quick switch and a context per adapter × variant.

// Each bench compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use gpusum::{GpuContext, GpuOptions, KernelChoice, ShaderVariant, gpu};

/// `GPUSUM_BENCH_QUICK=1`: shorter lengths and sampling.
pub fn quick() -> bool {
    std::env::var("GPUSUM_BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// A benchmark group, sampled briefly when [`quick`].
pub fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    if quick() {
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_millis(300));
    }
    group
}

/// A context for every adapter × shader variant it can run (each with its best reduction),
/// labelled `gpu<index>:<variant>`.
pub fn contexts() -> Vec<(String, GpuContext)> {
    let adapters = gpu::compute_adapters(&gpu::instance());
    if adapters.is_empty() {
        eprintln!("!!!!! NO GPU ADAPTER: only the CPU paths are benchmarked !!!!!");
    }
    let mut contexts = Vec::new();
    for (index, adapter) in adapters.iter().enumerate() {
        for variant in ShaderVariant::ALL {
            if KernelChoice::resolve(Some(variant), None, adapter.features()).is_err() {
                continue;
            }
            let options = GpuOptions::new().with_variant(variant);
            match GpuContext::new(adapter, &options) {
                Ok(context) => contexts.push((format!("gpu{index}:{variant}"), context)),
                Err(error) => eprintln!("skipping gpu{index}:{variant}: {error}"),
            }
        }
    }
    contexts
}
