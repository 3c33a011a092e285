//! The context's contract: caller-supplied devices, validated variants, bounded waits, cancellation
//! and device loss as typed errors. Runs on every adapter present.

use crate::common;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use gpusum::cpu::{CpuTwin, Threads};
use gpusum::gpu::{self, DispatchShape};
use gpusum::kernel::KernelPart;
use gpusum::{Control, Error, GpuContext, GpuOptions, Reduction, ShaderVariant, SumRange};

/// A long range: far more than any adapter sums in the deadlines below.
const LONG: SumRange = SumRange::new(1, 1 << 50);

fn adapters() -> Vec<wgpu::Adapter> {
    // Through the shared harness, so a missing adapter is reported (or fails) the same way.
    let _ = common::targets();
    gpu::compute_adapters(&gpu::instance())
}

#[test]
fn a_callers_plain_device_runs_the_portable_kernel_and_refuses_what_it_lacks() {
    for adapter in adapters() {
        let info = adapter.get_info();
        let descriptor = wgpu::DeviceDescriptor {
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, queue) =
            pollster::block_on(adapter.request_device(&descriptor)).expect("a plain device");
        let forced = GpuOptions::new().with_variant(ShaderVariant::Native);
        let refused = GpuContext::from_device(info.clone(), device.clone(), queue.clone(), &forced);
        assert!(
            matches!(
                refused,
                Err(Error::KernelUnsupported {
                    part: KernelPart::Variant(ShaderVariant::Native),
                    missing: "SHADER_INT64",
                    ..
                })
            ),
            "{}: native forced on a device without int64",
            info.name
        );
        let forced = GpuOptions::new().with_reduction(Reduction::Subgroup);
        let refused = GpuContext::from_device(info.clone(), device.clone(), queue.clone(), &forced);
        assert!(
            matches!(
                refused,
                Err(Error::KernelUnsupported {
                    part: KernelPart::Reduction(Reduction::Subgroup),
                    missing: "SUBGROUP",
                    ..
                })
            ),
            "{}: subgroups forced on a device without them",
            info.name
        );
        let context = GpuContext::from_device(info, device, queue, &GpuOptions::new()).unwrap();
        assert_eq!(context.kernel(), gpusum::KernelChoice::PORTABLE);
        let range = SumRange::new(-70_000, 1_000_000);
        assert_eq!(
            context.sum(range, &Control::new()).unwrap(),
            range.closed_form()
        );
    }
}

#[test]
fn shapes_beyond_the_kernel_or_the_adapter_are_refused_before_dispatch() {
    for adapter in adapters() {
        let max = adapter.limits().max_compute_workgroups_per_dimension;
        let bad = [
            DispatchShape::new(0, 1, 1),
            DispatchShape::new((1 << 16) + 1, 1, 1),
            DispatchShape::new(1, max + 1, 1),
            DispatchShape::new(1 << 16, 1 << 8, 1),
            DispatchShape::new(1, 1, 0),
        ];
        for shape in bad {
            let options = GpuOptions::new().with_shape(shape);
            let result = GpuContext::new(&adapter, &options);
            assert!(
                matches!(result, Err(Error::InvalidShape { .. })),
                "{shape:?} was accepted"
            );
        }
    }
}

#[test]
fn an_invalid_shape_is_an_error_under_auto_even_without_a_gpu() {
    use gpusum::{BackendChoice, Engine, EngineOptions};
    for backend in [BackendChoice::Auto, BackendChoice::Gpu] {
        let options = EngineOptions::new(backend)
            .with_gpu(GpuOptions::new().with_shape(DispatchShape::new(0, 1, 1)));
        let result = Engine::open(&options);
        assert!(
            matches!(result, Err(Error::InvalidShape { .. })),
            "{backend:?}: {result:?}"
        );
    }
    // The CPU runs no shape, so none is checked.
    let cpu = EngineOptions::new(BackendChoice::Cpu)
        .with_gpu(GpuOptions::new().with_shape(DispatchShape::new(0, 1, 1)));
    assert!(Engine::open(&cpu).is_ok());
}

#[test]
fn a_passed_deadline_is_a_timeout_and_the_context_still_works_after() {
    for target in common::targets() {
        let control = Control::new().with_timeout(Duration::from_millis(30));
        let started = Instant::now();
        let result = target.context.sum(LONG, &control);
        assert!(
            matches!(result, Err(Error::Timeout)),
            "{}: {result:?}",
            target.label
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}: the timeout took {:?}",
            target.label,
            started.elapsed()
        );
        common::assert_exact(target, SumRange::new(-5, 100_000));
    }
}

#[test]
fn cancelling_stops_a_sum() {
    let cancel = AtomicBool::new(true);
    let control = Control::new().with_cancel(&cancel);
    for target in common::targets() {
        assert!(
            matches!(target.context.sum(LONG, &control), Err(Error::Cancelled)),
            "{}",
            target.label
        );
    }
    assert!(matches!(
        CpuTwin::new(Threads::All).sum_range(LONG, &control),
        Err(Error::Cancelled)
    ));
}

#[test]
fn a_lost_device_is_a_typed_error_not_a_panic_or_a_hang() {
    for adapter in adapters() {
        let context = GpuContext::new(&adapter, &GpuOptions::new()).unwrap();
        context.device().destroy();
        let result = context.sum(SumRange::new(1, 20), &Control::new());
        assert!(
            matches!(result, Err(Error::DeviceLost { .. })),
            "{}: {result:?}",
            context.adapter_label()
        );
        assert!(result.unwrap_err().is_gpu_failure());
    }
}
