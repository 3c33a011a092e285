//! The float workload of `gpusum bench`: f32 and f64 arrays summed exactly beside a plain float
//! sum of the same data on the same backend, so the report shows what exactness costs. On the CPU
//! both types both ways; on each adapter, from device memory, the exact f32 and f64 sums and the
//! plain f32 sum (WGSL has no f64). Exact sums must match the CPU twin's bits; plain sums must lie
//! within the textbook error bound of the exact one, which they cannot without adding every value.

use std::cell::RefCell;
use std::collections::HashMap;
use web_time::Instant;

use super::arrays::data_bytes;
use super::backend::{Backend, BackendId, Opened};
use super::measure::{self, Series};
use super::report::{FloatMethod, Residence, Row};
use super::{BenchError, BenchOptions, Event};
use crate::array::Dtype;
use crate::control::{Control, default_timeout};
use crate::float::{ExactFloatSum, plain_sum};
use crate::gpu::DeviceArray;
use crate::peak::collect_on_huge_pages;
use crate::total::{ArrayTotal, FloatSlice};

/// The data: seeded values over twenty orders of magnitude, both signs, as f64 and rounded to
/// f32; and, per type and length, the exact sum by the CPU twin on one thread and the sum of the
/// magnitudes (for the plain sums' error bound).
pub(crate) struct FloatData {
    doubles: Vec<f64>,
    singles: Vec<f32>,
    expected: RefCell<HashMap<(Dtype, u64), (ArrayTotal, f64)>>,
}

impl FloatData {
    /// `count` values of each type.
    pub(crate) fn new(count: usize) -> Self {
        let doubles = float_values(count);
        let singles = collect_on_huge_pages(count, doubles.iter().map(|&v| v as f32));
        Self {
            doubles,
            singles,
            expected: RefCell::new(HashMap::new()),
        }
    }

    fn slice(&self, dtype: Dtype, count: u64) -> FloatSlice<'_> {
        let count = count as usize;
        match dtype {
            Dtype::F32 => FloatSlice::F32(&self.singles[..count]),
            _ => FloatSlice::F64(&self.doubles[..count]),
        }
    }

    /// The exact sum and the sum of magnitudes of the first `count` values of `dtype`, once.
    fn expected(&self, dtype: Dtype, count: u64) -> (ArrayTotal, f64) {
        self.expected
            .borrow_mut()
            .entry((dtype, count))
            .or_insert_with(|| match self.slice(dtype, count) {
                FloatSlice::F32(values) => {
                    let mut sum = ExactFloatSum::<f32>::new();
                    sum.add_slice(values).expect("fewer than 2^63 values");
                    let magnitude = values.iter().map(|v| f64::from(v.abs())).sum();
                    (ArrayTotal::F32(sum), magnitude)
                }
                FloatSlice::F64(values) => {
                    let mut sum = ExactFloatSum::<f64>::new();
                    sum.add_slice(values).expect("fewer than 2^63 values");
                    let magnitude = values.iter().map(|v| v.abs()).sum();
                    (ArrayTotal::F64(sum), magnitude)
                }
            })
            .clone()
    }

    /// Fails unless `total` is the exact sum of the first `count` values of `dtype`.
    fn check_exact(
        &self,
        backend: &BackendId,
        dtype: Dtype,
        count: u64,
        total: &ArrayTotal,
    ) -> Result<(), BenchError> {
        let (expected, _) = self.expected(dtype, count);
        if *total == expected {
            return Ok(());
        }
        Err(BenchError::WrongFloatSum {
            backend: backend.clone(),
            dtype,
            method: FloatMethod::Exact,
            count,
            expected: expected.to_string(),
            observed: total.to_string(),
        })
    }

    /// Fails unless a plain sum lies within `count` roundings of `dtype` of the magnitudes'
    /// sum from the exact one (twice the bound of recursive summation, for the f64 magnitudes'
    /// own rounding): a sum that skipped values would not.
    fn check_plain(
        &self,
        backend: &BackendId,
        dtype: Dtype,
        count: u64,
        sum: f64,
    ) -> Result<(), BenchError> {
        let (expected, magnitude) = self.expected(dtype, count);
        let exact = match &expected {
            ArrayTotal::F32(sum) => f64::from(sum.round().value),
            ArrayTotal::F64(sum) => sum.round().value,
            ArrayTotal::Int(_) => unreachable!("float data"),
        };
        let epsilon = match dtype {
            Dtype::F32 => f64::from(f32::EPSILON),
            _ => f64::EPSILON,
        };
        if (sum - exact).abs() <= 2.0 * count as f64 * epsilon * magnitude {
            return Ok(());
        }
        Err(BenchError::WrongFloatSum {
            backend: backend.clone(),
            dtype,
            method: FloatMethod::Plain,
            count,
            expected: format!("{exact:e} (within the error bound)"),
            observed: format!("{sum:e}"),
        })
    }
}

