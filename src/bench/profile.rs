//! `gpusum bench --save-profile`: this machine's rates for the planner behind `auto` (see
//! [`Profile`]): the CPU twin on one thread and on the pool, and each hardware adapter, each rate
//! from checked sums long enough to pass their fixed costs, the median of three.

use web_time::Instant;

use super::BenchError;
use super::backend::BackendId;
use super::floats::float_values;
use crate::control::{Control, default_timeout};
use crate::cpu::{CpuTwin, Isa, Threads};
use crate::engine::{AdapterProfile, ArrayBytes, CpuProfile, GpuRates, Profile, Rates, Source};
use crate::gpu::{self, GpuContext, GpuOptions};
use crate::range::SumRange;
use crate::total::FloatSlice;
use crate::{ArrayTotal, IntSlice};

/// Elements of the timed arrays: 2^24 (128 MiB of i64), past every cache.
const ARRAY_ELEMENTS: usize = 1 << 24;

/// Seconds a rate's sum must last at least, so its fixed cost does not count.
const LONG_ENOUGH: f64 = 0.02;

/// Measures the profile, saying what it measures through `say` as it goes.
///
/// # Errors
/// A sum that fails or adds wrong.
pub fn measure_profile(mut say: impl FnMut(&str)) -> Result<Profile, BenchError> {
    // First, before anything else starts a driver: what auto pays to look.
    let started = Instant::now();
    let adapters = gpu::auto_adapters();
    let look = started.elapsed().as_secs_f64();
    say(&format!("looking for adapters: {}", seconds(look)));
    let data = Data::new();
    let isa = Isa::best();
    let threads = crate::cpu::threads();
    let cpu = |threads| -> Result<Rates, BenchError> {
        let twin = CpuTwin::new(threads);
        let id = BackendId::Cpu;
        let range = |n: u64| twin.sum_range(SumRange::new(1, n as i64), &control(n));
        let quiet = control(ARRAY_ELEMENTS as u64);
        let array = |slice: ArrayBytes<'_>| Ok(twin.sum_array(slice, &quiet)?);
        Ok(Rates {
            range: range_rate(&id, |n| range(n).map_err(BenchError::from))?,
            ints: data.int_rate(&id, |s| array(s.into()))?,
            f32: data.float_rate(&id, 0, |s| array(s.into()))?,
            f64: data.float_rate(&id, 1, |s| array(s.into()))?,
            call: call_seconds(|| range(1).map(drop).map_err(BenchError::from))?,
        })
    };
    let one = cpu(Threads::One)?;
    say(&format!("cpu, one thread: {}", describe(&one)));
    let all = cpu(Threads::All)?;
    say(&format!("cpu, {threads} threads: {}", describe(&all)));
    let mut profile = Profile {
        cpu: Some(CpuProfile {
            isa,
            threads,
            one,
            all,
        }),
        look: Some(look),
        adapters: Vec::new(),
    };
    for adapter in adapters {
        let info = adapter.get_info();
        let label = gpu::adapter_label(&info);
        if info.device_type == wgpu::DeviceType::Cpu {
            say(&format!(
                "{label}: a software adapter, which auto never picks; skipped"
            ));
            continue;
        }
        let started = Instant::now();
        let context = GpuContext::new(&adapter, &GpuOptions::new())?;
        let open = started.elapsed().as_secs_f64();
        let rates = data.gpu_rates(&context, open)?;
        say(&format!(
            "{label}: {}, upload {:.2e} bytes/s, open {}",
            describe(&rates.sums),
            rates.upload,
            seconds(rates.open)
        ));
        profile.adapters.push(AdapterProfile {
            adapter: label,
            driver: gpu::driver_of(&info),
            rates,
        });
    }
    Ok(profile)
}

fn control(elements: u64) -> Control<'static> {
    Control::new().with_timeout(default_timeout(u128::from(elements)))
}

fn seconds(s: f64) -> String {
    crate::engine::human_seconds(s)
}

fn describe(rates: &Rates) -> String {
    format!(
        "range {:.2e}/s, i64 {:.2e} bytes/s, f32 {:.2e}/s, f64 {:.2e}/s, call {}",
        rates.range,
        rates.ints,
        rates.f32,
        rates.f64,
        seconds(rates.call)
    )
}

/// The median seconds of three runs of `sum`.
fn median_of_three(mut sum: impl FnMut() -> Result<(), BenchError>) -> Result<f64, BenchError> {
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        sum()?;
        times.push(started.elapsed().as_secs_f64());
    }
    Ok(super::measure::median(&mut times))
}

/// Elements per second of ranges, doubling the length until a sum lasts [`LONG_ENOUGH`].
fn range_rate(
    id: &BackendId,
    sum: impl Fn(u64) -> Result<i128, BenchError>,
) -> Result<f64, BenchError> {
    let mut n: u64 = 1 << 20;
    loop {
        let range = SumRange::new(1, n as i64);
        let seconds = median_of_three(|| match sum(n)? {
            total if total == range.closed_form() => Ok(()),
            observed => Err(BenchError::WrongSum {
                backend: id.clone(),
                start: 1,
                end: n as i64,
                expected: range.closed_form(),
                observed,
            }),
        })?;
        if seconds >= LONG_ENOUGH || n >= 1 << 40 {
            return Ok(n as f64 / seconds);
        }
        n *= 2;
    }
}

