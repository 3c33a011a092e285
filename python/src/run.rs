//! The one wrapper of every call that sums: the GIL released; the caller's timeout (or the
//! library's default for the length) and a cancel flag in the `Control`; Ctrl-C turned into the
//! cancel, and the cancel into `KeyboardInterrupt`; the CPU twin's pool the process's own.
//!
//! Python delivers signals to its main thread only, and only while that thread runs Python: a
//! sum the planner expects to be short runs on the calling thread with the GIL released, a long
//! one on a worker while the calling thread looks at Python's signals every 50 ms.
//!
//! A pool or a GPU of the parent is no use in a child after `fork` (its threads and device are
//! not there): the pool and every engine remember the process that made them, and a child makes
//! its own, leaving the parent's unfreed rather than waiting on threads that do not exist.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;

use gpusum::Control;
use gpusum::control::default_timeout;

use crate::errors::to_py;

/// Estimates below this run on the calling thread: a worker costs more than such a sum.
const SHORT_SECONDS: f64 = 0.02;

/// How often a waiting main thread looks at Python's signals.
const SIGNAL_SLICE: Duration = Duration::from_millis(50);

/// A value that belongs to the process that made it, made again in a child after `fork`.
pub(crate) struct PerProcess<T> {
    made: Mutex<Option<(u32, Arc<T>)>>,
}

impl<T> PerProcess<T> {
    pub(crate) const fn new() -> Self {
        Self {
            made: Mutex::new(None),
        }
    }

    /// This process's value, made by `make` the first time (in this process) it is asked for.
    pub(crate) fn get(&self, make: impl FnOnce() -> PyResult<T>) -> PyResult<Arc<T>> {
        let pid = std::process::id();
        let mut made = self
            .made
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((owner, value)) = made.as_ref() {
            if *owner == pid {
                return Ok(Arc::clone(value));
            }
            // The parent's: its threads or device are not in this process; never drop it here.
            std::mem::forget(made.take());
        }
        let value = Arc::new(make()?);
        *made = Some((pid, Arc::clone(&value)));
        Ok(value)
    }
}

/// The process's pool for the CPU twin.
static POOL: PerProcess<rayon::ThreadPool> = PerProcess::new();

/// Runs `work` in the process's pool.
pub(crate) fn in_pool<T: Send>(work: impl FnOnce() -> T + Send) -> PyResult<T> {
    let pool = POOL.get(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|k| format!("gpusum-{k}"))
            .build()
            .map_err(|error| pyo3::exceptions::PyRuntimeError::new_err(error.to_string()))
    })?;
    Ok(pool.install(work))
}

/// How long a call may take: the caller's `timeout` in seconds, else the library's default for
/// `count` elements (10 s plus 1 s per 5e7, finite for a device that never answers).
pub(crate) fn deadline(timeout: Option<f64>, count: u128) -> PyResult<Duration> {
    match timeout {
        None => Ok(default_timeout(count)),
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
            Ok(Duration::from_secs_f64(seconds.min(1e9)))
        }
        Some(seconds) => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "timeout must be a positive number of seconds, not {seconds}"
        ))),
    }
}

/// Runs `work` with the GIL released, bounded by `timeout` and stopped by Ctrl-C: inline when
/// `estimate` (the plan's seconds) is short, else on a worker while this thread watches for
/// signals. `pool` runs it in the process's pool (the plan uses the CPU's threads).
pub(crate) fn sum<T: Send>(
    py: Python<'_>,
    estimate: Option<f64>,
    timeout: Duration,
    pool: bool,
    work: impl FnOnce(&Control<'_>) -> Result<T, gpusum::Error> + Send,
) -> PyResult<T> {
    let cancel = AtomicBool::new(false);
    let run = || -> PyResult<T> {
        let control = Control::new().with_cancel(&cancel).with_timeout(timeout);
        let result = if pool {
            in_pool(|| work(&control))?
        } else {
            work(&control)
        };
        result.map_err(to_py)
    };
    if estimate.is_some_and(|seconds| seconds < SHORT_SECONDS) {
        return py.detach(run);
    }
    py.detach(|| {
        std::thread::scope(|scope| {
            let (sender, receiver) = std::sync::mpsc::channel();
            scope.spawn(move || {
                let _ = sender.send(run());
            });
            loop {
                match receiver.recv_timeout(SIGNAL_SLICE) {
                    Ok(result) => return result,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        return Err(pyo3::exceptions::PyRuntimeError::new_err(
                            "the sum's worker ended without an answer",
                        ));
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        if let Err(interrupt) = Python::attach(|py| py.check_signals()) {
                            cancel.store(true, Ordering::Relaxed);
                            // The sum stops at its next check; its own answer no longer counts.
                            let _ = receiver.recv();
                            return Err(interrupt);
                        }
                    }
                }
            }
        })
    })
}