/// The float bench's data: `count` seeded values over twenty orders of magnitude (1e-10 to
/// 1e10), both signs. The criterion benches sum the same.
#[must_use]
pub fn float_values(count: usize) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let values = (0..count).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let magnitude = (state >> 11) as f64 / (1u64 << 53) as f64;
        let scale = 10f64.powi((state % 21) as i32 - 10);
        if state & 1 == 0 {
            magnitude * scale
        } else {
            -magnitude * scale
        }
    });
    // On huge pages, as numpy's arrays are (see `collect_on_huge_pages`).
    collect_on_huge_pages(count, values)
}

/// One series: a backend, a type and a method.
struct FloatSeries<'a> {
    backend: &'a Backend,
    data: &'a FloatData,
    dtype: Dtype,
    method: FloatMethod,
    /// The array on the device (GPU series), for its length.
    on_device: Option<(u64, DeviceArray)>,
}

impl FloatSeries<'_> {
    fn control(count: u64) -> Control<'static> {
        Control::new().with_timeout(default_timeout(count as u128))
    }

    fn device_array(&mut self, count: u64) -> Result<&DeviceArray, BenchError> {
        let context = self.backend.engine.gpu().expect("a GPU series");
        if self.on_device.as_ref().is_none_or(|(len, _)| *len != count) {
            self.on_device = None;
            let slice = self.data.slice(self.dtype, count);
            let array = context.upload_floats(slice, &Self::control(count))?;
            self.on_device = Some((count, array));
        }
        Ok(&self.on_device.as_ref().expect("just uploaded").1)
    }

    /// One checked sum: its seconds, and its kernel seconds where the GPU timed them.
    fn sum(&mut self, count: u64, timed_kernel: bool) -> Result<(f64, Option<f64>), BenchError> {
        let control = Self::control(count);
        let (backend, dtype, method, data) = (self.backend, self.dtype, self.method, self.data);
        let id = &backend.id;
        let Some(context) = backend.engine.gpu() else {
            let slice = data.slice(dtype, count);
            let parallel = *id == BackendId::Cpu;
            let started = Instant::now();
            match (method, slice) {
                (FloatMethod::Exact, slice) => {
                    let outcome = backend.engine.sum_floats(slice, &control)?;
                    let seconds = started.elapsed().as_secs_f64();
                    data.check_exact(id, dtype, count, &outcome.total)?;
                    return Ok((seconds, None));
                }
                (FloatMethod::Plain, FloatSlice::F32(values)) => {
                    let sum = plain_sum(values, parallel, &control)?;
                    let seconds = started.elapsed().as_secs_f64();
                    data.check_plain(id, dtype, count, sum.into())?;
                    return Ok((seconds, None));
                }
                (FloatMethod::Plain, FloatSlice::F64(values)) => {
                    let sum = plain_sum(values, parallel, &control)?;
                    let seconds = started.elapsed().as_secs_f64();
                    data.check_plain(id, dtype, count, sum)?;
                    return Ok((seconds, None));
                }
            }
        };
        let timing = backend.timing.as_ref();
        let array = self.device_array(count)?;
        let started = Instant::now();
        match method {
            FloatMethod::Exact => {
                // The twin shares the device, so it reads the same upload.
                let outcome = match timing.filter(|_| timed_kernel) {
                    Some(twin) => twin.sum_device_array(array, &control)?,
                    None => context.sum_device_array(array, &control)?,
                };
                let seconds = started.elapsed().as_secs_f64();
                data.check_exact(id, dtype, count, &outcome.total)?;
                Ok((seconds, outcome.kernel_seconds))
            }
            FloatMethod::Plain => {
                let sum = context.sum_plain_f32(array, &control)?;
                let seconds = started.elapsed().as_secs_f64();
                data.check_plain(id, dtype, count, sum.into())?;
                Ok((seconds, None))
            }
        }
    }
}

