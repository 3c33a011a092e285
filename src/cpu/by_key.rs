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
/// the merge cost no more than its adds.
const TASK_ELEMENTS: usize = 1 << 18;

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
                let ordered = ordered_keys(keys);
                let Some((low, high)) = range(&ordered) else {
                    continue;
                };
                table.saw(ordered.len() as u64);
                table.make_room(low, high);
                add_piece(table, &ordered, values);
            }
            return Ok(());
        }
        let locals = pieces
            .into_par_iter()
            .map(|(keys, values)| -> Result<Option<KeyTable>, Error> {
                control.check()?;
                let ordered = ordered_keys(keys);
                let Some((low, high)) = range(&ordered) else {
                    return Ok(None);
                };
                let elements = ordered.len() as u64;
                let mut local =
                    KeyTable::for_piece(keys.dtype(), values.dtype(), low, high, elements);
                local.saw(elements);
                add_piece(&mut local, &ordered, values);
                Ok(Some(local))
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
    keys.bytes()
        .chunks(TASK_ELEMENTS * key_size)
        .zip(values.bytes().chunks(TASK_ELEMENTS * value_size))
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
    let dtype = keys.dtype();
    let flip = if dtype.is_signed() { 1u64 << 63 } else { 0 };
    let mut ordered = vec![0u64; keys.len() as usize];
    for_each_int(dtype, keys.order(), keys.bytes(), |k, key| {
        ordered[k] = (key as i64 as u64) ^ flip;
    });
    ordered
}

/// Adds each value of `values` to the slot of its key in `ordered` (the table has room for
/// every one of them).
fn add_piece(table: &mut KeyTable, ordered: &[u64], values: ArrayBytes<'_>) {
    let (dtype, order, bytes) = (values.dtype(), values.order(), values.bytes());
    match table.dense_low() {
        Some(low) => {
            let (sums, counts) = table.parts();
            add_at(sums, counts, dtype, order, bytes, |k| {
                (ordered[k] - low) as usize
            });
        }
        None => {
            let slots: Vec<usize> = ordered.iter().map(|&key| table.sparse_slot(key)).collect();
            let (sums, counts) = table.parts();
            add_at(sums, counts, dtype, order, bytes, |k| slots[k]);
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
    slot: impl Fn(usize) -> usize,
) {
    match sums {
        Sums::Int(sums) => for_each_int(dtype, order, bytes, |k, value| {
            let at = slot(k);
            sums[at] += value;
            counts[at] += 1;
        }),
        Sums::F32(sums) => add_floats(sums, counts, 4, order, bytes, slot),
        Sums::F64(sums) => add_floats(sums, counts, 8, order, bytes, slot),
    }
}

/// Adds float k of `bytes` (`size` bytes each) to slot `slot(k)`, and counts it.
#[inline(always)]
fn add_floats<T: ExactFloat>(
    sums: &mut FloatWindows<T>,
    counts: &mut [u64],
    size: usize,
    order: ByteOrder,
    bytes: &[u8],
    slot: impl Fn(usize) -> usize,
) {
    for_each_bits(size, order, bytes, |k, bits| {
        let at = slot(k);
        sums.add_bits(at, bits);
        counts[at] += 1;
    });
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
