//! The CPU twin of sums by key: pieces of keys and values added into a [`KeyTable`].
//!
//! A piece's keys are decoded first (to their order-preserving bits, see
//! `reduce::outputs::ordered_bits`), so that the table knows their range before a value is
//! added: a dense table then adds each value at slot `key - low`, a sparse one hashes. On the
//! pool, each task adds its piece into a table of its own, dense over its piece's key range where
//! that is no wider than the piece, and the caller's table merges them. Keys spread wider than
//! their pieces and too many for tables that stay in the caches (a sample of them says how
//! many) go through ranges of keys instead (`shuffle.rs`), on one thread and on the pool.

use std::sync::OnceLock;

use rayon::prelude::*;

use super::array::{Element, for_each};
use super::{CpuTwin, Isa};
use crate::Error;
use crate::array::{ByteOrder, Dtype};
use crate::control::Control;
use crate::engine::ArrayBytes;
use crate::float::{self, ColumnBins, ExactFloat, FloatWindows};
use crate::reduce::keys::KeyTable;
use crate::reduce::sums::Sums;
use ordered::{Ordered, with_ordered};
pub(crate) use ordered::{ordered_keys, range};

/// Elements of a task on the pool: its table's slots (at most one per element, when dense) and
/// the merge cost no more than its adds. Float tasks are longer, so that each slot's group of
/// values is long enough for the bins (see [`add_floats`]).
const TASK_ELEMENTS: usize = 1 << 18;
const FLOAT_TASK_ELEMENTS: usize = 1 << 21;

/// Float values a piece has per slot, at least, to be summed through bins per slot: placing a
/// slot's bins costs about what adding a hundred values of a few dozen binades one at a time
/// does.
const BINNED_VALUES_PER_SLOT: usize = 64;

/// Lookups ahead that a sparse table is asked for the keys in their buckets; the buckets are
/// asked for twice as many ahead. 2^24 values by 2^22 keys streamed in chunks of 2^20 (most
/// chunks' lookups in a table grown past the caches), one thread: 4.6-5.1 s without, 3.8-4.0
/// at 8 ahead, 3.7-4.2 at 16.
const LOOKUPS_AHEAD: usize = 16;

/// Slots of a sparse table past which its lookups are asked for ahead (its index, sums and
/// counts, some 48 bytes a key, then pass a second-level cache of 1 MiB): in the caches the
/// asking cost a quarter more (2^24 values by 1,000 keys spread over i64).
const PREFETCHED_SLOTS: usize = 1 << 14;

/// Lookups between looks at whether a growing sparse table has passed [`PREFETCHED_SLOTS`].
const LOOKUP_BLOCK: usize = 1 << 12;

/// Distinct keys, about, past which spread keys are moved into ranges first
/// ([`shuffle::sum_in_ranges`]) rather than added into one table on one thread: that table
/// leaves the caches. 2^24 i64 values by 2^16 random i64 keys: 0.37 s into one table, 0.52 s
/// through ranges; by 2^18 0.59 s either way; by 2^20 1.28 s against 0.57 s.
const SHUFFLE_KEYS: u64 = 1 << 17;

