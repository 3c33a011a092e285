//! A piece's keys as order-preserving bits ([`Ordered`]), where the table's slots are found:
//! 64-bit keys read where they lie, others decoded into a thread's room, and their range.

use super::super::Isa;
use super::super::simd::{Lanes, per_isa};
use super::for_each_int;
use crate::array::ByteOrder;
use crate::engine::ArrayBytes;

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
pub(super) struct Ordered<'a> {
    pub(super) bits: &'a [u64],
    pub(super) flip: u64,
}

impl<'a> Ordered<'a> {
    pub(super) fn new(bits: &'a [u64], flip: u64) -> Self {
        Self { bits, flip }
    }

    /// Key k's order-preserving bits.
    #[inline(always)]
    pub(super) fn key(&self, k: usize) -> u64 {
        self.bits[k] ^ self.flip
    }

    /// The lowest and highest key; `None` for none.
    pub(super) fn range(&self) -> Option<(u64, u64)> {
        (!self.bits.is_empty()).then(|| range_of(Isa::best(), self.bits, self.flip))
    }
}

/// Runs `work` on `keys` as order-preserving bits: 64-bit keys in this machine's order where
/// they lie (their sign bit flipped on the way), other keys decoded into this thread's room.
/// (Decoding 2^24 i64 keys wrote and read back 128 MiB, a tenth of an f64 sum by key.)
pub(super) fn with_ordered<R>(keys: ArrayBytes<'_>, work: impl FnOnce(Ordered<'_>) -> R) -> R {
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

/// Every `stride`-th key's order-preserving bits, each decoded alone (a sample should not
/// decode every key).
pub(super) fn sampled_keys(keys: ArrayBytes<'_>, stride: usize) -> Vec<u64> {
    let (dtype, size) = (keys.dtype(), keys.dtype().size());
    let flip = if dtype.is_signed() { 1u64 << 63 } else { 0 };
    let mut sample = Vec::new();
    for k in (0..keys.len() as usize).step_by(stride) {
        let one = &keys.bytes()[k * size..(k + 1) * size];
        for_each_int(dtype, keys.order(), one, |_, key| {
            sample.push((key as i64 as u64) ^ flip);
        });
    }
    sample
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
