//! Arrays at any strides in host memory ([`StridedBytes`]: numpy's views, with slices, transposes
//! and negative strides): summed in place where their elements form one block (any order of the
//! axes, either direction), else copied a bounded chunk at a time ([`Gather`]), never whole.

use super::request::ArrayBytes;
use crate::Error;
use crate::array::{ByteOrder, Dtype, MAX_ELEMENTS};
use crate::input::{ArrayFormat, ChunkFuture, ChunkRead};
use crate::reduce::walk::StreamAxis;

/// Elements of one type laid out by a shape and byte strides in a span of host memory.
///
/// ```
/// use gpusum::engine::StridedBytes;
/// use gpusum::{ByteOrder, Dtype};
/// // Every other i32 of eight, backwards: 7, 5, 3, 1.
/// let values: Vec<u8> = (0..8i32).flat_map(i32::to_le_bytes).collect();
/// let view = StridedBytes::new(&values, 28, vec![4], vec![-8], Dtype::I32, ByteOrder::Little)?;
/// assert_eq!(view.len(), 4);
/// assert!(view.contiguous().is_none());
/// # Ok::<(), gpusum::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StridedBytes<'a> {
    span: &'a [u8],
    origin: usize,
    shape: Vec<usize>,
    strides: Vec<isize>,
    dtype: Dtype,
    order: ByteOrder,
}

impl<'a> StridedBytes<'a> {
    /// The elements of `shape` whose first (all indices zero) starts at byte `origin` of `span`,
    /// neighbours along axis k `strides[k]` bytes apart.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] when shape and strides differ in length or an element would lie
    /// outside `span`; [`Error::TooManyElements`] past 2^63 - 1 elements.
    pub fn new(
        span: &'a [u8],
        origin: usize,
        shape: Vec<usize>,
        strides: Vec<isize>,
        dtype: Dtype,
        order: ByteOrder,
    ) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidArray { reason };
        if shape.len() != strides.len() {
            return Err(invalid(format!(
                "{} axes but {} strides",
                shape.len(),
                strides.len()
            )));
        }
        let count = shape
            .iter()
            .try_fold(1u64, |n, &len| n.checked_mul(len as u64))
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or(Error::TooManyElements)?;
        let view = Self {
            span,
            origin,
            shape,
            strides,
            dtype,
            order,
        };
        if count > 0 {
            let (low, high) = view.extent();
            if low < 0 || high > span.len() as i128 {
                return Err(invalid(format!(
                    "its elements reach bytes {low} to {high} of a span of {}",
                    span.len()
                )));
            }
        }
        Ok(view)
    }

    /// The C-order array of `shape` that `bytes` hold, from their first byte.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] when `bytes` are not exactly the shape's elements;
    /// [`Error::TooManyElements`] past 2^63 - 1 of them.
    pub fn c_order(
        bytes: &'a [u8],
        shape: Vec<usize>,
        dtype: Dtype,
        order: ByteOrder,
    ) -> Result<Self, Error> {
        let size = dtype.size();
        let mut strides = vec![0isize; shape.len()];
        let mut stride = size;
        for (k, &len) in shape.iter().enumerate().rev() {
            strides[k] = stride as isize;
            stride = stride.saturating_mul(len.max(1));
        }
        let count: u128 = shape.iter().map(|&len| len as u128).product();
        if count * size as u128 != bytes.len() as u128 {
            return Err(Error::InvalidArray {
                reason: format!(
                    "a C-order array of shape {shape:?} holds {count} {dtype} elements, not the {} \
                     bytes given",
                    bytes.len()
                ),
            });
        }
        Self::new(bytes, 0, shape, strides, dtype, order)
    }

    /// The array's shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Every axis in the order the elements stream in, outermost first: the block's memory
    /// order (an axis with a negative stride walked backwards), or the gather's (largest stride
    /// outermost, each axis forwards). Axes of one element come first.
    pub(crate) fn stream_axes(&self) -> Vec<StreamAxis> {
        let block = self.contiguous().is_some();
        let units = (0..self.shape.len()).filter(|&axis| self.shape[axis] <= 1);
        units
            .chain(self.sorted_axes().into_iter().rev())
            .map(|axis| StreamAxis {
                axis,
                len: self.shape[axis] as u64,
                reversed: block && self.strides[axis] < 0,
            })
            .collect()
    }

    /// The first byte any element uses and the byte past the last, relative to `span`.
    fn extent(&self) -> (i128, i128) {
        let (mut low, mut high) = (self.origin as i128, self.origin as i128);
        for (&len, &stride) in self.shape.iter().zip(&self.strides) {
            let reach = (len as i128 - 1) * stride as i128;
            if reach < 0 {
                low += reach;
            } else {
                high += reach;
            }
        }
        (low, high + self.dtype.size() as i128)
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.shape.iter().map(|&len| len as u64).product()
    }

    /// Whether there is no element.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The axes with more than one element, least stride first: the order a gather walks.
    fn walk(&self) -> Vec<(usize, isize)> {
        self.sorted_axes()
            .into_iter()
            .map(|axis| (self.shape[axis], self.strides[axis]))
            .collect()
    }

    /// The axes with more than one element, least stride first.
    fn sorted_axes(&self) -> Vec<usize> {
        let mut axes: Vec<usize> = (0..self.shape.len())
            .filter(|&axis| self.shape[axis] > 1)
            .collect();
        axes.sort_by_key(|&axis| self.strides[axis].unsigned_abs());
        axes
    }

    /// The elements as one block, where they are one: C or Fortran order, any transpose, axes
    /// reversed. A sum does not depend on the order of its elements.
    #[must_use]
    pub fn contiguous(&self) -> Option<ArrayBytes<'a>> {
        let size = self.dtype.size();
        let whole = |bytes| ArrayBytes::new(bytes, self.dtype, self.order).ok();
        if self.is_empty() {
            return whole(&self.span[..0]);
        }
        let mut expected = size;
        for (len, stride) in self.walk() {
            if stride.unsigned_abs() != expected {
                return None;
            }
            expected *= len;
        }
        let (low, _) = self.extent();
        let low = low as usize;
        whole(&self.span[low..low + expected])
    }

    /// A reader that copies the elements a chunk at a time, least stride first.
    pub(crate) fn gather(&self) -> Gather<'a> {
        self.gather_along(self.walk())
    }

    /// A reader that copies the elements a chunk at a time in C order (the last axis fastest),
    /// whatever their strides: the order a sum by key pairs keys and values in.
    pub(crate) fn gather_c_order(&self) -> Gather<'a> {
        let axes = (0..self.shape.len())
            .rev()
            .filter(|&axis| self.shape[axis] > 1)
            .map(|axis| (self.shape[axis], self.strides[axis]))
            .collect();
        self.gather_along(axes)
    }

    fn gather_along(&self, axes: Vec<(usize, isize)>) -> Gather<'a> {
        Gather {
            view: self.clone(),
            index: vec![0; axes.len()],
            axes,
            offset: self.origin as isize,
            done: 0,
        }
    }
}

