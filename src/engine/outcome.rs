//! What every sum ends in, wherever it ran: [`Outcome`].

use super::Place;
use super::plan::{Plan, Reason};
use super::rates::Work;
use crate::Error;
use crate::array::Dtype;
use crate::reduce::Outputs;
use crate::total::ArrayTotal;

/// A finished sum: its exact total, the plan it ran under, and where its time went.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Outcome {
    /// The exact total, mergeable: an [`ExactIntSum`](crate::ExactIntSum) for a range or an
    /// integer array, an exact float sum (rounded once when printed) for floats. For a sum along
    /// axes or by key, every output's elements together.
    pub total: ArrayTotal,
    /// One exact total per output, for a sum along axes or by key.
    pub outputs: Option<Outputs>,
    /// Where it ran and why; after a GPU failure, the CPU's plan that summed instead.
    pub plan: Plan,
    /// Time the GPU kernels (with their uploads) ran, by timestamps, where they were asked for
    /// and every submission had one.
    pub kernel_seconds: Option<f64>,
    /// GPU submissions made.
    pub submissions: u32,
    /// The CPU twin's sum of the same elements, when the request asked for a check.
    pub cpu_check: Option<ArrayTotal>,
    /// The CPU twin's outputs of the same elements, when a sum along axes or by key asked for a
    /// check.
    pub cpu_check_outputs: Option<Outputs>,
}

impl Outcome {
    /// The outcome `total` under `plan`, with no GPU time.
    pub(crate) fn new(total: ArrayTotal, plan: Plan) -> Self {
        Self {
            total,
            outputs: None,
            plan,
            kernel_seconds: None,
            submissions: 0,
            cpu_check: None,
            cpu_check_outputs: None,
        }
    }

    /// An empty outcome of a sum on the GPU `adapter`, called on its context directly; kernel
    /// time counts from zero while `timestamps` are on.
    pub(crate) fn on_gpu(work: Work, adapter: String, timestamps: bool) -> Self {
        let plan = Plan::new(Place::Gpu, Some(adapter), Reason::Chosen, work);
        let total = ArrayTotal::new(work.dtype.unwrap_or(Dtype::I64));
        Self {
            kernel_seconds: timestamps.then_some(0.0),
            ..Self::new(total, plan)
        }
    }

    /// The exact integer sum of a range or an integer array; `None` for floats.
    #[must_use]
    pub fn int_sum(&self) -> Option<i128> {
        self.total.int_sum()
    }

    /// Adds a submission's total and kernel time: the time stays known while every submission
    /// had one.
    pub(crate) fn add_submission(
        &mut self,
        total: &ArrayTotal,
        kernel_seconds: Option<f64>,
    ) -> Result<(), Error> {
        self.total.merge(total)?;
        self.kernel_seconds = self.kernel_seconds.zip(kernel_seconds).map(|(a, b)| a + b);
        self.submissions += 1;
        Ok(())
    }
}
