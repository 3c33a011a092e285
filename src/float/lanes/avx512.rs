//! The lanes' kernels for AVX-512 F and DQ: a block's range, and its sums by window (f32) or
//! by cut (f64).

use std::arch::x86_64::*;

use super::plan::{F32_SPAN, F64_ADDS_PER_FLUSH};
use super::{BLOCK_BYTES, MAX_PARTS, Range, TILE, padded};

mod range;
use range::{RangeLanes32, RangeLanes64};
pub(super) use range::{range_f32, range_f64};

/// f32: masked adds into a lane between its conversions. Each value is below 2^(23 + F32_SPAN) g
/// of its window, and 2^(30 - F32_SPAN) of them below 2^53 g.
const F32_ADDS_PER_FLUSH: usize = 1 << (30 - F32_SPAN);
// A lane's integer takes below 2^53 per flush: a block of 256 groups flushes at most
// 256 / 16 + 1 = 17 times (f32) or 256 / 32 + 1 = 9 (f64), below 2^58; a window's 16 (or 8)
// lanes below 2^62, an i64.
const _: () = assert!(BLOCK_BYTES / 64 / F32_ADDS_PER_FLUSH < 31);

/// How far ahead the sums ask for values, into the second-level cache: two blocks past the
/// one an f32 block's sums read for its range, two past its own for f64. Asking for the next
/// block into the first-level cache, as both once did, measured slower from memory: the bench's
/// f64 on one thread 1.9-3.0e9 values/s against 3.1-3.5e9, interleaved (the first-level cache
/// holds two blocks, and the requests crowded out the block being summed).
const AHEAD: usize = BLOCK_BYTES;
/// How far ahead the column sums ask for rows: the runs a column walk of the bins asks for.
pub(super) const AHEAD_ROWS: usize = 4;
/// Vectors of eight f64 columns in a tile.
const VECTORS: usize = TILE / 8;

/// The sums of f32 values' `bits` in windows of `F32_SPAN` binades from biased exponent `base`
/// (the least nonzero value's, at least 1): window w's in units of its g, 2^(base + w F32_SPAN -
/// 150); and the range of `next` (the next block, no longer than this one), found on the way.
/// The caller has checked that `N` windows hold every value and that none is special.
///
/// The next block's range costs fewer cycles here, beside the windows' adds, than in a pass of
/// its own, and half the windows' adds go to the multiply-add units (the bench's 2^24 and 2^26
/// f32 on one thread: 3.6-4.0e9 values/s with a pass of its own, 4.1-4.3e9 here; without the
/// multiply-adds 4.0e9).
#[target_feature(enable = "avx512f,avx512dq")]
pub(super) fn f32_sums<const N: usize>(bits: &[u32], base: u32, next: &[u32]) -> ([i64; N], Range) {
    debug_assert!(next.len() <= bits.len());
    let magnitude = _mm512_set1_epi32(0x7fff_ffff);
    let width = _mm512_set1_epi32((F32_SPAN << 23) as i32);
    // The last window's start is never compared (and capped so that it does not overflow).
    let starts: [__m512i; N] = std::array::from_fn(|w| {
        let exponent = (base + (w as u32 + 1) * F32_SPAN).min(0xff);
        _mm512_set1_epi32((exponent << 23) as i32)
    });
    // 1 / g, from 2^149 down: an f64.
    let scales: [__m512d; N] =
        std::array::from_fn(|w| power_of_two(150 - i64::from(base + w as u32 * F32_SPAN)));
    let one = opaque_one();
    let mut integers = [[_mm512_setzero_si512(); 2]; N];
    let (groups, tail) = bits.as_chunks::<16>();
    let padded = padded(tail);
    let last = padded.as_slice();
    let (next_groups, next_tail) = next.as_chunks::<16>();
    let mut next_range = RangeLanes32::new();
    let mut next_groups = next_groups.iter();
    for flush in groups.chunks(F32_ADDS_PER_FLUSH).chain([last]) {
        // Two sets per window: the group's first and last eight values.
        let mut lanes = [[_mm512_setzero_pd(); 2]; N];
        for group in flush {
            // The next block is read now, for its range: asking for it one block ahead came
            // too late, and two blocks ahead into the first-level cache crowded it (2.9-3.1e9
            // values/s); three blocks ahead into the second-level cache, 4.1-4.3e9.
            _mm_prefetch::<_MM_HINT_T1>(group.as_ptr().cast::<i8>().wrapping_add(3 * AHEAD));
            if let Some(next) = next_groups.next() {
                // SAFETY: next holds 16 u32.
                next_range.take(unsafe { _mm512_loadu_si512(next.as_ptr().cast()) });
            }
            // SAFETY: group holds 16 u32.
            let value = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
            let abs = _mm512_and_si512(value, magnitude);
            let first = _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_castsi512_ps(value)));
            let last = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_extracti64x4_epi64::<1>(value)));
            for w in 0..N {
                // Window w holds magnitudes from starts[w - 1] up to starts[w]. A middle one
                // compares the offset from its start with its width, wrapping: one compare where
                // two would cost more mask-register work, which bounds this loop.
                let inside: __mmask16 = if N == 1 {
                    0xffff
                } else if w == 0 {
                    _mm512_cmplt_epu32_mask(abs, starts[0])
                } else if w + 1 == N {
                    _mm512_cmpge_epu32_mask(abs, starts[w - 1])
                } else {
                    _mm512_cmplt_epu32_mask(_mm512_sub_epi32(abs, starts[w - 1]), width)
                };
                let [first_lanes, last_lanes] = &mut lanes[w];
                *first_lanes = _mm512_mask_add_pd(*first_lanes, inside as u8, *first_lanes, first);
                // On the multiply-add units, by one (exact, so the add's one rounding): the
                // add units carry the rest.
                *last_lanes = _mm512_mask3_fmadd_pd(last, one, *last_lanes, (inside >> 8) as u8);
            }
        }
        for w in 0..N {
            for half in 0..2 {
                // A multiple of g below 2^53 g: exact after scaling, and as an i64.
                let units = _mm512_cvtpd_epi64(_mm512_mul_pd(lanes[w][half], scales[w]));
                integers[w][half] = _mm512_add_epi64(integers[w][half], units);
            }
        }
    }
    for next in next_groups {
        // SAFETY: next holds 16 u32.
        next_range.take(unsafe { _mm512_loadu_si512(next.as_ptr().cast()) });
    }
    let sums = std::array::from_fn(|w| {
        _mm512_reduce_add_epi64(_mm512_add_epi64(integers[w][0], integers[w][1]))
    });
    // No next block (a short sum's one block): what `found` would give, without its reductions.
    let next_range = if next.is_empty() {
        (None, 0)
    } else {
        next_range.found(next_tail)
    };
    (sums, next_range)
}

