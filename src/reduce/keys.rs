//! The table a sum by key adds into ([`KeyTable`]): one exact sum and count per distinct key.
//!
//! Keys are held as their order-preserving bits (`outputs::ordered_bits`), so that keys of
//! every integer type, signed or not, compare as u64. While the keys seen lie in a range no
//! wider than [`KeyTable::dense_limit`] allows, slot k holds key `low + k`: one subtraction a
//! value. Past that the table turns sparse: an open-addressing hash table (`index.rs`) gives each
//! distinct key a slot in the order first seen, and the keys are sorted once at the end. Many
//! tables are merged at once by ranges of keys (`merge.rs`), which leaves a sparse table whose
//! keys are in order already, its hash table made only if a key is looked up after. Either way the
//! memory is the slots: 16 bytes (integers) or 72 (floats, see `FloatWindows`) plus a count of 8
//! each, and for a sparse table 24 bytes of index per key (its bits, and buckets at most half
//! full).

use super::outputs::{Keys, Outputs};
use super::sums::Sums;
use crate::array::Dtype;
use index::Index;
pub(crate) use index::ranks;
pub(crate) use merge::{range_of, splitters};

/// Slots a dense table may always span, whatever it has seen.
const DENSE_FLOOR: u64 = 1 << 16;

/// Keys a piece's sparse table has room for at first: it doubles as it fills, and room for
/// every element of a piece whose keys repeat cost more, to clear and in cache misses, than the
/// doublings (2^24 values by 2^16 distinct keys, in tables per task on the pool: 0.41 s with
/// room for every element, 0.35 s growing).
const FIRST_SPARSE_KEYS: u64 = 1 << 12;

/// The slots of distinct keys, dense or hashed.
#[derive(Clone, Debug)]
enum Slots {
    /// Slot k holds key `low + k`.
    Dense { low: u64 },
    /// Each distinct key's slot, in the order first seen.
    Sparse(Index),
}

/// One exact sum and count per distinct key.
#[derive(Clone, Debug)]
pub(crate) struct KeyTable {
    key_dtype: Dtype,
    value_dtype: Dtype,
    slots: Slots,
    sums: Sums,
    counts: Vec<u64>,
    /// Elements added so far: a dense table may span four slots per element seen.
    seen: u64,
}

impl KeyTable {
    /// An empty table for keys of `key_dtype` and values of `value_dtype`.
    pub(crate) fn new(key_dtype: Dtype, value_dtype: Dtype) -> Self {
        Self {
            key_dtype,
            value_dtype,
            slots: Slots::Dense { low: 0 },
            sums: Sums::new(value_dtype, 0),
            counts: Vec::new(),
            seen: 0,
        }
    }

    /// A table for a piece of `elements` values whose keys lie in `[low, high]`: dense when the
    /// range is no wider than the piece (its slots then cost no more than its values), else
    /// sparse.
    pub(crate) fn for_piece(
        key_dtype: Dtype,
        value_dtype: Dtype,
        low: u64,
        high: u64,
        elements: u64,
    ) -> Self {
        let mut table = Self::new(key_dtype, value_dtype);
        if high - low < elements.max(1) {
            table.slots = Slots::Dense { low };
            table.grow_to(high - low + 1);
        } else {
            table.slots = Slots::Sparse(Index::with_capacity(
                elements.min(FIRST_SPARSE_KEYS) as usize
            ));
        }
        table
    }

    /// A table of `sums` and `counts` whose slot k holds key `low + k` (a GPU's dense pass).
    pub(crate) fn dense(
        key_dtype: Dtype,
        value_dtype: Dtype,
        low: u64,
        sums: Sums,
        counts: Vec<u64>,
    ) -> Self {
        let seen = counts.iter().sum();
        Self {
            key_dtype,
            value_dtype,
            slots: Slots::Dense { low },
            sums,
            counts,
            seen,
        }
    }

    /// A table of `sums` and `counts` whose slot k holds `keys[k]`, distinct (a GPU's sparse
    /// pass).
    pub(crate) fn sparse(
        key_dtype: Dtype,
        value_dtype: Dtype,
        keys: &[u64],
        sums: Sums,
        counts: Vec<u64>,
    ) -> Self {
        let mut index = Index::with_capacity(keys.len());
        for &key in keys {
            index.slot(key);
        }
        let seen = counts.iter().sum();
        Self {
            key_dtype,
            value_dtype,
            slots: Slots::Sparse(index),
            sums,
            counts,
            seen,
        }
    }

