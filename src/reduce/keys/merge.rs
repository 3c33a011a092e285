//! Many tables merged into one whose keys are sparse ([`KeyTable::absorb`]), in parts that the
//! pool can take side by side.
//!
//! Adding the tables one after another into one hash table went a key at a time through memory
//! far larger than the caches, on one thread: with 2^22 distinct keys among 2^24 values, the
//! pool's merge took longer than one thread adding every value. Here the keys are cut into
//! ranges by splitters sampled from them; each range gathers its entries from every table,
//! sorts them (a range's entries stay in the second-level cache) and adds equal keys together,
//! and the ranges, in order, are the merged table, keys ascending.

use super::{KeyTable, Sorted};
use crate::array::Dtype;
use crate::cpu::map_on;
use crate::reduce::sums::Sums;

/// Entries (a key of one table) in a range, about: few enough to sort in the second-level
/// cache, enough that a range's fixed costs do not count.
const RANGE_ENTRIES: usize = 1 << 14;

/// Keys sampled per range, for the splitters.
const SAMPLES_PER_RANGE: usize = 16;

impl KeyTable {
    /// Adds every table of `others` to this one: all at once by ranges of keys, on the pool
    /// when `parallel` ([`KeyTable::merge_sparse`]), unless this table has as many slots as
    /// they have already. Then their keys are looked up in it one at a time: a stream's chunks
    /// merged by ranges into a table grown large would move all of it again for each chunk.
    pub(crate) fn absorb(&mut self, mut others: Vec<KeyTable>, parallel: bool) {
        let theirs: usize = others.iter().map(|table| table.counts.len()).sum();
        if self.counts.is_empty() && others.len() == 1 {
            // Nothing of ours to add to: theirs is the table.
            let seen = self.seen;
            *self = others.remove(0);
            self.seen += seen;
        } else if self.counts.len() >= theirs {
            for other in &others {
                self.merge(other);
            }
        } else {
            self.merge_sparse(others, parallel);
        }
    }

    /// Adds every table of `others` to this one, which is sparse after, its keys ascending; on
    /// the pool when `parallel`.
    fn merge_sparse(&mut self, others: Vec<KeyTable>, parallel: bool) {
        let ours = std::mem::replace(self, KeyTable::new(self.key_dtype, self.value_dtype));
        let mut tables = others;
        tables.push(ours);
        let seen = tables.iter().map(|table| table.seen).sum();
        let present = map_on(parallel, &tables, KeyTable::present);
        let entries: usize = present.iter().map(Vec::len).sum();
        let ranges = entries.div_ceil(RANGE_ENTRIES);
        let splitters = splitters(&sample(&present, ranges), ranges);
        let buckets = map_on(parallel, &present, |keys| Buckets::new(keys, &splitters));
        let ranges: Vec<usize> = (0..=splitters.len()).collect();
        let merged = map_on(parallel, &ranges, |&range| {
            merge_range(&tables, &buckets, range, self.value_dtype)
        });
        *self = KeyTable::of_sorted(self.key_dtype, self.value_dtype, merged, seen);
    }
}

/// A sample of the keys of `present` (each table's keys and slots), ascending, for `ranges`
/// ranges.
fn sample(present: &[Vec<(u64, usize)>], ranges: usize) -> Vec<u64> {
    let entries: usize = present.iter().map(Vec::len).sum();
    let step = (entries / (ranges * SAMPLES_PER_RANGE)).max(1);
    let mut sample: Vec<u64> = present
        .iter()
        .flat_map(|keys| keys.iter().step_by(step).map(|&(key, _)| key))
        .collect();
    sample.sort_unstable();
    sample
}

/// Keys that cut `sample` (ascending) into `ranges` parts of as many keys, ascending and
/// distinct: range r holds the keys from splitter r - 1 (or the least) up to splitter r, not
/// included (see [`range_of`]).
pub(crate) fn splitters(sample: &[u64], ranges: usize) -> Vec<u64> {
    if sample.is_empty() {
        return Vec::new();
    }
    let mut splitters: Vec<u64> = (1..ranges)
        .map(|r| sample[r * sample.len() / ranges])
        .collect();
    splitters.dedup();
    splitters
}

/// The range of `key` among `splitters`.
#[inline(always)]
pub(crate) fn range_of(splitters: &[u64], key: u64) -> usize {
    splitters.partition_point(|&splitter| splitter <= key)
}

/// One table's keys and slots, grouped by range.
struct Buckets {
    /// Range r's entries are `entries[starts[r]..starts[r + 1]]`.
    starts: Vec<usize>,
    entries: Vec<(u64, usize)>,
}

impl Buckets {
    fn new(present: &[(u64, usize)], splitters: &[u64]) -> Self {
        let ranges: Vec<usize> = present
            .iter()
            .map(|&(key, _)| range_of(splitters, key))
            .collect();
        let mut starts = vec![0; splitters.len() + 2];
        for &range in &ranges {
            starts[range + 1] += 1;
        }
        for r in 1..starts.len() {
            starts[r] += starts[r - 1];
        }
        let mut next = starts.clone();
        let mut entries = vec![(0, 0); present.len()];
        for (&entry, &range) in present.iter().zip(&ranges) {
            entries[next[range]] = entry;
            next[range] += 1;
        }
        Self { starts, entries }
    }

    fn range(&self, range: usize) -> &[(u64, usize)] {
        &self.entries[self.starts[range]..self.starts[range + 1]]
    }
}

/// The keys of `range` in every table, equal keys added together, keys ascending.
fn merge_range(tables: &[KeyTable], buckets: &[Buckets], range: usize, dtype: Dtype) -> Sorted {
    // (key, table, slot in it)
    let mut entries: Vec<(u64, usize, usize)> = buckets
        .iter()
        .enumerate()
        .flat_map(|(table, b)| {
            b.range(range)
                .iter()
                .map(move |&(key, slot)| (key, table, slot))
        })
        .collect();
    entries.sort_unstable_by_key(|&(key, _, _)| key);
    let distinct = entries
        .iter()
        .enumerate()
        .filter(|&(i, entry)| i == 0 || entries[i - 1].0 != entry.0)
        .count();
    let mut merged = Sorted {
        keys: Vec::with_capacity(distinct),
        sums: Sums::new(dtype, distinct),
        counts: Vec::with_capacity(distinct),
    };
    for &(key, table, slot) in &entries {
        if merged.keys.last() != Some(&key) {
            merged.keys.push(key);
            merged.counts.push(0);
        }
        let ours = merged.keys.len() - 1;
        merged.sums.merge_from(ours, &tables[table].sums, slot);
        merged.counts[ours] += tables[table].counts[slot];
    }
    merged
}
