//! A tile's f64 columns on AVX2: four columns a vector, as `avx512::f64_column_sums` sums
//! eight.

use std::arch::x86_64::*;

use super::super::avx512::{AHEAD_ROWS, note_others};
use super::super::plan::F64_ADDS_PER_FLUSH;
use super::super::{MAX_PARTS, Range, TILE};
use super::{Cuts, RangeLanes64};

/// Vectors of four f64 columns in a tile.
const VECTORS: usize = TILE / 4;

/// As `avx512::f64_column_sums` (its doc has what it writes, and the bounds the caller meets):
/// lane k of vector v sums column 4 v + k down `rows`.
#[target_feature(enable = "avx2,fma")]
pub(in crate::float::lanes) fn f64_column_sums<const N: usize>(
    rows: &[&[u64]],
    ahead: &[&[u64]],
    top: [i64; N],
    least: i64,
    sums: &mut [[i64; TILE]; MAX_PARTS],
    others: &mut [u64; TILE],
) -> Range {
    debug_assert!(rows.len() <= F64_ADDS_PER_FLUSH);
    let width = rows.first().map_or(0, |row| row.len());
    assert!(width <= TILE && rows.iter().all(|row| row.len() == width));
    // Lanes past the width load zeros, which change nothing (nor count as zeros below).
    let masks: [__m256i; VECTORS] = std::array::from_fn(|v| {
        let left = width.saturating_sub(4 * v).min(4);
        let mut mask = [0i64; 4];
        mask[..left].fill(-1);
        // SAFETY: mask holds 32 bytes.
        unsafe { _mm256_loadu_si256(mask.as_ptr().cast()) }
    });
    let vectors = width.div_ceil(4);
    let cuts = Cuts::new(top, least);
    let mut lanes = [cuts.lanes(); VECTORS];
    let mut range = RangeLanes64::new();
    let mut zeros = _mm256_setzero_si256();
    // Row by row, as on AVX-512 (a row's lines lie in different sets of the first-level cache).
    for (r, row) in rows.iter().enumerate() {
        let next = rows
            .get(r + AHEAD_ROWS)
            .or_else(|| ahead.get(r + AHEAD_ROWS - rows.len()));
        if let Some(next) = next {
            for at in (0..width).step_by(8) {
                _mm_prefetch::<_MM_HINT_T0>(next.as_ptr().wrapping_add(at).cast());
            }
        }
        for v in 0..vectors {
            // SAFETY: row holds 4 v + 4 values, or the mask reads row[4 v..width] only. A
            // masked load costs more than a load (the first-level cache's misses sat on it).
            let value = unsafe {
                if 4 * v + 4 <= width {
                    _mm256_loadu_si256(row.as_ptr().add(4 * v).cast())
                } else {
                    _mm256_maskload_epi64(row.as_ptr().add(4 * v).cast(), masks[v])
                }
            };
            let doubled = range.take(value);
            let zero = _mm256_cmpeq_epi64(doubled, _mm256_setzero_si256());
            zeros = _mm256_or_si256(zeros, _mm256_and_si256(zero, masks[v]));
            cuts.take(&mut lanes[v], _mm256_castsi256_pd(value));
        }
    }
    for (v, &lanes) in lanes.iter().enumerate().take(vectors) {
        for (j, units) in cuts.units(lanes).into_iter().enumerate() {
            // SAFETY: 4 v + 4 <= TILE.
            unsafe { _mm256_storeu_si256(sums[j].as_mut_ptr().add(4 * v).cast(), units) };
        }
    }
    if _mm256_testz_si256(zeros, zeros) == 0 {
        for row in rows {
            note_others(others, row);
        }
    } else {
        for other in &mut others[..width] {
            *other |= 1;
        }
    }
    range.found(&[])
}
