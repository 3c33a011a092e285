//! The array and float batteries as owned bytes with their answers, for a caller that sums them
//! its own way: the web page, whose GPU is awaited rather than blocked on.

use super::ARRAY_CHUNK_BYTES;
use super::arrays::gpu_array_cases;
use super::floats::float_battery;
use crate::array::Dtype;

/// One array of a battery: its name, elements as little-endian bytes, and the exact answer as
/// the CLI prints it, where known in closed form (else the CPU twin's sum is the answer).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OwnedCase {
    /// What the case is, as the selftest names it.
    pub name: String,
    /// The element type.
    pub dtype: Dtype,
    /// The elements, little-endian.
    pub bytes: Vec<u8>,
    /// The answer, where it is known without summing.
    pub expected: Option<String>,
}

/// The selftest's integer array cases for a GPU target with workgroups of `workgroup_size`
/// that streams in chunks of [`ARRAY_CHUNK_BYTES`]: lengths around both, every type and pattern.
#[must_use]
pub fn array_cases(workgroup_size: u64, seed: u64) -> Vec<OwnedCase> {
    gpu_array_cases(workgroup_size, seed)
        .into_iter()
        .map(|(name, case)| OwnedCase {
            expected: Some(case.expected().to_string()),
            bytes: case.with_slice(|slice| slice.as_bytes().to_vec()),
            dtype: case.dtype,
            name,
        })
        .collect()
}

/// The selftest's float cases for the same target: the adversarial cases with their known
/// answers, and seeded random values whose answer is the CPU twin's.
#[must_use]
pub fn float_cases(workgroup_size: u64, seed: u64) -> Vec<OwnedCase> {
    let per_chunk = ARRAY_CHUNK_BYTES / 8;
    let lengths = [
        0,
        1,
        5,
        workgroup_size + 1,
        per_chunk + 1,
        3 * per_chunk + 7,
    ];
    float_battery(&lengths, seed)
        .into_iter()
        .map(|case| {
            let (dtype, bytes) = case.values.to_le_bytes();
            OwnedCase {
                name: format!("{} ({})", case.name, case.values.describe()),
                dtype,
                bytes,
                expected: case.known,
            }
        })
        .collect()
}
