//! How a sum along axes walks its elements: the elements arrive as a stream in memory order
//! (a file's, an array's block, or a gather's), and each belongs to the output its kept indices
//! name. [`Walk`] says so for the whole stream; [`Walk::blocks`] cuts a stretch of the stream (a
//! chunk) into rectangular [`Block`]s, which the CPU twin and the GPU kernels each sum whole.

use crate::Error;

/// One axis of the stream, outermost first: the array's axis it is, its length, and whether the
/// stream walks it from its last index to its first (a block with a negative stride).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StreamAxis {
    pub(crate) axis: usize,
    pub(crate) len: u64,
    pub(crate) reversed: bool,
}

impl StreamAxis {
    /// The axes of a C-order array of `shape`, or of a Fortran-order one (its last axis
    /// outermost).
    pub(crate) fn of_shape(shape: &[u64], fortran: bool) -> Vec<StreamAxis> {
        let axes = shape.iter().enumerate().map(|(axis, &len)| StreamAxis {
            axis,
            len,
            reversed: false,
        });
        if fortran {
            axes.rev().collect()
        } else {
            axes.collect()
        }
    }
}

/// A dimension of the stream after merging: `len` indices, each `stride` elements apart in the
/// stream, and for a kept one the step it makes in the output index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dim {
    pub(crate) len: u64,
    pub(crate) stride: u64,
    /// `Some(step)` for a kept dimension, `None` for a reduced one.
    pub(crate) out: Option<i64>,
}

impl Dim {
    pub(crate) fn kept(&self) -> bool {
        self.out.is_some()
    }
}

/// Which output each element of a stream belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Walk {
    /// The stream's dimensions, outermost first, those of length one left out and neighbours of
    /// one kind merged.
    pub(crate) dims: Vec<Dim>,
    /// The output index of the stream's first element.
    pub(crate) out_base: i64,
    /// The kept axes' lengths in the array's order: the outputs' shape.
    pub(crate) out_shape: Vec<u64>,
    /// Number of outputs.
    pub(crate) outputs: u64,
    /// Elements each output sums.
    pub(crate) per_output: u64,
    /// Elements in the stream.
    pub(crate) elements: u64,
}

/// The axes `axes` name in an array of `ndim` axes, numpy's way: negative ones count from the
/// end; sorted.
///
/// # Errors
/// [`Error::InvalidAxis`] for an axis outside the array or named twice.
pub(crate) fn resolve_axes(axes: &[i64], ndim: usize) -> Result<Vec<usize>, Error> {
    let mut resolved = Vec::with_capacity(axes.len());
    for &axis in axes {
        let index = if axis < 0 { axis + ndim as i64 } else { axis };
        if index < 0 || index >= ndim as i64 {
            return Err(Error::InvalidAxis {
                reason: format!(
                    "axis {axis} is out of range for an array of {ndim} axes (use {} to {})",
                    -(ndim as i64),
                    ndim as i64 - 1
                ),
            });
        }
        if resolved.contains(&(index as usize)) {
            return Err(Error::InvalidAxis {
                reason: format!("axis {axis} is named twice"),
            });
        }
        resolved.push(index as usize);
    }
    resolved.sort_unstable();
    Ok(resolved)
}

impl Walk {
    /// The walk of a stream whose axes are `stream` (every axis of the array once, outermost
    /// first) that sums over the axes `reduced` (resolved).
    pub(crate) fn new(stream: &[StreamAxis], reduced: &[usize]) -> Walk {
        let ndim = stream.len();
        let mut lens = vec![0u64; ndim];
        for s in stream {
            lens[s.axis] = s.len;
        }
        // The output index is C order over the kept axes in the array's order.
        let mut out_stride = vec![0i64; ndim];
        let mut step = 1i64;
        for axis in (0..ndim).rev().filter(|a| !reduced.contains(a)) {
            out_stride[axis] = step;
            step = step.saturating_mul(lens[axis] as i64);
        }
        let out_shape: Vec<u64> = (0..ndim)
            .filter(|a| !reduced.contains(a))
            .map(|a| lens[a])
            .collect();
        let outputs = out_shape.iter().product();
        let per_output = reduced.iter().map(|&a| lens[a]).product();
        let elements = lens.iter().product();
        let mut out_base = 0i64;
        let mut dims: Vec<Dim> = Vec::new();
        let mut stride = 1u64;
        for s in stream.iter().rev().filter(|s| s.len > 1) {
            let out = (!reduced.contains(&s.axis)).then(|| {
                let step = out_stride[s.axis];
                if s.reversed {
                    out_base += (s.len as i64 - 1) * step;
                    -step
                } else {
                    step
                }
            });
            let dim = Dim {
                len: s.len,
                stride,
                out,
            };
            stride *= s.len;
            // Merge with the dimension inside it where the two walk as one.
            match dims.last_mut() {
                Some(inner) if merges(&dim, inner) => inner.len *= dim.len,
                _ => dims.push(dim),
            }
        }
        dims.reverse();
        Walk {
            dims,
            out_base,
            out_shape,
            outputs,
            per_output,
            elements,
        }
    }

