//! Bins per output, for sums that add each value to one of a few hundred outputs: along an axis
//! whose runs add one value to each of a row of outputs (a matrix's columns, summed down its
//! rows), and by key over up to [`MAX_COLUMNS`] keys.
//!
//! As for a whole array (bins.rs), every value of one sign and exponent has one scale, so its
//! significand adds to that bin's `u64` as is: one add per value in place of the two-digit add
//! of a window (window.rs). The bin of (sign, exponent) `index` of column `c` sits at
//! `index * columns + c`, so the columns of one magnitude share cache lines. The bins are placed
//! in the outputs' windows, both signs of an exponent at once: a tile's when its run's outputs
//! change and every [`ColumnBins::RUNS`] runs, a key table's when its piece ends.
//! On AVX-512 and AVX2, f64 columns go through column lanes instead (lanes/columns.rs), which hand
//! the blocks they do not take to these bins.
//!
//! Measured on the 2-core CI-class VM (an AMD EPYC, AVX-512), best of 30, f64 values of 40
//! binades: a 4096 x 4096 matrix's columns in 17 ms on two cores, against 41 ms adding each
//! value to its window; 2^24 values by 1,000 keys in 41 ms, against 69 ms grouping the values
//! by key (a counting sort) for the whole-array bins. One signed bin for both signs, which
//! halves the bins, measured slower: 22 against 17 ms for the columns.

use std::cell::Cell;

use super::decode::{self, CHUNK, Decoded, Exponents, PREFETCH_BYTES};
use super::{ExactFloat, FloatWindows};
use crate::array::ByteOrder;
use crate::cpu::Isa;

/// Columns of a tile along an axis: a run of 64 f64 values is 8 cache lines. (128 measured
/// alike, 256 slower: the bins of values of a few dozen binades outgrow the first-level cache.)
pub(crate) const TILE: usize = 64;

/// The most columns (keys of a piece) one set of bins takes.
pub(crate) const MAX_COLUMNS: usize = 1 << 10;

/// Signs and exponents of an `f64`, and so of an `f32`.
const INDEXES: usize = 1 << 12;

const _: () = assert!(TILE <= CHUNK && TILE <= MAX_COLUMNS);

thread_local! {
    /// The zeroed slots left by this thread's last bins (the most it has needed: 8 bytes a
    /// sign and exponent a column, 2 MiB for a tile, up to 32 for a key table), of which values
    /// of a few dozen binades touch a few hundred KiB.
    static SPARE: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
}

/// Bins for `columns` consecutive outputs, with the outputs they are placed in.
pub(crate) struct ColumnBins<T: ExactFloat> {
    slots: Vec<u64>,
    decoded: Box<Decoded>,
    isa: Isa,
    columns: usize,
    /// The first output and the columns in use, and the runs added since the last placing.
    out: usize,
    width: usize,
    runs: u32,
    /// Exponents added since the bins were last placed.
    seen: Exponents,
    /// Whether each column has had a value other than -0.0 since then: a zero of a run with
    /// zeros, a nonzero value once its bin is placed.
    not_negative_zero: Vec<bool>,
    /// Values that are not aligned or not in this machine's byte order, copied.
    copy: Vec<T>,
}

impl<T: ExactFloat> ColumnBins<T> {
    /// Runs between two placings of a tile: each adds a significand below
    /// 2^(FRACTION_BITS + 1) to a bin, which stays below 2^63 and, shifted within its digit,
    /// spans at most the pieces a window adds for one value (3 for f64: 1023 runs; 2 for f32:
    /// 2^33 / 2^24, 511 runs).
    pub(crate) const RUNS: u32 = (1 << (Self::ROOM - T::FRACTION_BITS - 1)) - 1;
    /// Bits a bin may fill: 63, or fewer where a window's pieces for one value are fewer.
    const ROOM: u32 = {
        let pieces = (T::FRACTION_BITS + 1 + 31).div_ceil(32);
        if 32 * pieces - 31 < 63 {
            32 * pieces - 31
        } else {
            63
        }
    };
    const SPECIAL: u32 = (1 << T::EXPONENT_BITS) - 1;

    /// Bins for `columns` outputs (at most [`MAX_COLUMNS`]), decoding with `isa`.
    pub(crate) fn new(isa: Isa, columns: usize) -> Self {
        assert!(columns <= MAX_COLUMNS);
        Self {
            slots: spare_slots(INDEXES * columns),
            decoded: Box::new(Decoded::new()),
            isa,
            columns,
            out: 0,
            width: 0,
            runs: 0,
            seen: Exponents::NONE,
            not_negative_zero: vec![false; columns],
            copy: Vec::new(),
        }
    }

