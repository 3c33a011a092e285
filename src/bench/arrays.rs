//! The array workload of `gpusum bench`: i64, i32 and u8 arrays summed by every backend, on GPUs
//! both from host memory (the upload timed) and from device memory (kernels and readback
//! only), with each point's share of the bandwidth that bounds it.

use std::cell::RefCell;
use std::collections::HashMap;
use web_time::Instant;

use super::backend::{Backend, BackendId, Opened};
use super::measure::{self, Series};
use super::report::{Bandwidth, BoundShare, Flag, Residence, Row};
use super::{BenchError, BenchOptions, Event};
use crate::array::{Dtype, IntSlice};
use crate::control::{Control, default_timeout};
use crate::cpu::Isa;
use crate::gpu::{DeviceArray, GpuContext};
use crate::peak::{
    BandwidthKind, BandwidthMeasurement, GpuBandwidth, Threads, collect_on_huge_pages, memory_read,
};

/// The types the bench sums: the widest, a common one, and the narrowest (most elements per
/// byte, so the most unpacking per byte).
pub const BENCH_DTYPES: [Dtype; 3] = [Dtype::I64, Dtype::I32, Dtype::U8];

/// The arrays' bytes: one buffer of pseudo-random words that each type views a prefix of, and
/// the exact sum of every prefix measured, by the plainest loop.
pub(crate) struct ArrayData {
    words: Vec<u64>,
    expected: RefCell<HashMap<(Dtype, u64), i128>>,
}

impl ArrayData {
    /// `bytes` of data (rounded up to whole words).
    pub(crate) fn new(bytes: u64) -> Self {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let words = bytes.div_ceil(8) as usize;
        let words = collect_on_huge_pages(
            words,
            std::iter::repeat_with(|| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            }),
        );
        Self {
            words,
            expected: RefCell::new(HashMap::new()),
        }
    }

    /// Most elements of `dtype` the data holds.
    fn capacity(&self, dtype: Dtype) -> u64 {
        (self.words.len() * 8 / dtype.size()) as u64
    }

    /// The first `count` elements of `dtype`.
    fn slice(&self, dtype: Dtype, count: u64) -> IntSlice<'_> {
        let bytes: &[u8] = bytemuck::cast_slice(&self.words);
        let bytes = &bytes[..count as usize * dtype.size()];
        // Views of u64 words: aligned for every type.
        IntSlice::from_bytes(dtype, bytes).expect("aligned whole elements")
    }

    /// The exact sum of the first `count` elements of `dtype`, by a plain i128 loop, once.
    fn expected(&self, dtype: Dtype, count: u64) -> i128 {
        *self
            .expected
            .borrow_mut()
            .entry((dtype, count))
            .or_insert_with(|| self.slice(dtype, count).reference_sum())
    }

    /// Fails unless `sum` is the exact sum of the first `count` elements of `dtype`.
    fn check(
        &self,
        backend: &BackendId,
        dtype: Dtype,
        count: u64,
        sum: i128,
    ) -> Result<(), BenchError> {
        let expected = self.expected(dtype, count);
        if sum == expected {
            return Ok(());
        }
        Err(BenchError::WrongArraySum {
            backend: backend.clone(),
            dtype,
            count,
            expected,
            observed: sum,
        })
    }
}

/// Most bytes of array data the bench allocates: an eighth of the machine's memory (the GPU may
/// hold a copy, and a software adapter's copy is in the same memory), from 64 MiB to 1 GiB.
pub(crate) fn data_bytes() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|line| line.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(1 << 33, |kib| kib * 1024);
    (total / 8).clamp(64 << 20, 1 << 30)
}

/// One series of the array workload.
struct ArraySeries<'a> {
    backend: &'a Backend,
    data: &'a ArrayData,
    dtype: Dtype,
    /// `None` on the CPU; on a GPU where the data lives when the timing begins.
    resident: Option<Residence>,
    /// The array on the device, for device-resident series: its length and the upload.
    on_device: Option<(u64, DeviceArray)>,
}

impl ArraySeries<'_> {
    fn control(count: u64) -> Control<'static> {
        Control::new().with_timeout(default_timeout(count as u128))
    }

    /// The device-resident array of `count` elements on `context`, uploaded if it is not there.
    fn device_array(
        &mut self,
        context: &GpuContext,
        count: u64,
    ) -> Result<&DeviceArray, BenchError> {
        if self.on_device.as_ref().is_none_or(|(len, _)| *len != count) {
            self.on_device = None;
            let slice = self.data.slice(self.dtype, count);
            let array = context.upload(slice, &Self::control(count))?;
            self.on_device = Some((count, array));
        }
        Ok(&self.on_device.as_ref().expect("just uploaded").1)
    }
}