    /// The stretch `[first, first + len)` of the stream as rectangular blocks, at most two per
    /// dimension plus one.
    pub(crate) fn blocks(&self, first: u64, len: u64) -> Vec<Block> {
        let mut blocks = Vec::new();
        if len > 0 {
            let prefix = Block {
                offset: first,
                out_base: self.out_base,
                dims: Vec::new(),
            };
            self.cut(0, first, first + len, prefix, 0, &mut blocks);
        }
        blocks
    }

    /// Cuts elements `[a, b)` of the sub-block that starts at stream element `start` and spans
    /// dimensions `level..` into blocks; `prefix` fixes the outer dimensions.
    fn cut(&self, level: usize, a: u64, b: u64, prefix: Block, start: u64, out: &mut Vec<Block>) {
        let Some(dim) = self.dims.get(level) else {
            // Below every dimension: one element.
            let mut block = prefix;
            block.offset = start;
            out.push(block.finished());
            return;
        };
        let inner = dim.stride;
        let size = inner * dim.len;
        let (ra, rb) = (a - start, b - start);
        if ra == 0 && rb == size {
            let mut block = prefix;
            block.offset = start;
            block.dims.extend_from_slice(&self.dims[level..]);
            out.push(block.finished());
            return;
        }
        let at = |index: u64, len: u64| {
            let mut block = prefix.clone();
            block.out_base += dim.out.unwrap_or(0) * index as i64;
            block.dims.push(Dim { len, ..*dim });
            block
        };
        let (mut first, last) = (ra / inner, (rb - 1) / inner);
        if first == last {
            return self.cut(level + 1, a, b, at(first, 1), start + first * inner, out);
        }
        if !ra.is_multiple_of(inner) {
            let end = start + (first + 1) * inner;
            self.cut(level + 1, a, end, at(first, 1), start + first * inner, out);
            first += 1;
        }
        let whole_end = if rb.is_multiple_of(inner) {
            last + 1
        } else {
            last
        };
        if whole_end > first {
            let mut block = at(first, whole_end - first);
            block.offset = start + first * inner;
            block.dims.extend_from_slice(&self.dims[level + 1..]);
            out.push(block.finished());
        }
        if !rb.is_multiple_of(inner) {
            let begin = start + last * inner;
            self.cut(level + 1, begin, b, at(last, 1), begin, out);
        }
    }
}

/// Whether `outer` (just outside `inner` in the stream) walks on from where `inner` ends.
fn merges(outer: &Dim, inner: &Dim) -> bool {
    outer.stride == inner.stride * inner.len
        && match (outer.out, inner.out) {
            (None, None) => true,
            (Some(o), Some(i)) => o == i * inner.len as i64,
            _ => false,
        }
}

/// A rectangle of the stream: `dims` (outermost first) from stream element `offset`, the first
/// element's output at `out_base`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    pub(crate) offset: u64,
    pub(crate) out_base: i64,
    pub(crate) dims: Vec<Dim>,
}

impl Block {
    /// The block with its unit dimensions dropped (their index is in `out_base` already) and
    /// neighbours that walk as one merged.
    fn finished(mut self) -> Block {
        let mut dims: Vec<Dim> = Vec::with_capacity(self.dims.len());
        for dim in self.dims.iter().rev().filter(|d| d.len > 1) {
            match dims.last_mut() {
                Some(inner) if merges(dim, inner) => inner.len *= dim.len,
                _ => dims.push(*dim),
            }
        }
        dims.reverse();
        self.dims = dims;
        self
    }

    /// Elements in the block.
    pub(crate) fn len(&self) -> u64 {
        self.dims.iter().map(|d| d.len).product()
    }

    /// The output of the element at stream offset `offset + k` for each element in stream order:
    /// the oracle the tests check the kernels' walks against.
    #[cfg(test)]
    pub(crate) fn outputs(&self) -> Vec<(u64, i64)> {
        let mut all = vec![(self.offset, self.out_base)];
        for dim in &self.dims {
            let mut next = Vec::with_capacity(all.len() * dim.len as usize);
            for &(at, out) in &all {
                for i in 0..dim.len {
                    next.push((at + i * dim.stride, out + dim.out.unwrap_or(0) * i as i64));
                }
            }
            all = next;
        }
        all
    }
}

#[cfg(test)]
mod tests;