    /// Adds a run of at most [`TILE`] values (`bytes`, in `order`) to bins of [`TILE`]
    /// columns: value `k` to output `out + k` of `windows`.
    pub(crate) fn add_run(
        &mut self,
        windows: &mut FloatWindows<T>,
        out: usize,
        bytes: &[u8],
        order: ByteOrder,
    ) {
        debug_assert_eq!(self.columns, TILE);
        let len = bytes.len() / size_of::<T>();
        if out != self.out || len != self.width || self.runs == Self::RUNS {
            self.place(windows);
            (self.out, self.width) = (out, len);
        }
        self.runs += 1;
        let mut copy = std::mem::take(&mut self.copy);
        let values = native(bytes, order, &mut copy);
        let (slots, decoded) = (&mut *self.slots, &mut *self.decoded);
        let exponents = if T::TAG == 8 {
            // The next run lies a row away: asked for by the walk, not by the decode.
            let exponents = decode::decode_f64(self.isa, bytemuck::cast_slice(values), decoded, 0);
            let scale = TILE / super::bins::LANES;
            for (k, (&slot, &word)) in decoded.slots[..len].iter().zip(&decoded.words).enumerate() {
                // A decoded slot is (sign, exponent) times the whole-array bins' lanes.
                slots[usize::from(slot) * scale + k] += word;
            }
            exponents
        } else {
            decode_each(values, |k, index, significand| {
                slots[index * TILE + k] += significand;
            })
        };
        self.note(windows, values, exponents, |k| out + k);
        self.copy = copy;
    }

    /// Adds `bytes` (values in `order`), each to the output its `slot` names, and counts it:
    /// all of a piece of a sum by key, whose bins are placed when [`ColumnBins::finish`]es.
    /// A bin that reaches 2^(ROOM - 1) is placed then and there (rare: 2^9 f64 values of its
    /// output's largest exponent).
    pub(crate) fn add_keyed(
        &mut self,
        windows: &mut FloatWindows<T>,
        counts: &mut [u64],
        bytes: &[u8],
        order: ByteOrder,
        slot: impl Fn(usize) -> usize,
    ) {
        (self.out, self.width, self.runs) = (0, self.columns, 1);
        let columns = self.columns;
        let full = Self::ROOM - 1;
        for (c, chunk) in bytes.chunks(CHUNK * size_of::<T>()).enumerate() {
            let first = c * CHUNK;
            let mut copy = std::mem::take(&mut self.copy);
            let values = native(chunk, order, &mut copy);
            let (slots, decoded) = (&mut *self.slots, &mut *self.decoded);
            let mut add = |k: usize, index: usize, significand: u64| {
                let column = slot(first + k);
                counts[column] += 1;
                let bin = &mut slots[index * columns + column];
                *bin += significand;
                if *bin >> full != 0 {
                    place_bin(windows, column, index, std::mem::take(bin));
                }
            };
            let exponents = if T::TAG == 8 {
                let exponents = decode::decode_f64(
                    self.isa,
                    bytemuck::cast_slice(values),
                    decoded,
                    PREFETCH_BYTES,
                );
                let lanes = super::bins::LANES;
                for (k, (&at, &word)) in decoded.slots[..values.len()]
                    .iter()
                    .zip(&decoded.words)
                    .enumerate()
                {
                    add(k, usize::from(at) / lanes, word);
                }
                exponents
            } else {
                decode_each(values, add)
            };
            self.note(windows, values, exponents, |k| slot(first + k));
            self.copy = copy;
        }
    }

    /// Notes what the bins cannot hold of values just added: the exponents seen, which
    /// outputs had +0.0, and infinities and NaNs (whose bins are never placed).
    fn note(
        &mut self,
        windows: &mut FloatWindows<T>,
        values: &[T],
        exponents: Exponents,
        output: impl Fn(usize) -> usize,
    ) {
        self.seen = self.seen.with(exponents);
        if exponents.lowest == 0 {
            // Zeros leave their bins as they were: whether an output had +0.0, only its
            // values say (and only values with a zero or a subnormal can hold one).
            let negative_zero = 1u64 << (T::FRACTION_BITS + T::EXPONENT_BITS);
            for (k, value) in values.iter().enumerate() {
                if value.bits() != negative_zero {
                    self.not_negative_zero[output(k) - self.out] = true;
                }
            }
        }
        if exponents.highest == Self::SPECIAL {
            for (k, value) in values.iter().enumerate() {
                if (value.bits() >> T::FRACTION_BITS) as u32 & Self::SPECIAL == Self::SPECIAL {
                    windows.add_bits(output(k), value.bits());
                }
            }
        }
    }

