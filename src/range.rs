//! Inclusive i64 ranges, their exact closed form, and the biased blocks both paths consume.

/// Offset that maps i64 onto u64 in order: `bias(v) = v + 2^63`. Both the shaders and the CPU path
/// add biased values so that every limb is unsigned; one subtraction per block removes the bias.
const BIAS: u64 = 1 << 63;

/// An inclusive range `[start, end]` of i64. `start > end` is the empty range.
///
/// ```
/// let range = gpusum::SumRange::new(1, 20);
/// assert_eq!((range.count(), range.closed_form()), (20, 210));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SumRange {
    start: i64,
    end: i64,
}

impl SumRange {
    /// The range `[start, end]`; empty when `start > end`.
    #[must_use]
    pub const fn new(start: i64, end: i64) -> Self {
        Self { start, end }
    }

    /// First element.
    #[must_use]
    pub const fn start(&self) -> i64 {
        self.start
    }

    /// Last element.
    #[must_use]
    pub const fn end(&self) -> i64 {
        self.end
    }

    /// Whether the range holds no element.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.start > self.end
    }

    /// Number of elements, from 0 up to 2^64 (the whole of i64).
    #[must_use]
    pub const fn count(&self) -> u128 {
        if self.is_empty() {
            0
        } else {
            (self.end as i128 - self.start as i128 + 1) as u128
        }
    }

    /// The exact sum by the closed form `(start + end) * count / 2`.
    ///
    /// This is the oracle for tests and `--verify`, never a measured path.
    #[must_use]
    pub const fn closed_form(&self) -> i128 {
        if self.is_empty() {
            return 0;
        }
        // |start + end| <= 2^64 and count <= 2^64, and their product stays below 2^127 because
        // a long range has endpoints of opposite signs; one of the two factors is even.
        (self.start as i128 + self.end as i128) * self.count() as i128 / 2
    }

    /// Splits the range into consecutive blocks of at most `max_len` (> 0) elements.
    pub(crate) fn blocks(&self, max_len: u64) -> Blocks {
        Blocks {
            next_biased: bias(self.start),
            remaining: self.count(),
            max_len: max_len.max(1),
        }
    }
}

/// A run of consecutive integers, as the paths see it: the biased first value and a length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    /// `first + 2^63`, as u64.
    pub(crate) first_biased: u64,
    /// Number of elements, at least 1.
    pub(crate) len: u64,
}

impl Block {
    /// Removes the bias from a sum of this block's biased values: `sum - len * 2^63`.
    pub(crate) fn unbias(&self, biased_sum: u128) -> i128 {
        biased_sum as i128 - ((self.len as i128) << 63)
    }
}

/// Iterator over a range's blocks; see [`SumRange::blocks`].
#[derive(Clone, Debug)]
pub(crate) struct Blocks {
    next_biased: u64,
    remaining: u128,
    max_len: u64,
}

impl Iterator for Blocks {
    type Item = Block;

    fn next(&mut self) -> Option<Block> {
        if self.remaining == 0 {
            return None;
        }
        let len = self.remaining.min(self.max_len as u128) as u64;
        let block = Block {
            first_biased: self.next_biased,
            len,
        };
        self.remaining -= len as u128;
        // Wraps only after the last block of a range ending at i64::MAX.
        self.next_biased = self.next_biased.wrapping_add(len);
        Some(block)
    }
}

/// `v + 2^63` as u64: order-preserving, so a range's biased values never wrap.
pub(crate) const fn bias(v: i64) -> u64 {
    (v as u64) ^ BIAS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_on_extremes() {
        assert_eq!(SumRange::new(1, 20).closed_form(), 210);
        assert_eq!(SumRange::new(5, 4).closed_form(), 0);
        assert_eq!(
            SumRange::new(i64::MIN, i64::MAX).closed_form(),
            i64::MIN as i128
        );
        assert_eq!(SumRange::new(i64::MIN, i64::MAX).count(), 1u128 << 64);
        let n = i64::MAX as i128;
        assert_eq!(SumRange::new(0, i64::MAX).closed_form(), n * (n + 1) / 2);
        assert_eq!(
            SumRange::new(i64::MIN, -1).closed_form(),
            -(n + 1) * (n + 2) / 2
        );
    }

    #[test]
    fn blocks_cover_the_range_exactly() {
        let range = SumRange::new(i64::MAX - 9, i64::MAX);
        let blocks: Vec<Block> = range.blocks(4).collect();
        assert_eq!(blocks.iter().map(|b| b.len).collect::<Vec<_>>(), [4, 4, 2]);
        assert_eq!(blocks[2].first_biased, bias(i64::MAX - 1));
        assert_eq!(SumRange::new(3, 2).blocks(4).count(), 0);
        let whole = SumRange::new(i64::MIN, i64::MAX).blocks(u64::MAX);
        assert_eq!(whole.map(|b| b.len as u128).sum::<u128>(), 1 << 64);
    }

    #[test]
    fn unbias_inverts_bias() {
        let block = Block {
            first_biased: bias(-3),
            len: 2,
        };
        let biased = bias(-3) as u128 + bias(-2) as u128;
        assert_eq!(block.unbias(biased), -5);
    }
}
