//! The fast path for blocks of `f32` values of moderate range: exact adds in `f64` vector lanes.
//!
//! An `f32` is exact as an `f64`, and so is a sum of `f32` values as long as it stays on their
//! grid: values whose biased exponents lie in a window of [`SPAN`] binades are multiples of the
//! window's smallest unit `g` below 2^(23 + SPAN) g, so 2^(30 - SPAN) of them sum below 2^53 g,
//! where every multiple of `g` is an `f64`: each add is exact. A block's values go into one set of
//! lanes per window (a masked vector add each), and every [`ADDS_PER_FLUSH`] adds a lane is
//! scaled by 1/g and converted to an integer. This spends a share of a vector add per value where
//! the bins (bins.rs) spend a scalar add to memory: 2.0e9 f32 values/s from the bins against
//! 3.9e9 to 5.5e9 here in the L1 cache for 4 to 3 windows (AVX-512, the CI-class AMD EPYC).
//!
//! Only AVX-512 has the masked adds that make this pay; other sets, blocks holding an infinity
//! or NaN and blocks spread over more than [`MAX_WINDOWS`] windows go to the bins.

use super::{ADDS_PER_NORMALIZE, ExactFloat, ExactFloatSum};
use crate::cpu::Isa;

/// Binades of exponent one set of lanes takes.
const SPAN: u32 = 26;
/// Masked adds into a lane between its conversions: each below 2^(23 + SPAN) g, 2^(30 - SPAN)
/// of them below 2^53 g.
const ADDS_PER_FLUSH: usize = 1 << (30 - SPAN);
/// Values per block: its range is found in one pass and its sum in a second, from the L1 cache.
/// A lane's integer takes below 2^53 per flush, and a block at most 4096 / 16 / 16 + 1 = 17
/// flushes: below 2^58, and a window's 16 lanes below 2^62, an `i64`.
pub(crate) const BLOCK: usize = 4096;
/// Windows past which the bins are faster (in the L1 cache: 6 windows 3.0e9 values/s, bins
/// 2.0e9; out of it the windows also wait for memory).
const MAX_WINDOWS: u32 = 5;
const _: () = assert!(MAX_WINDOWS == 5, "add's match has an arm for each count");

/// Adds `values` to `sum`'s digits a block at a time through the lanes, handing `bins` each
/// block they do not take (one holding an infinity or a NaN, or spread over more than
/// [`MAX_WINDOWS`] windows), and returns true; where `isa` has no lanes for `T`, adds nothing and
/// returns false. Counts nothing, and leaves -0.0 to the caller.
pub(crate) fn add<T: ExactFloat>(
    isa: Isa,
    sum: &mut ExactFloatSum<T>,
    values: &[T],
    mut bins: impl FnMut(&mut ExactFloatSum<T>, &[T]),
) -> bool {
    if T::TAG != 4 || !has_lanes(isa) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let bits: &[u32] = bytemuck::cast_slice(values);
        for (block, values) in bits.chunks(BLOCK).zip(values.chunks(BLOCK)) {
            // SAFETY (each x86 call): has_lanes checked AVX-512 F and DQ.
            let (least, greatest) = unsafe { x86::range(block) };
            let Some(least) = least else {
                // Zeros only.
                continue;
            };
            let base = (least >> 23).max(1);
            let windows = ((greatest >> 23).max(1) - base) / SPAN + 1;
            match windows {
                _ if greatest >= 0x7f80_0000 || windows > MAX_WINDOWS => bins(sum, values),
                1 => place_windows(sum, base, unsafe { x86::window_sums::<1>(block, base) }),
                2 => place_windows(sum, base, unsafe { x86::window_sums::<2>(block, base) }),
                3 => place_windows(sum, base, unsafe { x86::window_sums::<3>(block, base) }),
                4 => place_windows(sum, base, unsafe { x86::window_sums::<4>(block, base) }),
                _ => place_windows(sum, base, unsafe { x86::window_sums::<5>(block, base) }),
            }
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (sum, values, &mut bins);
        unreachable!("has_lanes is false off x86-64")
    }
}

/// Whether `isa` is AVX-512 with DQ (its f64-to-i64 conversion) on this CPU.
fn has_lanes(isa: Isa) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        isa == Isa::Avx512 && isa.is_available() && std::arch::is_x86_feature_detected!("avx512dq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = isa;
        false
    }
}

