//! Throughput of every adapter × variant for a list of elements-per-invocation values, at one
//! range length: the measurements behind `DispatchShape::for_adapter` (docs/BENCHMARKS.md).
//!
//! ```sh
//! cargo run --release --example shape_sweep -- 16,64,256,1024,16384 [LENGTH] [ADAPTER] [tree|subgroup] [LOG2_DISPATCH]
//! ```
//!
//! Each full dispatch holds 2^LOG2_DISPATCH elements (default 24, which suits software adapters;
//! hardware wants 30 or 31); every sum is checked against the closed form.

use std::time::Instant;

use gpusum::gpu::{self, DispatchShape};
use gpusum::{Control, GpuContext, GpuOptions, Reduction, ShaderVariant, SumRange};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(list) = args.get(1) else {
        eprintln!(
            "usage: shape_sweep PER_INVOCATION,... [LENGTH] [ADAPTER] [tree|subgroup] [LOG2_DISPATCH]"
        );
        std::process::exit(2);
    };
    let per_invocation: Vec<u32> = list
        .split(',')
        .map(|s| s.parse().expect("a number"))
        .collect();
    let length: i64 = args
        .get(2)
        .map_or(1 << 28, |s| s.parse().expect("a length"));
    let adapter_filter = args.get(3).cloned().unwrap_or_default();
    let reduction = match args.get(4).map(String::as_str) {
        Some("tree") => Some(Reduction::Tree),
        Some("subgroup") => Some(Reduction::Subgroup),
        _ => None,
    };
    let log2_dispatch: u32 = args
        .get(5)
        .map_or(24, |s| s.parse().expect("a power of two"));
    let range = SumRange::new(1, length);
    let control = Control::new();
    for adapter in gpu::compute_adapters(&gpu::instance()) {
        let name = gpu::adapter_label(&adapter.get_info());
        if !name.contains(&adapter_filter) {
            continue;
        }
        let variants = ShaderVariant::ALL.into_iter().filter(|&variant| {
            gpusum::KernelChoice::resolve(Some(variant), reduction, adapter.features()).is_ok()
        });
        for variant in variants {
            for &per in &per_invocation {
                let workgroups =
                    ((1u64 << log2_dispatch) / (256 * per as u64)).clamp(1, 65535) as u32;
                let shape = DispatchShape::new(per, workgroups, 4);
                let mut options = GpuOptions::new().with_variant(variant).with_shape(shape);
                if let Some(reduction) = reduction {
                    options = options.with_reduction(reduction);
                }
                let context = match GpuContext::new(&adapter, &options) {
                    Ok(context) => context,
                    Err(error) => {
                        eprintln!("{name} {variant}: {error}");
                        continue;
                    }
                };
                let mut best = f64::MAX;
                for _ in 0..4 {
                    let started = Instant::now();
                    let sum = context.sum(range, &control).expect("the sum runs");
                    best = best.min(started.elapsed().as_secs_f64());
                    assert_eq!(sum, range.closed_form(), "{name} {variant} per={per}");
                }
                println!(
                    "{name:45} {variant:8} {:8} per={per:6} workgroups={workgroups:6} {:.2e} elements/s",
                    context.kernel().reduction.name(),
                    length as f64 / best
                );
            }
        }
    }
}
