// Elements of an array by index, and running sums of integer ones, for the kernels that address
// elements rather than units (sums along axes and by key). Composed after a layout file
// (array_load_*.wgsl, for load_word) and, for the running sums, limbs.wgsl; the host prepends
// ELEMENT_BYTES and SIGN_FLIP as for whole arrays.

// Element e's words: its low word and, for 8-byte elements, its high word (else 0), each with
// the bits of SIGN_FLIP flipped, which biases a signed integer to unsigned.
fn load_element(e: u32) -> vec2<u32> {
    if ELEMENT_BYTES == 8u {
        return vec2<u32>(load_word(2u * e), load_word(2u * e + 1u)) ^ SIGN_FLIP.xy;
    }
    if ELEMENT_BYTES == 4u {
        return vec2<u32>(load_word(e) ^ SIGN_FLIP.x, 0u);
    }
    // 1- or 2-byte elements: written so that no constant shift reaches 32 for the wider types.
    let bits = select(8u, 16u, ELEMENT_BYTES == 2u);
    let mask = (1u << bits) - 1u;
    let per_word = 32u / bits;
    let word = load_word(e / per_word);
    return vec2<u32>(((word >> (bits * (e % per_word))) & mask) ^ (SIGN_FLIP.x & mask), 0u);
}

// A running sum of biased elements: low words with the count of their wraps, and (for 8-byte
// elements) high words with theirs. Bound: at most 2^16 elements, so each count stays below
// 2^16.
struct Running {
    low: u32,
    low_wraps: u32,
    high: u32,
    high_wraps: u32,
}

fn add_element(s: Running, v: vec2<u32>) -> Running {
    let low = s.low + v.x;
    let high = s.high + v.y;
    return Running(
        low,
        s.low_wraps + select(0u, 1u, low < v.x),
        high,
        s.high_wraps + select(0u, 1u, high < v.y),
    );
}

// The running sum as 4 limbs: low + 2^32 (low_wraps + high) + 2^64 high_wraps, below 2^80.
fn as_limbs(s: Running) -> vec4<u32> {
    let middle = add_carry(s.high, s.low_wraps, 0u);
    return vec4<u32>(s.low, middle.x, s.high_wraps + middle.y, 0u);
}
