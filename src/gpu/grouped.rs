//! Sums along axes and by key on the GPU: how a block of the stream becomes rectangles and
//! dispatches of pieces (shaders/grouped_*.wgsl), how slots of keys become dispatches
//! (shaders/keyed_*.wgsl), and how their partials become outputs. The CPU twins are
//! `cpu::axis` and `cpu::by_key`.

use bytemuck::{Pod, Zeroable};

use super::array::Part;
use super::readback::{Dispatch, limbs_to_u128};
use crate::Error;
use crate::array::{Dtype, unbias};
use crate::reduce::sums::Sums;
use crate::reduce::walk::{Block, Dim};
use crate::total::ArrayTotal;

/// Most R indices a piece takes: an invocation's running sum (element.wgsl) and its window
/// (float_add.wgsl) are bounded for 2^16 values; a lane of a workgroup's piece takes at most
/// 2^14 of them, as the whole-array kernels' invocations do.
const MAX_PIECE: u32 = 1 << 16;
const MAX_LANE: u32 = 1 << 14;

/// Most workgroups along one dimension of a dispatch, on every adapter.
pub(crate) const MAX_WORKGROUPS: u32 = 65_535;

/// The shaders' `Params` (grouped_params.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct Params {
    base: u32,
    a_stride: u32,
    r_stride: u32,
    i_stride: u32,
    a_len: u32,
    r_len: u32,
    i_len: u32,
    r_per_piece: u32,
    r_pieces: u32,
    first_piece: u32,
    pieces: u32,
    pad: u32,
}

/// Bytes of [`Params`].
pub(crate) const PARAMS_BYTES: u64 = size_of::<Params>() as u64;

/// Each piece of a dispatch, in order: its output and its element count.
pub(crate) type Pieces = Vec<(i64, u64)>;

/// How a rectangle's pieces are summed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A piece per workgroup, its lanes taking turns along R (long reductions of few outputs:
    /// neighbouring lanes read neighbouring elements where R is the data's innermost axis).
    Wide,
    /// A piece per invocation (many outputs: neighbouring invocations take neighbouring outputs
    /// along I).
    Narrow,
}

impl Mode {
    /// The kernel's entry point.
    pub(crate) fn entry(self) -> &'static str {
        match self {
            Mode::Wide => "main",
            Mode::Narrow => "narrow",
        }
    }
}

/// An (A, R, I) rectangle of a window's elements: element `base` of the binding first; each
/// axis's length, stride in elements and step in the outputs (R's is none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rect {
    base: u64,
    out_base: i64,
    a: Dim,
    r: Dim,
    i: Dim,
}

/// A dimension of one index.
const UNIT: Dim = Dim {
    len: 1,
    stride: 0,
    out: Some(0),
};

impl Rect {
    /// The rectangles of `block`, whose stream element `first` is element `offset` of the
    /// binding (and the rest follow it): its innermost kept, reduced and kept dimensions (where it
    /// has them) as I, R and A, and one rectangle per index of the dimensions outside them.
    pub(crate) fn of_block(block: &Block, first: u64, offset: u64) -> Vec<Rect> {
        let mut dims = block.dims.clone();
        let take = |dims: &mut Vec<Dim>, kept: bool| {
            dims.last()
                .is_some_and(|d| d.kept() == kept)
                .then(|| dims.pop().expect("checked"))
        };
        let i = take(&mut dims, true).unwrap_or(UNIT);
        let r = take(&mut dims, false).unwrap_or(Dim { out: None, ..UNIT });
        let a = take(&mut dims, true).unwrap_or(UNIT);
        let count: u64 = dims.iter().map(|d| d.len).product();
        let mut index = vec![0u64; dims.len()];
        let (mut at, mut out) = (block.offset - first + offset, block.out_base);
        let mut rects = Vec::with_capacity(count as usize);
        for _ in 0..count {
            rects.push(Rect {
                base: at,
                out_base: out,
                a,
                r,
                i,
            });
            for (k, dim) in dims.iter().enumerate().rev() {
                index[k] += 1;
                at += dim.stride;
                out += dim.out.unwrap_or(0);
                if index[k] < dim.len {
                    break;
                }
                index[k] = 0;
                at -= dim.stride * dim.len;
                out -= dim.out.unwrap_or(0) * dim.len as i64;
            }
        }
        rects
    }

