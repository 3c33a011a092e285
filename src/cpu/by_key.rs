//! The CPU twin of sums by key: pieces of keys and values added into a [`KeyTable`].
//!
//! A piece's keys are decoded first (to their order-preserving bits, see
//! `reduce::outputs::ordered_bits`), so that the table knows their range before a value is
//! added: a dense table then adds each value at slot `key - low`, a sparse one hashes. On the
//! pool, each task adds its piece into a table of its own, dense over its piece's key range where
//! that is no wider than the piece, and the caller's table merges them.

use rayon::prelude::*;

use super::array::{Element, for_each};
use super::{CpuTwin, HAS_THREADS};
use crate::Error;
use crate::array::{ByteOrder, Dtype};
use crate::control::Control;
use crate::engine::ArrayBytes;
use crate::float::{ExactFloat, FloatWindows};
use crate::reduce::keys::KeyTable;
use crate::reduce::outputs::Sums;

/// Elements of a task on the pool: its table's slots (at most one per element, when dense) and
/// the merge cost no more than its adds. Float tasks are longer, so that each slot's group of
/// values is long enough for the bins (see [`add_floats`]).
const TASK_ELEMENTS: usize = 1 << 18;
const FLOAT_TASK_ELEMENTS: usize = 1 << 21;

/// Float values a piece has per slot, at least, to be grouped by slot and summed by the bins:
/// placing a slot's bins costs about what adding 2,000 values one at a time does.
const GROUPED_VALUES_PER_SLOT: usize = 2048;

