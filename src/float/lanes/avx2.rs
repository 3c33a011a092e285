//! The lanes' kernels for AVX2 and FMA: a block's range, and its sums by cut, for f64 values and
//! for f32 values made f64 (AVX2 has no masked adds, which the AVX-512 windows need, and a cut
//! costs three adds with no masks).
//!
//! Four f64 lanes a vector, in two sets that take alternate vectors, so that no running sum's
//! add waits on the one before it for long. A cut's sum is read from its running sum's bits
//! (a single cut's, from its rounded sums' bits, added up); the last part's needs a conversion
//! AVX2 lacks, and [`to_integers`] stands in for it.

use std::arch::x86_64::*;

use super::plan::F64_ADDS_PER_FLUSH;
use super::{BLOCK_BYTES, Range, padded};

mod columns;
mod range;
pub(super) use columns::f64_column_sums;
use range::{RangeLanes32, RangeLanes64};
pub(super) use range::{range_f32, range_f64};

/// How far ahead the sums ask for values, into the second-level cache (as on AVX-512).
const AHEAD: usize = 2 * BLOCK_BYTES;
// A lane takes below 2^53 per flush (avx512.rs): a block of 2048 f64 (or 4096 f32) flushes at
// most 2048 / 8 / 32 + 1 = 9 (or 4096 / 16 / 16 + 1 = 17) times, and both sets add into one
// integer lane, below 2 * 32 * 2^53 = 2^59; its four lanes below 2^61, an i64.
const _: () = assert!(BLOCK_BYTES / 64 / F64_ADDS_PER_FLUSH * 2 < 31);

/// The sum of f64 values' `bits` in `N` parts, and the block's range, as
/// `avx512::f64_sums` finds them (its doc has the cuts and the bounds the caller meets).
#[target_feature(enable = "avx2,fma")]
pub(super) fn f64_sums<const N: usize>(
    bits: &[u64],
    top: [i64; N],
    least: i64,
) -> ([i64; N], Range) {
    let cuts = Cuts::new(top, least);
    let mut integers = [_mm256_setzero_si256(); N];
    // The block's range on the way (a padded tail's zeros change nothing).
    let mut range = RangeLanes64::new();
    let (groups, tail) = bits.as_chunks::<8>();
    let padded = padded(tail);
    let last = padded.as_slice();
    // A group's two vectors go to the two sets: each lane takes one value a group.
    for flush in groups.chunks(F64_ADDS_PER_FLUSH).chain([last]) {
        let mut lanes = [cuts.lanes(); 2];
        for group in flush {
            _mm_prefetch::<_MM_HINT_T1>(group.as_ptr().cast::<i8>().wrapping_add(AHEAD));
            for (half, lanes) in lanes.iter_mut().enumerate() {
                // SAFETY: group holds 8 u64.
                let value = unsafe { _mm256_loadu_si256(group.as_ptr().add(4 * half).cast()) };
                range.take(value);
                cuts.take(lanes, _mm256_castsi256_pd(value));
            }
        }
        cuts.add_units(&mut integers, lanes);
    }
    (integers.map(|lanes| sum_lanes(lanes)), range.found(&[]))
}

