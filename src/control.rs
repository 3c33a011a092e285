//! What a caller can do to a running sum: cancel it, bound it in time, watch its progress.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use web_time::Instant;

use crate::Error;

/// A progress callback: (elements done, elements in all); "in all" is 0 while unknown (a stream
/// of raw data). `Sync`, so a [`Control`] can be shared across threads.
pub type Progress<'a> = &'a (dyn Fn(u128, u128) + Sync);

/// Cancellation, a deadline and a progress callback for one sum. The default does nothing.
///
/// Every path checks it between blocks (a GPU submission, or 2^26 elements on the CPU), and
/// every wait, on the device or for a context another thread is using, ends by the deadline or
/// soon after a cancel. It is `Send + Sync` and `Copy`.
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use std::time::Duration;
/// let cancel = AtomicBool::new(false);
/// let control = gpusum::Control::new()
///     .with_cancel(&cancel)
///     .with_timeout(Duration::from_secs(5));
/// assert!(control.check().is_ok());
/// ```
#[derive(Clone, Copy, Default)]
pub struct Control<'a> {
    cancel: Option<&'a AtomicBool>,
    deadline: Option<Instant>,
    progress: Option<Progress<'a>>,
}

/// The default bound on a sum of `count` elements: 10 s plus 1 s per 5 * 10^7 elements, generous
/// for the slowest software adapter, yet finite for a device that never answers.
#[must_use]
pub fn default_timeout(count: u128) -> Duration {
    Duration::from_secs_f64(10.0 + count as f64 / 5e7)
}

impl<'a> Control<'a> {
    /// No cancel flag, no deadline, no progress.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// When `flag` becomes true, the sum stops soon with [`Error::Cancelled`].
    #[must_use]
    pub fn with_cancel(self, flag: &'a AtomicBool) -> Self {
        Self {
            cancel: Some(flag),
            ..self
        }
    }

    /// Past `deadline` the sum stops with [`Error::Timeout`].
    #[must_use]
    pub fn with_deadline(self, deadline: Instant) -> Self {
        Self {
            deadline: Some(deadline),
            ..self
        }
    }

    /// A deadline `timeout` from now; none where that instant cannot be represented.
    #[must_use]
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self {
            deadline: Instant::now().checked_add(timeout),
            ..self
        }
    }

    /// `progress(done, total)` is called after each block.
    #[must_use]
    pub fn with_progress(self, progress: Progress<'a>) -> Self {
        Self {
            progress: Some(progress),
            ..self
        }
    }

    /// The deadline, if any.
    #[must_use]
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the deadline (zero once it has passed); `None` without one.
    #[must_use]
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// Fails if the caller cancelled or the deadline has passed.
    ///
    /// # Errors
    /// [`Error::Cancelled`] or [`Error::Timeout`].
    pub fn check(&self) -> Result<(), Error> {
        if self.cancel.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
            return Err(Error::Cancelled);
        }
        if self.remaining() == Some(Duration::ZERO) {
            return Err(Error::Timeout);
        }
        Ok(())
    }

    /// The same cancel flag and deadline, without the progress callback: for the parts of a sum
    /// whose caller reports progress itself.
    pub(crate) fn without_progress(&self) -> Control<'a> {
        Control {
            progress: None,
            ..*self
        }
    }

    pub(crate) fn report(&self, done: u128, total: u128) {
        if let Some(progress) = self.progress {
            progress(done, total);
        }
    }
}

impl fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Control")
            .field("cancel", &self.cancel)
            .field("deadline", &self.deadline)
            .field("progress", &self.progress.map(|_| "Fn(done, total)"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Control<'static>>();
    }

    #[test]
    fn a_passed_deadline_and_a_set_flag_stop_the_sum() {
        let flag = AtomicBool::new(true);
        assert!(matches!(
            Control::new().with_cancel(&flag).check(),
            Err(Error::Cancelled)
        ));
        let past = Control::new().with_deadline(Instant::now());
        assert!(matches!(past.check(), Err(Error::Timeout)));
        assert!(Control::new().with_timeout(Duration::MAX).check().is_ok());
    }
}
