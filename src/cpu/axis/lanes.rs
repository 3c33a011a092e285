//! Integer outputs' lanes for a kept innermost dimension: a run of elements added to a run of
//! outputs with plain i64 adds that LLVM vectorizes.

use crate::array::{ByteOrder, Dtype};
use crate::cpu::array::Element;
use crate::cpu::simd::{Lanes, per_isa};

/// Adds of one element to an integer lane between two flushes into the i128 sums: each add is
/// below 2^32 in magnitude to each of a lane's two i64 halves, so they stay below 2^63.
pub(super) const LANE_ADDS: u64 = 1 << 31;

/// Integer outputs' lanes: each output's sum as `high * 2^32 + low`, so that a run of elements
/// adds to a run of lanes with plain i64 adds. Bound: fewer than [`LANE_ADDS`] adds a lane
/// between flushes, each below 2^32 in magnitude per half.
pub(super) struct Lanes64 {
    low: Vec<i64>,
    high: Vec<i64>,
}

/// A run of lanes to add a run of elements to.
pub(super) struct LaneRun<'a> {
    low: &'a mut [i64],
    high: &'a mut [i64],
}

impl Lanes64 {
    pub(super) fn new(outputs: usize) -> Self {
        Self {
            low: vec![0; outputs],
            high: vec![0; outputs],
        }
    }

    pub(super) fn run(&mut self, out: usize, len: u64) -> LaneRun<'_> {
        let range = out..out + len as usize;
        LaneRun {
            low: &mut self.low[range.clone()],
            high: &mut self.high[range],
        }
    }

    /// Moves the lanes into the exact sums.
    pub(super) fn flush(&mut self, sums: &mut [i128]) {
        for ((sum, low), high) in sums.iter_mut().zip(&mut self.low).zip(&mut self.high) {
            *sum += i128::from(*high) * (1 << 32) + i128::from(*low);
            *low = 0;
            *high = 0;
        }
    }
}

per_isa! {
    /// Adds the elements of `bytes` (whole ones of `dtype`, in `order`) to the lanes of `run`,
    /// one each.
    pub(super) fn add_run(dtype: Dtype, order: ByteOrder, bytes: &[u8], run: LaneRun<'_>) -> () = add_run_body
}

/// The kernel behind [`add_run`]; `V` only selects the instruction set it is built for.
///
/// # Safety
/// Only from code built for `V`'s instruction set.
#[inline(always)]
unsafe fn add_run_body<V: Lanes>(dtype: Dtype, order: ByteOrder, bytes: &[u8], run: LaneRun<'_>) {
    let swap = order != ByteOrder::NATIVE;
    match dtype {
        Dtype::I8 => narrow::<i8>(bytes, swap, run.low),
        Dtype::U8 => narrow::<u8>(bytes, swap, run.low),
        Dtype::I16 => narrow::<i16>(bytes, swap, run.low),
        Dtype::U16 => narrow::<u16>(bytes, swap, run.low),
        Dtype::I32 => narrow::<i32>(bytes, swap, run.low),
        Dtype::U32 => narrow::<u32>(bytes, swap, run.low),
        Dtype::I64 => wide::<i64>(bytes, swap, run),
        Dtype::U64 => wide::<u64>(bytes, swap, run),
        Dtype::F32 | Dtype::F64 => unreachable!("floats are added to windows"),
    }
}

/// Calls `add(lane, element)` for each element of `bytes` and its lane, with plain zipped loops
/// where the elements are aligned (which LLVM vectorizes, byte swaps included).
#[inline(always)]
fn zipped<T: Element, L>(
    bytes: &[u8],
    swap: bool,
    lanes: impl Iterator<Item = L>,
    add: impl Fn(L, T),
) {
    match bytemuck::try_cast_slice::<u8, T>(bytes) {
        Ok(values) if swap => lanes
            .zip(values)
            .for_each(|(lane, &v)| add(lane, v.swap_bytes())),
        Ok(values) => lanes.zip(values).for_each(|(lane, &v)| add(lane, v)),
        Err(_) => {
            for (lane, chunk) in lanes.zip(bytes.chunks_exact(size_of::<T>())) {
                let v: T = bytemuck::pod_read_unaligned(chunk);
                add(lane, if swap { v.swap_bytes() } else { v });
            }
        }
    }
}

/// Elements of at most 32 bits: one i64 add per lane (below 2^32 each).
#[inline(always)]
fn narrow<T: Element>(bytes: &[u8], swap: bool, low: &mut [i64]) {
    zipped::<T, _>(bytes, swap, low.iter_mut(), |lane, v| {
        *lane += v.value() as i64
    });
}

/// 64-bit elements: the high half (signed for signed types) and the low half in two lanes.
#[inline(always)]
fn wide<T: Element>(bytes: &[u8], swap: bool, run: LaneRun<'_>) {
    let lanes = run.low.iter_mut().zip(run.high.iter_mut());
    zipped::<T, _>(bytes, swap, lanes, |(low, high), v| {
        let bits = v.widen();
        *low += (bits & 0xffff_ffff) as i64;
        *high += if T::SIGNED {
            (bits as i64) >> 32
        } else {
            (bits >> 32) as i64
        };
    });
}
