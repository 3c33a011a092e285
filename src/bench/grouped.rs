//! The grouped workload of `gpusum bench`: sums along axes (axis 0 and axis 1 of a square-ish
//! C-order matrix of `count` elements) and by key (`count` values over 1,000 keys, and over keys
//! spread across all of i64, one distinct key for every four values), of i64 and f64, on every
//! backend: the CPU from host memory, a GPU along axes from device memory and by key
//! from host memory (its keys are given slots on the host). Every run's outputs must equal the
//! CPU twin's, output by output.

use std::cell::RefCell;
use std::collections::HashMap;

use web_time::Instant;

use super::arrays::data_bytes;
use super::backend::{Backend, BackendId, Opened};
use super::floats::float_values;
use super::measure::{self, Series};
use super::report::{Residence, Row};
use super::{BenchError, BenchOptions, Event};
use crate::array::{ByteOrder, Dtype};
use crate::control::{Control, default_timeout};
use crate::engine::{Request, StridedBytes};
use crate::gpu::DeviceArray;
use crate::peak::collect_on_huge_pages;
use crate::reduce::Outputs;
use crate::{BackendChoice, Engine, EngineOptions, IntSlice};

/// Distinct keys of the by-key series.
pub(crate) const KEYS: u64 = 1000;

/// What a series reduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Grouping {
    /// Columns of the matrix: one output per column.
    Axis0,
    /// Rows of the matrix: one output per row.
    Axis1,
    /// Values by [`KEYS`] keys.
    ByKey,
    /// Values by keys spread over all of i64, a distinct key for every four values of the
    /// largest length measured.
    BySpreadKey,
}

impl Grouping {
    pub(crate) const ALL: [Grouping; 4] = [
        Grouping::Axis0,
        Grouping::Axis1,
        Grouping::ByKey,
        Grouping::BySpreadKey,
    ];

    /// "axis 0", "axis 1", "by key" or "by spread key".
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Grouping::Axis0 => "axis 0",
            Grouping::Axis1 => "axis 1",
            Grouping::ByKey => "by key",
            Grouping::BySpreadKey => "by spread key",
        }
    }
}

/// The matrix of `count` elements: rows by columns, powers of two, as square as they go.
pub(crate) fn matrix(count: u64) -> (u64, u64) {
    let bits = 63 - count.max(1).leading_zeros() as u64;
    let rows = 1u64 << (bits / 2);
    (rows, count / rows)
}

/// The data: values of both types, the keys, and the CPU twin's outputs per point, once.
struct GroupedData {
    ints: Vec<i64>,
    floats: Vec<f64>,
    keys: Vec<i64>,
    spread_keys: Vec<i64>,
    expected: RefCell<HashMap<(Grouping, Dtype, u64), Outputs>>,
    cpu: Engine,
}

impl GroupedData {
    fn new(count: usize) -> Result<Self, BenchError> {
        let floats = float_values(count);
        // Integers over 2^40 either way, from the same seeded stream; keys over 1,000 values.
        let ints = collect_on_huge_pages(count, floats.iter().map(|v| (v * 2f64.powi(30)) as i64));
        let keys = collect_on_huge_pages(
            count,
            floats
                .iter()
                .map(|v| (v.to_bits() >> 17) as i64 % KEYS as i64),
        );
        // The same stream's bits, a quarter as many distinct ones as values, spread by an odd
        // multiplier (a bijection of u64).
        let distinct = (count as u64 / 4).max(1);
        let spread_keys = collect_on_huge_pages(
            count,
            floats.iter().map(|v| {
                ((v.to_bits() >> 11) % distinct).wrapping_mul(0x9E37_79B9_7F4A_7C15) as i64
            }),
        );
        Ok(Self {
            ints,
            floats,
            keys,
            spread_keys,
            expected: RefCell::new(HashMap::new()),
            cpu: Engine::open(&EngineOptions::new(BackendChoice::Cpu))?,
        })
    }

    fn bytes(&self, dtype: Dtype, count: u64) -> &[u8] {
        let count = count as usize;
        match dtype {
            Dtype::F64 => bytemuck::cast_slice(&self.floats[..count]),
            _ => bytemuck::cast_slice(&self.ints[..count]),
        }
    }

    /// The request of `grouping` over the first `count` values of `dtype`.
    fn request(&self, grouping: Grouping, dtype: Dtype, count: u64) -> Request<'_> {
        let bytes = self.bytes(dtype, count);
        let (rows, columns) = matrix(count);
        let shape = vec![rows as usize, columns as usize];
        let view = StridedBytes::c_order(bytes, shape, dtype, ByteOrder::NATIVE)
            .expect("the matrix holds the values");
        match grouping {
            Grouping::Axis0 => Request::along(view, &[0]),
            Grouping::Axis1 => Request::along(view, &[1]),
            Grouping::ByKey => Request::by_key(view, IntSlice::I64(&self.keys[..count as usize])),
            Grouping::BySpreadKey => {
                Request::by_key(view, IntSlice::I64(&self.spread_keys[..count as usize]))
            }
        }
    }

    /// Fails unless `outputs` are the CPU twin's, output by output.
    fn check(
        &self,
        backend: &BackendId,
        grouping: Grouping,
        dtype: Dtype,
        count: u64,
        outputs: Option<Outputs>,
    ) -> Result<(), BenchError> {
        let key = (grouping, dtype, count);
        if !self.expected.borrow().contains_key(&key) {
            let control = Control::new().with_timeout(default_timeout(u128::from(count)));
            let outcome = self
                .cpu
                .sum_request(self.request(grouping, dtype, count), &control)?;
            let outputs = outcome.outputs.expect("a grouped request has outputs");
            self.expected.borrow_mut().insert(key, outputs);
        }
        let expected = &self.expected.borrow()[&key];
        if outputs.as_ref() == Some(expected) {
            return Ok(());
        }
        let differ = outputs.as_ref().map_or(0, |got| {
            (0..got.len().min(expected.len()))
                .filter(|&i| got.text(i) != expected.text(i))
                .count()
        });
        Err(BenchError::WrongGroupedSum {
            backend: backend.clone(),
            reduce: grouping.name(),
            dtype,
            count,
            differ,
            outputs: expected.len(),
        })
    }
}