/// The fixed cost of a call: the median of a hundred one-element sums.
fn call_seconds(mut sum: impl FnMut() -> Result<(), BenchError>) -> Result<f64, BenchError> {
    let mut times = Vec::new();
    for _ in 0..100 {
        let started = Instant::now();
        sum()?;
        times.push(started.elapsed().as_secs_f64());
    }
    Ok(super::measure::median(&mut times).max(1e-9))
}

/// The arrays every place sums, with their exact totals.
struct Data {
    ints: Vec<i64>,
    int_total: i128,
    singles: Vec<f32>,
    doubles: Vec<f64>,
    /// The CPU twin's exact totals of `singles` and `doubles`.
    float_totals: [ArrayTotal; 2],
}

impl Data {
    fn new() -> Self {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let ints: Vec<i64> = (0..ARRAY_ELEMENTS)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as i64
            })
            .collect();
        let int_total = IntSlice::I64(&ints).reference_sum();
        let doubles = float_values(ARRAY_ELEMENTS);
        let singles: Vec<f32> = doubles.iter().map(|&v| v as f32).collect();
        let twin = CpuTwin::new(Threads::All);
        let exact = |slice: FloatSlice<'_>| {
            twin.sum_array(slice.into(), &Control::new())
                .expect("an uncancelled sum")
        };
        let float_totals = [
            exact(FloatSlice::F32(&singles)),
            exact(FloatSlice::F64(&doubles)),
        ];
        Self {
            ints,
            int_total,
            singles,
            doubles,
            float_totals,
        }
    }

    fn check(
        &self,
        id: &BackendId,
        which: Option<usize>,
        total: &ArrayTotal,
    ) -> Result<(), BenchError> {
        let expected = match which {
            None => return self.check_ints(id, total),
            Some(which) => &self.float_totals[which],
        };
        if total == expected {
            return Ok(());
        }
        Err(BenchError::WrongFloatSum {
            backend: id.clone(),
            dtype: if which == Some(0) {
                crate::Dtype::F32
            } else {
                crate::Dtype::F64
            },
            method: super::FloatMethod::Exact,
            count: ARRAY_ELEMENTS as u64,
            expected: expected.to_string(),
            observed: total.to_string(),
        })
    }

    fn check_ints(&self, id: &BackendId, total: &ArrayTotal) -> Result<(), BenchError> {
        match total.int_sum() {
            Some(sum) if sum == self.int_total => Ok(()),
            observed => Err(BenchError::WrongArraySum {
                backend: id.clone(),
                dtype: crate::Dtype::I64,
                count: ARRAY_ELEMENTS as u64,
                expected: self.int_total,
                observed: observed.unwrap_or_default(),
            }),
        }
    }

    /// Bytes per second of the i64 array.
    fn int_rate(
        &self,
        id: &BackendId,
        sum: impl Fn(IntSlice<'_>) -> Result<ArrayTotal, BenchError>,
    ) -> Result<f64, BenchError> {
        let seconds = median_of_three(|| self.check_ints(id, &sum(IntSlice::I64(&self.ints))?))?;
        Ok((ARRAY_ELEMENTS * 8) as f64 / seconds)
    }

    /// Values per second of the f32 (`which` 0) or f64 (1) array.
    fn float_rate(
        &self,
        id: &BackendId,
        which: usize,
        sum: impl Fn(FloatSlice<'_>) -> Result<ArrayTotal, BenchError>,
    ) -> Result<f64, BenchError> {
        let slice = match which {
            0 => FloatSlice::F32(&self.singles),
            _ => FloatSlice::F64(&self.doubles),
        };
        let seconds = median_of_three(|| self.check(id, Some(which), &sum(slice)?))?;
        Ok(ARRAY_ELEMENTS as f64 / seconds)
    }

    /// A context's rates: data on the device for the arrays, the host's i64 array through the
    /// ring for the upload.
    fn gpu_rates(&self, context: &GpuContext, open: f64) -> Result<GpuRates, BenchError> {
        let id = BackendId::Gpu {
            adapter: context.adapter_label(),
            variant: context.kernel().variant,
        };
        let quiet = control(ARRAY_ELEMENTS as u64);
        let resident = |bytes: ArrayBytes<'_>| -> Result<
            Box<dyn Fn() -> Result<ArrayTotal, BenchError> + '_>,
            BenchError,
        > {
            let array = context.upload(bytes, &quiet)?;
            Ok(Box::new(move || {
                Ok(context.run(Source::Device(&array), &quiet)?.total)
            }))
        };
        let ints = resident(IntSlice::I64(&self.ints).into())?;
        let singles = resident(FloatSlice::F32(&self.singles).into())?;
        let doubles = resident(FloatSlice::F64(&self.doubles).into())?;
        let bytes = (ARRAY_ELEMENTS * 8) as f64;
        let values = ARRAY_ELEMENTS as f64;
        let sums = Rates {
            range: range_rate(&id, |n| {
                Ok(context.sum(SumRange::new(1, n as i64), &control(n))?)
            })?,
            ints: bytes / median_of_three(|| self.check_ints(&id, &ints()?))?,
            f32: values / median_of_three(|| self.check(&id, Some(0), &singles()?))?,
            f64: values / median_of_three(|| self.check(&id, Some(1), &doubles()?))?,
            call: call_seconds(|| Ok(context.sum(SumRange::new(1, 1), &quiet).map(drop)?))?,
        };
        let host = IntSlice::I64(&self.ints);
        let upload = bytes
            / median_of_three(|| self.check_ints(&id, &context.run(host.into(), &quiet)?.total))?;
        Ok(GpuRates { sums, upload, open })
    }
}
