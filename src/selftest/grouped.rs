//! The battery of sums along axes and by key: shapes around the workgroup size and the chunk, a
//! single column and a single row, the middle axis of a 3-D array, Fortran order; one key, every
//! key distinct, keys at both ends of i64. Each case's answer is a plain per-output oracle (i128
//! sums; exact float sums rounded once), and every target must give every output's text.

use web_time::Instant;

use super::battery::SplitMix64;
use super::{Checked, SelftestOptions, TargetReport, record};
use crate::Error;
use crate::array::{ByteOrder, Dtype, ExactIntSum};
use crate::control::{Control, default_timeout};
use crate::engine::{Outcome, Request, StridedBytes};
use crate::float::ExactFloatSum;
use crate::reduce::Outputs;
use crate::total::ArrayTotal;

/// How a case reduces its array.
#[derive(Clone, Debug)]
enum By {
    Axes(Vec<i64>),
    /// Keys of a type, little-endian, one per element in C order.
    Keys(Dtype, Vec<u8>),
}

/// An array (little-endian, `shape` in C or Fortran order) and its reduction.
#[derive(Clone, Debug)]
pub(super) struct GroupedCase {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    fortran: bool,
    bytes: Vec<u8>,
    by: By,
}

impl GroupedCase {
    fn describe(&self) -> String {
        let order = if self.fortran { "Fortran" } else { "C" };
        match &self.by {
            By::Axes(axes) => format!("{} {:?} ({order}), axes {axes:?}", self.dtype, self.shape),
            By::Keys(dtype, _) => format!("{} x {} by {dtype} keys", self.dtype, self.shape[0]),
        }
    }

    /// The array as a view: its strides in its order.
    fn view(&self) -> StridedBytes<'_> {
        let size = self.dtype.size();
        let mut strides = vec![0isize; self.shape.len()];
        let mut stride = size;
        let axes: Vec<usize> = if self.fortran {
            (0..self.shape.len()).collect()
        } else {
            (0..self.shape.len()).rev().collect()
        };
        for a in axes {
            strides[a] = stride as isize;
            stride *= self.shape[a].max(1);
        }
        let shape = self.shape.clone();
        StridedBytes::new(
            &self.bytes,
            0,
            shape,
            strides,
            self.dtype,
            ByteOrder::Little,
        )
        .expect("the battery's views fit their bytes")
    }

    fn request(&self) -> Request<'_> {
        match &self.by {
            By::Axes(axes) => Request::along(self.view(), axes),
            By::Keys(dtype, keys) => {
                let keys =
                    StridedBytes::c_order(keys, self.shape.clone(), *dtype, ByteOrder::Little)
                        .expect("one key per element");
                Request::by_key(self.view(), keys)
            }
        }
    }

    /// Element at C-order index `k`, as an exact total of one element.
    fn element(&self, k: usize) -> ArrayTotal {
        let (mut rest, mut at) = (k, 0usize);
        for a in (0..self.shape.len()).rev() {
            let stride = if self.fortran {
                self.shape[..a].iter().product::<usize>()
            } else {
                self.shape[a + 1..].iter().product::<usize>()
            };
            at += (rest % self.shape[a]) * stride;
            rest /= self.shape[a];
        }
        one(self.dtype, &self.bytes, at)
    }

    /// The oracle's outputs, as the outputs' text gives them: `SUM`, or `KEY:SUM`.
    fn expected(&self) -> Vec<String> {
        let count: usize = self.shape.iter().product();
        match &self.by {
            By::Axes(axes) => {
                let ndim = self.shape.len();
                let axes: Vec<usize> = axes
                    .iter()
                    .map(|&a| a.rem_euclid(ndim as i64) as usize)
                    .collect();
                let kept: Vec<usize> = (0..ndim).filter(|a| !axes.contains(a)).collect();
                let outputs: usize = kept.iter().map(|&a| self.shape[a]).product();
                let mut totals = vec![ArrayTotal::new(self.dtype); outputs];
                for k in 0..count {
                    let mut rest = k;
                    let mut index = vec![0; ndim];
                    for a in (0..ndim).rev() {
                        index[a] = rest % self.shape[a];
                        rest /= self.shape[a];
                    }
                    let out = kept
                        .iter()
                        .fold(0, |out, &a| out * self.shape[a] + index[a]);
                    let _ = totals[out].merge(&self.element(k));
                }
                totals.iter().map(ToString::to_string).collect()
            }
            By::Keys(dtype, keys) => {
                let mut totals = std::collections::BTreeMap::new();
                for k in 0..count {
                    let key = one(*dtype, keys, k).int_sum().unwrap_or_default();
                    let total = totals
                        .entry(key)
                        .or_insert_with(|| ArrayTotal::new(self.dtype));
                    let _ = total.merge(&self.element(k));
                }
                totals
                    .iter()
                    .map(|(key, total)| format!("{key}:{total}"))
                    .collect()
            }
        }
    }
}

