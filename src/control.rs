//! What a caller can do to a running sum: cancel it, bound it in time, watch its progress.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::Error;

/// Cancellation, a deadline and a progress callback for one sum. The default does nothing.
///
/// Both paths check it between blocks (a GPU submission, or 2^26 elements on the CPU), and the GPU
/// path bounds every wait on the device by the deadline.
#[derive(Clone, Copy, Default)]
pub struct Control<'a> {
    /// When set to true, the sum stops at the next block with [`Error::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
    /// Past this instant the sum stops with [`Error::Timeout`].
    pub deadline: Option<Instant>,
    /// Called after each block with (elements done, elements in all).
    pub progress: Option<&'a dyn Fn(u128, u128)>,
}

/// The default bound on a sum of `count` elements: 10 s plus 1 s per 5 * 10^7 elements, generous
/// for the slowest software adapter, yet finite for a device that never answers.
pub fn default_timeout(count: u128) -> Duration {
    Duration::from_secs_f64(10.0 + count as f64 / 5e7)
}

/// `now + timeout`, or no deadline where that instant cannot be represented.
pub fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

impl Control<'_> {
    /// Fails if the caller cancelled or the deadline has passed.
    pub fn check(&self) -> Result<(), Error> {
        if self.cancel.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
            return Err(Error::Cancelled);
        }
        if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return Err(Error::Timeout);
        }
        Ok(())
    }

    pub(crate) fn report(&self, done: u128, total: u128) {
        if let Some(progress) = self.progress {
            progress(done, total);
        }
    }
}
