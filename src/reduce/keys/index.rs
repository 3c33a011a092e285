//! The hash table a sparse [`KeyTable`](super::KeyTable) finds its slots in.

use crate::float::prefetch;

/// Each key's slot among the distinct keys of `keys`, numbered in the order first seen, and those
/// keys.
pub(crate) fn ranks(keys: &[u64]) -> (Vec<u32>, Vec<u64>) {
    let mut index = Index::with_capacity(keys.len().min(1 << 20));
    let slots = keys.iter().map(|&key| index.slot(key).0 as u32).collect();
    (slots, index.keys)
}

/// An open-addressing hash table from keys to slots (linear probing, at most half full).
#[derive(Clone, Debug)]
pub(super) struct Index {
    /// Each bucket's slot, or `EMPTY_BUCKET`; none until a key is looked up, for an index
    /// made of keys known distinct ([`Index::of_distinct`]).
    buckets: Vec<usize>,
    /// Each slot's key.
    pub(super) keys: Vec<u64>,
    shift: u32,
}

const EMPTY_BUCKET: usize = usize::MAX;

impl Index {
    pub(super) fn with_capacity(keys: usize) -> Self {
        let buckets = (2 * keys).next_power_of_two().max(16);
        Self {
            buckets: vec![EMPTY_BUCKET; buckets],
            keys: Vec::with_capacity(keys),
            shift: 64 - buckets.trailing_zeros(),
        }
    }

    /// An index of `keys`, distinct, slot k holding `keys[k]`; its buckets are made when a key
    /// is first looked up (a merge's result may be looked up never).
    pub(super) fn of_distinct(keys: Vec<u64>) -> Self {
        Self {
            buckets: Vec::new(),
            keys,
            shift: 0,
        }
    }

    /// The bucket a lookup of `key` starts at (where there are no buckets yet, past them).
    #[inline(always)]
    fn first_bucket(&self, key: u64) -> usize {
        // Fibonacci hashing: the top bits of the product spread any run of keys.
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Asks for the bucket a lookup of `key` starts at, a lookup or two ahead of it.
    #[inline(always)]
    pub(super) fn prefetch_bucket(&self, key: u64) {
        if let Some(bucket) = self.buckets.get(self.first_bucket(key)) {
            prefetch((bucket as *const usize).cast());
        }
    }

    /// Asks for the key in the bucket a lookup of `key` starts at (its bucket asked for already):
    /// the lookup compares it.
    #[inline(always)]
    pub(super) fn prefetch_key(&self, key: u64) {
        if let Some(&slot) = self.buckets.get(self.first_bucket(key))
            && slot != EMPTY_BUCKET
        {
            prefetch(self.keys.as_ptr().wrapping_add(slot).cast());
        }
    }

    /// The slot of `key`, and whether it was made now.
    #[inline(always)]
    pub(super) fn slot(&mut self, key: u64) -> (usize, bool) {
        if self.buckets.is_empty() {
            self.rehash();
        }
        let mask = self.buckets.len() - 1;
        let mut bucket = self.first_bucket(key);
        loop {
            match self.buckets[bucket] {
                EMPTY_BUCKET => break,
                slot if self.keys[slot] == key => return (slot, false),
                _ => bucket = (bucket + 1) & mask,
            }
        }
        let slot = self.keys.len();
        self.buckets[bucket] = slot;
        self.keys.push(key);
        if 2 * self.keys.len() > self.buckets.len() {
            self.rehash();
        }
        (slot, true)
    }

    /// Doubles the buckets (or makes the first, for keys that have none).
    fn rehash(&mut self) {
        let mut wider = Index::with_capacity(self.buckets.len().max(self.keys.len()));
        for &key in &self.keys {
            wider.slot(key);
        }
        *self = wider;
    }
}