    /// Places every bin in its output's window and empties it.
    pub(crate) fn place(&mut self, windows: &mut FloatWindows<T>) {
        if self.runs == 0 {
            return;
        }
        let (out, width, columns) = (self.out, self.width, self.columns);
        // Exponents::NONE is an empty range.
        let exponents = std::mem::replace(&mut self.seen, Exponents::NONE);
        let marks = &mut self.not_negative_zero;
        let negative = 1 << T::EXPONENT_BITS;
        for exponent in exponents.lowest as usize..=exponents.highest as usize {
            let (low, high) = self.slots.split_at_mut((negative + exponent) * columns);
            let positive = &mut low[exponent * columns..][..width];
            let negative = &mut high[..width];
            if positive
                .iter()
                .chain(&*negative)
                .fold(0, |any, &bin| any | bin)
                == 0
            {
                continue;
            }
            if exponent != Self::SPECIAL as usize {
                // As in add_bits: a significand of exponent e weighs 2^(max(e, 1) - 1). The
                // two signs' bins, each below 2^63, differ by less than 2^63: one placing.
                let shift = exponent.max(1) as u32 - 1;
                for (k, (&up, &down)) in positive.iter().zip(&*negative).enumerate() {
                    let net = up as i64 - down as i64;
                    if net != 0 {
                        windows.add_scaled(out + k, net.unsigned_abs(), shift, net < 0);
                    }
                    // Values that cancel are not -0.0 either: their sum is +0.0.
                    marks[k] |= up | down != 0;
                }
            }
            positive.fill(0);
            negative.fill(0);
        }
        for (k, seen) in marks[..width].iter_mut().enumerate() {
            if std::mem::take(seen) {
                windows.note_not_negative_zero(out + k);
            }
        }
        self.runs = 0;
    }

    /// Places what is left in `windows`, and leaves the emptied slots to this thread's next
    /// bins.
    pub(crate) fn finish(mut self, windows: &mut FloatWindows<T>) {
        self.place(windows);
        SPARE.with(|spare| spare.set(self.slots));
    }
}

/// This thread's spare slots, where they are `len` or more, else fresh ones (zeroed pages,
/// which the system maps as they are touched).
fn spare_slots(len: usize) -> Vec<u64> {
    let spare = SPARE.with(Cell::take);
    if spare.len() >= len {
        spare
    } else {
        vec![0; len]
    }
}

/// `bytes` as values: in place where they are aligned and in this machine's byte order, else
/// copied into `copy`.
fn native<'a, T: ExactFloat>(bytes: &'a [u8], order: ByteOrder, copy: &'a mut Vec<T>) -> &'a [T] {
    if order == ByteOrder::NATIVE
        && let Ok(values) = bytemuck::try_cast_slice(bytes)
    {
        return values;
    }
    let size = size_of::<T>();
    copy.clear();
    copy.extend(bytes.chunks_exact(size).map(|chunk| {
        let mut raw = [0u8; 8];
        raw[..size].copy_from_slice(chunk);
        if order == ByteOrder::Big {
            raw[..size].reverse();
        }
        T::from_bits(u64::from_le_bytes(raw))
    }));
    copy
}

/// Calls `add(k, index, significand)` for value `k` of `values`, its sign and exponent `index`
/// and its significand, in order (the f32 vector decode reorders values, which a sum by column
/// or key cannot); returns the exponents seen.
#[inline(always)]
fn decode_each<T: ExactFloat>(values: &[T], mut add: impl FnMut(usize, usize, u64)) -> Exponents {
    let mut exponents = Exponents::NONE;
    let mask = (1u64 << T::EXPONENT_BITS) - 1;
    for (k, value) in values.iter().enumerate() {
        let bits = value.bits();
        let exponent = (bits >> T::FRACTION_BITS) & mask;
        let significand =
            bits & ((1 << T::FRACTION_BITS) - 1) | u64::from(exponent != 0) << T::FRACTION_BITS;
        add(k, (bits >> T::FRACTION_BITS) as usize, significand);
        exponents.lowest = exponents.lowest.min(exponent as u32);
        exponents.highest = exponents.highest.max(exponent as u32);
    }
    exponents
}

/// Places one full bin, (sign, exponent) `index` of output `out`, in its window (a bin of
/// infinities and NaNs is dropped: their windows note them).
#[cold]
#[inline(never)]
fn place_bin<T: ExactFloat>(windows: &mut FloatWindows<T>, out: usize, index: usize, bin: u64) {
    let exponent = index as u32 & ((1 << T::EXPONENT_BITS) - 1);
    if exponent != (1 << T::EXPONENT_BITS) - 1 {
        let negative = index >> T::EXPONENT_BITS != 0;
        windows.add_scaled(out, bin, exponent.max(1) - 1, negative);
    }
}
