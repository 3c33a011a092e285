//! The GPU test harness: every adapter present, every shader variant it can run, built once.
//!
//! A run that finds no adapter fails, unless `GPUSUM_ALLOW_NO_GPU=1` (and not
//! `GPUSUM_REQUIRE_GPU=1`); `GPUSUM_REQUIRE_BACKENDS=vulkan,gl` fails unless each named graphics
//! API has an adapter.

#![allow(dead_code)]

use std::sync::OnceLock;

use gpusum::cpu::{CpuTwin, Threads};
use gpusum::gpu::{self, DispatchShape, UnitWalk};
use gpusum::{Control, GpuContext, GpuOptions, KernelChoice, SumRange};

/// One context to test: an adapter, a variant and a dispatch shape.
pub struct Target {
    pub label: String,
    pub context: GpuContext,
}

/// A shape that reaches several dispatches and submissions within a few thousand elements, with
/// workgroups of 64 (a size devices with low limits get).
pub const SMALL_SHAPE: DispatchShape = DispatchShape::new(3, 5, 2).with_workgroup_size(64);

/// A shape whose full dispatches run the unrolled loop (4 x 8) and its remainder (5), with
/// workgroups of 128 (Vulkan's and GLES 3.1's guaranteed minimum, WebGPU compatibility mode's),
/// whose array kernels walk runs: with [`SMALL_SHAPE`] (interleaved), every adapter runs both
/// walks.
pub const MEDIUM_SHAPE: DispatchShape = DispatchShape::new(37, 3, 2)
    .with_workgroup_size(128)
    .with_walk(UnitWalk::Runs);

/// Every adapter × kernel, with the adapter's default shape, [`SMALL_SHAPE`] and
/// [`MEDIUM_SHAPE`]: every workgroup size gpusum picks on real devices, 256, 128 and 64.
pub fn targets() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let instance = gpu::instance();
        let adapters = gpu::compute_adapters(&instance);
        check_required(&adapters);
        let mut targets = Vec::new();
        for adapter in &adapters {
            for kernel in KernelChoice::all_supported(adapter.features()) {
                for (shape_name, shape) in [
                    ("default", None),
                    ("small", Some(SMALL_SHAPE)),
                    ("medium", Some(MEDIUM_SHAPE)),
                ] {
                    let mut options = GpuOptions::new().with_kernel(kernel);
                    if let Some(shape) = shape {
                        options = options.with_shape(shape);
                    }
                    let context = GpuContext::new(adapter, &options).unwrap_or_else(|e| {
                        panic!(
                            "building a context on {}: {e}",
                            gpu::adapter_label(&adapter.get_info())
                        )
                    });
                    let label = format!(
                        "{} / {kernel} / {shape_name} shape",
                        context.adapter_label()
                    );
                    targets.push(Target { label, context });
                }
            }
        }
        targets
    })
}

/// The backends ("vulkan", "gl", ...) that have an adapter here. Finding none is said loudly, and
/// fails under `GPUSUM_REQUIRE_GPU=1`, as for [`targets`].
pub fn adapter_backends() -> Vec<String> {
    let adapters = gpu::compute_adapters(&gpu::instance());
    check_required(&adapters);
    let mut backends: Vec<String> = adapters
        .iter()
        .map(|a| a.get_info().backend.to_string())
        .collect();
    backends.dedup();
    backends
}

fn check_required(adapters: &[wgpu::Adapter]) {
    let set = |name: &str| std::env::var(name).as_deref() == Ok("1");
    if adapters.is_empty() {
        let install = "install a software adapter (apt-get install mesa-vulkan-drivers libvulkan1)";
        if set("GPUSUM_REQUIRE_GPU") {
            panic!("GPUSUM_REQUIRE_GPU=1 but no GPU adapter was found: {install}");
        }
        if !set("GPUSUM_ALLOW_NO_GPU") {
            panic!(
                "no GPU adapter was found, so no GPU test can run: {install}, \
                 or set GPUSUM_ALLOW_NO_GPU=1 to pass without testing any GPU"
            );
        }
        eprintln!("\n!!!!! NO GPU ADAPTER: GPUSUM_ALLOW_NO_GPU=1, so no GPU test ran !!!!!\n");
    }
    if let Ok(required) = std::env::var("GPUSUM_REQUIRE_BACKENDS") {
        for backend in required.split(',').map(str::trim).filter(|b| !b.is_empty()) {
            let found = adapters.iter().any(|a| {
                a.get_info()
                    .backend
                    .to_string()
                    .eq_ignore_ascii_case(backend)
            });
            assert!(
                found,
                "GPUSUM_REQUIRE_BACKENDS names {backend}, but no {backend} adapter was found"
            );
        }
    }
}

/// Checks the target against both oracles: the CPU path and the closed form.
pub fn assert_exact(target: &Target, range: SumRange) {
    let control = Control::new();
    let expected = range.closed_form();
    let cpu_sum = CpuTwin::new(Threads::All)
        .sum_range(range, &control)
        .expect("the CPU path never fails without a control");
    assert_eq!(cpu_sum, expected, "CPU vs closed form on {range:?}");
    let gpu_sum = target
        .context
        .sum(range, &control)
        .unwrap_or_else(|e| panic!("{} on {range:?}: {e}", target.label));
    assert_eq!(
        gpu_sum, expected,
        "GPU vs closed form on {range:?}, {}: got {gpu_sum}, expected {expected}",
        target.label
    );
}

/// Every backend the binary can be told to use here, with its environment: cpu, seq, and gpu on
/// each graphics API.
pub fn cli_backends() -> Vec<(String, Vec<(&'static str, String)>)> {
    let mut all = vec![
        ("cpu".to_owned(), Vec::new()),
        ("seq".to_owned(), Vec::new()),
    ];
    for api in adapter_backends() {
        all.push(("gpu".to_owned(), vec![("WGPU_BACKEND", api)]));
    }
    all
}
