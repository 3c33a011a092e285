//! Decoding a chunk of float values for the bins (bins.rs), once per instruction set: each
//! value's slot (its sign and biased exponent, times the lanes) and its significand (with the
//! implicit bit of a normal value), and the lowest and highest biased exponent in the chunk.
//!
//! The decode runs in vector registers; the adds that follow are one scalar add per value, which
//! no vector unit does faster (every value goes to a slot its bits choose). For `f32`, slot and
//! significand share one word (`significand | slot << 48`), so the add loop loads one word per
//! value instead of two.

use super::bins::LANES;
use crate::cpu::Isa;

/// Values decoded and added at a time: the buffers stay in the L1 cache.
pub(crate) const CHUNK: usize = 256;

/// How far ahead of the values being decoded the next ones are asked for. The add loop does too
/// much per value for the core to run far ahead on its own: on the 2-core CI-class VM (an Intel
/// Xeon), 2^24 f64 values summed at 3.0e8 values/s on one thread without it and 1.0e9 with it
/// (1024 bytes ahead: 0.9e9; measured on the one-value-at-a-time loop before this one).
pub(crate) const PREFETCH_BYTES: usize = 4096;

/// One chunk, decoded.
pub(crate) struct Decoded {
    /// f64: each value's significand. f32: `significand | slot << 48`.
    pub(crate) words: [u64; CHUNK],
    /// f64: each value's slot (f32 keeps it in `words`).
    pub(crate) slots: [u16; CHUNK],
}

impl Decoded {
    pub(crate) fn new() -> Self {
        Self {
            words: [0; CHUNK],
            slots: [0; CHUNK],
        }
    }
}

/// Lowest and highest biased exponent seen; none as `(u32::MAX, 0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exponents {
    pub(crate) lowest: u32,
    pub(crate) highest: u32,
}

impl Exponents {
    pub(crate) const NONE: Exponents = Exponents {
        lowest: u32::MAX,
        highest: 0,
    };

    /// Whether no exponent was seen.
    pub(crate) fn is_empty(self) -> bool {
        self.lowest > self.highest
    }

    pub(crate) fn with(self, other: Exponents) -> Exponents {
        Exponents {
            lowest: self.lowest.min(other.lowest),
            highest: self.highest.max(other.highest),
        }
    }
}

