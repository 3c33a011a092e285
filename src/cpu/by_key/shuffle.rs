//! Sums by key whose keys are too spread for a piece's dense table: the elements are first
//! moved into ranges of keys, so that each range's table holds its own keys alone and the
//! ranges, in order, are the result, with nothing to merge.
//!
//! A table per piece of the array (the dense path) sees every distinct key again in every piece
//! when keys repeat across the array, and their merge then adds the same keys a piece at a time:
//! with 2^22 distinct keys among 2^24 values, the pool took longer than one thread adding every
//! value into one table. Here the splitters come from a sample of the keys, each piece copies
//! its keys and values into its share of each range, and each range sums into a table of its
//! own, dense where its keys are (keys spread evenly over a span: a range's span is then a
//! fraction of it), hashed and sorted where not.

use rayon::prelude::*;

use super::super::array::{Element, for_each};
use super::super::{Isa, map_on};
use super::ordered::sampled_keys;
use super::{Ordered, local_table, with_ordered};
use crate::Error;
use crate::array::ByteOrder;
use crate::control::Control;
use crate::engine::ArrayBytes;
use crate::pages::zeroed_on_huge_pages;
use crate::reduce::keys::{KeyTable, Sorted, range_of, splitters};

/// Elements a range holds, about: its table then fits the second-level cache where its keys
/// are distinct, and its sum is a task of the pool's size.
const RANGE_ELEMENTS: usize = 1 << 18;

/// Keys sampled per range to place the splitters.
const SAMPLES_PER_RANGE: usize = 32;

/// Keys sampled in all, at least: among 2^14 keys drawn from 2^16 distinct ones about 2^11 are
/// seen twice, from 2^20 about 2^7, enough to tell which.
const SAMPLE_KEYS: usize = 1 << 14;

/// Ranges for `elements` elements on a pool of `threads`: a few per thread at least, so that
/// ranges of unequal work still share out.
pub(super) fn ranges_for(elements: usize, threads: usize) -> usize {
    (elements / RANGE_ELEMENTS)
        .max(4 * threads)
        .min(elements.div_ceil(RANGE_ELEMENTS / 16))
        .clamp(1, usize::from(u16::MAX))
}

/// Keys sampled evenly from all of a request's, as order-preserving bits, ascending.
pub(super) struct Sample(Vec<u64>);

impl Sample {
    /// A sample of `keys` for `ranges` ranges: a few keys for each splitter, and at least
    /// [`SAMPLE_KEYS`].
    pub(super) fn of(keys: ArrayBytes<'_>, ranges: usize) -> Self {
        let samples = (ranges * SAMPLES_PER_RANGE).max(SAMPLE_KEYS);
        let mut keys = sampled_keys(keys, (keys.len() as usize / samples).max(1));
        keys.sort_unstable();
        Self(keys)
    }

    /// About how many distinct keys the elements have, from how many keys the sample holds
    /// once and twice (Chao's estimate, bias-corrected: d + f1 (f1 - 1) / 2 (f2 + 1), a lower
    /// bound). Keys that repeat often, however hot, count once and change nothing else, where
    /// an estimate from all repeats would take a key in every eighth element for few keys.
    pub(super) fn distinct_keys(&self) -> u64 {
        let (mut distinct, mut once, mut twice) = (0u64, 0u64, 0u64);
        for run in self.0.chunk_by(|a, b| a == b) {
            distinct += 1;
            once += u64::from(run.len() == 1);
            twice += u64::from(run.len() == 2);
        }
        distinct + once * once.saturating_sub(1) / (2 * (twice + 1))
    }

    /// Keys that cut the sample into `ranges` parts of as many (see [`splitters`]).
    fn splitters(&self, ranges: usize) -> Vec<u64> {
        splitters(&self.0, ranges)
    }
}

/// Every range's keys (order-preserving bits) and values (in this machine's byte order), the
/// ranges in order: range r's are `keys[starts[r]..starts[r + 1]]`, its values the same elements.
struct Ranges {
    starts: Vec<usize>,
    keys: Vec<u64>,
    values: Vec<u8>,
}

impl Ranges {
    /// Each range's keys and values.
    fn each(&self, size: usize) -> Vec<(&[u64], &[u8])> {
        self.starts
            .windows(2)
            .map(|at| {
                let (from, to) = (at[0], at[1]);
                (&self.keys[from..to], &self.values[from * size..to * size])
            })
            .collect()
    }
}

/// A piece's share of each range: its keys' places, and its values' bytes.
type Shares<'a> = Vec<(&'a mut [u64], &'a mut [u8])>;

