//! The battery of integer arrays: every type, filled with its minimum, its maximum, alternating
//! extremes and seeded random values, at lengths around a target's sizes (lengths of 1, 3 and 5
//! leave a partial 32-bit word for narrow types).

use serde::Serialize;

use web_time::Instant;

use super::battery::SplitMix64;
use super::{ARRAY_CHUNK_BYTES, Checked, SelftestOptions, TargetReport, record};
use crate::Error;
use crate::array::{Dtype, IntSlice};
use crate::control::{Control, default_timeout};
use crate::cpu::{CpuTwin, Threads};

/// How an array case is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Pattern {
    /// Every element the type's minimum.
    Minimum,
    /// Every element the type's maximum.
    Maximum,
    /// Maximum, minimum, maximum, ...
    Alternating,
    /// Seeded random values over the whole type.
    Random(u64),
}

impl Pattern {
    fn describe(self) -> &'static str {
        match self {
            Pattern::Minimum => "all minimum",
            Pattern::Maximum => "all maximum",
            Pattern::Alternating => "alternating extremes",
            Pattern::Random(_) => "random",
        }
    }
}

/// An array to sum: its type, its filling and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ArrayCase {
    /// The element type.
    pub dtype: Dtype,
    /// How it is filled.
    pub pattern: Pattern,
    /// Number of elements.
    pub len: u64,
}

impl ArrayCase {
    /// "i64 x 257, alternating extremes".
    #[must_use]
    pub fn describe(&self) -> String {
        format!("{} x {}, {}", self.dtype, self.len, self.pattern.describe())
    }

    /// The elements, widened to i128.
    #[must_use]
    pub fn values(&self) -> Vec<i128> {
        let (low, high) = self.dtype.bounds();
        let mut random = SplitMix64(match self.pattern {
            Pattern::Random(seed) => seed,
            _ => 0,
        });
        let span = (high - low + 1) as u128;
        (0..self.len)
            .map(|i| match self.pattern {
                Pattern::Minimum => low,
                Pattern::Maximum => high,
                Pattern::Alternating if i % 2 == 0 => high,
                Pattern::Alternating => low,
                Pattern::Random(_) => low + (random.next() as u128 % span) as i128,
            })
            .collect()
    }

    /// The exact sum by the plainest loop: the oracle.
    #[must_use]
    pub fn expected(&self) -> i128 {
        self.values().iter().sum()
    }