impl Series for ArraySeries<'_> {
    fn row(&self, count: u64) -> Row {
        let backend = self.backend;
        let kernel = backend.kernel();
        Row::blank(backend.id.clone(), backend.label.clone(), count)
            .with_kernel(kernel.map(|k| k.variant), kernel.map(|k| k.reduction))
            .for_array(self.dtype, self.resident)
    }

    fn backend(&self) -> &BackendId {
        &self.backend.id
    }

    fn max_count(&self) -> u64 {
        self.data.capacity(self.dtype)
    }

    fn timed_sum(&mut self, count: u64) -> Result<f64, BenchError> {
        let control = Self::control(count);
        let (sum, seconds) = match (self.resident, self.backend.engine.gpu()) {
            (Some(Residence::Device), Some(context)) => {
                let array = self.device_array(context, count)?;
                let started = Instant::now();
                let outcome = context.sum_device_array(array, &control)?;
                (
                    outcome.total.int_sum().unwrap_or_default(),
                    started.elapsed().as_secs_f64(),
                )
            }
            _ => {
                let slice = self.data.slice(self.dtype, count);
                let started = Instant::now();
                let outcome = self.backend.engine.sum_ints(slice, &control)?;
                (
                    outcome.total.int_sum().unwrap_or_default(),
                    started.elapsed().as_secs_f64(),
                )
            }
        };
        self.data.check(&self.backend.id, self.dtype, count, sum)?;
        Ok(seconds)
    }

    fn kernel_times(&mut self, count: u64) -> Result<Vec<f64>, BenchError> {
        let Some(timing) = self.backend.timing.as_ref().filter(|t| t.has_timestamps()) else {
            return Ok(Vec::new());
        };
        let mut times = Vec::new();
        for _ in 0..3 {
            let control = Self::control(count);
            let outcome = match self.resident {
                Some(Residence::Device) => {
                    // The twin shares the device, so it reads the same upload.
                    let context = self.backend.engine.gpu().expect("a GPU series");
                    let array = self.device_array(context, count)?;
                    timing.sum_device_array(array, &control)?
                }
                _ => timing.sum_ints(self.data.slice(self.dtype, count), &control)?,
            };
            self.data.check(
                &self.backend.id,
                self.dtype,
                count,
                outcome.total.int_sum().unwrap_or_default(),
            )?;
            times.extend(outcome.kernel_seconds);
        }
        Ok(times)
    }
}

/// Every backend's array series, measured, each with its share of the backend's budget.
pub(crate) fn sweep(
    opened: &Opened,
    options: &BenchOptions,
    on_event: &mut impl FnMut(Event),
) -> Result<(Vec<Row>, Vec<super::report::Skipped>), BenchError> {
    let largest = measure::lengths(options).into_iter().max().unwrap_or(1);
    let bytes = data_bytes().min(largest.saturating_mul(8)).max(1 << 16);
    let data = ArrayData::new(bytes);
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for backend in &opened.backends {
        let residences: &[Option<Residence>] = if backend.engine.gpu().is_some() {
            &[Some(Residence::Host), Some(Residence::Device)]
        } else {
            &[None]
        };
        let count = BENCH_DTYPES.len() * residences.len();
        let budget = options.budget_seconds / count as f64;
        for dtype in BENCH_DTYPES {
            for &resident in residences {
                let mut series = ArraySeries {
                    backend,
                    data: &data,
                    dtype,
                    resident,
                    on_device: None,
                };
                let (measured, over) = measure::sweep(&mut series, options, budget, on_event)?;
                rows.extend(measured);
                skipped.extend(over);
            }
        }
    }
    Ok((rows, skipped))
}