/// Places window sums from biased exponent `base` (window w in units of 2^(base + w SPAN - 150))
/// into `sum`'s digits.
#[cfg(target_arch = "x86_64")]
fn place_windows<T: ExactFloat, const N: usize>(
    sum: &mut ExactFloatSum<T>,
    base: u32,
    totals: [i64; N],
) {
    for (window, total) in totals.into_iter().enumerate() {
        // In units of the smallest subnormal, 2^-149.
        place(sum, total, base + window as u32 * SPAN - 1);
    }
}

/// Adds `units * 2^shift` units of the smallest subnormal to `sum`'s digits.
fn place<T: ExactFloat>(sum: &mut ExactFloatSum<T>, units: i64, shift: u32) {
    if units == 0 {
        return;
    }
    if sum.pending >= ADDS_PER_NORMALIZE {
        sum.normalize();
    }
    sum.pending += 1;
    sum.add_shifted(units.unsigned_abs(), shift, units < 0);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::BLOCK;
    use super::{ADDS_PER_FLUSH, SPAN};

    const LANES: usize = 16;

    /// The bits of the least nonzero magnitude (none if every value is zero) and of the greatest.
    pub(super) type Range = (Option<u32>, u32);

    /// Least and greatest magnitudes, lane by lane: magnitudes less one, wrapping, for the least,
    /// so that a zero becomes the greatest and never the least.
    struct RangeLanes {
        least: __m512i,
        greatest: __m512i,
    }

    // Inlined into their callers, which are built for AVX-512 (a call to a function built for
    // it apart cost a third of the sum's time).
    impl RangeLanes {
        /// # Safety
        /// Only from code built for AVX-512 F.
        #[inline(always)]
        unsafe fn new() -> Self {
            // SAFETY: the caller is built for AVX-512 F.
            unsafe {
                Self {
                    least: _mm512_set1_epi32(-1),
                    greatest: _mm512_setzero_si512(),
                }
            }
        }

        /// # Safety
        /// Only from code built for AVX-512 F.
        #[inline(always)]
        unsafe fn take(&mut self, group: &[u32; LANES]) {
            // SAFETY: the caller is built for AVX-512 F; group holds 16 u32.
            unsafe {
                let value = _mm512_loadu_si512(group.as_ptr().cast());
                let magnitude = _mm512_and_si512(value, _mm512_set1_epi32(0x7fff_ffff));
                let less_one = _mm512_sub_epi32(magnitude, _mm512_set1_epi32(1));
                self.least = _mm512_min_epu32(self.least, less_one);
                self.greatest = _mm512_max_epu32(self.greatest, magnitude);
            }
        }

        /// # Safety
        /// Only from code built for AVX-512 F.
        #[inline(always)]
        unsafe fn range(self, tail: &[u32]) -> Range {
            // SAFETY: the caller is built for AVX-512 F.
            let (mut least, mut greatest) = unsafe {
                (
                    _mm512_reduce_min_epu32(self.least),
                    _mm512_reduce_max_epu32(self.greatest),
                )
            };
            for &value in tail {
                least = least.min((value & 0x7fff_ffff).wrapping_sub(1));
                greatest = greatest.max(value & 0x7fff_ffff);
            }
            (least.checked_add(1), greatest)
        }
    }

    /// How far ahead the sum pass asks for values: a block.
    const AHEAD: usize = BLOCK * 4;

    /// The range of `bits`.
    #[target_feature(enable = "avx512f")]
    pub(super) fn range(bits: &[u32]) -> Range {
        let (groups, tail) = bits.as_chunks::<LANES>();
        // SAFETY (each): built for AVX-512 F.
        let mut lanes = unsafe { RangeLanes::new() };
        for group in groups {
            unsafe { lanes.take(group) };
        }
        unsafe { lanes.range(tail) }
    }

    /// The sums of `bits`' values in windows of `SPAN` binades from biased exponent `base`
    /// (the least nonzero value's, at least 1), window w in units of 2^(base + w SPAN - 150).
    /// The caller has checked that `N` windows hold every value and that none is special.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) fn window_sums<const N: usize>(bits: &[u32], base: u32) -> [i64; N] {
        let magnitude = _mm512_set1_epi32(0x7fff_ffff);
        let width = _mm512_set1_epi32((SPAN << 23) as i32);
        // Where window w + 1 starts; the last window's is never compared (and capped so that
        // it does not overflow).
        let starts: [__m512i; N] = std::array::from_fn(|w| {
            let exponent = (base + (w as u32 + 1) * SPAN).min(0xff);
            _mm512_set1_epi32((exponent << 23) as i32)
        });
        // 1 / g of each window: 2^(150 - base - w SPAN), from 2^149 down, an f64.
        let scales: [__m512d; N] = std::array::from_fn(|w| {
            let exponent = 150 - i64::from(base + w as u32 * SPAN);
            _mm512_set1_pd(f64::from_bits(((1023 + exponent) as u64) << 52))
        });
        let mut integers = [[_mm512_setzero_si512(); 2]; N];
        let (groups, tail) = bits.as_chunks::<LANES>();
        let mut padded = [0u32; LANES];
        padded[..tail.len()].copy_from_slice(tail);
        let last: &[[u32; LANES]] = if tail.is_empty() { &[] } else { &[padded] };
        for flush in groups.chunks(ADDS_PER_FLUSH).chain([last]) {
            let mut lanes = [[_mm512_setzero_pd(); 2]; N];
            for group in flush {
                // The next block, while this one sums from the cache: its range pass then
                // finds it there.
                _mm_prefetch::<_MM_HINT_T0>(group.as_ptr().cast::<i8>().wrapping_add(AHEAD));
                // SAFETY: group holds 16 u32.
                let value = unsafe { _mm512_loadu_si512(group.as_ptr().cast()) };
                let abs = _mm512_and_si512(value, magnitude);
                let low = _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_castsi512_ps(value)));
                let high =
                    _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_extracti64x4_epi64::<1>(value)));
                for w in 0..N {
                    // Window w holds magnitudes from starts[w - 1] up to starts[w]: for a
                    // middle one, the offset from its start below its width, wrapping (one
                    // compare where two would cost more mask-register work, which bounds this
                    // loop).
                    let inside: __mmask16 = if N == 1 {
                        0xffff
                    } else if w == 0 {
                        _mm512_cmplt_epu32_mask(abs, starts[0])
                    } else if w + 1 == N {
                        _mm512_cmpge_epu32_mask(abs, starts[w - 1])
                    } else {
                        _mm512_cmplt_epu32_mask(_mm512_sub_epi32(abs, starts[w - 1]), width)
                    };
                    let [low_lanes, high_lanes] = &mut lanes[w];
                    *low_lanes = _mm512_mask_add_pd(*low_lanes, inside as u8, *low_lanes, low);
                    *high_lanes =
                        _mm512_mask_add_pd(*high_lanes, (inside >> 8) as u8, *high_lanes, high);
                }
            }
            for w in 0..N {
                for half in 0..2 {
                    // An integer multiple of g below 2^53 g: exact after scaling, and as an i64.
                    let units = _mm512_cvtpd_epi64(_mm512_mul_pd(lanes[w][half], scales[w]));
                    integers[w][half] = _mm512_add_epi64(integers[w][half], units);
                }
            }
        }
        std::array::from_fn(|w| {
            _mm512_reduce_add_epi64(_mm512_add_epi64(integers[w][0], integers[w][1]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sums `values` through the lanes on AVX-512, the blocks they leave one value at a time,
    /// checks the digits against one value at a time, and returns how many values they left.
    fn left_by_lanes(values: &[f32]) -> usize {
        let mut sum = ExactFloatSum::<f32>::new();
        let mut left = 0;
        let laned = add(Isa::Avx512, &mut sum, values, |sum, block| {
            left += block.len();
            sum.add_each(block);
        });
        assert!(laned);
        sum.count = values.len() as u64;
        sum.not_negative_zero = values.iter().any(|v| v.to_bits() != 0x8000_0000);
        let mut expected = ExactFloatSum::new();
        for &value in values {
            expected.add(value).unwrap();
        }
        let first = &values[..8.min(values.len())];
        assert_eq!(sum.to_bytes(), expected.to_bytes(), "{first:?}");
        left
    }

    /// Values over `binades` binades from biased exponent `lowest`, both signs, every length
    /// of significand.
    fn spread(count: usize, lowest: u32, binades: u32, seed: u32) -> Vec<f32> {
        (0..count as u32)
            .map(|k| {
                let mixed = (k ^ seed).wrapping_mul(0x9e37_79b9).rotate_left(k % 29);
                let exponent = lowest + mixed % binades;
                f32::from_bits(mixed & 0x807f_ffff | exponent << 23)
            })
            .collect()
    }

    /// True, said loudly, where this CPU cannot run the lanes (their tests then have nothing
    /// to check: every block goes to the bins, which their own tests cover).
    #[allow(clippy::print_stderr)]
    fn no_lanes_here() -> bool {
        let missing = !has_lanes(Isa::Avx512);
        if missing {
            eprintln!("\n!!!!! no AVX-512 DQ on this CPU: the lanes' tests are skipped !!!!!\n");
        }
        missing
    }

    #[test]
    fn lanes_give_the_digits_of_one_value_at_a_time() {
        if no_lanes_here() {
            return;
        }
        for windows in 1..=MAX_WINDOWS {
            for len in [
                1,
                15,
                16,
                17,
                255,
                256,
                257,
                1000,
                BLOCK - 1,
                BLOCK,
                3 * BLOCK + 5,
            ] {
                let binades = windows * SPAN;
                let lowest = [1, 40, 254 - binades][len % 3];
                let values = spread(len, lowest, binades, windows);
                assert_eq!(left_by_lanes(&values), 0, "{windows} windows, {len} values");
            }
        }
        // Subnormals, zeros of both signs and the largest finite values in one block.
        let mut edges = spread(BLOCK, 200, 54, 7);
        for (k, value) in edges.iter_mut().enumerate().step_by(5) {
            let edge = [
                0.0,
                -0.0,
                f32::from_bits(1),
                -f32::from_bits(0x7f_ffff),
                f32::MAX,
            ];
            *value = edge[k / 5 % 5];
        }
        assert_eq!(
            left_by_lanes(&edges),
            BLOCK,
            "254 binades are too many windows"
        );
        edges.retain(|v| v.abs() < 1e-30);
        assert_eq!(left_by_lanes(&edges), 0);
        assert_eq!(left_by_lanes(&[0.0, -0.0, 0.0]), 0);
        assert_eq!(left_by_lanes(&[-0.0]), 0);
        // Every value the largest of its window, and the least: the bounds the flushes keep.
        for windows in 1..=MAX_WINDOWS {
            let top = windows * SPAN;
            let mut values = vec![f32::from_bits(top << 23 | 0x7f_ffff); BLOCK];
            values[0] = f32::from_bits(1);
            assert_eq!(left_by_lanes(&values), 0, "{windows}");
            values.iter_mut().skip(1).step_by(2).for_each(|v| *v = -*v);
            assert_eq!(left_by_lanes(&values), 0, "{windows}");
        }
    }

    #[test]
    fn blocks_the_lanes_cannot_take_go_to_the_bins_and_the_rest_still_add() {
        if no_lanes_here() {
            return;
        }
        let mut special = spread(BLOCK, 100, 10, 1);
        special[50] = f32::INFINITY;
        let mut nan = spread(BLOCK, 100, 10, 2);
        nan[BLOCK - 1] = f32::NAN;
        let mut wide = spread(BLOCK, 1, MAX_WINDOWS * SPAN, 3);
        wide[7] = f32::from_bits(1 << 23);
        assert_eq!(left_by_lanes(&wide), 0, "{MAX_WINDOWS} windows");
        wide[9] = f32::from_bits((1 + MAX_WINDOWS * SPAN) << 23);
        // Blocks in turn that the lanes take and leave, so that each range found beside a sum
        // or apart serves the block after it.
        let blocks = [
            spread(BLOCK, 60, 70, 4),
            special,
            spread(BLOCK, 1, 3, 5),
            vec![0.0; BLOCK],
            wide,
            spread(BLOCK, 120, 100, 6),
            nan,
            spread(BLOCK - 3, 30, 20, 7),
        ];
        let left = [0, BLOCK, 0, 0, BLOCK, 0, BLOCK, 0];
        for start in 0..blocks.len() {
            let values = blocks[start..].concat();
            assert_eq!(
                left_by_lanes(&values),
                left[start..].iter().sum(),
                "from {start}"
            );
        }
    }

    #[test]
    fn only_f32_on_avx512_takes_the_lanes() {
        let mut doubles = ExactFloatSum::<f64>::new();
        assert!(!add(Isa::Avx512, &mut doubles, &[1.0f64; 64], |_, _| {}));
        let mut singles = ExactFloatSum::<f32>::new();
        assert!(!add(Isa::Avx2, &mut singles, &[1.0f32; 64], |_, _| {}));
    }
}
