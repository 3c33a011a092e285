//! The engine's blocking entry point and its conveniences, each one line over
//! [`Engine::plan`] and [`Engine::run_async`]; what the engine is and has done.

use std::fmt;
use std::io::Read;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{BackendChoice, Engine, Outcome, Place, Plan, Request, Source};
use crate::Error;
use crate::array::IntSlice;
use crate::control::Control;
use crate::gpu::GpuContext;
use crate::gpu::device::lock;
use crate::gpu::wait::block;
use crate::input::ArrayReader;
use crate::range::SumRange;
use crate::total::FloatSlice;

impl Engine {
    /// [`Engine::run_async`], blocking natively (on the web only what needs no wait completes;
    /// the rest is [`Error::Blocking`]).
    ///
    /// # Errors
    /// As for [`Engine::run_async`].
    pub fn run(
        &self,
        request: Request<'_>,
        plan: &Plan,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        if plan.place != Place::Gpu
            && request.reduce.is_all()
            && let Some(outcome) = self.run_cpu_now(&request.source, request.check, plan, control)
        {
            return outcome;
        }
        block(self.run_async(request, plan, control))
    }

    /// Plans `request` and runs it: the async entry point most callers want.
    ///
    /// # Errors
    /// As for [`Engine::plan`] and [`Engine::run_async`].
    pub async fn sum_request_async(
        &self,
        request: Request<'_>,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        let plan = self.plan(&request)?;
        self.run_async(request, &plan, control).await
    }

    /// Plans `request` and runs it, blocking natively.
    ///
    /// # Errors
    /// As for [`Engine::plan`] and [`Engine::run_async`].
    pub fn sum_request(
        &self,
        request: Request<'_>,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        let plan = self.plan(&request)?;
        self.run(request, &plan, control)
    }

    /// The exact sum of `range`.
    ///
    /// # Errors
    /// As for [`Engine::sum_request`].
    pub fn sum(&self, range: SumRange, control: &Control<'_>) -> Result<i128, Error> {
        let outcome = self.sum_request(Request::new(range), control)?;
        Ok(outcome.int_sum().unwrap_or_default())
    }

    /// [`Engine::sum`] without blocking.
    ///
    /// # Errors
    /// As for [`Engine::sum_request`].
    pub async fn sum_async(&self, range: SumRange, control: &Control<'_>) -> Result<i128, Error> {
        let outcome = self.sum_request_async(Request::new(range), control).await?;
        Ok(outcome.int_sum().unwrap_or_default())
    }

    /// The exact sum of `data`, with its count.
    ///
    /// # Errors
    /// As for [`Engine::sum_request`].
    pub fn sum_ints(&self, data: IntSlice<'_>, control: &Control<'_>) -> Result<Outcome, Error> {
        self.sum_request(Request::new(data), control)
    }

    /// The exact sum of `data`, rounded once, with its count: the same bits on every GPU and
    /// the CPU (see [`ArrayTotal`](crate::ArrayTotal)).
    ///
    /// # Errors
    /// As for [`Engine::sum_request`].
    pub fn sum_floats(
        &self,
        data: FloatSlice<'_>,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        self.sum_request(Request::new(data), control)
    }

    /// The exact sum of everything `reader` holds, read once in chunks with bounded memory; with
    /// `check`, the CPU twin sums every chunk too ([`Outcome::cpu_check`]). A GPU that fails
    /// before reading begins moves `auto` to the CPU; once data has been read, a stream cannot
    /// be read again, and the failure is returned.
    ///
    /// # Errors
    /// The reader's errors, and those of [`Engine::sum_request`].
    pub fn sum_reader<R: Read>(
        &self,
        reader: &mut ArrayReader<R>,
        check: bool,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        self.sum_request(
            Request::new(Source::Reader(reader)).with_check(check),
            control,
        )
    }

    /// The GPU context sums run on, once one is open.
    pub fn gpu(&self) -> Option<&GpuContext> {
        self.gpu
            .get()
            .map(Box::as_ref)
            .filter(|_| self.fallback.get().is_none())
    }

    /// What the caller asked for.
    pub fn choice(&self) -> BackendChoice {
        self.options.backend
    }

    /// Why `auto` moved to the CPU for good, if it did: no adapter at all, a GPU that would not
    /// open, or one that failed during a sum.
    pub fn fallback(&self) -> Option<&Error> {
        self.fallback.get()
    }

    /// Time spent so far looking for adapters, opening the device and building its kernels.
    pub fn setup(&self) -> Duration {
        *lock(&self.setup)
    }

    pub(super) fn fall_back(&self, error: Error) {
        log::info!("fallback: the CPU for good, because: {error}");
        let _ = self.fallback.set(error);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.abandoned.load(Ordering::Relaxed) {
            // Dropping the device would wait for the stuck queue: leave it to the process exit.
            std::mem::forget(self.gpu.take());
        }
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("choice", &self.options.backend)
            .field("gpu", &self.gpu.get())
            .field("fallback", &self.fallback.get())
            .field("setup", &self.setup())
            .finish_non_exhaustive()
    }
}