/// The same on the pool, where each task's table otherwise meets every key again and the
/// tables are merged after: 2^24 i64 values by 2^14 keys 0.22 s through tables per task, 0.26
/// s through ranges; by 2^16 0.43 s against 0.28 s.
const POOL_SHUFFLE_KEYS: u64 = 1 << 15;

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
        let elements = values.len() as usize;
        // A table that holds as many keys as this call has values already (a stream's later
        // chunks, by many keys) takes them one at a time: ranges would only add a pass before
        // that, and tables per task a merge of their keys one at a time on one thread after.
        let grown = table.slots() >= elements;
        let parallel = self.parallel(u128::from(values.len())) && !grown;
        let ranges = shuffle::ranges_for(elements, if parallel { super::threads() } else { 1 });
        let threshold = if parallel {
            POOL_SHUFFLE_KEYS
        } else {
            SHUFFLE_KEYS
        };
        // The keys' sample, taken when a piece's keys first spread wider than it is (keys that
        // never do, or a grown table's, need none), and whether it says they are many.
        let sample = OnceLock::new();
        let many = || {
            !grown
                && sample
                    .get_or_init(|| {
                        let sample = shuffle::Sample::of(keys, ranges);
                        let many = sample.distinct_keys() > threshold;
                        (sample, many)
                    })
                    .1
        };
        // Many keys spread wider than their pieces go through ranges; every other piece into a
        // table of its own on the pool, dense over its keys where they fit, or straight into
        // `table` on one thread.
        let spread = if parallel {
            self.add_pieces_on_pool(&pieces, &many, table, control)?
        } else {
            let mut spread = Vec::new();
            for (i, &(keys, values)) in pieces.iter().enumerate() {
                control.check()?;
                with_ordered(keys, |ordered| match ordered.range() {
                    Some((low, high)) if high - low >= keys.len() && many() => spread.push(i),
                    Some((low, high)) => {
                        table.saw(keys.len());
                        table.make_room(low, high);
                        add_piece(self.isa, table, ordered, values);
                    }
                    None => {}
                });
            }
            spread
        };
        if !spread.is_empty() {
            let spread: Vec<_> = spread.into_iter().map(|i| pieces[i]).collect();
            let sample = &sample.get().expect("taken for the spread pieces").0;
            let ours =
                shuffle::sum_in_ranges(self.isa, &spread, sample, ranges, parallel, control)?;
            control.check()?;
            // Ranges leave a table of sorted keys, which a dense table would only spread out.
            table.absorb(vec![ours], parallel);
        }
        Ok(())
    }

    /// Adds each piece into a table of its own on the pool, and those into `table`, but for the
    /// pieces whose keys spread wider than they are, when `many()` says so: their indices are
    /// returned.
    fn add_pieces_on_pool(
        &self,
        pieces: &[(ArrayBytes<'_>, ArrayBytes<'_>)],
        many: &(impl Fn() -> bool + Sync),
        table: &mut KeyTable,
        control: &Control,
    ) -> Result<Vec<usize>, Error> {
        let firsts = pieces
            .par_iter()
            .enumerate()
            .map(|(i, &(keys, values))| -> Result<_, Error> {
                control.check()?;
                Ok(with_ordered(keys, |ordered| {
                    let (low, high) = ordered.range()?;
                    Some(match high - low >= keys.len() && many() {
                        true => Err(i),
                        false => Ok((
                            local_table(self.isa, keys.dtype(), ordered, values, low, high),
                            low,
                            high,
                        )),
                    })
                }))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (mut locals, mut spread) = (Vec::new(), Vec::new());
        for first in firsts.into_iter().flatten() {
            match first {
                Ok(local) => locals.push(local),
                Err(i) => spread.push(i),
            }
        }
        let low = locals.iter().map(|l| l.1).min();
        let high = locals.iter().map(|l| l.2).max();
        let (Some(low), Some(high)) = (low, high) else {
            return Ok(spread);
        };
        let seen = locals.iter().map(|l| l.0.seen()).sum();
        let locals: Vec<KeyTable> = locals.into_iter().map(|l| l.0).collect();
        control.check()?;
        if table.stays_dense(low, high, seen) {
            for local in &locals {
                table.merge(local);
            }
        } else {
            table.absorb(locals, true);
        }
        Ok(spread)
    }
}

/// A piece's keys (from `low` to `high`) and values added into a table of their own.
fn local_table(
    isa: Isa,
    key_dtype: Dtype,
    ordered: Ordered<'_>,
    values: ArrayBytes<'_>,
    low: u64,
    high: u64,
) -> KeyTable {
    let elements = ordered.bits.len() as u64;
    let mut local = KeyTable::for_piece(key_dtype, values.dtype(), low, high, elements);
    local.saw(elements);
    add_piece(isa, &mut local, ordered, values);
    local
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
            let elements = ordered.bits.len();
            let slots = sparse_slots(table, ordered);
            let far = table.slots() >= PREFETCHED_SLOTS;
            let (sums, counts) = table.parts();
            if !far {
                return add_at(isa, sums, counts, dtype, order, bytes, |k| slots[k]);
            }
            // The slots ahead asked for too: they are as scattered as the keys.
            let ((sums_at, stride), counts_at) = (sums.addresses(), counts.as_ptr());
            let slot = |k: usize| {
                let ahead = slots[(k + LOOKUPS_AHEAD).min(elements - 1)];
                float::prefetch(sums_at.wrapping_add(ahead * stride));
                float::prefetch(counts_at.wrapping_add(ahead).cast());
                slots[k]
            };
            add_at(isa, sums, counts, dtype, order, bytes, slot);
        }
    }
}

/// The slot of each key of `ordered` in the sparse `table`, made where it has none.
fn sparse_slots(table: &mut KeyTable, ordered: Ordered<'_>) -> Vec<usize> {
    let elements = ordered.bits.len();
    let ahead = |k: usize| ordered.key(k.min(elements - 1));
    let mut slots = Vec::with_capacity(elements);
    for start in (0..elements).step_by(LOOKUP_BLOCK) {
        let block = start..(start + LOOKUP_BLOCK).min(elements);
        // Asking costs two more hashes a key: only for a table past the caches.
        if table.slots() >= PREFETCHED_SLOTS {
            slots.extend(block.map(|k| {
                table.prefetch_sparse(ahead(k + 2 * LOOKUPS_AHEAD), ahead(k + LOOKUPS_AHEAD));
                table.sparse_slot(ordered.key(k))
            }));
        } else {
            slots.extend(block.map(|k| table.sparse_slot(ordered.key(k))));
        }
    }
    slots
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

mod ordered;
mod shuffle;
#[cfg(test)]
mod tests;
