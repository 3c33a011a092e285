//! The lanes' kernels in portable Rust, for AArch64's NEON (x86-64's SSE2 runs them in the tests
//! only: there they were no faster than the bins, mod.rs). The same cuts as on AVX2 (avx2.rs: a block's range, and its sums by cut,
//! f32 values made f64 first), written on arrays of f64 that the compiler keeps in vector
//! registers of two f64 each; every operation is an f64 add or subtract, rounded to nearest as
//! the caller checked (mod.rs), so the compiler may reorder none of them and each is exact by
//! the same bounds.
//!
//! Four lanes a set, in two sets that take alternate groups of four values, so that no running
//! sum's add waits on the one before it for long (NEON has 32 registers: five parts' lanes fit).

use super::plan::F64_ADDS_PER_FLUSH;
use super::{BLOCK_BYTES, Range, padded};

/// f64 lanes in a set.
const LANES: usize = 4;
type Lanes = [f64; LANES];

// A lane takes below 2^53 per flush (plan.rs): a block of 2048 f64 (or 4096 f32) flushes at
// most 2048 / 8 / 32 + 1 = 9 (or 4096 / 16 / 16 + 1 = 17) times, and both sets add into one
// integer lane, below 2 * 32 * 2^53 = 2^59; its four lanes below 2^61, an i64.
const _: () = assert!(BLOCK_BYTES / 64 / F64_ADDS_PER_FLUSH * 2 < 31);

/// The sum of f64 values' `bits` in `N` parts, and the block's range, as `avx2::f64_sums`
/// finds them (`avx512::f64_sums` has the cuts and the bounds the caller meets).
pub(super) fn f64_sums<const N: usize>(
    bits: &[u64],
    top: [i64; N],
    least: i64,
) -> ([i64; N], Range) {
    let cuts = Cuts::new(top, least);
    let mut integers = [[0i64; LANES]; N];
    let mut range = RangeLanes::new();
    let (groups, tail) = bits.as_chunks::<8>();
    let padded = padded(tail);
    let last = padded.as_slice();
    for flush in groups.chunks(F64_ADDS_PER_FLUSH).chain([last]) {
        let mut lanes = [cuts.lanes(); 2];
        for group in flush {
            range.take64(group);
            for (half, lanes) in lanes.iter_mut().enumerate() {
                let values = std::array::from_fn(|l| f64::from_bits(group[LANES * half + l]));
                cuts.take_from(0, lanes, values);
            }
        }
        cuts.add_units(&mut integers, lanes);
    }
    (integers.map(sum_lanes), range.found64(&[]))
}

/// As `avx2::f32_sums` (its doc has the single cut's bound): f32 values' `bits`, each made an
/// f64 and cut, in `N` parts, and the range of `next`, the block after this one (no longer),
/// found on the way.
pub(super) fn f32_sums<const N: usize, const SINGLE: bool>(
    bits: &[u32],
    next: &[u32],
    top: [i64; N],
    least: i64,
) -> ([i64; N], Range) {
    debug_assert!(next.len() <= bits.len() && (!SINGLE || N == 2));
    let cuts = Cuts::new(top, least);
    let mut integers = [[0i64; LANES]; N];
    // The single cut's rounded sums' bits, wrapping.
    let mut alone = [0u64; LANES];
    let mut next_range = RangeLanes::new();
    let (next_groups, next_tail) = next.as_chunks::<16>();
    let mut next_groups = next_groups.iter();
    let (groups, tail) = bits.as_chunks::<16>();
    let padded = padded(tail);
    let last = padded.as_slice();
    // A group's four sets of four values go two to each set: each lane takes two values a group.
    for flush in groups.chunks(F64_ADDS_PER_FLUSH / 2).chain([last]) {
        let mut lanes = [cuts.lanes(); 2];
        for group in flush {
            for quarter in 0..4 {
                let values =
                    std::array::from_fn(|l| f64::from(f32::from_bits(group[LANES * quarter + l])));
                let lanes = &mut lanes[quarter % 2];
                if SINGLE {
                    cuts.take_alone(lanes, &mut alone, values);
                } else {
                    cuts.take_from(0, lanes, values);
                }
            }
            // Past the next block's end, zeros, which change no range.
            next_range.take16(next_groups.next().unwrap_or(&[0; 16]));
        }
        cuts.add_units(&mut integers, lanes);
    }
    for next in next_groups {
        next_range.take16(next);
    }
    let mut sums = integers.map(sum_lanes);
    if SINGLE {
        // Every value, the padding's zeros too, added its start's bits once.
        let values = 16 * (groups.len() + last.len()) as u64;
        let alone = alone.iter().fold(0u64, |sum, &bits| sum.wrapping_add(bits));
        let alone = alone.wrapping_sub(values.wrapping_mul(cuts.starts[0].to_bits()));
        sums[0] = sums[0].wrapping_add(alone as i64);
    }
    // No next block (a short sum's one block): what `found` would give.
    let next_range = if next.is_empty() {
        (None, 0)
    } else {
        next_range.found32(next_tail)
    };
    (sums, next_range)
}

