// Sums along axes: a dispatch's rectangle of elements and its pieces. Composed with a layout file
// (array_load_*.wgsl) and element.wgsl.
//
// The rectangle is A x R x I elements of the binding, summed over R into one output per (a, i).
// Each output's R is cut into pieces of r_per_piece indices; piece p is (a, r piece, i) with i
// fastest, so that neighbouring pieces read neighbouring elements where I is the data's
// innermost axis. A piece's sum is one partial, its output's part.

struct Params {
    // The element index of the rectangle's first element, and the elements between neighbours
    // along A, R and I. Every element lies below 2^30 bytes into the binding (the host's windows).
    base: u32,
    a_stride: u32,
    r_stride: u32,
    i_stride: u32,
    a_len: u32,
    r_len: u32,
    i_len: u32,
    // At most 2^16 for a piece per invocation, 2^14 per lane for a piece per workgroup.
    r_per_piece: u32,
    r_pieces: u32,
    // The dispatch sums pieces [first_piece, first_piece + pieces).
    first_piece: u32,
    pieces: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// A piece: the element index of its first element, and how many R indices it sums.
struct Piece {
    first: u32,
    count: u32,
}

fn piece_at(p: u32) -> Piece {
    let i = p % params.i_len;
    let rest = p / params.i_len;
    let r_piece = rest % params.r_pieces;
    let a = rest / params.r_pieces;
    let r = r_piece * params.r_per_piece;
    let first = params.base + a * params.a_stride + r * params.r_stride + i * params.i_stride;
    return Piece(first, min(params.r_per_piece, params.r_len - r));
}
