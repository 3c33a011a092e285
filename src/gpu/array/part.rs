//! A dispatch's partials, decoded on the host and added into a submission's total.

use crate::Error;
use crate::array::Dtype;
use crate::gpu::kernel::{FLOAT_PARTIAL_HEADER_WORDS, float_digits, float_partial_bytes};
use crate::gpu::readback::limbs_to_u128;
use crate::total::ArrayTotal;

/// Decoded partials: an integer kernel's biased sum, or a float kernel's flags and digit
/// counters.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Part {
    Int(u128),
    Float { flags: u32, digits: Vec<i128> },
}

impl Part {
    /// The sum of one dispatch's partials. Integer partials are each below 2^88, at most 2^16
    /// of them; float counters each below 2^57 in magnitude (float_sum.wgsl), at most 2^16.
    pub(crate) fn decode(dtype: Dtype, partials: &[u8]) -> Part {
        if !dtype.is_float() {
            return Part::Int(partials.chunks_exact(16).map(limbs_to_u128).sum());
        }
        let digits = float_digits(dtype).0 as usize;
        let mut flags = 0;
        let mut sums = vec![0i128; digits];
        for partial in partials.chunks_exact(float_partial_bytes(dtype) as usize) {
            let word = |k: usize| u32::from_le_bytes(partial[4 * k..4 * k + 4].try_into().unwrap());
            flags |= word(0);
            for (k, sum) in sums.iter_mut().enumerate() {
                let at = FLOAT_PARTIAL_HEADER_WORDS + 2 * k;
                let counter = u64::from(word(at)) | u64::from(word(at + 1)) << 32;
                *sum += i128::from(counter as i64);
            }
        }
        Part::Float {
            flags,
            digits: sums,
        }
    }

    /// Two dispatches' parts together: each window's parts stay below 2^120 (integers: fewer
    /// than 2^30 elements below 2^64; floats: fewer than 2^40 counters below 2^57).
    pub(crate) fn add(self, other: Part) -> Part {
        match (self, other) {
            (Part::Int(a), Part::Int(b)) => Part::Int(a + b),
            (
                Part::Float { flags, mut digits },
                Part::Float {
                    flags: f,
                    digits: d,
                },
            ) => {
                digits.iter_mut().zip(d).for_each(|(a, b)| *a += b);
                Part::Float {
                    flags: flags | f,
                    digits,
                }
            }
            _ => unreachable!("one window holds one element type"),
        }
    }
}

impl Part {
    /// The total of a submission's dispatches' parts, which summed `count` elements of `dtype`.
    pub(crate) fn total(dtype: Dtype, parts: Vec<Part>, count: u64) -> Result<ArrayTotal, Error> {
        let mut total = ArrayTotal::new(dtype);
        // A submission holds at least one dispatch.
        let Some(part) = parts.into_iter().reduce(Part::add) else {
            return Ok(total);
        };
        match (&mut total, part) {
            (ArrayTotal::Int(sum), Part::Int(biased)) => sum.add_biased(dtype, biased, count)?,
            (ArrayTotal::F32(sum), Part::Float { flags, digits }) => {
                sum.add_counters(flags, &digits, count)?
            }
            (ArrayTotal::F64(sum), Part::Float { flags, digits }) => {
                sum.add_counters(flags, &digits, count)?
            }
            _ => unreachable!("a part is added to a total of its own type"),
        }
        Ok(total)
    }
}