/// The range of f32 values' `bits`.
pub(super) fn range_f32(bits: &[u32]) -> Range {
    let (groups, tail) = bits.as_chunks::<8>();
    let mut range = RangeLanes::new();
    for group in groups {
        range.take32(group);
    }
    range.found32(tail)
}

/// The range of f64 values' `bits`, exact in the exponents.
pub(super) fn range_f64(bits: &[u64]) -> Range {
    let (groups, tail) = bits.as_chunks::<8>();
    let mut range = RangeLanes::new();
    for group in groups {
        range.take64(group);
    }
    range.found64(tail)
}

/// Least nonzero and greatest magnitudes, lane by lane, in 32-bit words doubled (the sign
/// shifted out): an f32's bits, or an f64's upper half, which holds its exponent (as on AVX2,
/// avx2/range.rs: exact exponents, all a plan reads, at half the compares).
struct RangeLanes {
    least: [u32; 8],
    greatest: [u32; 8],
}

impl RangeLanes {
    fn new() -> Self {
        Self {
            least: [u32::MAX; 8],
            greatest: [0; 8],
        }
    }

    /// Eight f32 values: less one, wrapping, for the least, so that a zero becomes the
    /// greatest and never the least.
    #[inline(always)]
    fn take32(&mut self, eight: &[u32; 8]) {
        for (l, &value) in eight.iter().enumerate() {
            let doubled = value << 1;
            self.least[l] = self.least[l].min(doubled.wrapping_sub(1));
            self.greatest[l] = self.greatest[l].max(doubled);
        }
    }

    /// Sixteen f32 values.
    #[inline(always)]
    fn take16(&mut self, group: &[u32; 16]) {
        for eight in group.as_chunks::<8>().0 {
            self.take32(eight);
        }
    }

    /// Eight f64 values, by their upper halves: a zero's all ones for the least.
    #[inline(always)]
    fn take64(&mut self, eight: &[u64; 8]) {
        for (l, &value) in eight.iter().enumerate() {
            let doubled = value << 1;
            let upper = (doubled >> 32) as u32;
            self.least[l] = self.least[l].min(if doubled == 0 { u32::MAX } else { upper });
            self.greatest[l] = self.greatest[l].max(upper);
        }
    }

    fn extremes(&self) -> (u32, u32) {
        let least = self.least.into_iter().min().unwrap_or(u32::MAX);
        (least, self.greatest.into_iter().max().unwrap_or(0))
    }

    fn found32(self, tail: &[u32]) -> Range {
        let (least, greatest) = self.extremes();
        f32_range(least, greatest, tail)
    }

    fn found64(self, tail: &[u64]) -> Range {
        let (least, greatest) = self.extremes();
        f64_range(least, greatest, tail)
    }
}

/// The range of f32 values from their lanes' least (doubled, less one) and greatest (doubled),
/// and `tail`'s values (AVX2's lanes too).
pub(super) fn f32_range(mut least: u32, mut greatest: u32, tail: &[u32]) -> Range {
    for &value in tail {
        least = least.min((value << 1).wrapping_sub(1));
        greatest = greatest.max(value << 1);
    }
    (
        least.checked_add(1).map(|doubled| u64::from(doubled >> 1)),
        u64::from(greatest >> 1),
    )
}

