//! The results of a sum along axes or by key: [`Outputs`], one exact accumulator per output
//! ([`Sums`]), with what names the outputs and how many elements each summed.

use std::fmt;

use crate::Error;
use crate::array::{Dtype, ExactIntSum};
use crate::float::{ExactFloat, FloatWindows, shortest_decimal};
use crate::total::ArrayTotal;

use super::sums::Sums;

/// What names the outputs: the shape of the axes left (a sum along axes), or the distinct keys
/// in ascending order (a sum by key).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Labels {
    /// The outputs of a sum along axes, in C order over the axes not summed.
    Shape(Vec<u64>),
    /// The outputs of a sum by key, one per distinct key, ascending.
    Keys(Keys),
}

/// The distinct keys of a sum by key, ascending, as their type holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    dtype: Dtype,
    /// Each key's bits, the sign bit of signed types flipped, so that unsigned order is the
    /// keys' order.
    ordered: Vec<u64>,
}

impl Keys {
    /// Keys of `dtype` from their order-preserving bits (see [`ordered_bits`]).
    pub(crate) fn new(dtype: Dtype, ordered: Vec<u64>) -> Self {
        Self { dtype, ordered }
    }

    /// The keys' type.
    #[must_use]
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// Number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    /// Whether there is no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    /// Key `i`.
    #[must_use]
    pub fn get(&self, i: usize) -> i128 {
        key_of(self.dtype, self.ordered[i])
    }

    /// Every key, ascending.
    pub fn iter(&self) -> impl Iterator<Item = i128> + '_ {
        self.ordered.iter().map(|&bits| key_of(self.dtype, bits))
    }
}

/// A key's bits in an order that unsigned comparison keeps: a signed key's sign bit flipped.
#[cfg(test)]
pub(crate) fn ordered_bits(dtype: Dtype, key: i128) -> u64 {
    if dtype.is_signed() {
        (key as i64 as u64) ^ (1 << 63)
    } else {
        key as u64
    }
}

/// The key whose bits [`ordered_bits`] gave.
pub(crate) fn key_of(dtype: Dtype, bits: u64) -> i128 {
    if dtype.is_signed() {
        i128::from((bits ^ (1 << 63)) as i64)
    } else {
        i128::from(bits)
    }
}

/// How many elements each output summed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Counts {
    /// Every output the same (a sum along axes).
    Each(u64),
    /// One count per output (a sum by key).
    PerOutput(Vec<u64>),
}

/// The exact sums of a sum along axes or by key, one per output, each mergeable and rounded
/// once when read as a float.
///
/// ```
/// use gpusum::engine::{Request, StridedBytes};
/// use gpusum::{BackendChoice, ByteOrder, Control, Dtype, Engine, EngineOptions};
/// // A 2 x 3 int32 matrix, summed along each axis.
/// let values: Vec<u8> = [1i32, 2, 3, 4, 5, 6].iter().flat_map(|v| v.to_le_bytes()).collect();
/// let view = StridedBytes::c_order(&values, vec![2, 3], Dtype::I32, ByteOrder::Little)?;
/// let engine = Engine::open(&EngineOptions::new(BackendChoice::Cpu))?;
/// let columns = engine.sum_request(Request::along(view.clone(), &[0]), &gpusum::Control::new())?;
/// let outputs = columns.outputs.unwrap();
/// assert_eq!(outputs.shape(), Some(&[3][..]));
/// assert_eq!((0..3).map(|i| outputs.int_sum(i).unwrap()).collect::<Vec<_>>(), [5, 7, 9]);
/// let rows = engine.sum_request(Request::along(view, &[-1]), &Control::new())?;
/// assert_eq!(rows.outputs.unwrap().to_string(), "6\n15");
/// # Ok::<(), gpusum::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Outputs {
    dtype: Dtype,
    sums: Sums,
    counts: Counts,
    labels: Labels,
}

impl Outputs {
    /// Outputs of a sum along axes: `sums` over `shape`, `each` elements apiece.
    pub(crate) fn along(dtype: Dtype, shape: Vec<u64>, sums: Sums, each: u64) -> Self {
        Self {
            dtype,
            sums,
            counts: Counts::Each(each),
            labels: Labels::Shape(shape),
        }
    }

    /// Outputs of a sum by key: one sum and count per key, the keys ascending.
    pub(crate) fn by_key(dtype: Dtype, keys: Keys, sums: Sums, counts: Vec<u64>) -> Self {
        Self {
            dtype,
            sums,
            counts: Counts::PerOutput(counts),
            labels: Labels::Keys(keys),
        }
    }