    /// Pieces each output's R is cut into, `r_per_piece` indices each, for `mode` on a device
    /// that keeps `width` invocations busy.
    fn pieces(&self, mode: Mode, workgroup_size: u32, width: u64) -> (u32, u32) {
        let outputs = self.a.len * self.i.len;
        let r_len = self.r.len;
        let (least, most) = match mode {
            Mode::Wide => (workgroup_size, workgroup_size * MAX_LANE),
            Mode::Narrow => (64, MAX_PIECE),
        };
        let wanted = match mode {
            Mode::Wide => width / u64::from(workgroup_size),
            Mode::Narrow => width,
        };
        let per_output = wanted.div_ceil(outputs).max(1);
        let r_per_piece = r_len
            .div_ceil(per_output)
            .clamp(u64::from(least).min(r_len), u64::from(most)) as u32;
        (r_per_piece, r_len.div_ceil(u64::from(r_per_piece)) as u32)
    }

    /// How the rectangle is summed: a piece per workgroup for long reductions to outputs that
    /// are not side by side in the data, else a piece per invocation.
    pub(crate) fn mode(&self, workgroup_size: u32) -> Mode {
        if self.i.len == 1 && self.r.len >= 2 * u64::from(workgroup_size) {
            Mode::Wide
        } else {
            Mode::Narrow
        }
    }

    /// The dispatches that sum the rectangle, each of at most `capacity` pieces, with each
    /// piece's output and element count in order.
    pub(crate) fn dispatches(
        &self,
        mode: Mode,
        workgroup_size: u32,
        width: u64,
        capacity: u64,
    ) -> Vec<(Dispatch, Pieces)> {
        let (r_per_piece, r_pieces) = self.pieces(mode, workgroup_size, width);
        let total = self.a.len * u64::from(r_pieces) * self.i.len;
        let most = match mode {
            Mode::Wide => u64::from(MAX_WORKGROUPS),
            Mode::Narrow => u64::from(MAX_WORKGROUPS) * u64::from(workgroup_size),
        }
        .min(capacity)
        .max(1);
        let mut dispatches = Vec::new();
        let mut first = 0u64;
        while first < total {
            let pieces = most.min(total - first);
            let params = Params {
                base: self.base as u32,
                a_stride: self.a.stride as u32,
                r_stride: self.r.stride as u32,
                i_stride: self.i.stride as u32,
                a_len: self.a.len as u32,
                r_len: self.r.len as u32,
                i_len: self.i.len as u32,
                r_per_piece,
                r_pieces,
                first_piece: first as u32,
                pieces: pieces as u32,
                pad: 0,
            };
            let workgroups = match mode {
                Mode::Wide => pieces,
                Mode::Narrow => pieces.div_ceil(u64::from(workgroup_size)),
            } as u32;
            let outputs = (first..first + pieces)
                .map(|p| self.piece_output(p, r_per_piece, r_pieces))
                .collect();
            dispatches.push((
                Dispatch {
                    params: bytemuck::bytes_of(&params).to_vec(),
                    workgroups,
                    partials: pieces as u32,
                },
                outputs,
            ));
            first += pieces;
        }
        dispatches
    }

    /// Piece `p`'s output and element count, as the shader's `piece_at` numbers pieces.
    fn piece_output(&self, p: u64, r_per_piece: u32, r_pieces: u32) -> (i64, u64) {
        let i = p % self.i.len;
        let rest = p / self.i.len;
        let r_piece = rest % u64::from(r_pieces);
        let a = rest / u64::from(r_pieces);
        let r = r_piece * u64::from(r_per_piece);
        let count = u64::from(r_per_piece).min(self.r.len - r);
        let out =
            self.out_base + self.a.out.unwrap_or(0) * a as i64 + self.i.out.unwrap_or(0) * i as i64;
        (out, count)
    }
}