/// The range of f64 values from their lanes' least and greatest upper halves, doubled (a zero's
/// all ones), and `tail`'s values, exact (AVX2's lanes too): the least's upper bits with zeros
/// below (at least 1), the greatest's with ones below, so that each has its value's exponent.
pub(super) fn f64_range(least: u32, greatest: u32, tail: &[u64]) -> Range {
    // All ones is a zero's, or a NaN's whose payload's upper bits are all set (as in memory
    // filled with 0xff): only the greatest tells a block of those from zeros.
    let mut least = (least != u32::MAX || greatest != 0).then(|| (u64::from(least) << 31).max(1));
    let mut greatest = (u64::from(greatest) << 32 | u64::from(u32::MAX)) >> 1;
    for &value in tail {
        let abs = value & i64::MAX as u64;
        if abs != 0 {
            least = Some(least.map_or(abs, |least| least.min(abs)));
        }
        greatest = greatest.max(abs);
    }
    (least, greatest)
}

/// The constants of `N` parts of values cut from 2^top[0] down (see `avx512::f64_sums`).
struct Cuts<const N: usize> {
    /// Each cut's running sum's start, 1.5 * 2^top[j]; the last part's lanes start at zero.
    starts: [f64; N],
    /// 2^-least, the last part's 1 / unit, in two factors (it may be 2^1074, which no f64
    /// holds).
    scale: [f64; 2],
}

impl<const N: usize> Cuts<N> {
    fn new(top: [i64; N], least: i64) -> Self {
        Self {
            // The last part has no running sum (its top may lie below the normals).
            starts: std::array::from_fn(|j| {
                if j + 1 < N {
                    1.5 * power_of_two(top[j])
                } else {
                    0.0
                }
            }),
            scale: [power_of_two(-least / 2), power_of_two(-least - -least / 2)],
        }
    }

    /// Fresh lanes: the cuts' running sums, and the last part's lanes.
    fn lanes(&self) -> [Lanes; N] {
        self.starts.map(|start| [start; LANES])
    }

    /// Adds four values' rests from cut `first` on: each cut's running sum keeps the bits at
    /// and above its unit, exactly, and the rest goes on.
    #[inline(always)]
    fn take_from(&self, first: usize, lanes: &mut [Lanes; N], values: Lanes) {
        let mut rest = values;
        for running in &mut lanes[first..N - 1] {
            for l in 0..LANES {
                let rounded = running[l] + rest[l];
                rest[l] -= rounded - running[l];
                running[l] = rounded;
            }
        }
        for l in 0..LANES {
            lanes[N - 1][l] += rest[l];
        }
    }

    /// As `take_from(0, ..)`, the first cut taking each value alone (`f32_sums`' `SINGLE`):
    /// its rounded sums' bits go to `alone`, and its lanes keep their start.
    #[inline(always)]
    fn take_alone(&self, lanes: &mut [Lanes; N], alone: &mut [u64; LANES], values: Lanes) {
        let start = self.starts[0];
        let mut rest = values;
        for l in 0..LANES {
            let rounded = start + values[l];
            rest[l] -= rounded - start;
            alone[l] = alone[l].wrapping_add(rounded.to_bits());
        }
        self.take_from(1, lanes, rest);
    }

    /// Adds both sets' parts, as integers of their units, to `integers`: a cut's from its
    /// running sum's bits (it lies in its start's binade, where an f64's bits count its unit),
    /// the last part's scaled (a multiple of its unit below 2^53 units, exact) and converted.
    /// Wrapping: a block summed under a guessed plan that does not hold is thrown away, and its
    /// lanes may hold anything.
    #[inline(always)]
    fn add_units(&self, integers: &mut [[i64; LANES]; N], sets: [[Lanes; N]; 2]) {
        let [first, second] = self.scale;
        for lanes in sets {
            for (j, (integer, lanes)) in integers.iter_mut().zip(lanes).enumerate() {
                for l in 0..LANES {
                    let units = if j + 1 < N {
                        lanes[l].to_bits().wrapping_sub(self.starts[j].to_bits()) as i64
                    } else {
                        (lanes[l] * first * second) as i64
                    };
                    integer[l] = integer[l].wrapping_add(units);
                }
            }
        }
    }
}

/// The sum of a part's lanes, wrapping (as `add_units`).
fn sum_lanes(lanes: [i64; LANES]) -> i64 {
    lanes.iter().fold(0, |sum, &lane| sum.wrapping_add(lane))
}

/// 2^exponent (a normal f64: -1022 <= exponent <= 1023).
fn power_of_two(exponent: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&exponent));
    f64::from_bits(((1023 + exponent) as u64) << 52)
}