/// As [`f64_sums`], for f32 values' `bits`, each made an f64 (exactly) before it is cut: the
/// caller's plan is made from the f32 range (plan.rs), in units of 2^`least` no finer than
/// 2^-149. Finds the range of `next`, the block after this one (no longer), on the way: each
/// block then has its own plan, where a guessed one would change between two parts and three
/// (the bench's blocks span 73 to 89 binades).
///
/// `SINGLE` (with `N` = 2): the cut takes each value alone, from 1.5 * 2^top[0] with values
/// below 2^(top[0] - 1), its rounded sum's bits added up as integers (no running sum to keep
/// in its binade: `Plan::Single`). Each such sum, less the start's bits, counts at most
/// 2^51 - 2^27 units (an f32 below 2^(top - 1) has its last bit at 2^(top - 25) or finer): a
/// block's 4096 below 2^63, an i64, which the wrapping adds reach whatever their order.
#[target_feature(enable = "avx2,fma")]
pub(super) fn f32_sums<const N: usize, const SINGLE: bool>(
    bits: &[u32],
    next: &[u32],
    top: [i64; N],
    least: i64,
) -> ([i64; N], Range) {
    debug_assert!(next.len() <= bits.len() && (!SINGLE || N == 2));
    let cuts = Cuts::new(top, least);
    let mut integers = [_mm256_setzero_si256(); N];
    // The single cut's rounded sums' bits, wrapping.
    let mut alone = _mm256_setzero_si256();
    let mut next_range = RangeLanes32::new();
    let (next_groups, next_tail) = next.as_chunks::<16>();
    let mut next_groups = next_groups.iter();
    let (groups, tail) = bits.as_chunks::<16>();
    let padded = padded(tail);
    let last = padded.as_slice();
    // A group's four vectors of f64 go two to each set: each lane takes two values a group.
    for flush in groups.chunks(F64_ADDS_PER_FLUSH / 2).chain([last]) {
        let mut lanes = [cuts.lanes(); 2];
        for group in flush {
            _mm_prefetch::<_MM_HINT_T1>(group.as_ptr().cast::<i8>().wrapping_add(AHEAD));
            for half in 0..2 {
                let at = group.as_ptr().wrapping_add(8 * half);
                // SAFETY (each): group holds 16 u32.
                let first = _mm256_cvtps_pd(unsafe { _mm_loadu_ps(at.cast()) });
                let second = _mm256_cvtps_pd(unsafe { _mm_loadu_ps(at.add(4).cast()) });
                if SINGLE {
                    cuts.take_alone(&mut lanes[0], &mut alone, first);
                    cuts.take_alone(&mut lanes[1], &mut alone, second);
                } else {
                    cuts.take(&mut lanes[0], first);
                    cuts.take(&mut lanes[1], second);
                }
            }
            // Past the next block's end, zeros, which change no range.
            take_range(&mut next_range, next_groups.next().unwrap_or(&[0; 16]));
        }
        cuts.add_units(&mut integers, lanes);
    }
    for next in next_groups {
        take_range(&mut next_range, next);
    }
    let mut sums = integers.map(|lanes| sum_lanes(lanes));
    if SINGLE {
        // Every value, the padding's zeros too, added its start's bits once.
        let values = 16 * (groups.len() + last.len()) as u64;
        let start = (1.5 * power_of_two(top[0])).to_bits();
        let alone = sum_lanes(alone).wrapping_sub(values.wrapping_mul(start) as i64);
        sums[0] = sums[0].wrapping_add(alone);
    }
    // No next block (a short sum's one block): what `found` would give, without its reductions.
    let next_range = if next.is_empty() {
        (None, 0)
    } else {
        next_range.found(next_tail)
    };
    (sums, next_range)
}

/// Takes a group of 16 f32 values' bits into `range`.
#[target_feature(enable = "avx2")]
#[inline]
fn take_range(range: &mut RangeLanes32, group: &[u32; 16]) {
    // SAFETY (each): group holds 16 u32.
    range.take(unsafe { _mm256_loadu_si256(group.as_ptr().cast()) });
    range.take(unsafe { _mm256_loadu_si256(group.as_ptr().add(8).cast()) });
}

/// The constants of `N` parts of values cut from 2^top[0] down (see `avx512::f64_sums`).
struct Cuts<const N: usize> {
    /// Each cut's running sum's start, 1.5 * 2^top[j]; the last part's lanes start at zero.
    starts: [__m256d; N],
    /// 2^-least, the last part's 1 / unit, in two factors (it may be 2^1074, which no f64
    /// holds).
    scale: [__m256d; 2],
    /// 1.0 in every lane, where the compiler cannot see it (as on AVX-512).
    one: __m256d,
}

impl<const N: usize> Cuts<N> {
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn new(top: [i64; N], least: i64) -> Self {
        Self {
            // The last part has no running sum (its top may lie below the normals).
            starts: std::array::from_fn(|j| {
                _mm256_set1_pd(if j + 1 < N {
                    1.5 * power_of_two(top[j])
                } else {
                    0.0
                })
            }),
            scale: [
                _mm256_set1_pd(power_of_two(-least / 2)),
                _mm256_set1_pd(power_of_two(-least - -least / 2)),
            ],
            one: _mm256_set1_pd(f64::from_bits(std::hint::black_box(1f64.to_bits()))),
        }
    }

