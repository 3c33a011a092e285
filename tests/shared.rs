//! One engine shared by several threads: a call waiting for another's turn on the GPU still ends
//! by its own deadline or cancel flag. Runs on every adapter present.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gpusum::{Control, Engine, Error, GpuContext, GpuOptions, SumRange, gpu};

/// Far more than any adapter sums within the long call's deadline.
const LONG: SumRange = SumRange::new(1, 1 << 50);

#[test]
fn waiting_for_a_busy_context_honours_each_callers_deadline_and_cancel() {
    let _ = common::targets();
    for adapter in gpu::compute_adapters(&gpu::instance()) {
        let engine = Engine::from_context(GpuContext::new(&adapter, &GpuOptions::new()).unwrap());
        let label = gpu::adapter_label(&adapter.get_info());
        let cancel = AtomicBool::new(false);
        std::thread::scope(|scope| {
            // A holds the context for about two seconds.
            let long = scope.spawn(|| {
                let control = Control::new().with_timeout(Duration::from_secs(2));
                engine.sum(LONG, &control)
            });
            std::thread::sleep(Duration::from_millis(200));

            let deadline = scope.spawn(|| {
                let started = Instant::now();
                let control = Control::new().with_timeout(Duration::from_millis(100));
                (
                    engine.sum(SumRange::new(1, 20), &control),
                    started.elapsed(),
                )
            });
            let cancelled = scope.spawn(|| {
                let started = Instant::now();
                let control = Control::new().with_cancel(&cancel);
                (
                    engine.sum(SumRange::new(1, 20), &control),
                    started.elapsed(),
                )
            });
            std::thread::sleep(Duration::from_millis(50));
            cancel.store(true, Ordering::Relaxed);

            let (result, waited) = deadline.join().unwrap();
            assert!(matches!(result, Err(Error::Timeout)), "{label}: {result:?}");
            assert!(
                waited < Duration::from_millis(700),
                "{label}: the 100 ms deadline returned after {waited:?}"
            );
            let (result, waited) = cancelled.join().unwrap();
            assert!(
                matches!(result, Err(Error::Cancelled)),
                "{label}: {result:?}"
            );
            assert!(
                waited < Duration::from_millis(700),
                "{label}: the cancel after 50 ms returned after {waited:?}"
            );
            let long = long.join().unwrap();
            assert!(matches!(long, Err(Error::Timeout)), "{label}: {long:?}");
        });
    }
}