/// The elements of a [`StridedBytes`] copied in order of least stride first.
pub(crate) struct Gather<'a> {
    view: StridedBytes<'a>,
    axes: Vec<(usize, isize)>,
    /// The next element's indices along `axes`, and its byte offset in the span.
    index: Vec<usize>,
    offset: isize,
    done: u64,
}

impl Gather<'_> {
    /// Copies the next elements into `buffer`; returns the bytes written.
    fn fill(&mut self, buffer: &mut [u8]) -> usize {
        let size = self.view.dtype.size();
        let want = (buffer.len() / size).min((self.view.len() - self.done) as usize);
        for slot in buffer.chunks_exact_mut(size).take(want) {
            let at = self.offset as usize;
            slot.copy_from_slice(&self.view.span[at..at + size]);
            // The next index: the first axis that is not at its end steps, the ones before it
            // go back to their start.
            for (k, &(len, stride)) in self.axes.iter().enumerate() {
                self.index[k] += 1;
                self.offset += stride;
                if self.index[k] < len {
                    break;
                }
                self.index[k] = 0;
                self.offset -= stride * len as isize;
            }
        }
        self.done += want as u64;
        want * size
    }
}

impl ChunkRead for Gather<'_> {
    fn format(&self) -> ArrayFormat {
        ArrayFormat {
            dtype: self.view.dtype,
            order: self.view.order,
            count: Some(self.view.len()),
            npy: false,
        }
    }

    fn name(&self) -> &str {
        "a strided array"
    }

    fn bytes_read(&self) -> u64 {
        self.done * self.view.dtype.size() as u64
    }

    fn read_chunk<'b>(&'b mut self, buffer: &'b mut [u8]) -> ChunkFuture<'b> {
        let filled = self.fill(buffer);
        Box::pin(std::future::ready(Ok(filled)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gathered(view: &StridedBytes<'_>) -> Vec<i32> {
        let mut gather = view.gather();
        let mut out = Vec::new();
        let mut buffer = [0u8; 16];
        loop {
            let n = gather.fill(&mut buffer);
            if n == 0 {
                return out;
            }
            out.extend(
                buffer[..n]
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes(c.try_into().unwrap())),
            );
        }
    }

    #[test]
    fn views_gather_every_element_once_and_blocks_stay_in_place() {
        let values: Vec<i32> = (0..24).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = |origin, shape: Vec<usize>, strides: Vec<isize>| {
            StridedBytes::new(
                &bytes,
                origin,
                shape,
                strides,
                Dtype::I32,
                ByteOrder::Little,
            )
            .unwrap()
        };
        // A 4x6 C array, its transpose, and both reversed: one block each.
        for (origin, strides) in [(0, vec![24isize, 4]), (0, vec![4, 24]), (92, vec![-24, -4])] {
            let shape = if strides[0].abs() == 24 {
                vec![4, 6]
            } else {
                vec![6, 4]
            };
            let block = view(origin, shape, strides)
                .contiguous()
                .expect("one block");
            assert_eq!(block.len(), 24);
        }
        // Every other column, and every third element backwards: gathered.
        let columns = view(0, vec![4, 3], vec![24, 8]);
        assert!(columns.contiguous().is_none());
        let mut got = gathered(&columns);
        got.sort();
        assert_eq!(got, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
        let backwards = view(92, vec![8], vec![-12]);
        assert_eq!(gathered(&backwards), [23, 20, 17, 14, 11, 8, 5, 2]);
        // Empty views, and views that would leave the span.
        assert!(
            view(0, vec![0, 6], vec![24, 4])
                .contiguous()
                .unwrap()
                .is_empty()
        );
        for (origin, shape, strides) in [(0, vec![5, 6], vec![24, 4]), (4, vec![2], vec![-8])] {
            assert!(
                StridedBytes::new(
                    &bytes,
                    origin,
                    shape,
                    strides,
                    Dtype::I32,
                    ByteOrder::Little
                )
                .is_err()
            );
        }
    }
}