/// Element `k` of little-endian `bytes` of `dtype`, as an exact total of one element.
fn one(dtype: Dtype, bytes: &[u8], k: usize) -> ArrayTotal {
    let size = dtype.size();
    let mut raw = [0u8; 8];
    raw[..size].copy_from_slice(&bytes[k * size..(k + 1) * size]);
    let bits = u64::from_le_bytes(raw);
    match dtype {
        Dtype::F32 => {
            let mut sum = ExactFloatSum::new();
            let _ = sum.add(f32::from_bits(bits as u32));
            ArrayTotal::F32(sum)
        }
        Dtype::F64 => {
            let mut sum = ExactFloatSum::new();
            let _ = sum.add(f64::from_bits(bits));
            ArrayTotal::F64(sum)
        }
        _ => {
            let width = 8 * size as u32;
            let value = if dtype.is_signed() {
                i128::from(((bits << (64 - width)) as i64) >> (64 - width))
            } else {
                i128::from(bits)
            };
            ArrayTotal::Int(ExactIntSum::from_parts(value, 1).expect("one element"))
        }
    }
}

/// Each output's text, as the oracle writes it.
fn texts(outputs: &Outputs) -> Vec<String> {
    (0..outputs.len())
        .map(|i| match outputs.keys() {
            Some(keys) => format!("{}:{}", keys.get(i), outputs.text(i)),
            None => outputs.text(i),
        })
        .collect()
}

/// Outputs' texts in a line: their number, the first few, and a digest of them all (FNV-1a),
/// so that two differ exactly when any output differs.
fn summary(texts: &[String]) -> String {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in texts.iter().flat_map(|t| t.bytes().chain([b'\n'])) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let first: Vec<&str> = texts.iter().take(3).map(String::as_str).collect();
    let more = if texts.len() > 3 { ", ..." } else { "" };
    format!(
        "{} outputs [{}{more}] #{hash:016x}",
        texts.len(),
        first.join(", ")
    )
}