    /// Number of outputs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sums.len()
    }

    /// Whether there is no output.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The summed elements' type.
    #[must_use]
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// What names the outputs.
    #[must_use]
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The outputs' shape, for a sum along axes.
    #[must_use]
    pub fn shape(&self) -> Option<&[u64]> {
        match &self.labels {
            Labels::Shape(shape) => Some(shape),
            Labels::Keys(_) => None,
        }
    }

    /// The distinct keys, ascending, for a sum by key.
    #[must_use]
    pub fn keys(&self) -> Option<&Keys> {
        match &self.labels {
            Labels::Keys(keys) => Some(keys),
            Labels::Shape(_) => None,
        }
    }

    /// Elements output `i` summed.
    #[must_use]
    pub fn count(&self, i: usize) -> u64 {
        match &self.counts {
            Counts::Each(count) => *count,
            Counts::PerOutput(counts) => counts[i],
        }
    }

    /// The exact integer sum of output `i`, for integer elements.
    #[must_use]
    pub fn int_sum(&self, i: usize) -> Option<i128> {
        match &self.sums {
            Sums::Int(sums) => Some(sums[i]),
            _ => None,
        }
    }

    /// Output `i` as an exact, mergeable total (its count included).
    ///
    /// # Errors
    /// [`Error::TooManyElements`] for a count past 2^63 - 1, which no sum reaches.
    pub fn total(&self, i: usize) -> Result<ArrayTotal, Error> {
        self.sums.total(i, self.count(i))
    }

    /// Output `i` as text: an integer in full, a float as the shortest decimal that reads back
    /// (`nan`, `inf`, `-inf` spelled so), as the CLI prints it.
    #[must_use]
    pub fn text(&self, i: usize) -> String {
        match &self.sums {
            Sums::Int(sums) => sums[i].to_string(),
            Sums::F32(sums) => rounded_text(sums, i, self.count(i)),
            Sums::F64(sums) => rounded_text(sums, i, self.count(i)),
        }
    }

    /// Output `i`'s float sum rounded once to f64 (an f32 sum rounded to f32 first, then
    /// widened, which is exact); `None` for integers.
    #[must_use]
    pub fn rounded(&self, i: usize) -> Option<f64> {
        match &self.sums {
            Sums::Int(_) => None,
            Sums::F32(sums) => Some(f64::from(sums.rounded(i, self.count(i))?.value)),
            Sums::F64(sums) => Some(sums.rounded(i, self.count(i))?.value),
        }
    }

    /// Whether output `i`'s finite values summed past the type's largest finite value, so that
    /// it rounds to an infinity.
    #[must_use]
    pub fn overflow(&self, i: usize) -> bool {
        self.total(i).is_ok_and(|total| total.overflow())
    }

    /// Outputs whose float values spanned more than one window (see [`Outputs`]), each now
    /// holding a full sum: what their memory costs beyond the windows.
    #[must_use]
    pub fn spilled(&self) -> usize {
        self.sums.spilled()
    }

    /// Every output's elements together: the whole array's sum, exact.
    ///
    /// # Errors
    /// [`Error::TooManyElements`] past 2^63 - 1 elements.
    pub fn whole(&self) -> Result<ArrayTotal, Error> {
        let count = (0..self.len())
            .map(|i| u128::from(self.count(i)))
            .sum::<u128>();
        let count = u64::try_from(count).map_err(|_| Error::TooManyElements)?;
        Ok(match &self.sums {
            // Fewer than 2^63 elements below 2^64 each: below 2^127.
            Sums::Int(sums) => ArrayTotal::Int(ExactIntSum::from_parts(sums.iter().sum(), count)?),
            Sums::F32(sums) => ArrayTotal::F32(sums.total(count)?),
            Sums::F64(sums) => ArrayTotal::F64(sums.total(count)?),
        })
    }
}

/// Equal outputs: the same labels, counts and exact sums (bytes and all), which is what every
/// backend must give for the same elements.
impl PartialEq for Outputs {
    fn eq(&self, other: &Self) -> bool {
        self.dtype == other.dtype
            && self.labels == other.labels
            && self.len() == other.len()
            && (0..self.len()).all(|i| {
                self.count(i) == other.count(i)
                    && match (self.total(i), other.total(i)) {
                        (Ok(ours), Ok(theirs)) => ours.to_bytes() == theirs.to_bytes(),
                        _ => false,
                    }
            })
    }
}

/// A float output's rounded value as text.
fn rounded_text<T: ExactFloat>(sums: &FloatWindows<T>, i: usize, count: u64) -> String {
    match sums.rounded(i, count) {
        Some(rounded) => shortest_decimal(rounded.value),
        None => "nan".into(),
    }
}

/// One output per line: what `gpusum file --axis` prints.
impl fmt::Display for Outputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..self.len() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&self.text(i))?;
        }
        Ok(())
    }
}
