//! How a block goes into the lanes: windows or cuts, from the range of its values.

use super::{Kernels, Range};
use crate::float::ExactFloat;

/// Binades of exponent in one window of `f32` values.
pub(super) const F32_SPAN: u32 = 26;
/// The bits each cut of a block keeps, from its 2^k down to 2^(k - 45): what it leaves, at most
/// 2^(k - 53), is at most 2^(k' - 7) for the next cut's k' = k - 46 (the room 32 adds need,
/// `F64_ADDS_PER_FLUSH`).
pub(super) const CUT: i64 = 46;
/// f64: values a cut's running sum takes between its conversions. Each is at most 2^(top - 7)
/// (see `avx512::f64_sums`), and what the cut keeps of it at most half a unit, 2^(top - 53), more: 32
/// of them change the running sum by less than 2^(top - 2) + 2^(top - 48) < 2^(top - 1), so
/// from 1.5 * 2^top it stays in [2^top, 2^(top + 1)), where its unit is 2^(top - 52). The last
/// part's 32 values, each at most 2^(top - 7) for its own top, sum below 2^(top - 2).
pub(super) const F64_ADDS_PER_FLUSH: usize = 32;
/// The first cut's k over a block's greatest binade: its values are below 2^(exponent + 1), at
/// most 2^(k - 7).
const TOP_OVER: i64 = 8;
/// As `TOP_OVER`, for a cut that takes each value alone (`Plan::Single`): below 2^(k - 1).
const SINGLE_TOP_OVER: i64 = 2;
/// The least biased exponent of f64 values that the bins take: a cut's running sum, below
/// 2^(k + 1), must be an `f64`.
pub(super) const F64_TOO_LARGE: u64 = 2039;
/// The greatest first cut, for the greatest exponent the lanes take.
const F64_TOP: i64 = 2038 - 1023 + TOP_OVER;
/// Parts past which the bins are faster (f32 in the L1 cache: 6 windows 3.0e9 values/s, the
/// bins 2.0e9).
pub(super) const MAX_PARTS: usize = 5;

/// How a block goes into the lanes, from the biased exponents of its least nonzero and its
/// greatest magnitude (at least 1: subnormals weigh as the least normals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// Zeros only.
    Zeros,
    /// `f32` in windows of `F32_SPAN` binades from `base`.
    Windows { base: u32, count: usize },
    /// Values (`f64`, or `f32` made `f64`) cut into `count` parts: `count - 1` cuts from
    /// 2^`top` down, 46 bits apart, then the rest, in units of 2^`least`.
    Cuts { top: i64, least: i64, count: usize },
    /// `f32` made `f64` on AVX2 in two parts: one cut at 2^`top` that takes each value alone
    /// (no running sum), so its top lies 6 binades nearer the values than `Cuts`' does and two
    /// parts take blocks 6 binades wider; then the rest, in units of 2^`least`.
    Single { top: i64, least: i64 },
}

impl Plan {
    /// The plan for a block of `range` on `kernels`; none where the block holds an infinity or
    /// a NaN, or would take more than `MAX_PARTS` parts.
    pub(super) fn new<T: ExactFloat>((least, greatest): Range, kernels: Kernels) -> Option<Plan> {
        let Some(least) = least else {
            return Some(Plan::Zeros);
        };
        let lowest = (least >> T::FRACTION_BITS).max(1);
        let highest = (greatest >> T::FRACTION_BITS).max(1);
        if highest == (1 << T::EXPONENT_BITS) - 1 || (T::TAG == 8 && highest >= F64_TOO_LARGE) {
            return None;
        }
        let plan = if T::TAG == 4 && kernels.has_windows() {
            let count = ((highest - lowest) / u64::from(F32_SPAN) + 1) as usize;
            Plan::Windows {
                base: lowest as u32,
                count,
            }
        } else {
            // The last part takes what the cuts leave, at most 2^(top - 46 cuts - 7), in units
            // of the least value's last bit: 32 of them sum below 2^53 units once
            // top - 46 cuts <= least + 55.
            let bias = (1i64 << (T::EXPONENT_BITS - 1)) - 1;
            let top = highest as i64 - bias + TOP_OVER;
            let least = lowest as i64 - bias - i64::from(T::FRACTION_BITS);
            let cuts = (top - least - 55)
                .max(0)
                .unsigned_abs()
                .div_ceil(CUT as u64);
            // The same bound with a single cut's top, for f32, whose blocks each have their own
            // plan (an f64 block's is guessed from the last block's, and `covers` compares tops
            // of one kind).
            let single = top - TOP_OVER + SINGLE_TOP_OVER;
            if T::TAG == 4 && cuts > 1 && single - least - 55 <= CUT {
                Plan::Single { top: single, least }
            } else {
                Plan::Cuts {
                    top,
                    least,
                    count: cuts as usize + 1,
                }
            }
        };
        (plan.parts() <= MAX_PARTS).then_some(plan)
    }

    /// Parts, each with its own lanes.
    pub(super) fn parts(&self) -> usize {
        match *self {
            Plan::Zeros => 0,
            Plan::Windows { count, .. } | Plan::Cuts { count, .. } => count,
            Plan::Single { .. } => 2,
        }
    }

    /// Where part `part`'s unit lies: its power of two in units of `T`'s smallest subnormal.
    pub(super) fn shift<T: ExactFloat>(&self, part: usize) -> u32 {
        match *self {
            Plan::Zeros => unreachable!("zeros have no parts"),
            // 2^(base + w F32_SPAN - 150) = 2^-149 * 2^(base + w F32_SPAN - 1).
            Plan::Windows { base, .. } => base + part as u32 * F32_SPAN - 1,
            // 2^(top - 46 j - 52), above 2^(least + 3) (the cuts' count), and 2^least.
            Plan::Cuts { top, least, count } => {
                let exponent = if part + 1 < count {
                    top - CUT * part as i64 - 52
                } else {
                    least
                };
                (exponent - least_exponent::<T>()) as u32
            }
            Plan::Single { top, least } => {
                let exponent = if part == 0 { top - 52 } else { least };
                (exponent - least_exponent::<T>()) as u32
            }
        }
    }

    /// Whether sums under this plan are exact for a block whose own plan is `actual`: its values
    /// no larger than this one's top allows, nor finer than its least unit.
    pub(super) fn covers(&self, actual: &Plan) -> bool {
        match (*self, *actual) {
            (_, Plan::Zeros) => true,
            (
                Plan::Cuts { top, least, .. },
                Plan::Cuts {
                    top: needed,
                    least: finest,
                    ..
                },
            ) => needed <= top && finest >= least,
            _ => false,
        }
    }

    /// The plan to try on the next block (cuts only): these cuts with the room they leave, a
    /// little of it above (a block's greatest value moves little) and the rest below.
    pub(super) fn widened<T: ExactFloat>(&self) -> Option<Plan> {
        let Plan::Cuts { top, least, count } = *self else {
            return None;
        };
        let room = 55 + CUT * (count as i64 - 1) - (top - least);
        let above = room.min(2).min(F64_TOP - top);
        Some(Plan::Cuts {
            top: top + above,
            least: (least - (room - above)).max(least_exponent::<T>()),
            count,
        })
    }
}

/// The power of two of `T`'s smallest subnormal: -149 or -1074.
fn least_exponent<T: ExactFloat>() -> i64 {
    2 - (1i64 << (T::EXPONENT_BITS - 1)) - i64::from(T::FRACTION_BITS)
}
