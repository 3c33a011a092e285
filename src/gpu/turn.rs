//! Whose turn it is on a context's buffers: an async lock that a waiting call gives up on at its
//! own deadline or cancel, without blocking the thread it runs on.

use std::sync::Mutex;
use std::task::{Poll, Waker};

use super::device::lock;
use super::wait::bounded;
use crate::Error;
use crate::control::Control;

/// The turn of one context.
#[derive(Default)]
pub(crate) struct Turn {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    taken: bool,
    waiting: Vec<Waker>,
}

/// Held while a call uses the context; dropping it hands the turn on.
pub(crate) struct TurnGuard<'a>(&'a Turn);

impl Turn {
    /// Waits for the turn, until `control`'s deadline or cancel. On the web a call that finds
    /// the turn taken is refused at once ([`Error::Busy`]): the page's one thread must await
    /// the first call instead.
    pub(crate) async fn take(&self, control: &Control<'_>) -> Result<TurnGuard<'_>, Error> {
        if cfg!(target_arch = "wasm32") && lock(&self.state).taken {
            return Err(Error::Busy);
        }
        let taken = std::future::poll_fn(|context| {
            let mut state = lock(&self.state);
            if state.taken {
                if !state.waiting.iter().any(|w| w.will_wake(context.waker())) {
                    state.waiting.push(context.waker().clone());
                }
                return Poll::Pending;
            }
            state.taken = true;
            Poll::Ready(())
        });
        bounded(taken, control).await?;
        Ok(TurnGuard(self))
    }
}

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        let waiting = {
            let mut state = lock(&self.0.state);
            state.taken = false;
            std::mem::take(&mut state.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }
}
