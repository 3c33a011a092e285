//! The CPU twin of sums by key: pieces of keys and values added into a [`KeyTable`].
//!
//! A piece's keys are decoded first (to their order-preserving bits, see
//! `reduce::outputs::ordered_bits`), so that the table knows their range before a value is
//! added: a dense table then adds each value at slot `key - low`, a sparse one hashes. On the
//! pool, each task adds its piece into a table of its own, dense over its piece's key range where
//! that is no wider than the piece, and the caller's table merges them.

use rayon::prelude::*;

use super::array::{Element, for_each};
use super::simd::{Lanes, per_isa};
use super::{CpuTwin, HAS_THREADS, Isa};
use crate::Error;
use crate::array::{ByteOrder, Dtype};
use crate::control::Control;
use crate::engine::ArrayBytes;
use crate::float::{self, ColumnBins, ExactFloat, FloatWindows};
use crate::reduce::keys::KeyTable;
use crate::reduce::outputs::Sums;

/// Elements of a task on the pool: its table's slots (at most one per element, when dense) and
/// the merge cost no more than its adds. Float tasks are longer, so that each slot's group of
/// values is long enough for the bins (see [`add_floats`]).
const TASK_ELEMENTS: usize = 1 << 18;
const FLOAT_TASK_ELEMENTS: usize = 1 << 21;

/// Float values a piece has per slot, at least, to be summed through bins per slot: placing a
/// slot's bins costs about what adding a hundred values of a few dozen binades one at a time
/// does.
const BINNED_VALUES_PER_SLOT: usize = 64;

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
                with_ordered(keys, |ordered| {
                    if let Some((low, high)) = ordered.range() {
                        table.saw(ordered.bits.len() as u64);
                        table.make_room(low, high);
                        add_piece(self.isa, table, ordered, values);
                    }
                });
            }
            return Ok(());
        }
        let locals = pieces
            .into_par_iter()
            .map(|(keys, values)| -> Result<Option<KeyTable>, Error> {
                control.check()?;
                Ok(with_ordered(keys, |ordered| {
                    let (low, high) = ordered.range()?;
                    let elements = ordered.bits.len() as u64;
                    let mut local =
                        KeyTable::for_piece(keys.dtype(), values.dtype(), low, high, elements);
                    local.saw(elements);
                    add_piece(self.isa, &mut local, ordered, values);
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
    Ordered::new(keys, 0).range()
}

per_isa! {
    /// The lowest and highest of `keys`, each xor'ed with `flip` (`(u64::MAX, 0)` for none),
    /// in one pass of vector min and max where `isa` has them for 64-bit lanes (the
    /// baseline's emulation took an eighth of an f64 sum by key).
    fn range_of(keys: &[u64], flip: u64) -> (u64, u64) = range_body
}

/// The kernel behind [`range_of`]; `V` only selects the instruction set it is built for.
///
/// # Safety
/// Only from code built for `V`'s instruction set.
#[inline(always)]
unsafe fn range_body<V: Lanes>(keys: &[u64], flip: u64) -> (u64, u64) {
    keys.iter().fold((u64::MAX, 0), |(low, high), &key| {
        (low.min(key ^ flip), high.max(key ^ flip))
    })
}

/// A piece's keys as their order-preserving bits: key k's are `bits[k] ^ flip`.
#[derive(Clone, Copy)]
struct Ordered<'a> {
    bits: &'a [u64],
    flip: u64,
}

impl<'a> Ordered<'a> {
    fn new(bits: &'a [u64], flip: u64) -> Self {
        Self { bits, flip }
    }

    /// Key k's order-preserving bits.
    #[inline(always)]
    fn key(&self, k: usize) -> u64 {
        self.bits[k] ^ self.flip
    }

    /// The lowest and highest key; `None` for none.
    fn range(&self) -> Option<(u64, u64)> {
        (!self.bits.is_empty()).then(|| range_of(Isa::best(), self.bits, self.flip))
    }
}

/// Runs `work` on `keys` as order-preserving bits: 64-bit keys in this machine's order where
/// they lie (their sign bit flipped on the way), other keys decoded into this thread's room.
/// (Decoding 2^24 i64 keys wrote and read back 128 MiB, a tenth of an f64 sum by key.)
fn with_ordered<R>(keys: ArrayBytes<'_>, work: impl FnOnce(Ordered<'_>) -> R) -> R {
    let dtype = keys.dtype();
    if dtype.size() == 8
        && keys.order() == ByteOrder::NATIVE
        && let Ok(bits) = bytemuck::try_cast_slice(keys.bytes())
    {
        let flip = if dtype.is_signed() { 1u64 << 63 } else { 0 };
        return work(Ordered::new(bits, flip));
    }
    with_room(|ordered| {
        ordered_keys_into(keys, ordered);
        work(Ordered::new(ordered, 0))
    })
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
    /// A thread's room for a piece's ordered keys, kept between pieces: fresh pages for every
    /// piece cost a quarter of a float sum by key in page faults.
    static ROOM: std::cell::Cell<Vec<u64>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Runs `work` with this thread's room for ordered keys.
fn with_room<R>(work: impl FnOnce(&mut Vec<u64>) -> R) -> R {
    let mut keys = ROOM.with(std::cell::Cell::take);
    let result = work(&mut keys);
    ROOM.with(|room| room.set(keys));
    result
}

/// Adds each value of `values` to the slot of its key in `ordered` (the table has room for
/// every one of them).
fn add_piece(isa: Isa, table: &mut KeyTable, ordered: Ordered<'_>, values: ArrayBytes<'_>) {
    let (dtype, order, bytes) = (values.dtype(), values.order(), values.bytes());
    match table.dense_low() {
        Some(low) => {
            let (sums, counts) = table.parts();
            add_at(isa, sums, counts, dtype, order, bytes, |k| {
                (ordered.key(k) - low) as usize
            });
        }
        None => {
            let slots: Vec<usize> = (0..ordered.bits.len())
                .map(|k| table.sparse_slot(ordered.key(k)))
                .collect();
            let (sums, counts) = table.parts();
            add_at(isa, sums, counts, dtype, order, bytes, |k| slots[k]);
        }
    }
}

/// Adds value k of `bytes` to slot `slot(k)`, and counts it.
#[inline(always)]
fn add_at(
    isa: Isa,
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
        Sums::F32(sums) => add_floats(isa, sums, counts, 4, order, bytes, slot),
        Sums::F64(sums) => add_floats(isa, sums, counts, 8, order, bytes, slot),
    }
}

/// Adds float k of `bytes` (`size` bytes each) to slot `slot(k)`, and counts it: where the
/// slots are few beside the values, through bins per slot (float/columns.rs); else each value
/// to its slot's window.
#[inline(always)]
fn add_floats<T: ExactFloat>(
    isa: Isa,
    sums: &mut FloatWindows<T>,
    counts: &mut [u64],
    size: usize,
    order: ByteOrder,
    bytes: &[u8],
    slot: impl Fn(usize) -> usize,
) {
    let (values, slots) = (bytes.len() / size, sums.len());
    if values >= BINNED_VALUES_PER_SLOT * slots && slots <= float::MAX_COLUMNS {
        let mut bins = ColumnBins::new(isa, slots);
        bins.add_keyed(sums, counts, bytes, order, slot);
        bins.finish(sums);
        return;
    }
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

#[cfg(test)]
mod tests;
