//! The CPU twin of sums by key: pieces of keys and values added into a [`KeyTable`].
//!
//! A piece's keys are decoded first (to their order-preserving bits, see
//! `reduce::outputs::ordered_bits`), so that the table knows their range before a value is
//! added: a dense table then adds each value at slot `key - low`, a sparse one hashes. On the
//! pool, each task adds its piece into a table of its own, dense over its piece's key range where
//! that is no wider than the piece, and the caller's table merges them. Keys spread wider than
//! their pieces and too many for tables that stay in the caches (a sample of them says how
//! many) go through ranges of keys instead (`shuffle.rs`), on one thread and on the pool.

use rayon::prelude::*;

use super::array::{Element, for_each};
use super::{CpuTwin, Isa};
use crate::Error;
use crate::array::{ByteOrder, Dtype};
use crate::control::Control;
use crate::engine::ArrayBytes;
use crate::float::{self, ColumnBins, ExactFloat, FloatWindows};
use crate::reduce::keys::KeyTable;
use crate::reduce::outputs::Sums;
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

/// Distinct keys, about, past which spread keys are moved into ranges first
/// ([`shuffle::sum_in_ranges`]) rather than added into one table on one thread: that table
/// leaves the caches. 2^24 i64 values by 2^16 random i64 keys: 0.37 s into one table, 0.52 s
/// through ranges; by 2^18 0.59 s either way; by 2^20 1.28 s against 0.57 s.
const SHUFFLE_KEYS: u64 = 1 << 17;

/// The same on the pool, where each task's table otherwise meets every key again and the
/// tables are merged after: 2^24 i64 values by 2^14 keys 0.22 s through tables per task, 0.26
/// s through ranges; by 2^16 0.43 s against 0.28 s.
const POOL_SHUFFLE_KEYS: u64 = 1 << 15;

/// Pieces whose keys spread wider than their elements, set aside by the first pass: each one's
/// index and scan.
type Spread = Vec<(usize, shuffle::Scan)>;

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
        if !self.parallel(u128::from(values.len())) {
            return self.add_one_thread(&pieces, elements, table, control);
        }
        let ranges = shuffle::ranges_for(elements, super::threads());
        // Each piece into a table of its own, dense over its keys, unless they spread.
        let firsts = pieces
            .par_iter()
            .enumerate()
            .map(|(i, &(keys, values))| -> Result<_, Error> {
                control.check()?;
                Ok(with_ordered(keys, |ordered| {
                    let scan = shuffle::scan(ordered, elements, ranges)?;
                    Some(match scan.spread() {
                        true => Err((i, scan)),
                        false => Ok(local_table(self.isa, keys.dtype(), ordered, values, &scan)),
                    })
                }))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (mut locals, mut spread) = (Vec::new(), Spread::new());
        for first in firsts.into_iter().flatten() {
            match first {
                Ok(local) => locals.push(local),
                Err(scan) => spread.push(scan),
            }
        }
        let mut shuffled = None;
        if !spread.is_empty() {
            let sample = shuffle::Sample::of(spread.iter().map(|s| &s.1));
            if sample.distinct_keys() > POOL_SHUFFLE_KEYS {
                let spread: Vec<_> = spread.iter().map(|&(i, _)| pieces[i]).collect();
                let ours =
                    shuffle::sum_in_ranges(self.isa, &spread, &sample, ranges, true, control);
                shuffled = Some(ours?);
            } else {
                let more = spread
                    .par_iter()
                    .map(|(i, scan)| {
                        control.check()?;
                        let (keys, values) = pieces[*i];
                        Ok(with_ordered(keys, |ordered| {
                            local_table(self.isa, keys.dtype(), ordered, values, scan)
                        }))
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                locals.extend(more);
            }
        }
        control.check()?;
        let low = locals.iter().map(|l| l.1).min();
        let high = locals.iter().map(|l| l.2).max();
        if let (Some(low), Some(high)) = (low, high) {
            let locals: Vec<KeyTable> = locals.into_iter().map(|l| l.0).collect();
            if table.stays_dense(low, high, elements as u64) {
                for local in &locals {
                    table.merge(local);
                }
            } else {
                table.absorb(locals, true);
            }
        }
        // Ranges leave a table of sorted keys, which a dense table would only spread out.
        if let Some(ours) = shuffled {
            table.absorb(vec![ours], true);
        }
        Ok(())
    }

    /// [`CpuTwin::add_by_key`] on the calling thread: each piece straight into `table`, unless
    /// its keys spread wider than it; those pieces after, through ranges when their keys are
    /// many.
    fn add_one_thread(
        &self,
        pieces: &[(ArrayBytes<'_>, ArrayBytes<'_>)],
        elements: usize,
        table: &mut KeyTable,
        control: &Control,
    ) -> Result<(), Error> {
        let ranges = shuffle::ranges_for(elements, 1);
        let mut spread = Spread::new();
        for (i, &(keys, values)) in pieces.iter().enumerate() {
            control.check()?;
            with_ordered(keys, |ordered| {
                match shuffle::scan(ordered, elements, ranges) {
                    Some(scan) if scan.spread() => spread.push((i, scan)),
                    Some(scan) => add_to(self.isa, table, ordered, values, &scan),
                    None => {}
                }
            });
        }
        if spread.is_empty() {
            return Ok(());
        }
        let sample = shuffle::Sample::of(spread.iter().map(|s| &s.1));
        if sample.distinct_keys() > SHUFFLE_KEYS {
            let spread: Vec<_> = spread.iter().map(|&(i, _)| pieces[i]).collect();
            let ours = shuffle::sum_in_ranges(self.isa, &spread, &sample, ranges, false, control)?;
            table.absorb(vec![ours], false);
            return Ok(());
        }
        for (i, scan) in &spread {
            control.check()?;
            let (keys, values) = pieces[*i];
            with_ordered(keys, |ordered| {
                add_to(self.isa, table, ordered, values, scan)
            });
        }
        Ok(())
    }
}

/// A piece's keys and values added into a table of their own, with its lowest and highest key.
fn local_table(
    isa: Isa,
    key_dtype: Dtype,
    ordered: Ordered<'_>,
    values: ArrayBytes<'_>,
    scan: &shuffle::Scan,
) -> (KeyTable, u64, u64) {
    let elements = ordered.bits.len() as u64;
    let mut local = KeyTable::for_piece(key_dtype, values.dtype(), scan.low, scan.high, elements);
    local.saw(elements);
    add_piece(isa, &mut local, ordered, values);
    (local, scan.low, scan.high)
}

/// A piece's keys and values added into `table`, room made for them first.
fn add_to(
    isa: Isa,
    table: &mut KeyTable,
    ordered: Ordered<'_>,
    values: ArrayBytes<'_>,
    scan: &shuffle::Scan,
) {
    table.saw(ordered.bits.len() as u64);
    table.make_room(scan.low, scan.high);
    add_piece(isa, table, ordered, values);
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

mod ordered;
mod shuffle;
#[cfg(test)]
mod tests;