    /// Keys a dense table may span: the floor, or four per element seen.
    fn dense_limit(&self) -> u64 {
        DENSE_FLOOR.max(self.seen.saturating_mul(4))
    }

    fn grow_to(&mut self, slots: u64) {
        let more = slots as usize - self.counts.len();
        self.sums.grow(more);
        self.counts.resize(slots as usize, 0);
    }

    /// The key in slot 0 of a dense table (a key's slot is its distance from it); `None` for a
    /// sparse table.
    #[inline(always)]
    pub(crate) fn dense_low(&self) -> Option<u64> {
        match self.slots {
            Slots::Dense { low } => Some(low),
            Slots::Sparse(_) => None,
        }
    }

    /// The slot of `key` in a sparse table, made where it has none.
    #[inline(always)]
    pub(crate) fn sparse_slot(&mut self, key: u64) -> usize {
        let Slots::Sparse(index) = &mut self.slots else {
            unreachable!("only sparse tables hash");
        };
        let (slot, new) = index.slot(key);
        if new {
            self.sums.grow(1);
            self.counts.push(0);
        }
        slot
    }

    /// Asks a sparse table for what the lookups of `far` and then `near` will read: `far`'s
    /// bucket, and the key in `near`'s (whose bucket was asked for as the `far` of an earlier
    /// call). Lookups in a table past the caches then wait on memory side by side.
    #[inline(always)]
    pub(crate) fn prefetch_sparse(&self, far: u64, near: u64) {
        if let Slots::Sparse(index) = &self.slots {
            index.prefetch_bucket(far);
            index.prefetch_key(near);
        }
    }

    /// The accumulators and counts, for the hot loops that add to them by slot.
    #[inline(always)]
    pub(crate) fn parts(&mut self) -> (&mut Sums, &mut [u64]) {
        (&mut self.sums, &mut self.counts)
    }

    /// Slots the table holds: its keys, and for a dense table the keys between them.
    pub(crate) fn slots(&self) -> usize {
        self.counts.len()
    }

    /// Values added so far.
    pub(crate) fn seen(&self) -> u64 {
        self.seen
    }

    /// Counts `elements` more values as seen (for the dense limit).
    pub(crate) fn saw(&mut self, elements: u64) {
        self.seen += elements;
    }

    /// Whether this table, once it has seen `more` elements more, stays dense with keys in
    /// `[low, high]` too.
    pub(crate) fn stays_dense(&self, low: u64, high: u64, more: u64) -> bool {
        let Slots::Dense { low: ours } = self.slots else {
            return false;
        };
        let (low, high) = match self.counts.len() as u64 {
            0 => (low, high),
            slots => (ours.min(low), (ours + slots - 1).max(high)),
        };
        high - low < DENSE_FLOOR.max(self.seen.saturating_add(more).saturating_mul(4))
    }

    /// Makes the table ready for keys in `[low, high]`: a dense table widens to span them, or
    /// turns sparse when that would pass its limit.
    pub(crate) fn make_room(&mut self, low: u64, high: u64) {
        let Slots::Dense { low: ours } = self.slots else {
            return;
        };
        let (new_low, new_high) = if self.counts.is_empty() {
            (low, high)
        } else {
            (
                ours.min(low),
                (ours + self.counts.len() as u64 - 1).max(high),
            )
        };
        if new_high - new_low >= self.dense_limit() {
            self.make_sparse();
            return;
        }
        if self.counts.is_empty() || ours == new_low {
            self.slots = Slots::Dense { low: new_low };
            self.grow_to(new_high - new_low + 1);
            return;
        }
        let shift = (ours - new_low) as usize;
        // Move the slots up by `shift`: rebuild them in a wider table.
        let mut wider = Sums::new(self.value_dtype, (new_high - new_low + 1) as usize);
        let mut counts = vec![0u64; (new_high - new_low + 1) as usize];
        for (k, &count) in self.counts.iter().enumerate() {
            if count > 0 {
                wider.merge_from(k + shift, &self.sums, k);
                counts[k + shift] = count;
            }
        }
        self.slots = Slots::Dense { low: new_low };
        self.sums = wider;
        self.counts = counts;
    }