/// The bandwidths that bound the rows: the CPU's memory read on one and every thread where
/// `seq` and `cpu` ran, and each adapter's upload and device read.
pub(crate) fn bandwidths(
    backends: &[Backend],
    options: &BenchOptions,
    on_event: &mut impl FnMut(Event),
) -> Result<Vec<Bandwidth>, BenchError> {
    let control = Control::new();
    let seconds = options.peak_seconds;
    let mut all = Vec::new();
    let mut push = |device: String, measurement: BandwidthMeasurement| {
        all.push(Bandwidth {
            device,
            measurement,
        });
    };
    for (position, backend) in backends.iter().enumerate() {
        match (&backend.id, backend.engine.gpu()) {
            (BackendId::Seq, _) => {
                on_event(Event::Bandwidth { device: "seq" });
                push(
                    "seq".into(),
                    memory_read(Isa::best(), Threads::One, seconds, &control)?,
                );
            }
            (BackendId::Cpu, _) => {
                on_event(Event::Bandwidth { device: "cpu" });
                push(
                    "cpu".into(),
                    memory_read(Isa::best(), Threads::All, seconds, &control)?,
                );
            }
            (BackendId::Gpu { adapter, .. }, Some(context)) => {
                let first = !backends[..position]
                    .iter()
                    .any(|b| b.adapter_index == backend.adapter_index);
                if first {
                    on_event(Event::Bandwidth { device: adapter });
                    let measure = GpuBandwidth::new(context);
                    push(format!("gpu:{adapter}"), measure.upload(seconds, &control)?);
                    push(
                        format!("gpu:{adapter}"),
                        measure.device_read(seconds, &control)?,
                    );
                }
            }
            _ => {}
        }
    }
    Ok(all)
}

/// Of two measurements of the same bandwidths, each one's with the faster fastest run.
pub(crate) fn faster(before: Vec<Bandwidth>, after: Vec<Bandwidth>) -> Vec<Bandwidth> {
    before
        .into_iter()
        .zip(after)
        .map(|(before, after)| {
            debug_assert_eq!(
                (&before.device, before.measurement.kind),
                (&after.device, after.measurement.kind)
            );
            let fastest = |b: &Bandwidth| b.measurement.bytes_per_second_range.1;
            if fastest(&after) > fastest(&before) {
                after
            } else {
                before
            }
        })
        .collect()
}

/// Each row's share of the bandwidth that bounds it: the CPU's memory read (one thread for
/// `seq`); a GPU's device read for device-resident data, and the slower of its upload and
/// device read for host-resident data. A bound is its measurement's fastest run: noise only
/// slows runs down, so a median on a busy machine would lower the ceiling and flatter the share.
pub(crate) fn fill_bounds(rows: &mut [Row], bandwidths: &[Bandwidth]) {
    let find = |device: &str, kind: BandwidthKind| {
        bandwidths
            .iter()
            .find(|b| b.device == device && b.measurement.kind == kind)
            .map(|b| b.measurement)
    };
    for row in rows {
        let bound = match (&row.backend, row.resident) {
            (BackendId::Seq, _) => find("seq", BandwidthKind::MemoryRead),
            (BackendId::Cpu, _) => find("cpu", BandwidthKind::MemoryRead),
            (BackendId::Gpu { adapter, .. }, resident) => {
                let device = format!("gpu:{adapter}");
                let read = find(&device, BandwidthKind::DeviceRead);
                match resident {
                    Some(Residence::Host) => {
                        let upload = find(&device, BandwidthKind::Upload);
                        [upload, read].into_iter().flatten().min_by(|a, b| {
                            let (a, b) = (a.bytes_per_second_range.1, b.bytes_per_second_range.1);
                            a.total_cmp(&b)
                        })
                    }
                    _ => read,
                }
            }
        };
        if let (Some(bound), Some(rate)) = (bound, row.bytes_per_second) {
            let fastest = bound.bytes_per_second_range.1;
            row.bound = Some(BoundShare {
                kind: bound.kind,
                bytes_per_second: fastest,
                fraction: rate / fastest,
            });
        }
    }
}

/// Arrays far larger than any cache that were read faster than their bound's fastest run allows
/// cannot have read every byte.
pub(crate) fn flags(rows: &[Row], bandwidths: &[Bandwidth]) -> Vec<Flag> {
    const UNCACHED_BYTES: u64 = 256 << 20;
    rows.iter()
        .filter_map(|row| {
            let bound = row.bound?;
            let bytes = row.count * row.dtype?.size() as u64;
            let fastest = bandwidths
                .iter()
                .filter(|b| b.measurement.kind == bound.kind)
                .map(|b| b.measurement.bytes_per_second_range.1)
                .fold(bound.bytes_per_second, f64::max);
            let slowest_rate = bytes as f64 / row.max_seconds;
            (bytes >= UNCACHED_BYTES && slowest_rate > 1.25 * fastest).then(|| Flag {
                backend: row.backend.clone(),
                reason: format!(
                    "{}: even its slowest run read {slowest_rate:.2e} bytes/s of a {bytes}-byte \
                     array, past the {} bandwidth's fastest run ({fastest:.2e}): it cannot have \
                     read every byte",
                    row.label,
                    bound.kind.name()
                ),
            })
        })
        .collect()
}