    /// Fresh lanes: the cuts' running sums, and the last part's lanes.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn lanes(&self) -> [__m256d; N] {
        self.starts
    }

    /// Adds four values, a lane each, as `avx512::Cuts::take` does: the rest's subtraction and
    /// the last part's add on the multiply-add units, by one.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn take(&self, lanes: &mut [__m256d; N], value: __m256d) {
        self.take_from(0, lanes, value);
    }

    /// As `take`, the first cut taking each value alone (`f32_sums`' `SINGLE`): its rounded
    /// sums' bits go to `alone`, and its lanes keep their start.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn take_alone(&self, lanes: &mut [__m256d; N], alone: &mut __m256i, value: __m256d) {
        let rounded = _mm256_add_pd(self.starts[0], value);
        let rest = _mm256_fnmadd_pd(_mm256_sub_pd(rounded, self.starts[0]), self.one, value);
        *alone = _mm256_add_epi64(*alone, _mm256_castpd_si256(rounded));
        self.take_from(1, lanes, rest);
    }

    /// Adds four values' rests from cut `first` on.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn take_from(&self, first: usize, lanes: &mut [__m256d; N], value: __m256d) {
        let mut rest = value;
        for running in &mut lanes[first..N - 1] {
            let rounded = _mm256_add_pd(*running, rest);
            rest = _mm256_fnmadd_pd(_mm256_sub_pd(rounded, *running), self.one, rest);
            *running = rounded;
        }
        lanes[N - 1] = _mm256_fmadd_pd(rest, self.one, lanes[N - 1]);
    }

    /// The lanes' parts as integers of their units.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn units(&self, lanes: [__m256d; N]) -> [__m256i; N] {
        std::array::from_fn(|j| {
            if j + 1 < N {
                // A cut's running sum lies in its start's binade, [2^top, 2^(top + 1)), where
                // an f64's bits count its unit, 2^(top - 52): the bits' difference is the sum.
                _mm256_sub_epi64(
                    _mm256_castpd_si256(lanes[j]),
                    _mm256_castpd_si256(self.starts[j]),
                )
            } else {
                // The last part's sum: a multiple of its unit below 2^53 units, exact scaled.
                let [first, second] = self.scale;
                to_integers(_mm256_mul_pd(_mm256_mul_pd(lanes[j], first), second))
            }
        })
    }

    /// Adds both sets' parts, as integers of their units, to `integers`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn add_units(&self, integers: &mut [__m256i; N], sets: [[__m256d; N]; 2]) {
        for lanes in sets {
            for (integer, units) in integers.iter_mut().zip(self.units(lanes)) {
                *integer = _mm256_add_epi64(*integer, units);
            }
        }
    }
}

/// Each lane's integer value (|x| <= 2^53) as an i64. Adding 1.5 * 2^54 rounds it to a multiple
/// of four in [2^54, 2^55], whose bits count the fours from the constant's (the count goes on
/// across 2^55, where the step doubles); what the rounding left, at most 2 in magnitude, is
/// exact as a difference, and counted in ones from 1.5 * 2^52 the same way.
#[target_feature(enable = "avx2")]
#[inline]
fn to_integers(x: __m256d) -> __m256i {
    let fours_from = _mm256_set1_pd(1.5 * power_of_two(54));
    let ones_from = _mm256_set1_pd(1.5 * power_of_two(52));
    let rounded = _mm256_add_pd(x, fours_from);
    let rest = _mm256_sub_pd(x, _mm256_sub_pd(rounded, fours_from));
    let count = |from: __m256d, at: __m256d| {
        _mm256_sub_epi64(_mm256_castpd_si256(at), _mm256_castpd_si256(from))
    };
    let fours = count(fours_from, rounded);
    let ones = count(ones_from, _mm256_add_pd(rest, ones_from));
    _mm256_add_epi64(_mm256_slli_epi64::<2>(fours), ones)
}

/// The sum of four i64 lanes, wrapping as AVX-512's reduction does: a block summed under a
/// guessed plan that does not hold is thrown away, and its lanes may hold anything.
#[target_feature(enable = "avx2")]
#[inline]
fn sum_lanes(lanes: __m256i) -> i64 {
    let mut each = [0i64; 4];
    // SAFETY: each holds 32 bytes.
    unsafe { _mm256_storeu_si256(each.as_mut_ptr().cast(), lanes) };
    each.iter().fold(0, |sum, &lane| sum.wrapping_add(lane))
}

/// 2^exponent (a normal f64: -1022 <= exponent <= 1023).
fn power_of_two(exponent: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&exponent));
    f64::from_bits(((1023 + exponent) as u64) << 52)
}
