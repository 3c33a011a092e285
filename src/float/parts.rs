//! Parts of a float sum made elsewhere: raw bytes read from an input, and the digit counters
//! the GPU kernels write (shaders/float_sum.wgsl).

use super::bins::Bins;
use super::{ExactFloat, ExactFloatSum};
use crate::Error;
use crate::array::{ByteOrder, MAX_ELEMENTS, swap_to_little_endian};

/// The flags of a float sum: what the kernels raise (they get these values as constants, see
/// `gpu::kernel::float_constants`) and `ExactFloatSum::to_bytes` writes.
pub(crate) const FLAG_NAN: u32 = 1;
pub(crate) const FLAG_POSITIVE_INFINITY: u32 = 2;
pub(crate) const FLAG_NEGATIVE_INFINITY: u32 = 4;
pub(crate) const FLAG_NOT_NEGATIVE_ZERO: u32 = 8;

impl<T: ExactFloat> ExactFloatSum<T> {
    /// Adds whole elements stored as `bytes` in `order` (any alignment).
    #[cfg(test)]
    pub(crate) fn add_bytes(&mut self, bytes: &[u8], order: ByteOrder) -> Result<(), Error> {
        let mut bins = Bins::new(crate::cpu::Isa::best());
        self.add_bytes_to(bytes, order, Some(&mut bins))?;
        bins.finish(self);
        Ok(())
    }

    /// Adds whole elements stored as `bytes` in `order` (any alignment) into `bins` (the caller
    /// places them with `Bins::finish`), or with no bins one at a time into the digits, counting
    /// them here: in place where they are aligned and in this machine's order, else through an
    /// aligned buffer, a block at a time.
    pub(crate) fn add_bytes_to(
        &mut self,
        bytes: &[u8],
        order: ByteOrder,
        mut bins: Option<&mut Bins<T>>,
    ) -> Result<(), Error> {
        let size = size_of::<T>();
        debug_assert!(bytes.len().is_multiple_of(size));
        // Checked up front, so that a refusal adds nothing.
        let count = self
            .count
            .checked_add((bytes.len() / size) as u64)
            .filter(|&count| count <= MAX_ELEMENTS)
            .ok_or(Error::TooManyElements)?;
        let mut add = |sum: &mut Self, values: &[T]| match bins.as_deref_mut() {
            Some(bins) => bins.add(sum, values),
            None => sum.add_each(values),
        };
        if order == ByteOrder::NATIVE
            && let Ok(values) = bytemuck::try_cast_slice::<u8, T>(bytes)
        {
            add(self, values);
        } else {
            let mut buffer = [T::zeroed(); 1024];
            for block in bytes.chunks(buffer.len() * size) {
                let values = &mut buffer[..block.len() / size];
                let raw: &mut [u8] = bytemuck::cast_slice_mut(values);
                raw.copy_from_slice(block);
                if order != ByteOrder::NATIVE {
                    swap_to_little_endian(T::DTYPE, raw);
                }
                add(self, values);
            }
        }
        self.count = count;
        Ok(())
    }

    /// Adds `count` values a kernel summed into `flags` and digit counters (`digits[k]` weighs
    /// 2^(32 k) units of the smallest subnormal), each below 2^100 in magnitude.
    pub(crate) fn add_counters(
        &mut self,
        flags: u32,
        digits: &[i128],
        count: u64,
    ) -> Result<(), Error> {
        debug_assert!(digits.len() < T::DIGITS);
        let count = self
            .count
            .checked_add(count)
            .filter(|&count| count <= MAX_ELEMENTS)
            .ok_or(Error::TooManyElements)?;
        self.normalize();
        // Normalized digits are below 2^32, the counters below 2^100: the carry stays below
        // 2^69, and the last digit's sum below 2^63.
        let mut carry = 0i128;
        let last = self.digits.len() - 1;
        for (k, digit) in self.digits[..last].iter_mut().enumerate() {
            let value = i128::from(*digit) + digits.get(k).copied().unwrap_or(0) + carry;
            *digit = (value & 0xffff_ffff) as i64;
            carry = value >> 32;
        }
        self.digits[last] += carry as i64;
        self.count = count;
        self.raise(flags);
        Ok(())
    }

    /// The special values seen, as `FLAG_*` bits.
    pub(crate) fn flags(&self) -> u32 {
        [
            (self.nan, FLAG_NAN),
            (self.positive_infinity, FLAG_POSITIVE_INFINITY),
            (self.negative_infinity, FLAG_NEGATIVE_INFINITY),
            (self.not_negative_zero, FLAG_NOT_NEGATIVE_ZERO),
        ]
        .into_iter()
        .filter(|&(seen, _)| seen)
        .fold(0, |flags, (_, flag)| flags | flag)
    }

    /// Records the special values `flags` say were seen.
    pub(crate) fn raise(&mut self, flags: u32) {
        self.nan |= flags & FLAG_NAN != 0;
        self.positive_infinity |= flags & FLAG_POSITIVE_INFINITY != 0;
        self.negative_infinity |= flags & FLAG_NEGATIVE_INFINITY != 0;
        self.not_negative_zero |= flags & FLAG_NOT_NEGATIVE_ZERO != 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_in_either_order_add_like_values() {
        let values = [1.5f64, -0.0, 1e308, -1e308, 5e-324];
        let mut by_value = ExactFloatSum::<f64>::new();
        by_value.add_slice(&values).unwrap();
        let little: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let big: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        for (bytes, order) in [(little, ByteOrder::Little), (big, ByteOrder::Big)] {
            let mut sum = ExactFloatSum::<f64>::new();
            // Unaligned on purpose.
            let mut shifted = vec![0u8];
            shifted.extend(&bytes);
            sum.add_bytes(&shifted[1..], order).unwrap();
            assert_eq!(sum, by_value);
        }
        let small = [-2.5f32, 16777216.0];
        let big: Vec<u8> = small.iter().flat_map(|v| v.to_be_bytes()).collect();
        let mut sum = ExactFloatSum::<f32>::new();
        sum.add_bytes(&big, ByteOrder::Big).unwrap();
        assert_eq!(sum.round().value, 16777214.0);
    }

    #[test]
    fn counters_add_like_the_values_they_hold() {
        // 3 * 2^32 units, twice, and -1 unit, as counters spread over digits 0 and 1.
        let mut sum = ExactFloatSum::<f32>::new();
        sum.add_counters(FLAG_NOT_NEGATIVE_ZERO, &[-1, 6], 3)
            .unwrap();
        let unit = f32::from_bits(1);
        let mut expected = ExactFloatSum::<f32>::new();
        expected
            .add_slice(&[unit * 8388608.0 * 512.0 * 3.0, -unit])
            .unwrap();
        expected
            .add_slice(&[unit * 8388608.0 * 512.0 * 3.0])
            .unwrap();
        assert_eq!(sum.round(), expected.round());
        assert_eq!(sum.count(), 3);
    }
}