/// Asks for the cache line at `address` (which may lie past the data: a prefetch never faults).
#[inline(always)]
pub(crate) fn prefetch(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Asks for the cache lines `ahead` bytes past each of `bytes`' lines.
fn prefetch_ahead(bytes: &[u8], ahead: usize) {
    for line in (0..bytes.len()).step_by(64) {
        prefetch(bytes.as_ptr().wrapping_add(line + ahead));
    }
}

const LANE_SHIFT: u32 = LANES.trailing_zeros();

/// Decodes `values` (at most [`CHUNK`]) into `out` with `isa` (a set this CPU lacks, or one with
/// no kernel of its own, decodes portably), asking for the bytes `ahead` past them: the whole
/// array's bins read on ([`PREFETCH_BYTES`]); column bins read elsewhere next, and ask for 0.
pub(crate) fn decode_f64(isa: Isa, values: &[f64], out: &mut Decoded, ahead: usize) -> Exponents {
    debug_assert!(values.len() <= CHUNK);
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512 F, checked by is_available.
        Isa::Avx512 if isa.is_available() => unsafe { x86::f64_avx512(values, out, ahead) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX2, checked by is_available.
        Isa::Avx2 if isa.is_available() => unsafe { x86::f64_avx2(values, out, ahead) },
        #[cfg(target_arch = "x86_64")]
        _ => x86::f64_sse2(values, out, ahead),
        #[cfg(not(target_arch = "x86_64"))]
        _ => f64_portable(values, out, 0, ahead),
    }
}

/// As [`decode_f64`], for `f32`.
pub(crate) fn decode_f32(isa: Isa, values: &[f32], out: &mut Decoded) -> Exponents {
    debug_assert!(values.len() <= CHUNK);
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512 F, checked by is_available.
        Isa::Avx512 if isa.is_available() => unsafe { x86::f32_avx512(values, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX2, checked by is_available.
        Isa::Avx2 if isa.is_available() => unsafe { x86::f32_avx2(values, out) },
        _ => f32_portable(values, out, 0),
    }
}

/// The reference decode (and every other set's): values from `start` on. Written as passes a
/// baseline vectorizer takes whole (SSE2 and NEON): the exponents' lowest and highest in eight
/// i16 lanes (an exponent is below 2^11), then each value's word and slot.
fn f64_portable(values: &[f64], out: &mut Decoded, start: usize, ahead: usize) -> Exponents {
    let bits: &[u64] = bytemuck::cast_slice(&values[start..]);
    prefetch_ahead(bytemuck::cast_slice(bits), ahead);
    let words = &mut out.words[start..values.len()];
    for (word, &bits) in words.iter_mut().zip(bits) {
        let exponent = (bits << 1) >> 53;
        *word = bits & ((1 << 52) - 1) | exponent.min(1) << 52;
    }
    let slots = &mut out.slots[start..values.len()];
    for (slot, &bits) in slots.iter_mut().zip(bits) {
        *slot = ((bits >> 52) as u16) << LANE_SHIFT;
    }
    // From the u16 slots, which narrow vectors take eight at a time.
    exponent_range(slots, |slot| ((slot >> LANE_SHIFT) & 0x7ff) as i16)
}

/// As [`f64_portable`], for `f32`.
fn f32_portable(values: &[f32], out: &mut Decoded, start: usize) -> Exponents {
    let bits: &[u32] = bytemuck::cast_slice(&values[start..]);
    prefetch_ahead(bytemuck::cast_slice(bits), PREFETCH_BYTES);
    let exponents = exponent_range(bits, |bits| ((bits << 1) >> 24) as i16);
    for (word, &bits) in out.words[start..values.len()].iter_mut().zip(bits) {
        let exponent = (bits << 1) >> 24;
        let significand = bits & ((1 << 23) - 1) | exponent.min(1) << 23;
        let slot = (bits >> 23) << (LANE_SHIFT + 16);
        *word = u64::from(significand) | u64::from(slot) << 32;
    }
    exponents
}

/// The lowest and highest `exponent(bits)` over `bits`, in eight lanes.
#[inline(always)]
fn exponent_range<B: Copy>(bits: &[B], exponent: impl Fn(B) -> i16) -> Exponents {
    if bits.is_empty() {
        return Exponents::NONE;
    }
    let mut lowest = [i16::MAX; 8];
    let mut highest = [0i16; 8];
    let (groups, tail) = bits.as_chunks::<8>();
    for group in groups {
        for lane in 0..8 {
            lowest[lane] = lowest[lane].min(exponent(group[lane]));
            highest[lane] = highest[lane].max(exponent(group[lane]));
        }
    }
    for (lane, &bits) in tail.iter().enumerate() {
        lowest[lane] = lowest[lane].min(exponent(bits));
        highest[lane] = highest[lane].max(exponent(bits));
    }
    Exponents {
        lowest: lowest.into_iter().min().unwrap_or(0) as u32,
        highest: highest.into_iter().max().unwrap_or(0) as u32,
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Decoded, Exponents, LANE_SHIFT, PREFETCH_BYTES, f32_portable, f64_portable};

    /// Eight values per register; what a whole register cannot take goes portably.
    #[target_feature(enable = "avx512f")]
    pub(super) fn f64_avx512(values: &[f64], out: &mut Decoded, ahead: usize) -> Exponents {
        let fraction = _mm512_set1_epi64((1 << 52) - 1);
        let one = _mm512_set1_epi64(1);
        let mut lowest = _mm512_set1_epi64(i64::MAX);
        let mut highest = _mm512_setzero_si512();
        let whole = values.len() / 8 * 8;
        for k in (0..whole).step_by(8) {
            // SAFETY: k + 8 <= whole <= values.len() <= CHUNK, the buffers' length.
            unsafe {
                let at = values.as_ptr().add(k).cast::<u8>();
                _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(ahead).cast());
                let bits = _mm512_loadu_si512(at.cast());
                let exponent = _mm512_srli_epi64::<53>(_mm512_slli_epi64::<1>(bits));
                lowest = _mm512_min_epu64(lowest, exponent);
                highest = _mm512_max_epu64(highest, exponent);
                let implicit = _mm512_slli_epi64::<52>(_mm512_min_epu64(exponent, one));
                // (bits & fraction) | implicit
                let significand = _mm512_ternarylogic_epi64::<0xEA>(bits, fraction, implicit);
                _mm512_storeu_si512(out.words.as_mut_ptr().add(k).cast(), significand);
                let slot = _mm512_slli_epi64::<LANE_SHIFT>(_mm512_srli_epi64::<52>(bits));
                _mm_storeu_si128(
                    out.slots.as_mut_ptr().add(k).cast(),
                    _mm512_cvtepi64_epi16(slot),
                );
            }
        }
        let vector = Exponents {
            lowest: _mm512_reduce_min_epu64(lowest) as u32,
            highest: _mm512_reduce_max_epu64(highest) as u32,
        };
        vector.with(f64_portable(values, out, whole, ahead))
    }

    /// Four values per register. AVX2 has no 64-bit unsigned min or max: exponents sit in the
    /// low half of each lane with a zero high half, so the 32-bit ones serve.
    #[target_feature(enable = "avx2")]
    pub(super) fn f64_avx2(values: &[f64], out: &mut Decoded, ahead: usize) -> Exponents {
        let fraction = _mm256_set1_epi64x((1 << 52) - 1);
        let one = _mm256_set1_epi64x(1);
        let mut lowest = _mm256_set1_epi64x(0x7ff);
        let mut highest = _mm256_setzero_si256();
        let whole = values.len() / 4 * 4;
        for k in (0..whole).step_by(4) {
            // SAFETY: k + 4 <= whole <= values.len() <= CHUNK, the buffers' length.
            unsafe {
                let at = values.as_ptr().add(k).cast::<u8>();
                if k % 8 == 0 {
                    _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(ahead).cast());
                }
                let bits = _mm256_loadu_si256(at.cast());
                let exponent = _mm256_srli_epi64::<53>(_mm256_slli_epi64::<1>(bits));
                lowest = _mm256_min_epu32(lowest, exponent);
                highest = _mm256_max_epu32(highest, exponent);
                let implicit = _mm256_slli_epi64::<52>(_mm256_min_epu32(exponent, one));
                let significand = _mm256_or_si256(_mm256_and_si256(bits, fraction), implicit);
                _mm256_storeu_si256(out.words.as_mut_ptr().add(k).cast(), significand);
                let slot =
                    _mm256_slli_epi64::<{ LANE_SHIFT as i32 }>(_mm256_srli_epi64::<52>(bits));
                // The low halves of the four lanes, in order, then as four u16.
                let halves = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
                let low = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(slot, halves));
                _mm_storel_epi64(
                    out.slots.as_mut_ptr().add(k).cast(),
                    _mm_packus_epi32(low, low),
                );
            }
        }
        // The exponents are the even u32 lanes.
        let vector = Exponents {
            lowest: horizontal(lowest, 2, u32::min),
            highest: horizontal(highest, 2, u32::max),
        };
        vector.with(f64_portable(values, out, whole, ahead))
    }

    /// Two values per register, with x86-64's baseline alone: it has no 64-bit compare, min or
    /// max, but an exponent lies in a lane's low 16 bits with zeros above, so the 32- and
    /// 16-bit ones serve.
    pub(super) fn f64_sse2(values: &[f64], out: &mut Decoded, ahead: usize) -> Exponents {
        // SAFETY: SSE2 is part of x86-64; every pointer below stays inside values and out.
        unsafe {
            let fraction = _mm_set1_epi64x((1 << 52) - 1);
            let implicit_bit = _mm_set1_epi64x(1 << 52);
            let mut lowest = _mm_set1_epi64x(0x7ff);
            let mut highest = _mm_setzero_si128();
            let whole = values.len() / 2 * 2;
            for k in (0..whole).step_by(2) {
                let at = values.as_ptr().add(k).cast::<u8>();
                if k % 8 == 0 {
                    _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(ahead).cast());
                }
                let bits = _mm_loadu_si128(at.cast());
                let exponent = _mm_srli_epi64::<53>(_mm_slli_epi64::<1>(bits));
                lowest = _mm_min_epi16(lowest, exponent);
                highest = _mm_max_epi16(highest, exponent);
                // All ones in a lane whose exponent is zero (its low half's mask, copied up).
                let zero = _mm_shuffle_epi32::<0b10_10_00_00>(_mm_cmpeq_epi32(
                    exponent,
                    _mm_setzero_si128(),
                ));
                let implicit = _mm_andnot_si128(zero, implicit_bit);
                let significand = _mm_or_si128(_mm_and_si128(bits, fraction), implicit);
                _mm_storeu_si128(out.words.as_mut_ptr().add(k).cast(), significand);
                let slot = _mm_slli_epi64::<{ LANE_SHIFT as i32 }>(_mm_srli_epi64::<52>(bits));
                // The two slots are the low u16 of u32 lanes 0 and 2.
                let packed =
                    _mm_shufflelo_epi16::<0b11_11_10_00>(_mm_shuffle_epi32::<0b11_11_10_00>(slot));
                let pair = _mm_cvtsi128_si32(packed) as u32;
                out.slots[k] = pair as u16;
                out.slots[k + 1] = (pair >> 16) as u16;
            }
            let mut low = [0u16; 8];
            let mut high = [0u16; 8];
            _mm_storeu_si128(low.as_mut_ptr().cast(), lowest);
            _mm_storeu_si128(high.as_mut_ptr().cast(), highest);
            // The exponents are u16 lanes 0 and 4.
            let vector = Exponents {
                lowest: low[0].min(low[4]).into(),
                highest: high[0].max(high[4]).into(),
            };
            vector.with(f64_portable(values, out, whole, ahead))
        }
    }

    /// Sixteen values per register, packed with their slots two words per value pair.
    #[target_feature(enable = "avx512f")]
    pub(super) fn f32_avx512(values: &[f32], out: &mut Decoded) -> Exponents {
        let fraction = _mm512_set1_epi32((1 << 23) - 1);
        let one = _mm512_set1_epi32(1);
        let mut lowest = _mm512_set1_epi32(i32::MAX);
        let mut highest = _mm512_setzero_si512();
        let whole = values.len() / 16 * 16;
        for k in (0..whole).step_by(16) {
            // SAFETY: k + 16 <= whole <= values.len() <= CHUNK, the buffer's length.
            unsafe {
                let at = values.as_ptr().add(k).cast::<u8>();
                _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(PREFETCH_BYTES).cast());
                let bits = _mm512_loadu_si512(at.cast());
                let exponent = _mm512_srli_epi32::<24>(_mm512_slli_epi32::<1>(bits));
                lowest = _mm512_min_epu32(lowest, exponent);
                highest = _mm512_max_epu32(highest, exponent);
                let implicit = _mm512_slli_epi32::<23>(_mm512_min_epu32(exponent, one));
                let significand = _mm512_ternarylogic_epi32::<0xEA>(bits, fraction, implicit);
                // The slot in the top 16 bits of the word's high half.
                let slot = _mm512_slli_epi32::<{ LANE_SHIFT + 16 }>(_mm512_srli_epi32::<23>(bits));
                // Interleaving reorders the values within the chunk, which a sum does not see.
                let words = out.words.as_mut_ptr().add(k);
                _mm512_storeu_si512(words.cast(), _mm512_unpacklo_epi32(significand, slot));
                _mm512_storeu_si512(
                    words.add(8).cast(),
                    _mm512_unpackhi_epi32(significand, slot),
                );
            }
        }
        let vector = Exponents {
            lowest: _mm512_reduce_min_epu32(lowest),
            highest: _mm512_reduce_max_epu32(highest),
        };
        vector.with(f32_portable(values, out, whole))
    }

    /// Eight values per register, packed as in [`f32_avx512`].
    #[target_feature(enable = "avx2")]
    pub(super) fn f32_avx2(values: &[f32], out: &mut Decoded) -> Exponents {
        let fraction = _mm256_set1_epi32((1 << 23) - 1);
        let one = _mm256_set1_epi32(1);
        let mut lowest = _mm256_set1_epi32(0xff);
        let mut highest = _mm256_setzero_si256();
        let whole = values.len() / 8 * 8;
        for k in (0..whole).step_by(8) {
            // SAFETY: k + 8 <= whole <= values.len() <= CHUNK, the buffer's length.
            unsafe {
                let at = values.as_ptr().add(k).cast::<u8>();
                if k % 16 == 0 {
                    _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(PREFETCH_BYTES).cast());
                }
                let bits = _mm256_loadu_si256(at.cast());
                let exponent = _mm256_srli_epi32::<24>(_mm256_slli_epi32::<1>(bits));
                lowest = _mm256_min_epu32(lowest, exponent);
                highest = _mm256_max_epu32(highest, exponent);
                let implicit = _mm256_slli_epi32::<23>(_mm256_min_epu32(exponent, one));
                let significand = _mm256_or_si256(_mm256_and_si256(bits, fraction), implicit);
                let slot =
                    _mm256_slli_epi32::<{ LANE_SHIFT as i32 + 16 }>(_mm256_srli_epi32::<23>(bits));
                let words = out.words.as_mut_ptr().add(k);
                _mm256_storeu_si256(words.cast(), _mm256_unpacklo_epi32(significand, slot));
                _mm256_storeu_si256(
                    words.add(4).cast(),
                    _mm256_unpackhi_epi32(significand, slot),
                );
            }
        }
        let vector = Exponents {
            lowest: horizontal(lowest, 1, u32::min),
            highest: horizontal(highest, 1, u32::max),
        };
        vector.with(f32_portable(values, out, whole))
    }

    /// Folds every `step`-th u32 lane of `lanes`.
    #[target_feature(enable = "avx2")]
    fn horizontal(lanes: __m256i, step: usize, fold: fn(u32, u32) -> u32) -> u32 {
        let mut out = [0u32; 8];
        // SAFETY: out holds eight u32.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), lanes) };
        out.into_iter().step_by(step).reduce(fold).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bits of every kind: zeros, subnormals, normals of both signs, infinities and NaNs.
    fn bits(k: u64) -> u64 {
        let mixed = k.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (k << 7);
        match k % 7 {
            0 => 0,
            1 => mixed >> 12,
            2 => mixed | 0x7ff0_0000_0000_0000,
            _ => mixed,
        }
    }

    fn same_range(a: Exponents, b: Exponents) -> bool {
        a == b || (a.is_empty() && b.is_empty())
    }

    #[test]
    fn every_instruction_set_decodes_like_the_portable_code() {
        for len in [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 255, 256] {
            let doubles: Vec<f64> = (0..len).map(|k| f64::from_bits(bits(k))).collect();
            let singles: Vec<f32> = (0..len)
                .map(|k| f32::from_bits((bits(k) >> 32) as u32 ^ bits(k) as u32))
                .collect();
            let len = len as usize;
            let mut expected = Decoded::new();
            let range = f64_portable(&doubles, &mut expected, 0, PREFETCH_BYTES);
            let mut expected32 = Decoded::new();
            let range32 = f32_portable(&singles, &mut expected32, 0);
            let mut sorted32 = expected32.words[..len].to_vec();
            sorted32.sort_unstable();
            for isa in Isa::ALL {
                let mut out = Decoded::new();
                let got = decode_f64(isa, &doubles, &mut out, PREFETCH_BYTES);
                assert!(same_range(got, range), "{isa} f64 {len}: {got:?} {range:?}");
                assert_eq!(out.words[..len], expected.words[..len], "{isa} f64 {len}");
                assert_eq!(out.slots[..len], expected.slots[..len], "{isa} f64 {len}");
                let got = decode_f32(isa, &singles, &mut out);
                assert!(
                    same_range(got, range32),
                    "{isa} f32 {len}: {got:?} {range32:?}"
                );
                // Vector kernels interleave f32 words within the chunk.
                let mut words = out.words[..len].to_vec();
                words.sort_unstable();
                assert_eq!(words, sorted32, "{isa} f32 {len}");
            }
        }
    }
}