/// The sum of f64 values' `bits` in `N` parts, each exact in its own lanes, and the block's
/// range on the way. The values are cut at fixed places, from the top: a running sum that
/// starts at `1.5 * 2^top[j]` takes each value, its rounding keeping the value's bits from
/// 2^(top[j] - 52) up, exactly (the running sum's change); what remains is exact as the
/// difference and goes to the next cut. What remains after `N - 1` cuts is added whole. Part
/// j < N - 1 in units of 2^(top[j] - 52), the last in units of 2^`least` (no value has a finer
/// bit). The caller has chosen `top` so that every value is at most 2^(top[0] - 7), each cut
/// takes the next `F64_CUT` bits, and the last part's values sum below 2^(53 + least) over
/// `F64_ADDS_PER_FLUSH` adds; none is special.
#[target_feature(enable = "avx512f,avx512dq")]
pub(super) fn f64_sums<const N: usize>(
    bits: &[u64],
    top: [i64; N],
    least: i64,
) -> ([i64; N], Range) {
    let cuts = Cuts::new(top, least);
    let mut integers = [_mm512_setzero_si512(); N];
    // The block's range on the way (a padded tail's zeros change nothing).
    let mut range = RangeLanes64::new();
    let (groups, tail) = bits.as_chunks::<8>();
    let padded = padded(tail);
    let last = padded.as_slice();
    for flush in groups.chunks(F64_ADDS_PER_FLUSH).chain([last]) {
        let mut lanes = cuts.lanes();
        for group in flush {
            _mm_prefetch::<_MM_HINT_T1>(group.as_ptr().cast::<i8>().wrapping_add(2 * AHEAD));
            // SAFETY: group holds 8 u64.
            let value = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
            range.take(value);
            cuts.take(&mut lanes, value);
        }
        let units = cuts.units(lanes);
        for j in 0..N {
            integers[j] = _mm512_add_epi64(integers[j], units[j]);
        }
    }
    let sums = integers.map(|lanes| _mm512_reduce_add_epi64(lanes));
    (sums, range.found(&[]))
}

