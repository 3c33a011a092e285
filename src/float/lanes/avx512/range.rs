//! A block's range, lane by lane: the least and greatest magnitudes of its values, from which
//! the lanes' plans are made.

use std::arch::x86_64::*;

use super::Range;

/// The range of f32 values' `bits`.
#[target_feature(enable = "avx512f")]
pub(in crate::float::lanes) fn range_f32(bits: &[u32]) -> Range {
    let (groups, tail) = bits.as_chunks::<16>();
    let mut range = RangeLanes32::new();
    for group in groups {
        // SAFETY: group holds 16 u32.
        range.take(unsafe { _mm512_loadu_si512(group.as_ptr().cast()) });
    }
    range.found(tail)
}

/// Least and greatest f32 magnitudes, lane by lane: magnitudes less one, wrapping, for the
/// least, so that a zero becomes the greatest and never the least.
pub(super) struct RangeLanes32 {
    least: __m512i,
    greatest: __m512i,
}

impl RangeLanes32 {
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn new() -> Self {
        Self {
            least: _mm512_set1_epi32(-1),
            greatest: _mm512_setzero_si512(),
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn take(&mut self, value: __m512i) {
        let abs = _mm512_and_si512(value, _mm512_set1_epi32(0x7fff_ffff));
        self.least = _mm512_min_epu32(self.least, _mm512_sub_epi32(abs, _mm512_set1_epi32(1)));
        self.greatest = _mm512_max_epu32(self.greatest, abs);
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn found(self, tail: &[u32]) -> Range {
        let mut least = _mm512_reduce_min_epu32(self.least);
        let mut greatest = _mm512_reduce_max_epu32(self.greatest);
        for &value in tail {
            least = least.min((value & 0x7fff_ffff).wrapping_sub(1));
            greatest = greatest.max(value & 0x7fff_ffff);
        }
        (least.checked_add(1).map(u64::from), greatest.into())
    }
}

/// As [`range_f32`], for f64 values' bits.
#[target_feature(enable = "avx512f")]
pub(in crate::float::lanes) fn range_f64(bits: &[u64]) -> Range {
    let (groups, tail) = bits.as_chunks::<8>();
    let mut range = RangeLanes64::new();
    for group in groups {
        // SAFETY: group holds 8 u64.
        range.take(unsafe { _mm512_loadu_si512(group.as_ptr().cast()) });
    }
    range.found(tail)
}

/// Least and greatest f64 magnitudes, lane by lane, as [`range_f32`] finds them.
pub(super) struct RangeLanes64 {
    least: __m512i,
    greatest: __m512i,
}

impl RangeLanes64 {
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn new() -> Self {
        Self {
            least: _mm512_set1_epi64(-1),
            greatest: _mm512_setzero_si512(),
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn take(&mut self, value: __m512i) -> __m512i {
        let abs = _mm512_and_si512(value, _mm512_set1_epi64(i64::MAX));
        self.least = _mm512_min_epu64(self.least, _mm512_sub_epi64(abs, _mm512_set1_epi64(1)));
        self.greatest = _mm512_max_epu64(self.greatest, abs);
        abs
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn found(self, tail: &[u64]) -> Range {
        let mut least = _mm512_reduce_min_epu64(self.least);
        let mut greatest = _mm512_reduce_max_epu64(self.greatest);
        for &value in tail {
            least = least.min((value & i64::MAX as u64).wrapping_sub(1));
            greatest = greatest.max(value & i64::MAX as u64);
        }
        (least.checked_add(1), greatest)
    }
}