impl Series for FloatSeries<'_> {
    fn row(&self, count: u64) -> Row {
        let backend = self.backend;
        // One float kernel per adapter, whatever the variant.
        let label = backend.device_label();
        let resident = backend.engine.gpu().map(|_| Residence::Device);
        Row::blank(backend.id.clone(), label, count).for_float(self.dtype, self.method, resident)
    }

    fn backend(&self) -> &BackendId {
        &self.backend.id
    }

    fn max_count(&self) -> u64 {
        self.data.doubles.len() as u64
    }

    fn timed_sum(&mut self, count: u64) -> Result<f64, BenchError> {
        Ok(self.sum(count, false)?.0)
    }

    fn kernel_times(&mut self, count: u64) -> Result<Vec<f64>, BenchError> {
        let timestamps = self
            .backend
            .timing
            .as_ref()
            .is_some_and(|t| t.has_timestamps());
        if !timestamps || self.method == FloatMethod::Plain {
            return Ok(Vec::new());
        }
        let mut times = Vec::new();
        for _ in 0..3 {
            times.extend(self.sum(count, true)?.1);
        }
        Ok(times)
    }
}

/// Every backend's float series, measured, each with its share of the backend's budget. GPUs run
/// one float kernel whatever the shader variant, so each adapter is measured once.
pub(crate) fn sweep(
    opened: &Opened,
    options: &BenchOptions,
    on_event: &mut impl FnMut(Event),
) -> Result<(Vec<Row>, Vec<super::report::Skipped>), BenchError> {
    let largest = measure::lengths(options).into_iter().max().unwrap_or(1);
    let count = (data_bytes() / 8).min(largest).max(1 << 13);
    let data = FloatData::new(count as usize);
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    let mut adapters_seen = Vec::new();
    for backend in &opened.backends {
        let series: &[(Dtype, FloatMethod)] = if backend.engine.gpu().is_some() {
            if adapters_seen.contains(&backend.adapter_index) {
                continue;
            }
            adapters_seen.push(backend.adapter_index);
            &[
                (Dtype::F32, FloatMethod::Exact),
                (Dtype::F32, FloatMethod::Plain),
                (Dtype::F64, FloatMethod::Exact),
            ]
        } else {
            &[
                (Dtype::F32, FloatMethod::Exact),
                (Dtype::F32, FloatMethod::Plain),
                (Dtype::F64, FloatMethod::Exact),
                (Dtype::F64, FloatMethod::Plain),
            ]
        };
        let budget = options.budget_seconds / series.len() as f64;
        for &(dtype, method) in series {
            let mut series = FloatSeries {
                backend,
                data: &data,
                dtype,
                method,
                on_device: None,
            };
            let (measured, over) = measure::sweep(&mut series, options, budget, on_event)?;
            rows.extend(measured);
            skipped.extend(over);
        }
    }
    Ok((rows, skipped))
}

/// Each exact row's throughput over the plain sum's of the same type, backend and length.
pub(crate) fn fill_share_of_plain(rows: &mut [Row]) {
    let shares: Vec<Option<f64>> = rows
        .iter()
        .map(|row| {
            if row.method != Some(FloatMethod::Exact) {
                return None;
            }
            rows.iter()
                .find(|plain| {
                    plain.method == Some(FloatMethod::Plain)
                        && plain.backend == row.backend
                        && plain.dtype == row.dtype
                        && plain.count == row.count
                })
                .map(|plain| plain.median_seconds / row.median_seconds)
        })
        .collect();
    for (row, share) in rows.iter_mut().zip(shares) {
        row.share_of_plain = share;
    }
}
