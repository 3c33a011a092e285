//! The GPU test harness: every adapter present, every shader variant it can run, built once.
//!
//! Where no adapter is found, a test's GPU part is skipped, loudly: when the test binary ends it
//! prints one notice naming each test whose GPU part did not run, how many, and the line that
//! installs software adapters. `GPUSUM_REQUIRE_GPU=1` (CI sets it) makes a missing adapter a
//! failure instead; `GPUSUM_REQUIRE_BACKENDS=vulkan,gl` fails unless each named graphics API has an
//! adapter.

#![allow(dead_code)]

use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

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
    let targets = TARGETS.get_or_init(|| {
        let instance = gpu::instance();
        let adapters = gpu::compute_adapters(&instance);
        check_required_backends(&adapters);
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
    });
    found(targets.len());
    targets
}

/// The backends ("vulkan", "gl", ...) that have an adapter here. Finding none is said loudly, and
/// fails under `GPUSUM_REQUIRE_GPU=1`, as for [`targets`].
pub fn adapter_backends() -> Vec<String> {
    let adapters = gpu::compute_adapters(&gpu::instance());
    check_required_backends(&adapters);
    found(adapters.len());
    let mut backends: Vec<String> = adapters
        .iter()
        .map(|a| a.get_info().backend.to_string())
        .collect();
    backends.dedup();
    backends
}

/// What installs the adapters every GPU test runs on, on a Linux machine without a GPU.
pub const INSTALL: &str =
    "apt-get install -y mesa-vulkan-drivers libvulkan1 libegl1 libegl-mesa0 libgl1-mesa-dri";

/// The tests whose GPU part found no adapter, in the order they asked.
static SKIPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Called by each test with the number of GPU targets (or adapters) it found: with none, the
/// test fails under `GPUSUM_REQUIRE_GPU=1`, else it is counted as skipped, and the binary says so
/// when it ends.
pub fn found(count: usize) {
    if count > 0 {
        return;
    }
    if std::env::var("GPUSUM_REQUIRE_GPU").as_deref() == Ok("1") {
        panic!(
            "GPUSUM_REQUIRE_GPU=1 but no GPU adapter was found; to install software adapters: {INSTALL}"
        );
    }
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let mut skipped = SKIPPED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if skipped.is_empty() {
        say_at_exit();
    }
    if !skipped.contains(&test) {
        skipped.push(test);
    }
}

/// Registers the notice the binary prints as it ends, after the test harness's summary.
fn say_at_exit() {
    extern "C" fn notice() {
        let skipped = SKIPPED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let binary = std::env::current_exe()
            .ok()
            .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .map(|stem| {
                stem.rsplit_once('-')
                    .map_or(stem.clone(), |(name, _)| name.to_owned())
            })
            .unwrap_or_default();
        let (plural, their) = if skipped.len() == 1 {
            ("", "its")
        } else {
            ("s", "their")
        };
        // Straight to stderr: the harness captures what tests print with eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!! NO GPU ADAPTER: {} GPU test{plural} of {binary} did not run {their} GPU part: {}.\n\
             !!!!! To run them on a machine without a GPU: {INSTALL}\n\
             !!!!! GPUSUM_REQUIRE_GPU=1 makes this a failure (CI sets it).\n",
            skipped.len(),
            skipped.join(", "),
        );
    }
    #[cfg(unix)]
    {
        unsafe extern "C" {
            fn atexit(callback: extern "C" fn()) -> i32;
        }
        // SAFETY: atexit takes a plain function that lives as long as the process.
        unsafe { atexit(notice) };
    }
    #[cfg(not(unix))]
    notice();
}

/// `GPUSUM_REQUIRE_BACKENDS=vulkan,gl`: each named graphics API must have an adapter.
fn check_required_backends(adapters: &[wgpu::Adapter]) {
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
