//! How the bench's workloads build a [`Row`]: a blank row for a backend and length, then its
//! kernel, array or float details.

use super::backend::BackendId;
use super::report::{FloatMethod, Residence, Row};
use crate::array::Dtype;
use crate::kernel::{Reduction, ShaderVariant};

impl Row {
    /// A point of `backend` at `count` with no timing yet: a range's, until
    /// [`Row::for_array`] says otherwise.
    pub(crate) fn blank(backend: BackendId, label: String, count: u64) -> Self {
        Self {
            workload: "range",
            series: backend.to_string(),
            adapter: match &backend {
                BackendId::Gpu { adapter, .. } => Some(adapter.clone()),
                _ => None,
            },
            backend,
            label,
            dtype: None,
            resident: None,
            variant: None,
            reduction: None,
            count,
            runs: 0,
            median_seconds: 0.0,
            min_seconds: 0.0,
            max_seconds: 0.0,
            stddev_seconds: 0.0,
            mad_seconds: 0.0,
            elements_per_second: 0.0,
            bytes_per_second: None,
            bound: None,
            kernel_seconds: None,
            speedup_vs_seq: None,
            speedup_vs_cpu: None,
            method: None,
            share_of_plain: None,
            reduce: None,
        }
    }

    pub(crate) fn with_kernel(
        self,
        variant: Option<ShaderVariant>,
        reduction: Option<Reduction>,
    ) -> Self {
        Self {
            variant,
            reduction,
            ..self
        }
    }

    /// The same point as an array's of `dtype`, living where `resident` says (null for the CPU,
    /// whose data is always in host memory).
    pub(crate) fn for_array(self, dtype: Dtype, resident: Option<Residence>) -> Self {
        let place = resident
            .map(|r| format!(" {}", r.name()))
            .unwrap_or_default();
        Self {
            workload: "array",
            series: format!("{} {dtype}{place}", self.backend),
            label: format!("{} {dtype}{place}", self.label),
            dtype: Some(dtype),
            resident,
            ..self
        }
    }

    /// The same point as a float array's of `dtype` summed by `method`, living where `resident`
    /// says (null for the CPU).
    pub(crate) fn for_float(
        self,
        dtype: Dtype,
        method: FloatMethod,
        resident: Option<Residence>,
    ) -> Self {
        let place = resident
            .map(|r| format!(" {}", r.name()))
            .unwrap_or_default();
        let what = format!("{dtype} {}{place}", method.name());
        Self {
            workload: "float",
            series: format!("{} {what}", self.backend),
            label: format!("{} {what}", self.label),
            dtype: Some(dtype),
            resident,
            method: Some(method),
            variant: None,
            reduction: None,
            ..self
        }
    }

    /// The same point as a sum of `dtype` values `reduce` ("axis 0", "by key"), living where
    /// `resident` says (null for the CPU).
    pub(crate) fn for_grouped(
        self,
        dtype: Dtype,
        reduce: &'static str,
        resident: Option<Residence>,
    ) -> Self {
        let place = resident
            .map(|r| format!(" {}", r.name()))
            .unwrap_or_default();
        let what = format!("{dtype} {reduce}{place}");
        Self {
            workload: "grouped",
            series: format!("{} {what}", self.backend),
            label: format!("{} {what}", self.label),
            dtype: Some(dtype),
            resident,
            reduce: Some(reduce),
            variant: None,
            reduction: None,
            ..self
        }
    }

    /// Whether the runs scatter enough to distrust small differences: a median absolute
    /// deviation above 10% of the median.
    #[must_use]
    pub fn is_noisy(&self) -> bool {
        self.mad_seconds > 0.1 * self.median_seconds
    }
}
