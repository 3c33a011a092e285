//! Waiting without blocking: what the async GPU path needs on the web, where a wait must return
//! to the browser for the queue to run and the map callbacks to fire. Natively the device wait
//! before each map has already bounded the time, so a map is awaited as it is.

use crate::Error;
use crate::control::Control;

/// Runs `future` to its end on this thread: natively by blocking on it; on the web only if it
/// ends without waiting, since a page must not block, and otherwise [`Error::Blocking`].
pub(crate) fn block<T>(future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        pollster::block_on(future)
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => Err(Error::Blocking),
        }
    }
}

/// `future`'s output, unless `control` is cancelled or its deadline passes first.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) async fn bounded<F: Future>(
    future: F,
    control: &Control<'_>,
) -> Result<F::Output, Error> {
    control.check()?;
    Ok(future.await)
}

/// `future`'s output, unless `control` is cancelled or its deadline passes first: the browser
/// gets control back every slice, and the cancel flag and deadline are looked at between slices.
#[cfg(target_arch = "wasm32")]
pub(crate) async fn bounded<F: Future>(
    future: F,
    control: &Control<'_>,
) -> Result<F::Output, Error> {
    use std::pin::pin;
    use std::task::Poll;

    const SLICE: std::time::Duration = std::time::Duration::from_millis(50);
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

/// Resolves after `duration`, through the browser's `setTimeout`.
#[cfg(target_arch = "wasm32")]
async fn sleep(duration: std::time::Duration) {
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