    /// Runs `with` on the elements as a typed slice.
    pub fn with_slice<T>(&self, with: impl FnOnce(IntSlice<'_>) -> T) -> T {
        let values = self.values();
        // Little-endian bytes in u64 words: aligned for every element type.
        let size = self.dtype.size();
        let mut words = vec![0u64; (values.len() * size).div_ceil(8)];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        for (&value, chunk) in values.iter().zip(bytes.chunks_exact_mut(size)) {
            // The element's low bytes, in this machine's order.
            let (little, big) = ((value as u128).to_le_bytes(), (value as u128).to_be_bytes());
            if cfg!(target_endian = "big") {
                chunk.copy_from_slice(&big[16 - size..]);
            } else {
                chunk.copy_from_slice(&little[..size]);
            }
        }
        let bytes: &[u8] = &bytemuck::cast_slice(&words)[..values.len() * size];
        let slice = IntSlice::from_bytes(self.dtype, bytes).expect("aligned whole elements");
        with(slice)
    }
}

/// Every type, at lengths 0, 1, 3 and 5 and around each of `sizes` (named element counts that
/// may depend on the type), and past several of the largest, each length with every pattern.
pub(crate) fn array_battery(
    sizes: &[(&str, &dyn Fn(Dtype) -> u64)],
    seed: u64,
) -> Vec<(String, ArrayCase)> {
    let mut random = SplitMix64(seed);
    let mut cases = Vec::new();
    for dtype in Dtype::INTEGERS {
        let mut lengths: Vec<(String, u64)> = [0, 1, 3, 5]
            .map(|len| (format!("length {len}"), len))
            .to_vec();
        for &(name, size) in sizes {
            let size = size(dtype);
            lengths.push((format!("{name} - 1"), size.saturating_sub(1)));
            lengths.push((name.to_owned(), size));
            lengths.push((format!("{name} + 1"), size + 1));
        }
        if let Some(&(name, size)) = sizes.last() {
            lengths.push((format!("3 x {name} + 7"), 3 * size(dtype) + 7));
        }
        for (why, len) in lengths {
            for pattern in [
                Pattern::Minimum,
                Pattern::Maximum,
                Pattern::Alternating,
                Pattern::Random(random.next()),
            ] {
                let case = ArrayCase {
                    dtype,
                    pattern,
                    len,
                };
                cases.push((format!("{} ({why})", case.describe()), case));
            }
        }
    }
    cases
}

/// The array cases of a GPU target: lengths around its workgroup size and around the stream
/// chunk of [`ARRAY_CHUNK_BYTES`].
pub(super) fn gpu_array_cases(workgroup_size: u64, seed: u64) -> Vec<(String, ArrayCase)> {
    let workgroup = move |_: Dtype| workgroup_size;
    let chunk = |dtype: Dtype| ARRAY_CHUNK_BYTES / dtype.size() as u64;
    let sizes: [(&str, &dyn Fn(Dtype) -> u64); 2] = [
        ("workgroup size", &workgroup),
        ("elements per chunk", &chunk),
    ];
    array_battery(&sizes, seed)
}

/// Sums each array case with `sum` and checks it against a plain i128 loop and the CPU twin.
pub(super) fn run_array_cases(
    report: &mut TargetReport,
    cases: &[(String, ArrayCase)],
    options: &SelftestOptions,
    sum: impl Fn(crate::IntSlice<'_>, &Control) -> Result<crate::ExactIntSum, Error>,
) {
    for (name, case) in cases {
        let expected = case.expected();
        let timeout = options
            .timeout
            .unwrap_or_else(|| default_timeout(case.len as u128));
        let control = Control::new().with_timeout(timeout);
        let (cpu_sum, observed, seconds) = case.with_slice(|slice| {
            let cpu_sum = CpuTwin::new(Threads::All)
                .sum_array(slice.into(), &Control::new())
                .map(|total| total.int_sum().unwrap_or_default())
                .map_err(|e| e.to_string());
            let started = Instant::now();
            let observed = sum(slice, &control);
            (cpu_sum, observed, started.elapsed().as_secs_f64())
        });
        // The count must be right too: a sum that skipped zeros could still match.
        let observed = observed.and_then(|total| {
            if total.count() == case.len {
                Ok(total.sum())
            } else {
                Err(Error::InvalidArray {
                    reason: format!("counted {} elements of {}", total.count(), case.len),
                })
            }
        });
        record(
            report,
            Checked {
                case: name.clone(),
                input: case.describe(),
                range: None,
                expected: expected.to_string(),
                cpu: cpu_sum.map(|sum| sum.to_string()),
                observed: observed.map(|sum| sum.to_string()),
                seconds,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_fill_as_described_and_slices_hold_the_values() {
        let case = ArrayCase {
            dtype: Dtype::I16,
            pattern: Pattern::Alternating,
            len: 3,
        };
        assert_eq!(case.values(), [32767, -32768, 32767]);
        assert_eq!(case.expected(), 32766);
        assert_eq!(case.with_slice(|slice| slice.reference_sum()), 32766);
        let random = ArrayCase {
            dtype: Dtype::U64,
            pattern: Pattern::Random(9),
            len: 50,
        };
        assert_eq!(random.values(), random.values());
        assert_eq!(random.with_slice(|s| s.reference_sum()), random.expected());
    }

    #[test]
    fn the_battery_reaches_each_size_for_each_type() {
        let sizes: [(&str, &dyn Fn(Dtype) -> u64); 1] = [("chunk", &|d| 64 / d.size() as u64)];
        let cases = array_battery(&sizes, 1);
        for dtype in Dtype::INTEGERS {
            let per_chunk = 64 / dtype.size() as u64;
            for len in [0, 1, 3, 5, per_chunk - 1, per_chunk + 1, 3 * per_chunk + 7] {
                assert!(
                    cases.iter().any(|(_, c)| c.dtype == dtype && c.len == len),
                    "{dtype} x {len}"
                );
            }
        }
    }
}