/// As [`f64_sums`], for the columns of `rows` (at most `F64_ADDS_PER_FLUSH` rows of one width,
/// at most `TILE` values): lane k of vector v sums column 8 v + k down the rows, converted once
/// at the end. Writes each column's parts to `sums` (part j's column k at `sums[j][k]`), or's
/// into `others` each column's values' bits but the sign's flipped (nonzero where a column had
/// a value other than -0.0; where the rows hold no zero, a bit of every column),
/// and asks on the way for the bytes of the rows `AHEAD_ROWS` on, the last ones from `ahead`.
#[target_feature(enable = "avx512f,avx512dq")]
pub(super) fn f64_column_sums<const N: usize>(
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
    // Lanes past the width load zeros, which change nothing.
    let masks: [__mmask8; VECTORS] = std::array::from_fn(|v| match width.saturating_sub(8 * v) {
        0 => 0,
        left if left >= 8 => 0xff,
        left => (1 << left) - 1,
    });
    let vectors = width.div_ceil(8);
    let cuts = Cuts::new(top, least);
    let mut lanes = [cuts.lanes(); VECTORS];
    let mut range = RangeLanes64::new();
    let mut smallest = _mm512_set1_epi64(-1);
    // Row by row: a row's lines lie in different sets of the first-level cache, where a
    // column's (rows a power of two apart, as a matrix's often are) may all share one.
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
            // SAFETY: the mask reads row[8 v..width] only.
            let value =
                unsafe { _mm512_maskz_loadu_epi64(masks[v], row.as_ptr().add(8 * v).cast()) };
            let abs = range.take(value);
            smallest = _mm512_mask_min_epu64(smallest, masks[v], smallest, abs);
            cuts.take(&mut lanes[v], value);
        }
    }
    for (v, &lanes) in lanes.iter().enumerate().take(vectors) {
        for (j, units) in cuts.units(lanes).into_iter().enumerate() {
            // SAFETY: 8 v + 8 <= TILE.
            unsafe { _mm512_storeu_si512(sums[j].as_mut_ptr().add(8 * v).cast(), units) };
        }
    }
    if _mm512_reduce_min_epu64(smallest) == 0 {
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

/// Or's into `others` each value of `row` with its sign flipped: nonzero unless it was -0.0.
pub(super) fn note_others(others: &mut [u64; TILE], row: &[u64]) {
    for (other, &bits) in others.iter_mut().zip(row) {
        *other |= bits ^ (1 << 63);
    }
}

/// The constants of `N` parts of f64 values cut from 2^top[0] down (see [`f64_sums`]).
struct Cuts<const N: usize> {
    /// Each cut's running sum's start, 1.5 * 2^top[j].
    starts: [__m512d; N],
    /// 1 / unit, in two factors (the last part's may be 2^1074, which no f64 holds).
    scales: [[__m512d; 2]; N],
    /// 1.0 in every lane, where the compiler cannot see it (see [`Cuts::take`]).
    one: __m512d,
}

impl<const N: usize> Cuts<N> {
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn new(top: [i64; N], least: i64) -> Self {
        Self {
            starts: std::array::from_fn(|j| {
                _mm512_set1_pd(1.5 * f64::from_bits(((1023 + top[j]) as u64) << 52))
            }),
            scales: std::array::from_fn(|j| {
                let exponent = if j + 1 < N { 52 - top[j] } else { -least };
                [
                    power_of_two(exponent / 2),
                    power_of_two(exponent - exponent / 2),
                ]
            }),
            one: opaque_one(),
        }
    }

    /// Fresh lanes: the cuts' running sums, and the last part's lanes.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn lanes(&self) -> [__m512d; N] {
        let mut lanes = self.starts;
        lanes[N - 1] = _mm512_setzero_pd();
        lanes
    }

    /// Adds eight values, a lane each. The rest's subtraction and the last part's add go to the
    /// multiply-add units as a multiply-add by one: a product by one is exact, so the one rounding
    /// is the add's, and the bits are the same. Zen 4 has two units of each kind, and the adds
    /// alone bound the loop: in cache 3.1-3.8e9 values/s against 2.9-3.2e9 (75 binades, two
    /// cuts). The running sums' adds stay adds: they carry from one group to the next.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn take(&self, lanes: &mut [__m512d; N], value: __m512i) {
        let mut rest = _mm512_castsi512_pd(value);
        for running in &mut lanes[..N - 1] {
            let rounded = _mm512_add_pd(*running, rest);
            rest = _mm512_fnmadd_pd(_mm512_sub_pd(rounded, *running), self.one, rest);
            *running = rounded;
        }
        lanes[N - 1] = _mm512_fmadd_pd(rest, self.one, lanes[N - 1]);
    }

    /// The lanes' parts as integers of their units.
    #[target_feature(enable = "avx512f,avx512dq")]
    #[inline]
    fn units(&self, lanes: [__m512d; N]) -> [__m512i; N] {
        std::array::from_fn(|j| {
            // A part's sum: a multiple of its unit below 2^53 units, exact after scaling, and
            // as an i64 (a cut's running sum less its start is exact: both lie in one binade).
            let sum = if j + 1 < N {
                _mm512_sub_pd(lanes[j], self.starts[j])
            } else {
                lanes[j]
            };
            let [first, second] = self.scales[j];
            _mm512_cvtpd_epi64(_mm512_mul_pd(_mm512_mul_pd(sum, first), second))
        })
    }
}

/// 1.0 in every lane, where the compiler cannot see it: else LLVM folds the multiply-adds by it
/// back into adds.
#[target_feature(enable = "avx512f")]
#[inline]
fn opaque_one() -> __m512d {
    _mm512_set1_pd(f64::from_bits(std::hint::black_box(1f64.to_bits())))
}

/// Every lane 2^exponent (a normal f64: |exponent| <= 1022).
#[target_feature(enable = "avx512f")]
fn power_of_two(exponent: i64) -> __m512d {
    debug_assert!(exponent.abs() <= 1022);
    _mm512_set1_pd(f64::from_bits(((1023 + exponent) as u64) << 52))
}