/// Sums `pieces` (keys and values, as `add_by_key` cut them, `sample` their keys') by key into
/// a sparse table of their keys, ascending, on the pool when `parallel`.
///
/// # Errors
/// [`Error::Cancelled`] or [`Error::Timeout`] from `control`, looked at between the passes.
pub(super) fn sum_in_ranges(
    isa: Isa,
    pieces: &[(ArrayBytes<'_>, ArrayBytes<'_>)],
    sample: &Sample,
    ranges: usize,
    parallel: bool,
    control: &Control,
) -> Result<KeyTable, Error> {
    let (key_dtype, value_dtype) = (pieces[0].0.dtype(), pieces[0].1.dtype());
    let splitters = sample.splitters(ranges);
    let placed = map_on(parallel, pieces, |(keys, _)| Placed::new(*keys, &splitters));
    control.check()?;
    let ranges = gather(pieces, &placed, splitters.len() + 1, parallel);
    drop(placed);
    control.check()?;
    let sum_range = |&(keys, values): &(&[u64], &[u8])| -> Result<Sorted, Error> {
        let ordered = Ordered::new(keys, 0);
        let Some((low, high)) = ordered.range() else {
            return Ok(KeyTable::new(key_dtype, value_dtype).into_sorted());
        };
        let values = ArrayBytes::new(values, value_dtype, ByteOrder::NATIVE)?;
        Ok(local_table(isa, key_dtype, ordered, values, low, high).into_sorted())
    };
    let sorted = map_on(parallel, &ranges.each(value_dtype.size()), sum_range)
        .into_iter()
        .collect::<Result<_, _>>()?;
    let seen = pieces.iter().map(|(keys, _)| keys.len()).sum();
    Ok(KeyTable::of_sorted(key_dtype, value_dtype, sorted, seen))
}

/// Each element's range, and how many of a piece's elements each range gets.
struct Placed {
    of: Vec<u16>,
    counts: Vec<usize>,
}

impl Placed {
    fn new(keys: ArrayBytes<'_>, splitters: &[u64]) -> Self {
        with_ordered(keys, |ordered| {
            let of: Vec<u16> = (0..ordered.bits.len())
                .map(|k| range_of(splitters, ordered.key(k)) as u16)
                .collect();
            let mut counts = vec![0usize; splitters.len() + 1];
            for &range in &of {
                counts[usize::from(range)] += 1;
            }
            Self { of, counts }
        })
    }
}

/// The ranges' keys and values: each range holds each piece's share, in the pieces' order.
fn gather(
    pieces: &[(ArrayBytes<'_>, ArrayBytes<'_>)],
    placed: &[Placed],
    ranges: usize,
    parallel: bool,
) -> Ranges {
    let size = pieces[0].1.dtype().size();
    let mut starts = vec![0];
    for r in 0..ranges {
        let elements: usize = placed.iter().map(|piece| piece.counts[r]).sum();
        starts.push(starts[r] + elements);
    }
    let elements = starts[ranges];
    let mut keys = zeroed_on_huge_pages::<u64>(elements);
    let mut values = zeroed_on_huge_pages::<u8>(elements * size);
    let mut shares: Vec<Shares<'_>> = placed.iter().map(|_| Vec::new()).collect();
    let (mut rest_keys, mut rest_values) = (&mut keys[..], &mut values[..]);
    for r in 0..ranges {
        for (piece, share) in placed.iter().zip(&mut shares) {
            let (ours, keys) = rest_keys.split_at_mut(piece.counts[r]);
            let (our_values, values) = rest_values.split_at_mut(piece.counts[r] * size);
            share.push((ours, our_values));
            (rest_keys, rest_values) = (keys, values);
        }
    }
    let work = pieces.iter().zip(placed).zip(shares);
    if parallel {
        let work: Vec<_> = work.collect();
        work.into_par_iter()
            .for_each(|((piece, placed), mut shares)| copy_piece(piece, placed, &mut shares));
    } else {
        work.for_each(|((piece, placed), mut shares)| copy_piece(piece, placed, &mut shares));
    }
    Ranges {
        starts,
        keys,
        values,
    }
}

/// Copies a piece's keys and values into its shares of the ranges.
fn copy_piece(piece: &(ArrayBytes<'_>, ArrayBytes<'_>), placed: &Placed, shares: &mut Shares<'_>) {
    copy_keys(piece.0, &placed.of, shares);
    copy_values(piece.1, &placed.of, shares);
}

/// Copies each key's order-preserving bits to the next place of its range's share.
fn copy_keys(keys: ArrayBytes<'_>, of: &[u16], shares: &mut Shares<'_>) {
    let mut next = vec![0usize; shares.len()];
    with_ordered(keys, |ordered| {
        for (k, &range) in of.iter().enumerate() {
            let r = usize::from(range);
            shares[r].0[next[r]] = ordered.key(k);
            next[r] += 1;
        }
    });
}

/// Copies each value, in this machine's byte order, to the next place of its range's share.
fn copy_values(values: ArrayBytes<'_>, of: &[u16], shares: &mut Shares<'_>) {
    fn typed<T: Element>(bytes: &[u8], swap: bool, of: &[u16], shares: &mut Shares<'_>) {
        let size = size_of::<T>();
        let mut next = vec![0usize; shares.len()];
        let mut k = 0;
        for_each::<T>(bytes, swap, |value| {
            let r = usize::from(of[k]);
            shares[r].1[next[r]..next[r] + size].copy_from_slice(bytemuck::bytes_of(&value));
            next[r] += size;
            k += 1;
        });
    }
    let swap = values.order() != ByteOrder::NATIVE;
    let bytes = values.bytes();
    match values.dtype().size() {
        1 => typed::<u8>(bytes, swap, of, shares),
        2 => typed::<u16>(bytes, swap, of, shares),
        4 => typed::<u32>(bytes, swap, of, shares),
        _ => typed::<u64>(bytes, swap, of, shares),
    }
}