/// One series: a backend, a grouping and a type.
struct GroupedSeries<'a> {
    backend: &'a Backend,
    data: &'a GroupedData,
    grouping: Grouping,
    dtype: Dtype,
    /// The matrix on the device (a GPU's sums along axes), for its length.
    on_device: Option<(u64, DeviceArray)>,
}

impl GroupedSeries<'_> {
    /// Whether the data lives on the device when the timing begins.
    fn resident(&self) -> Option<Residence> {
        self.backend.engine.gpu().map(|_| match self.grouping {
            Grouping::ByKey | Grouping::BySpreadKey => Residence::Host,
            _ => Residence::Device,
        })
    }

    fn sum(&mut self, count: u64) -> Result<f64, BenchError> {
        let control = Control::new().with_timeout(default_timeout(u128::from(count)));
        let (engine, data) = (&self.backend.engine, self.data);
        let outcome = match (engine.gpu(), self.resident()) {
            (Some(context), Some(Residence::Device)) => {
                if self.on_device.as_ref().is_none_or(|(len, _)| *len != count) {
                    self.on_device = None;
                    let bytes = data.bytes(self.dtype, count);
                    let array =
                        crate::engine::ArrayBytes::new(bytes, self.dtype, ByteOrder::NATIVE)?;
                    let (rows, columns) = matrix(count);
                    let uploaded = context
                        .upload(array, &control)?
                        .with_shape(vec![rows, columns])?;
                    self.on_device = Some((count, uploaded));
                }
                let array = &self.on_device.as_ref().expect("just uploaded").1;
                let axis = if self.grouping == Grouping::Axis0 {
                    0
                } else {
                    1
                };
                let started = Instant::now();
                let outcome = engine.sum_request(Request::along(array, &[axis]), &control)?;
                (started.elapsed().as_secs_f64(), outcome)
            }
            _ => {
                let request = data.request(self.grouping, self.dtype, count);
                let started = Instant::now();
                let outcome = engine.sum_request(request, &control)?;
                (started.elapsed().as_secs_f64(), outcome)
            }
        };
        let (seconds, outcome) = outcome;
        data.check(
            &self.backend.id,
            self.grouping,
            self.dtype,
            count,
            outcome.outputs,
        )?;
        Ok(seconds)
    }
}

impl Series for GroupedSeries<'_> {
    fn row(&self, count: u64) -> Row {
        let backend = self.backend;
        // One kernel per adapter for these, whatever the variant.
        let label = backend.device_label();
        Row::blank(backend.id.clone(), label, count).for_grouped(
            self.dtype,
            self.grouping.name(),
            self.resident(),
        )
    }

    fn backend(&self) -> &BackendId {
        &self.backend.id
    }

    fn max_count(&self) -> u64 {
        self.data.floats.len() as u64
    }

    fn timed_sum(&mut self, count: u64) -> Result<f64, BenchError> {
        self.sum(count)
    }

    fn kernel_times(&mut self, _count: u64) -> Result<Vec<f64>, BenchError> {
        Ok(Vec::new())
    }
}

/// Every backend's grouped series, measured, each with its share of the backend's budget. GPUs
/// run one kernel per grouping whatever the shader variant, so each adapter is measured once.
pub(crate) fn sweep(
    opened: &Opened,
    options: &BenchOptions,
    on_event: &mut impl FnMut(Event),
) -> Result<(Vec<Row>, Vec<super::report::Skipped>), BenchError> {
    let largest = measure::lengths(options).into_iter().max().unwrap_or(1);
    let count = (data_bytes() / 8).min(largest).max(1 << 13);
    let data = GroupedData::new(count as usize)?;
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    let mut adapters_seen = Vec::new();
    let series: Vec<(Grouping, Dtype)> = Grouping::ALL
        .into_iter()
        .flat_map(|grouping| [(grouping, Dtype::I64), (grouping, Dtype::F64)])
        .collect();
    for backend in &opened.backends {
        if backend.engine.gpu().is_some() {
            if adapters_seen.contains(&backend.adapter_index) {
                continue;
            }
            adapters_seen.push(backend.adapter_index);
        }
        let budget = options.budget_seconds / series.len() as f64;
        for &(grouping, dtype) in &series {
            let mut series = GroupedSeries {
                backend,
                data: &data,
                grouping,
                dtype,
                on_device: None,
            };
            let (measured, over) = measure::sweep(&mut series, options, budget, on_event)?;
            rows.extend(measured);
            skipped.extend(over);
        }
    }
    Ok((rows, skipped))
}