    /// Turns a dense table sparse, keeping the keys that have values.
    fn make_sparse(&mut self) {
        let Slots::Dense { low } = self.slots else {
            return;
        };
        let present: Vec<usize> = (0..self.counts.len())
            .filter(|&k| self.counts[k] > 0)
            .collect();
        let mut index = Index::with_capacity(present.len().max(1024));
        let mut sums = Sums::new(self.value_dtype, present.len());
        let mut counts = Vec::with_capacity(present.len());
        for (slot, &k) in present.iter().enumerate() {
            index.slot(low + k as u64);
            sums.merge_from(slot, &self.sums, k);
            counts.push(self.counts[k]);
        }
        self.slots = Slots::Sparse(index);
        self.sums = sums;
        self.counts = counts;
    }

    /// Every key with values, and its slot.
    fn present(&self) -> Vec<(u64, usize)> {
        match &self.slots {
            Slots::Dense { low } => (0..self.counts.len())
                .filter(|&k| self.counts[k] > 0)
                .map(|k| (low + k as u64, k))
                .collect(),
            Slots::Sparse(index) => index
                .keys
                .iter()
                .enumerate()
                .map(|(slot, &key)| (key, slot))
                .collect(),
        }
    }

    /// Adds another table's sums and counts.
    pub(crate) fn merge(&mut self, other: &KeyTable) {
        let present = other.present();
        let (Some(&(low, _)), Some(&(high, _))) = (
            present.iter().min_by_key(|(key, _)| key),
            present.iter().max_by_key(|(key, _)| key),
        ) else {
            return;
        };
        self.saw(other.seen);
        self.make_room(low, high);
        for (key, theirs) in present {
            let ours = match self.slots {
                Slots::Dense { low } => (key - low) as usize,
                Slots::Sparse(_) => self.sparse_slot(key),
            };
            self.sums.merge_from(ours, &other.sums, theirs);
            self.counts[ours] += other.counts[theirs];
        }
    }

    /// The table as outputs: one per key with values, keys ascending.
    pub(crate) fn into_outputs(self) -> Outputs {
        let (key_dtype, value_dtype) = (self.key_dtype, self.value_dtype);
        let sorted = self.into_sorted();
        let keys = Keys::new(key_dtype, sorted.keys);
        Outputs::by_key(value_dtype, keys, sorted.sums, sorted.counts)
    }

    /// The keys with values, ascending, with their sums and counts.
    pub(crate) fn into_sorted(self) -> Sorted {
        let mut present = self.present();
        present.sort_unstable_by_key(|&(key, _)| key);
        let keys = present.iter().map(|&(key, _)| key).collect();
        let in_order = present.iter().enumerate().all(|(i, &(_, slot))| i == slot);
        if in_order && present.len() == self.counts.len() {
            return Sorted {
                keys,
                sums: self.sums,
                counts: self.counts,
            };
        }
        let mut sums = Sums::new(self.value_dtype, present.len());
        let mut counts = Vec::with_capacity(present.len());
        for (i, &(_, slot)) in present.iter().enumerate() {
            sums.copy_from(i, &self.sums, slot);
            counts.push(self.counts[slot]);
        }
        Sorted { keys, sums, counts }
    }

    /// A sparse table of `parts` in order, each part's keys ascending and below the next part's,
    /// that has seen `seen` elements.
    pub(crate) fn of_sorted(
        key_dtype: Dtype,
        value_dtype: Dtype,
        parts: Vec<Sorted>,
        seen: u64,
    ) -> Self {
        let distinct = parts.iter().map(|part| part.keys.len()).sum();
        let mut keys = Vec::with_capacity(distinct);
        let mut sums = Sums::new(value_dtype, 0);
        let mut counts = Vec::with_capacity(distinct);
        for part in parts {
            debug_assert!(keys.last() < part.keys.first());
            keys.extend_from_slice(&part.keys);
            sums.append(part.sums);
            counts.extend_from_slice(&part.counts);
        }
        Self {
            key_dtype,
            value_dtype,
            slots: Slots::Sparse(Index::of_distinct(keys)),
            sums,
            counts,
            seen,
        }
    }
}

/// Keys ascending, each with its sum and count.
pub(crate) struct Sorted {
    pub(crate) keys: Vec<u64>,
    pub(crate) sums: Sums,
    pub(crate) counts: Vec<u64>,
}

mod index;
mod merge;
#[cfg(test)]
mod tests;
