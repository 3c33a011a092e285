//! The battery of float arrays: the adversarial cases with their known, correctly
//! rounded answers (massive cancellation, subnormals, every exponent, 2^24 + 1 + 1 in f32,
//! alternating signs, all -0.0, NaN and infinities, overflow), and seeded random values over
//! the whole exponent range, whose answer is the CPU twin's. Every target must print the same
//! shortest decimal as the answer, so the same bits.

use web_time::Instant;

use super::battery::SplitMix64;
use super::{Checked, SelftestOptions, TargetReport, record};
use crate::Error;
use crate::control::{Control, default_timeout};
use crate::cpu::{CpuTwin, Threads};
use crate::float::shortest_decimal;
use crate::total::{ArrayTotal, FloatSlice};

/// Values of one float case, f32 or f64.
#[derive(Clone, Debug)]
pub(super) enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Values {
    fn slice(&self) -> FloatSlice<'_> {
        match self {
            Values::F32(values) => FloatSlice::F32(values),
            Values::F64(values) => FloatSlice::F64(values),
        }
    }

    /// The type and the values as little-endian bytes.
    pub(super) fn to_le_bytes(&self) -> (crate::Dtype, Vec<u8>) {
        match self {
            Values::F32(values) => (
                crate::Dtype::F32,
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            Values::F64(values) => (
                crate::Dtype::F64,
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Values::F32(values) => format!("f32 x {}", values.len()),
            Values::F64(values) => format!("f64 x {}", values.len()),
        }
    }
}

/// A float case: its name, values, and the answer when it is known in closed form.
#[derive(Clone, Debug)]
pub(super) struct FloatCase {
    pub(super) name: String,
    pub(super) values: Values,
    pub(super) known: Option<String>,
}

fn case(name: impl Into<String>, values: Values, known: Option<String>) -> FloatCase {
    FloatCase {
        name: name.into(),
        values,
        known,
    }
}

/// Every case, the length-dependent ones at each of `lengths`.
pub(super) fn float_battery(lengths: &[u64], seed: u64) -> Vec<FloatCase> {
    let text = |value: f64| Some(shortest_decimal(value));
    let mut every_exponent: Vec<f64> = (1..2047u64).map(|e| f64::from_bits(e << 52)).collect();
    every_exponent.push(f64::from_bits(1));
    let mut cases = vec![
        case(
            "massive cancellation",
            Values::F64(vec![1e308, 1.0, -1e308]),
            text(1.0),
        ),
        case(
            "2^24 + 1 + 1",
            Values::F32(vec![16777216.0, 1.0, 1.0]),
            Some("16777218".into()),
        ),
        // 2^1024 - 2^-1022 + 2^-1074 rounds up past the largest finite value.
        case(
            "every exponent",
            Values::F64(every_exponent),
            text(f64::INFINITY),
        ),
        case(
            "NaN",
            Values::F64(vec![1.0, f64::NAN, f64::INFINITY]),
            Some("nan".into()),
        ),
        case(
            "+inf and -inf",
            Values::F32(vec![f32::INFINITY, f32::NEG_INFINITY]),
            Some("nan".into()),
        ),
        case(
            "-inf and finite",
            Values::F64(vec![f64::MAX, f64::NEG_INFINITY, f64::MAX]),
            Some("-inf".into()),
        ),
        case(
            "overflow",
            Values::F32(vec![f32::MAX; 2]),
            Some("inf".into()),
        ),
    ];
    let mut random = SplitMix64(seed);
    for &len in lengths {
        let n = len as usize;
        // Subnormals of 1..=n units sum to n(n+1)/2 units, exact below 2^52.
        let units = len * (len + 1) / 2;
        cases.push(case(
            format!("subnormals only, {len}"),
            Values::F64((1..=len).map(f64::from_bits).collect()),
            text(f64::from_bits(units)),
        ));
        cases.push(case(
            format!("alternating signs, {len}"),
            Values::F32(
                (0..n)
                    .map(|i| if i % 2 == 0 { 3.0 } else { -3.0 })
                    .collect(),
            ),
            Some(if n % 2 == 1 { "3" } else { "0" }.into()),
        ));
        cases.push(case(
            format!("all -0.0, {len}"),
            Values::F64(vec![-0.0; n]),
            Some(if n == 0 { "0" } else { "-0" }.into()),
        ));
        let finite = |bits: u64| {
            let value = f64::from_bits(bits);
            if value.is_finite() { value } else { 0.5 }
        };
        cases.push(case(
            format!("random over every exponent, {len}"),
            Values::F64((0..n).map(|_| finite(random.next())).collect()),
            None,
        ));
        cases.push(case(
            format!("random f32 over every exponent, {len}"),
            Values::F32(
                (0..n)
                    .map(|_| f32::from_bits(random.next() as u32))
                    .map(|v| if v.is_finite() { v } else { -0.25 })
                    .collect(),
            ),
            None,
        ));
    }
    cases
}

/// Sums each case with `sum` and checks it against its known answer (or, for random data, the
/// CPU twin's) and the CPU twin.
pub(super) fn run_float_cases(
    report: &mut TargetReport,
    cases: &[FloatCase],
    options: &SelftestOptions,
    sum: impl Fn(FloatSlice<'_>, &Control) -> Result<ArrayTotal, Error>,
) {
    for case in cases {
        let data = case.values.slice();
        let cpu_sum = CpuTwin::new(Threads::One).sum_array(data.into(), &Control::new());
        let cpu_text = cpu_sum.as_ref().map(ToString::to_string);
        let expected = match (&case.known, &cpu_text) {
            (Some(known), _) => known.clone(),
            (None, Ok(text)) => text.clone(),
            (None, Err(error)) => format!("error: {error}"),
        };
        let timeout = options
            .timeout
            .unwrap_or_else(|| default_timeout(data.len() as u128));
        let control = Control::new().with_timeout(timeout);
        let started = Instant::now();
        let observed = sum(data, &control);
        let seconds = started.elapsed().as_secs_f64();
        let observed = observed.and_then(|total| {
            if total.count() == data.len() as u64 {
                Ok(total.to_string())
            } else {
                Err(Error::InvalidArray {
                    reason: format!("counted {} values of {}", total.count(), data.len()),
                })
            }
        });
        record(
            report,
            Checked {
                case: format!("{} ({})", case.name, case.values.describe()),
                input: case.values.describe(),
                range: None,
                expected,
                cpu: cpu_text.map_err(|e| e.to_string()),
                observed,
                seconds,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers_are_the_cpu_twins() {
        for case in float_battery(&[0, 1, 2, 33, 1000], 7) {
            let twin = CpuTwin::new(Threads::All);
            let cpu = twin
                .sum_array(case.values.slice().into(), &Control::new())
                .unwrap();
            if let Some(known) = &case.known {
                assert_eq!(&cpu.to_string(), known, "{}", case.name);
            }
        }
    }
}
