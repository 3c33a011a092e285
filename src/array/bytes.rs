//! The exact integer sum's byte format, fixed-endian and versioned like the float sum's, and
//! [`ArrayTotal`]'s, which is whichever of the two its kind writes: for totals that cross
//! processes and machines (pickles, MPI).

use super::{ExactIntSum, MAX_ELEMENTS};
use crate::Error;
use crate::total::ArrayTotal;
use crate::{ExactFloat, ExactFloatSum};

/// The format's first bytes.
const MAGIC: &[u8; 4] = b"GSXI";
/// The format's version.
const FORMAT_VERSION: u8 = 1;
/// Bytes of the format.
const BYTES: usize = 32;

impl ExactIntSum {
    /// The sum as bytes, in a fixed, versioned format that any machine reads back:
    ///
    /// | bytes | content |
    /// | --- | --- |
    /// | 0..4 | `GSXI` |
    /// | 4 | format version, 1 |
    /// | 5..8 | zero |
    /// | 8..16 | the count of elements, u64 little-endian |
    /// | 16..32 | the exact sum, i128 little-endian |
    ///
    /// ```
    /// use gpusum::ExactIntSum;
    /// let sum = ExactIntSum::from_parts(-5, 3)?;
    /// assert_eq!(ExactIntSum::from_bytes(&sum.to_bytes())?, sum);
    /// # Ok::<(), gpusum::Error>(())
    /// ```
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(BYTES);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&[FORMAT_VERSION, 0, 0, 0]);
        bytes.extend_from_slice(&self.count().to_le_bytes());
        bytes.extend_from_slice(&self.sum().to_le_bytes());
        bytes
    }

    /// Reads what [`ExactIntSum::to_bytes`] wrote.
    ///
    /// # Errors
    /// [`Error::InvalidAccumulator`] when the bytes are not an integer sum in format 1, or hold a
    /// sum that its count of 64-bit elements could not reach.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidAccumulator {
            reason: reason.to_owned(),
        };
        if bytes.len() != BYTES || &bytes[..4] != MAGIC {
            return Err(invalid("not the 32 bytes of an exact integer sum (GSXI)"));
        }
        if bytes[4] != FORMAT_VERSION || bytes[5..8] != [0, 0, 0] {
            return Err(invalid("an unknown version of the integer sum's format"));
        }
        let count = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        let sum = i128::from_le_bytes(bytes[16..32].try_into().expect("16 bytes"));
        // Each element is below 2^64 in magnitude.
        if count > MAX_ELEMENTS || sum.unsigned_abs() > u128::from(count) << 64 {
            return Err(invalid("a sum its count of elements could not reach"));
        }
        Ok(Self::from_parts(sum, count).expect("the count was checked"))
    }
}

impl ArrayTotal {
    /// The total as bytes: [`ExactIntSum::to_bytes`] or [`ExactFloatSum::to_bytes`], which say
    /// which kind they are.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            ArrayTotal::Int(sum) => sum.to_bytes(),
            ArrayTotal::F32(sum) => sum.to_bytes(),
            ArrayTotal::F64(sum) => sum.to_bytes(),
        }
    }

    /// Reads what [`ArrayTotal::to_bytes`] wrote, of whichever kind.
    ///
    /// # Errors
    /// [`Error::InvalidAccumulator`] for bytes that are none of the totals.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.starts_with(MAGIC) {
            return ExactIntSum::from_bytes(bytes).map(ArrayTotal::Int);
        }
        match bytes.get(5) {
            Some(&tag) if tag == f32::TAG => ExactFloatSum::from_bytes(bytes).map(ArrayTotal::F32),
            Some(&tag) if tag == f64::TAG => ExactFloatSum::from_bytes(bytes).map(ArrayTotal::F64),
            _ => Err(Error::InvalidAccumulator {
                reason: "neither an exact integer sum nor an exact float sum".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_read_back_as_written_and_garbage_is_refused() {
        for sum in [
            ExactIntSum::new(),
            ExactIntSum::from_parts(i128::from(i64::MIN) * 3, 3).unwrap(),
            ExactIntSum::from_parts(i128::from(u64::MAX) * 7, 7).unwrap(),
        ] {
            assert_eq!(ExactIntSum::from_bytes(&sum.to_bytes()).unwrap(), sum);
            let total = ArrayTotal::Int(sum);
            assert_eq!(ArrayTotal::from_bytes(&total.to_bytes()).unwrap(), total);
        }
        let mut float = ExactFloatSum::<f32>::new();
        float.add_slice(&[1.5, -0.25]).unwrap();
        let total = ArrayTotal::F32(float);
        assert_eq!(ArrayTotal::from_bytes(&total.to_bytes()).unwrap(), total);
        let good = ExactIntSum::from_parts(10, 2).unwrap().to_bytes();
        let mut bad = good.clone();
        bad[4] = 2;
        let mut unreachable = good.clone();
        unreachable[16..32].copy_from_slice(&(3i128 << 64).to_le_bytes());
        for bytes in [&b""[..], &good[..31], &bad, &unreachable, b"GSXF0000"] {
            assert!(matches!(
                ArrayTotal::from_bytes(bytes),
                Err(Error::InvalidAccumulator { .. })
            ));
        }
    }
}