impl CpuTwin {
    /// Adds each of `values` to the total of the key at the same index of `keys` (as many
    /// elements, integers).
    ///
    /// # Errors
    /// [`Error::Cancelled`] or [`Error::Timeout`] from `control`, looked at between pieces.
    pub(crate) fn add_by_key(
        &self,
        keys: ArrayBytes<'_>,
        values: ArrayBytes<'_>,
        table: &mut KeyTable,
        control: &Control,
    ) -> Result<(), Error> {
        debug_assert_eq!(keys.len(), values.len());
        let pieces = pieces(keys, values)?;
        if !self.parallel(u128::from(values.len())) || !HAS_THREADS {
            for (keys, values) in pieces {
                control.check()?;
                with_room(|ordered, grouped| {
                    ordered_keys_into(keys, ordered);
                    if let Some((low, high)) = range(ordered) {
                        table.saw(ordered.len() as u64);
                        table.make_room(low, high);
                        add_piece(table, ordered, values, grouped);
                    }
                });
            }
            return Ok(());
        }
        let locals = pieces
            .into_par_iter()
            .map(|(keys, values)| -> Result<Option<KeyTable>, Error> {
                control.check()?;
                Ok(with_room(|ordered, grouped| {
                    ordered_keys_into(keys, ordered);
                    let (low, high) = range(ordered)?;
                    let elements = ordered.len() as u64;
                    let mut local =
                        KeyTable::for_piece(keys.dtype(), values.dtype(), low, high, elements);
                    local.saw(elements);
                    add_piece(&mut local, ordered, values, grouped);
                    Some(local)
                }))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for local in locals.iter().flatten() {
            table.merge(local);
        }
        Ok(())
    }
}

/// Keys and values cut into pieces of [`TASK_ELEMENTS`] elements each.
fn pieces<'a>(
    keys: ArrayBytes<'a>,
    values: ArrayBytes<'a>,
) -> Result<Vec<(ArrayBytes<'a>, ArrayBytes<'a>)>, Error> {
    let (key_size, value_size) = (keys.dtype().size(), values.dtype().size());
    let task = if values.dtype().is_float() {
        FLOAT_TASK_ELEMENTS
    } else {
        TASK_ELEMENTS
    };
    keys.bytes()
        .chunks(task * key_size)
        .zip(values.bytes().chunks(task * value_size))
        .map(|(k, v)| {
            Ok((
                ArrayBytes::new(k, keys.dtype(), keys.order())?,
                ArrayBytes::new(v, values.dtype(), values.order())?,
            ))
        })
        .collect()
}

/// The lowest and highest of `keys`; `None` for none.
pub(crate) fn range(keys: &[u64]) -> Option<(u64, u64)> {
    let low = keys.iter().copied().min()?;
    Some((low, keys.iter().copied().max()?))
}

/// Each key's order-preserving bits: a signed key's sign bit flipped.
pub(crate) fn ordered_keys(keys: ArrayBytes<'_>) -> Vec<u64> {
    let mut ordered = Vec::new();
    ordered_keys_into(keys, &mut ordered);
    ordered
}

/// [`ordered_keys`] into `ordered`, whose room is reused.
fn ordered_keys_into(keys: ArrayBytes<'_>, ordered: &mut Vec<u64>) {
    let dtype = keys.dtype();
    let flip = if dtype.is_signed() { 1u64 << 63 } else { 0 };
    ordered.clear();
    ordered.resize(keys.len() as usize, 0);
    for_each_int(dtype, keys.order(), keys.bytes(), |k, key| {
        ordered[k] = (key as i64 as u64) ^ flip;
    });
}

thread_local! {
    /// A thread's room for a piece's ordered keys and grouped values, kept between pieces:
    /// fresh pages for every piece cost a quarter of a float sum by key in page faults.
    static ROOM: std::cell::Cell<(Vec<u64>, Vec<u64>)> = const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

/// Runs `work` with this thread's room for ordered keys and grouped values.
fn with_room<R>(work: impl FnOnce(&mut Vec<u64>, &mut Vec<u64>) -> R) -> R {
    let (mut keys, mut values) = ROOM.with(std::cell::Cell::take);
    let result = work(&mut keys, &mut values);
    ROOM.with(|room| room.set((keys, values)));
    result
}

/// Adds each value of `values` to the slot of its key in `ordered` (the table has room for
/// every one of them).
fn add_piece(table: &mut KeyTable, ordered: &[u64], values: ArrayBytes<'_>, room: &mut Vec<u64>) {
    let (dtype, order, bytes) = (values.dtype(), values.order(), values.bytes());
    match table.dense_low() {
        Some(low) => {
            let (sums, counts) = table.parts();
            add_at(sums, counts, dtype, order, bytes, room, |k| {
                (ordered[k] - low) as usize
            });
        }
        None => {
            let slots: Vec<usize> = ordered.iter().map(|&key| table.sparse_slot(key)).collect();
            let (sums, counts) = table.parts();
            add_at(sums, counts, dtype, order, bytes, room, |k| slots[k]);
        }
    }
}

/// Adds value k of `bytes` to slot `slot(k)`, and counts it.
#[inline(always)]
fn add_at(
    sums: &mut Sums,
    counts: &mut [u64],
    dtype: Dtype,
    order: ByteOrder,
    bytes: &[u8],
    room: &mut Vec<u64>,
    slot: impl Fn(usize) -> usize,
) {
    match sums {
        Sums::Int(sums) => for_each_int(dtype, order, bytes, |k, value| {
            let at = slot(k);
            sums[at] += value;
            counts[at] += 1;
        }),
        Sums::F32(sums) => add_floats(sums, counts, 4, order, bytes, room, slot),
        Sums::F64(sums) => add_floats(sums, counts, 8, order, bytes, room, slot),
    }
}

/// Adds float k of `bytes` (`size` bytes each) to slot `slot(k)`, and counts it: where the
/// slots are few beside the values, grouped by slot first (a counting sort) and each group summed
/// by the bins; else each value to its slot's window.
#[inline(always)]
fn add_floats<T: ExactFloat>(
    sums: &mut FloatWindows<T>,
    counts: &mut [u64],
    size: usize,
    order: ByteOrder,
    bytes: &[u8],
    room: &mut Vec<u64>,
    slot: impl Fn(usize) -> usize,
) {
    let (values, slots) = (bytes.len() / size, sums.len());
    if values < GROUPED_VALUES_PER_SLOT * slots {
        return for_each_bits(size, order, bytes, |k, bits| {
            let at = slot(k);
            sums.add_bits(at, bits);
            counts[at] += 1;
        });
    }
    // Each value's slot, and where each slot's group starts.
    let mut starts = vec![0u32; slots + 1];
    let at: Vec<u32> = (0..values)
        .map(|k| {
            let at = slot(k);
            starts[at + 1] += 1;
            at as u32
        })
        .collect();
    for s in 0..slots {
        starts[s + 1] += starts[s];
    }
    // The values in their groups (a piece holds fewer than 2^32).
    let mut next = starts.clone();
    room.clear();
    room.resize((values * size).div_ceil(8), 0);
    let grouped: &mut [T] = &mut bytemuck::cast_slice_mut(room)[..values];
    for_each_bits(size, order, bytes, |k, bits| {
        let group = &mut next[at[k] as usize];
        grouped[*group as usize] = T::from_bits(bits);
        *group += 1;
    });
    for (s, count) in counts.iter_mut().enumerate() {
        let group = &grouped[starts[s] as usize..starts[s + 1] as usize];
        *count += group.len() as u64;
        sums.add_values(s, group);
    }
}

/// Calls `each(k, value)` for every integer element of `bytes`, monomorphized per type.
#[inline(always)]
pub(crate) fn for_each_int(
    dtype: Dtype,
    order: ByteOrder,
    bytes: &[u8],
    mut each: impl FnMut(usize, i128),
) {
    fn typed<T: Element>(bytes: &[u8], swap: bool, each: &mut impl FnMut(usize, i128)) {
        let mut k = 0;
        for_each::<T>(bytes, swap, |v| {
            each(k, v.value());
            k += 1;
        });
    }
    let swap = order != ByteOrder::NATIVE;
    match dtype {
        Dtype::I8 => typed::<i8>(bytes, swap, &mut each),
        Dtype::I16 => typed::<i16>(bytes, swap, &mut each),
        Dtype::I32 => typed::<i32>(bytes, swap, &mut each),
        Dtype::I64 => typed::<i64>(bytes, swap, &mut each),
        Dtype::U8 => typed::<u8>(bytes, swap, &mut each),
        Dtype::U16 => typed::<u16>(bytes, swap, &mut each),
        Dtype::U32 => typed::<u32>(bytes, swap, &mut each),
        Dtype::U64 => typed::<u64>(bytes, swap, &mut each),
        Dtype::F32 | Dtype::F64 => unreachable!("integers only"),
    }
}

/// Calls `each(k, bits)` for every float element of `size` bytes in `bytes`.
#[inline(always)]
fn for_each_bits(size: usize, order: ByteOrder, bytes: &[u8], mut each: impl FnMut(usize, u64)) {
    let swap = order != ByteOrder::NATIVE;
    let mut k = 0;
    if size == 4 {
        for_each::<u32>(bytes, swap, |bits| {
            each(k, u64::from(bits));
            k += 1;
        });
    } else {
        for_each::<u64>(bytes, swap, |bits| {
            each(k, bits);
            k += 1;
        });
    }
}