/// Seeded elements of `dtype`: integers with their extremes; floats over forty binades with a
/// cancelling pair in every output's first two.
fn filled(dtype: Dtype, count: usize, random: &mut SplitMix64) -> Vec<u8> {
    let size = dtype.size();
    let mut bytes = Vec::with_capacity(count * size);
    for k in 0..count {
        let r = random.next();
        let element: [u8; 8] = match dtype {
            Dtype::F64 => {
                let value = ((r >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
                    * 2f64.powi((r % 41) as i32 - 20);
                let value = if k % 13 == 0 {
                    1e300
                } else if k % 13 == 1 {
                    -1e300
                } else {
                    value
                };
                value.to_le_bytes()
            }
            Dtype::F32 => {
                let value = ((r >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
                    * 2f32.powi((r % 41) as i32 - 20);
                let mut out = [0u8; 8];
                out[..4].copy_from_slice(&value.to_le_bytes());
                out
            }
            _ => match k % 5 {
                0 => [0xff; 8],
                1 => {
                    let (low, _) = dtype.bounds();
                    (low as u64).to_le_bytes()
                }
                _ => r.to_le_bytes(),
            },
        };
        bytes.extend_from_slice(&element[..size]);
    }
    bytes
}

/// A case's key for element k, from a seeded random word.
type KeyOf = Box<dyn Fn(usize, u64) -> i64>;

/// Every case for a target whose workgroups have `workgroup` invocations and whose chunks hold
/// `chunk` i64 elements.
pub(super) fn grouped_battery(workgroup: u64, chunk: u64, seed: u64) -> Vec<GroupedCase> {
    let mut random = SplitMix64(seed ^ 0x9e6c_63d0_876a_5a21);
    let (w, c) = (workgroup as usize, chunk as usize);
    let mut cases = Vec::new();
    let shapes: [(&str, Vec<usize>, bool, Vec<i64>); 8] = [
        ("a single column", vec![w + 3, 1], false, vec![0]),
        ("a single row", vec![1, w + 3], false, vec![1]),
        (
            "columns around the workgroup size",
            vec![w + 1, w - 1],
            false,
            vec![0],
        ),
        (
            "rows around the workgroup size",
            vec![w - 1, w + 1],
            false,
            vec![-1],
        ),
        ("rows around the chunk", vec![3, c + 1], false, vec![1]),
        (
            "columns across chunks",
            vec![2 * c / 5 + 3, 5],
            false,
            vec![0],
        ),
        (
            "the middle axis of a 3-D array",
            vec![3, w + 3, 5],
            false,
            vec![1],
        ),
        ("Fortran order", vec![7, w + 5, 3], true, vec![0, 2]),
    ];
    for dtype in [Dtype::I64, Dtype::U8, Dtype::F32, Dtype::F64] {
        for (name, shape, fortran, axes) in &shapes {
            let count = shape.iter().product();
            cases.push(GroupedCase {
                name: (*name).into(),
                dtype,
                shape: shape.clone(),
                fortran: *fortran,
                bytes: filled(dtype, count, &mut random),
                by: By::Axes(axes.clone()),
            });
        }
    }
    let n = w * 3 + 7;
    let key_sets: [(&str, KeyOf); 4] = [
        ("one key", Box::new(|_, _| 42)),
        (
            "every key distinct",
            Box::new(|k, _| k as i64 * 7919 - 1_000_000),
        ),
        (
            "keys at both ends of i64",
            Box::new(|k, r| match k % 3 {
                0 => i64::MIN,
                1 => i64::MAX,
                _ => (r % 5) as i64 - 2,
            }),
        ),
        ("a few keys", Box::new(|_, r| (r % 9) as i64)),
    ];
    for dtype in [Dtype::I64, Dtype::F64, Dtype::F32] {
        for (name, key) in &key_sets {
            let keys: Vec<u8> = (0..n)
                .flat_map(|k| key(k, random.next()).to_le_bytes())
                .collect();
            cases.push(GroupedCase {
                name: (*name).into(),
                dtype,
                shape: vec![n],
                fortran: false,
                bytes: filled(dtype, n, &mut random),
                by: By::Keys(Dtype::I64, keys),
            });
        }
    }
    cases
}

/// Runs every case with `run`, against the oracle and the CPU twin's answer (`cpu`).
pub(super) fn run_grouped_cases(
    report: &mut TargetReport,
    cases: &[GroupedCase],
    options: &SelftestOptions,
    cpu: impl Fn(Request<'_>, &Control) -> Result<Outcome, Error>,
    run: impl Fn(Request<'_>, &Control) -> Result<Outcome, Error>,
) {
    let texts_of = |outcome: Outcome| {
        outcome
            .outputs
            .map(|outputs| summary(&texts(&outputs)))
            .ok_or_else(|| Error::InvalidArray {
                reason: "no outputs".into(),
            })
    };
    for case in cases {
        let count: usize = case.shape.iter().product();
        let timeout = options
            .timeout
            .unwrap_or_else(|| default_timeout(count as u128));
        let control = Control::new().with_timeout(timeout);
        let expected = summary(&case.expected());
        let cpu_text = cpu(case.request(), &control).and_then(texts_of);
        let started = Instant::now();
        let observed = run(case.request(), &control).and_then(texts_of);
        let seconds = started.elapsed().as_secs_f64();
        record(
            report,
            Checked {
                case: format!("{} ({})", case.name, case.describe()),
                input: case.describe(),
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
    use crate::{BackendChoice, Engine, EngineOptions};

    #[test]
    fn the_cpu_twin_gives_every_cases_oracle() {
        let engine = Engine::open(&EngineOptions::new(BackendChoice::Cpu)).unwrap();
        let mut report = TargetReport::new(crate::Place::Cpu, None, None);
        let cases = grouped_battery(32, 64, 7);
        let sum =
            |request: Request<'_>, control: &Control<'_>| engine.sum_request(request, control);
        run_grouped_cases(&mut report, &cases, &SelftestOptions::new(7), sum, sum);
        assert!(report.ok(), "{:?}", report.failures);
        assert_eq!(report.cases_run, cases.len());
    }
}
