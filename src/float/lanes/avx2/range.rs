//! A block's range on AVX2, lane by lane: the least nonzero and the greatest magnitude, whose
//! exponents the plans read. AVX2 has no 64-bit minimum or maximum, so f64 magnitudes are
//! compared by their upper 32 bits, which hold the exponent: exact exponents, inexact lower bits.

use std::arch::x86_64::*;

use super::super::portable::{f32_range, f64_range};
use super::Range;

/// The range of f32 values' `bits`, exact.
#[target_feature(enable = "avx2")]
pub(in crate::float::lanes) fn range_f32(bits: &[u32]) -> Range {
    let (groups, tail) = bits.as_chunks::<8>();
    let mut range = RangeLanes32::new();
    for group in groups {
        // SAFETY: group holds 8 u32.
        range.take(unsafe { _mm256_loadu_si256(group.as_ptr().cast()) });
    }
    range.found(tail)
}

/// Least and greatest f32 magnitudes, lane by lane, doubled (the sign shifted out, which needs no
/// mask constant: one register fewer in the sums' loop, whose spills cost more than the shift):
/// less one, wrapping, for the least, so that a zero becomes the greatest and never the least.
pub(super) struct RangeLanes32 {
    least: __m256i,
    greatest: __m256i,
}

impl RangeLanes32 {
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn new() -> Self {
        Self {
            least: _mm256_set1_epi32(-1),
            greatest: _mm256_setzero_si256(),
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn take(&mut self, value: __m256i) {
        let doubled = _mm256_slli_epi32::<1>(value);
        self.least = _mm256_min_epu32(self.least, _mm256_sub_epi32(doubled, _mm256_set1_epi32(1)));
        self.greatest = _mm256_max_epu32(self.greatest, doubled);
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn found(self, tail: &[u32]) -> Range {
        let least = words(self.least).into_iter().min().unwrap_or(u32::MAX);
        let greatest = words(self.greatest).into_iter().max().unwrap_or(0);
        f32_range(least, greatest, tail)
    }
}

/// The range of f64 values' `bits`, exact in the exponents.
#[target_feature(enable = "avx2")]
pub(in crate::float::lanes) fn range_f64(bits: &[u64]) -> Range {
    let (groups, tail) = bits.as_chunks::<4>();
    let mut range = RangeLanes64::new();
    for group in groups {
        // SAFETY: group holds 4 u64.
        range.take(unsafe { _mm256_loadu_si256(group.as_ptr().cast()) });
    }
    range.found(tail)
}

/// The upper 32 bits of f64 magnitudes, doubled (as for f32), lane by lane (in the odd u32 lanes;
/// the even ones are never read): the least of nonzero ones (a zero all ones, so never the least)
/// and the greatest.
pub(super) struct RangeLanes64 {
    least: __m256i,
    greatest: __m256i,
}

impl RangeLanes64 {
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn new() -> Self {
        Self {
            least: _mm256_set1_epi32(-1),
            greatest: _mm256_setzero_si256(),
        }
    }

    /// Takes four values; returns their magnitudes, doubled (zero where a value is).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn take(&mut self, value: __m256i) -> __m256i {
        let doubled = _mm256_slli_epi64::<1>(value);
        let zero = _mm256_cmpeq_epi64(doubled, _mm256_setzero_si256());
        self.least = _mm256_min_epu32(self.least, _mm256_or_si256(doubled, zero));
        self.greatest = _mm256_max_epu32(self.greatest, doubled);
        doubled
    }

    /// The range: the least's upper bits with zeros below (at least 1), the greatest's with
    /// ones below, so that each has its value's exponent.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn found(self, tail: &[u64]) -> Range {
        let upper = |lanes: __m256i| words(lanes).into_iter().skip(1).step_by(2);
        let least = upper(self.least).min().unwrap_or(u32::MAX);
        f64_range(least, upper(self.greatest).max().unwrap_or(0), tail)
    }
}

/// The eight u32 lanes of `lanes`.
#[target_feature(enable = "avx2")]
#[inline]
fn words(lanes: __m256i) -> [u32; 8] {
    let mut words = [0u32; 8];
    // SAFETY: words holds 32 bytes.
    unsafe { _mm256_storeu_si256(words.as_mut_ptr().cast(), lanes) };
    words
}