/// Adds each piece's partial (in order) to its output: integers' biased 128-bit sums, floats'
/// flags and counters.
pub(crate) fn add_pieces(
    dtype: Dtype,
    partials: &[u8],
    pieces: &[(i64, u64)],
    sums: &mut Sums,
) -> Result<(), Error> {
    let size = super::array::partial_bytes(dtype) as usize;
    for (partial, &(out, count)) in partials.chunks_exact(size).zip(pieces) {
        add_partial(dtype, partial, out as usize, count, sums)?;
    }
    Ok(())
}

/// Adds one partial of `count` elements to output `out`.
pub(crate) fn add_partial(
    dtype: Dtype,
    partial: &[u8],
    out: usize,
    count: u64,
    sums: &mut Sums,
) -> Result<(), Error> {
    if count == 0 {
        return Ok(());
    }
    let total = if dtype.is_float() {
        Part::total(dtype, vec![Part::decode(dtype, partial)], count)?
    } else {
        let biased = limbs_to_u128(&partial[..16]);
        ArrayTotal::Int(crate::ExactIntSum::from_parts(
            unbias(dtype, biased, count),
            count,
        )?)
    };
    sums.add_total(out, &total);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::walk::{StreamAxis, Walk};

    /// Every element of every rectangle of a walk's blocks, by the pieces' arithmetic: each
    /// element's binding index and output, as the shaders would find them.
    fn pieced(walk: &Walk, chunk: u64, size: u32, width: u64) -> Vec<(u64, i64)> {
        let mut all = Vec::new();
        let mut first = 0;
        while first < walk.elements {
            let len = chunk.min(walk.elements - first);
            for block in walk.blocks(first, len) {
                for rect in Rect::of_block(&block, first, 0) {
                    let mode = rect.mode(size);
                    let (r_per_piece, r_pieces) = rect.pieces(mode, size, width);
                    for (dispatch, outputs) in rect.dispatches(mode, size, width, 50) {
                        let params: Params = bytemuck::pod_read_unaligned(&dispatch.params);
                        for (k, &(out, count)) in outputs.iter().enumerate() {
                            let p = u64::from(params.first_piece) + k as u64;
                            let (o, c) = rect.piece_output(p, r_per_piece, r_pieces);
                            assert_eq!((o, c), (out, count));
                            // piece_at, as in grouped_params.wgsl.
                            let i = p % u64::from(params.i_len);
                            let rest = p / u64::from(params.i_len);
                            let r0 = (rest % u64::from(params.r_pieces)) * u64::from(r_per_piece);
                            let a = rest / u64::from(params.r_pieces);
                            let start = u64::from(params.base)
                                + a * u64::from(params.a_stride)
                                + r0 * u64::from(params.r_stride)
                                + i * u64::from(params.i_stride);
                            for r in 0..count {
                                let at = start + r * u64::from(params.r_stride);
                                all.push((first + at, out));
                            }
                        }
                    }
                }
            }
            first += len;
        }
        all.sort_unstable();
        all
    }

    #[test]
    fn every_element_reaches_its_output_once_through_the_pieces() {
        for (shape, fortran) in [
            (vec![3u64, 700], false),
            (vec![700, 3], false),
            (vec![4, 5, 600], true),
            (vec![2, 300, 3, 2], false),
            (vec![9], false),
        ] {
            let stream = StreamAxis::of_shape(&shape, fortran);
            let ndim = shape.len();
            for mask in 0..(1u32 << ndim) {
                let reduced: Vec<usize> = (0..ndim).filter(|a| mask & (1 << a) != 0).collect();
                let walk = Walk::new(&stream, &reduced);
                let mut expected: Vec<(u64, i64)> = walk
                    .blocks(0, walk.elements)
                    .iter()
                    .flat_map(Block::outputs)
                    .collect();
                expected.sort_unstable();
                for (chunk, size, width) in [(1 << 20, 64, 1 << 12), (97, 4, 16), (1000, 256, 8)] {
                    assert_eq!(
                        pieced(&walk, chunk, size, width),
                        expected,
                        "{shape:?} fortran {fortran} reduced {reduced:?} chunk {chunk} size {size}"
                    );
                }
            }
        }
    }
}
