//! Waiting without blocking, for the one async core: a future raced against the caller's
//! deadline and cancel flag ([`bounded`]), a timer ([`sleep`]) and a yield. On the web the timer
//! is the browser's `setTimeout`; natively a single timer thread wakes the futures whose time has
//! come, so an async wait (for a turn on a context, say) never blocks an executor thread.
//! [`block`] runs the async core to its end for the blocking API.

use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use crate::Error;
use crate::control::Control;

/// Longest single wait before the cancel flag and deadline are looked at again.
const SLICE: Duration = Duration::from_millis(20);

/// Runs `future` to its end on this thread: natively by blocking on it; on the web only if it
/// ends without waiting, since a page must not block, and otherwise [`Error::Blocking`].
pub(crate) fn block<T>(future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let mut future = pin!(future);
    // A sum that never waits (the CPU twin's, say) ends on its first poll, with nothing to park
    // on; every future here registers its waker again when it is polled again.
    if let Poll::Ready(output) = poll_now(future.as_mut()) {
        return output;
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        pollster::block_on(future)
    }
    #[cfg(target_arch = "wasm32")]
    {
        Err(Error::Blocking)
    }
}

/// `future`'s output, unless `control` is cancelled or its deadline passes first: the future is
/// polled between slices of at most [`SLICE`], and the control is looked at after each.
pub(crate) async fn bounded<F: Future>(
    future: F,
    control: &Control<'_>,
) -> Result<F::Output, Error> {
    let mut future = pin!(future);
    loop {
        control.check()?;
        let slice = control.remaining().map_or(SLICE, |left| left.min(SLICE));
        let mut timer = pin!(sleep(slice));
        let first = std::future::poll_fn(|context| {
            if let Poll::Ready(output) = future.as_mut().poll(context) {
                return Poll::Ready(Some(output));
            }
            timer.as_mut().poll(context).map(|()| None)
        })
        .await;
        if let Some(output) = first {
            return Ok(output);
        }
    }
}

/// Polls `future` once, without a waker to call back: for a busy wait that drives the device
/// itself between polls.
pub(crate) fn poll_now<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

/// Gives the executor back once: the next poll comes at once (a busy wait's step).
pub(crate) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|context| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        context.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// Resolves after `duration`, through the browser's `setTimeout`.
#[cfg(target_arch = "wasm32")]
pub(crate) async fn sleep(duration: Duration) {
    use wasm_bindgen::JsCast;

    let millis = duration.as_millis().min(i32::MAX as u128) as i32;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into())
            .ok()
            .and_then(|function| function.dyn_into::<js_sys::Function>().ok());
        if let Some(set_timeout) = set_timeout {
            let _ = set_timeout.call2(&global, &resolve, &millis.into());
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Resolves after `duration`, woken by the process's timer thread.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) async fn sleep(duration: Duration) {
    let Some(due) = web_time::Instant::now().checked_add(duration) else {
        return std::future::pending().await;
    };
    std::future::poll_fn(|context| {
        if web_time::Instant::now() >= due {
            return Poll::Ready(());
        }
        timer::wake_at(due, context.waker().clone());
        Poll::Pending
    })
    .await;
}

/// One thread for the whole process that wakes each registered waker at its instant.
#[cfg(not(target_arch = "wasm32"))]
mod timer {
    use std::sync::{Condvar, Mutex, OnceLock};
    use std::task::Waker;

    use web_time::Instant;

    use crate::gpu::device::lock;

    struct Timer {
        due: Mutex<Vec<(Instant, Waker)>>,
        changed: Condvar,
    }

    /// The timer, started on first use; `None` where the thread could not be started, and a
    /// waker then is woken at once (the future is polled again promptly instead of on time).
    fn timer() -> Option<&'static Timer> {
        static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
        *TIMER.get_or_init(|| {
            let timer: &'static Timer = Box::leak(Box::new(Timer {
                due: Mutex::new(Vec::new()),
                changed: Condvar::new(),
            }));
            let started = std::thread::Builder::new()
                .name("gpusum timer".into())
                .spawn(move || timer.run());
            match started {
                Ok(_) => Some(timer),
                Err(error) => {
                    log::warn!("no timer thread ({error}): waits poll instead of sleeping");
                    None
                }
            }
        })
    }

    /// Wakes `waker` at `at` (or soon after).
    pub(super) fn wake_at(at: Instant, waker: Waker) {
        let Some(timer) = timer() else {
            return waker.wake();
        };
        let mut due = lock(&timer.due);
        // A future polled again replaces its own entry rather than piling up wakers.
        due.retain(|(_, other)| !other.will_wake(&waker));
        due.push((at, waker));
        timer.changed.notify_one();
    }

    impl Timer {
        fn run(&self) {
            let mut due = lock(&self.due);
            loop {
                let now = Instant::now();
                due.retain(|(at, waker)| {
                    let ready = *at <= now;
                    if ready {
                        waker.wake_by_ref();
                    }
                    !ready
                });
                let next = due.iter().map(|(at, _)| *at).min();
                due = match next {
                    Some(at) => {
                        let wait = at.saturating_duration_since(now);
                        self.changed
                            .wait_timeout(due, wait)
                            .map(|(guard, _)| guard)
                            .unwrap_or_else(|poisoned| poisoned.into_inner().0)
                    }
                    None => self
                        .changed
                        .wait(due)
                        .unwrap_or_else(|poisoned| poisoned.into_inner()),
                };
            }
        }
    }
}
