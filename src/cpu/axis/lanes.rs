//! Integer outputs' lanes for a kept innermost dimension: a run of elements added to a run of
//! outputs with plain i64 adds that LLVM vectorizes, or several runs of the same outputs (a
//! matrix's rows, for its column sums) summed in registers first.

use crate::array::{ByteOrder, Dtype};
use crate::cpu::array::Element;
use crate::cpu::simd::{Lanes, per_isa};

/// Elements added to an integer lane between two flushes into the i128 sums: each adds below
/// 2^32 in magnitude to each of a lane's two i64 halves, so they stay below 2^63.
pub(super) const LANE_ADDS: u64 = 1 << 31;

/// Runs of the same outputs summed in registers before their lanes take the sum: a lane is read
/// and written once for all of them. 4096 x 4096 i64 columns on one thread (a scratch loop):
/// 6.1 ms eight rows at a time, 8.2 four, 11.9 two (a tile of 512 outputs; 256 to 4096 alike);
/// the engine's one row at a time took 13.4 ms, eight at a time 6.9.
const ROWS_AT_ONCE: usize = 8;

/// Integer outputs' lanes: each output's sum as `high * 2^32 + low`, so that a run of elements
/// adds to a run of lanes with plain i64 adds. Bound: at most [`LANE_ADDS`] elements a lane
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
    /// Adds element k of each of `rows` (runs of the same outputs, each as long as `run`) to
    /// lane k of `run`, [`ROWS_AT_ONCE`] rows at a time.
    pub(super) fn add_rows(dtype: Dtype, order: ByteOrder, rows: &[&[u8]], run: LaneRun<'_>) -> () = add_rows_body
}

/// The kernel behind [`add_rows`].
///
/// # Safety
/// Only from code built for `V`'s instruction set.
#[inline(always)]
unsafe fn add_rows_body<V: Lanes>(
    dtype: Dtype,
    order: ByteOrder,
    rows: &[&[u8]],
    run: LaneRun<'_>,
) {
    let swap = order != ByteOrder::NATIVE;
    match dtype {
        Dtype::I8 => rows_of::<i8>(rows, swap, run),
        Dtype::U8 => rows_of::<u8>(rows, swap, run),
        Dtype::I16 => rows_of::<i16>(rows, swap, run),
        Dtype::U16 => rows_of::<u16>(rows, swap, run),
        Dtype::I32 => rows_of::<i32>(rows, swap, run),
        Dtype::U32 => rows_of::<u32>(rows, swap, run),
        Dtype::I64 => rows_of::<i64>(rows, swap, run),
        Dtype::U64 => rows_of::<u64>(rows, swap, run),
        Dtype::F32 | Dtype::F64 => unreachable!("floats are added to windows"),
    }
}

/// [`add_rows`] for one type: aligned rows [`ROWS_AT_ONCE`] at a time, the rest (and unaligned
/// rows) one at a time.
#[inline(always)]
fn rows_of<T: Element>(rows: &[&[u8]], swap: bool, run: LaneRun<'_>) {
    let mut chunks = rows.chunks_exact(ROWS_AT_ONCE);
    for chunk in &mut chunks {
        let mut typed: [&[T]; ROWS_AT_ONCE] = [&[]; ROWS_AT_ONCE];
        let mut aligned = true;
        for (slot, row) in typed.iter_mut().zip(chunk) {
            match bytemuck::try_cast_slice::<u8, T>(row) {
                Ok(row) => *slot = row,
                Err(_) => aligned = false,
            }
        }
        if aligned && swap {
            summed_rows::<T, true>(typed, &mut *run.low, &mut *run.high);
        } else if aligned {
            summed_rows::<T, false>(typed, &mut *run.low, &mut *run.high);
        } else {
            for row in chunk {
                one_row::<T>(row, swap, &mut *run.low, &mut *run.high);
            }
        }
    }
    for row in chunks.remainder() {
        one_row::<T>(row, swap, &mut *run.low, &mut *run.high);
    }
}

/// One row's elements, a lane each.
#[inline(always)]
fn one_row<T: Element>(row: &[u8], swap: bool, low: &mut [i64], high: &mut [i64]) {
    if size_of::<T>() < 8 {
        narrow::<T>(row, swap, low);
    } else {
        wide::<T>(row, swap, LaneRun { low, high });
    }
}

/// [`ROWS_AT_ONCE`] rows summed element by element, then added to the lanes: each sum below
/// 8 x 2^32 per half, one element per row counted against [`LANE_ADDS`]. The swap is a
/// constant: as an argument its test stayed in the loop (9.6 ms against 6.9 above).
#[inline(always)]
fn summed_rows<T: Element, const SWAP: bool>(
    rows: [&[T]; ROWS_AT_ONCE],
    low: &mut [i64],
    high: &mut [i64],
) {
    let len = low.len();
    let rows = rows.map(|row| &row[..len]);
    let high = &mut high[..len];
    let read = |row: &[T], k: usize| {
        let v = row[k];
        if SWAP { v.swap_bytes() } else { v }
    };
    for k in 0..len {
        let (mut low_sum, mut high_sum) = (0i64, 0i64);
        for row in rows {
            let bits = read(row, k).widen();
            if size_of::<T>() < 8 {
                low_sum += bits as i64;
            } else {
                low_sum += (bits & 0xffff_ffff) as i64;
                high_sum += if T::SIGNED {
                    (bits as i64) >> 32
                } else {
                    (bits >> 32) as i64
                };
            }
        }
        low[k] += low_sum;
        if size_of::<T>() == 8 {
            high[k] += high_sum;
        }
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
