// The EVERY_DIGIT accumulations of float_sum.wgsl, for software adapters: counters for every
// digit a value may touch, each value placed by selects, with no branch and no dynamic index per
// value (SIMD lanes on CPUs such as llvmpipe pay for a branch on every value, whether or not any
// lane takes it, and turn a dynamic index into one access per lane). Composed after
// float_sum.wgsl, whose entry point batches the values and whose flags and workgroup counters
// these use.
//
// f32: twelve 32-bit counters of 24-bit digits take each value's two signed pieces (no carries)
// and move into 64-bit counters of 32-bit digits every 116 values. f64: for each batch of 510
// values, a ring of eight 22-bit digits (digit t in counter t % 8) takes each value's four
// pieces and moves to the workgroup's counters after the batch, which is exact while the batch's
// values touch at most eight digits; a batch that touches more is added again through the window.

// f32 with EVERY_DIGIT: twelve 24-bit digits (digit k weighs 2^(24 k) units; 12 * 24 > 277),
// in 32-bit two's-complement counters. A value adds at most 2^24 in magnitude to each, so the
// 116 values of the loop between moves and 8 more from the edges stay below 124 * 2^24 < 2^31.
var<private> small_0: vec4<u32>;
var<private> small_1: vec4<u32>;
var<private> small_2: vec4<u32>;
// Values the small counters take between moves: 29 units of 4.
const SMALL_VALUES: u32 = 116u;
// f32 with EVERY_DIGIT: the small counters' moves, in 32-bit digits as 64-bit counters (low,
// high). Bound: each move adds less than 4 * 2^32 to a digit (2^39 to the top one), and an
// invocation makes fewer than 2^10 moves, so each stays below 2^49.
const F32_DIGITS: u32 = 9u;
var<private> big_low: array<u32, F32_DIGITS>;
var<private> big_high: array<u32, F32_DIGITS>;
// f64 with EVERY_DIGIT: a ring of eight 22-bit digits (digit t weighs 2^(22 t) units), digit t
// kept in counter t % 8, which is exact while a batch's values touch at most eight digits (the
// lowest piece's digit in [ring_low, ring_low + 4]); a batch that touches more is added again
// through the window. A value adds less than 2^22 in magnitude to each counter, so the 510
// values of a batch stay below 2^31.
var<private> ring_0: vec4<u32>;
var<private> ring_1: vec4<u32>;
// The batch's lowest and highest digits of a nonzero value's lowest piece (a special value's
// counts as too high to fit).
var<private> ring_low: u32;
var<private> ring_high: u32;
// Nonzero once a value other than -0.0 was added by the ring.
var<private> ring_not_negative_zero: u32;
// Units of two f64 values a batch takes.
const RING_UNITS: u32 = 255u;
// Batches that go straight to the window after one that did not fit the ring: values spread
// over many digits then pay for the ring on one batch in four.
const RING_REST: u32 = 3u;

// Adds the signed 64-bit (low, high) to the invocation's 32-bit digit k.
fn add_big(k: u32, low: u32, high: u32) {
    let old = big_low[k];
    big_low[k] = old + low;
    big_high[k] += high + select(0u, 1u, old + low < old);
}

// c * 2^position as two words at 32-bit digits: (the digit, c << (position % 32) as the unsigned
// low word there, and the signed high word for the next digit).
fn shifted_words(c: i32, position: u32) -> vec3<u32> {
    let offset = position % 32u;
    let high = select(c >> ((32u - offset) % 32u), c >> 31u, offset == 0u);
    return vec3<u32>(position / 32u, bitcast<u32>(c) << offset, bitcast<u32>(high));
}

// The high word of a signed 64-bit value whose low word is the signed `word`.
fn sign_word(word: u32) -> u32 {
    return select(0u, 0xffffffffu, bitcast<i32>(word) < 0);
}

// Moves the 24-bit digits to the 32-bit ones and empties them: digit k's counter c times
// 2^(24 k) as its two words (shifted_words), each less than 2^32 in magnitude, the top digit
// taking both.
fn move_small() {
    for (var k = 0u; k < 12u; k += 1u) {
        let c = bitcast<i32>(select(select(small_2[k % 4u], small_1[k % 4u], k < 8u), small_0[k % 4u], k < 4u));
        let words = shifted_words(c, 24u * k);
        if words.x + 1u < F32_DIGITS {
            add_big(words.x, words.y, 0u);
            add_big(words.x + 1u, words.z, sign_word(words.z));
        } else {
            add_big(words.x, words.y, words.z);
        }
    }
    small_0 = vec4<u32>(0u);
    small_1 = vec4<u32>(0u);
    small_2 = vec4<u32>(0u);
}

// Adds the signed f32 pieces (low at 24-bit digit `digit`, high at the next) by selects: no
// branch and no dynamic index.
fn place_f32(digit: u32, low: u32, high: u32) {
    let lows = vec4<u32>(low);
    let highs = vec4<u32>(high);
    let at = vec4<u32>(digit);
    let low_0 = vec4<u32>(0u, 1u, 2u, 3u) == at;
    let low_1 = vec4<u32>(4u, 5u, 6u, 7u) == at;
    let low_2 = vec4<u32>(8u, 9u, 10u, 11u) == at;
    // The high piece goes where the low one would one digit up: the same compares, moved a lane.
    let high_0 = vec4<bool>(false, low_0.xyz);
    let high_1 = vec4<bool>(low_0.w, low_1.xyz);
    let high_2 = vec4<bool>(low_1.w, low_2.xyz);
    // Each an add where the mask holds: one masked add on AVX-512 (lavapipe's code there ran 23%
    // faster than with an or of two masked pieces), an add and a blend elsewhere (3% slower with
    // AVX-512 turned off by GALLIUM_OVERRIDE_CPU_CAPS=avx).
    small_0 = select(small_0, small_0 + lows, low_0);
    small_1 = select(small_1, small_1 + lows, low_1);
    small_2 = select(small_2, small_2 + lows, low_2);
    small_0 = select(small_0, small_0 + highs, high_0);
    small_1 = select(small_1, small_1 + highs, high_1);
    small_2 = select(small_2, small_2 + highs, high_2);
}

// Adds the signed c * 2^(22 t) to the workgroup's counters as its two words (shifted_words),
// the top digit taking both. A finite value's pieces lie at digits up to 95 (its lowest at most
// 2045 / 22), and digit 95 starts in the top 32-bit digit (22 * 95 / 32 = 65).
fn add_ring_counter(t: u32, c: i32) {
    let words = shifted_words(c, 22u * t);
    if words.x + 1u < DIGITS {
        add_to_workgroup(words.x, words.y, 0u);
        add_to_workgroup(words.x + 1u, words.z, sign_word(words.z));
    } else {
        add_to_workgroup(words.x, words.y, words.z);
    }
}

// Ends a batch of the ring: moves its counters to the workgroup's and returns true when the
// batch fit in eight digits; else empties them and returns false (the batch is added again).
fn move_ring() -> bool {
    let low = min(ring_low, ring_high);
    let fits = ring_high < low + 5u;
    if fits {
        for (var k = 0u; k < 8u; k += 1u) {
            let c = select(ring_1[k % 4u], ring_0[k % 4u], k < 4u);
            if c != 0u {
                add_ring_counter(low + ((k - low) % 8u), bitcast<i32>(c));
            }
        }
    }
    ring_0 = vec4<u32>(0u);
    ring_1 = vec4<u32>(0u);
    ring_low = 0xffffffffu;
    ring_high = 0u;
    return fits;
}

// Adds an f64 value to the ring by selects: its signed significand times 2^r (r = shift % 22)
// as four 22-bit pieces, the top one signed, at digits digit .. digit + 3.
fn add_f64_ring(low: u32, high: u32) {
    ring_not_negative_zero = max(ring_not_negative_zero, (high ^ 0x80000000u) | low);
    let magnitude_high = high & 0x7fffffffu;
    let exponent = magnitude_high >> 20u;
    let normal = min(exponent, 1u);
    let shift = exponent - normal;
    // shift / 22 for shifts up to 2046, without a division.
    let digit = (shift * 745u) >> 14u;
    let r = shift - 22u * digit;
    let nonzero = (magnitude_high | low) != 0u;
    ring_low = select(ring_low, min(ring_low, digit), nonzero);
    // Specials (exponent 2047) never fit, so their batch goes through the window.
    ring_high = max(ring_high, select(digit, 0xffffu, exponent == 0x7ffu));
    // The signed significand as 64 bits: (x ^ flip) - flip over two words, negating where flip
    // (the sign, spread) is all ones.
    let flip = bitcast<u32>(bitcast<i32>(high) >> 31u);
    let flipped_low = low ^ flip;
    let signed_low = flipped_low - flip;
    let borrow = select(0u, 1u, flipped_low < flip);
    let significand_high = (magnitude_high & 0xfffffu) | (normal << 20u);
    let signed_high = (significand_high ^ flip) - flip - borrow;
    // Its 22-bit limbs, the top one signed.
    let l0 = signed_low & 0x3fffffu;
    let l1 = (signed_low >> 22u) | ((signed_high << 10u) & 0x3fffffu);
    let l2 = bitcast<i32>(signed_high) >> 12u;
    // Times 2^r.
    let back = 22u - r;
    let p0 = (l0 << r) & 0x3fffffu;
    let p1 = ((l1 << r) | (l0 >> back)) & 0x3fffffu;
    let p2 = ((bitcast<u32>(l2) << r) | (l1 >> back)) & 0x3fffffu;
    let p3 = bitcast<u32>(l2 >> back);
    let at = vec4<u32>(digit % 8u);
    let m0 = vec4<u32>(0u, 1u, 2u, 3u) == at;
    let m1 = vec4<u32>(4u, 5u, 6u, 7u) == at;
    // Counter k takes piece j where digit % 8 == (k - j) % 8: the masks moved j lanes round.
    ring_0 = select(ring_0, ring_0 + vec4<u32>(p0), m0);
    ring_1 = select(ring_1, ring_1 + vec4<u32>(p0), m1);
    ring_0 = select(ring_0, ring_0 + vec4<u32>(p1), vec4<bool>(m1.w, m0.xyz));
    ring_1 = select(ring_1, ring_1 + vec4<u32>(p1), vec4<bool>(m0.w, m1.xyz));
    ring_0 = select(ring_0, ring_0 + vec4<u32>(p2), vec4<bool>(m1.zw, m0.xy));
    ring_1 = select(ring_1, ring_1 + vec4<u32>(p2), vec4<bool>(m0.zw, m1.xy));
    ring_0 = select(ring_0, ring_0 + vec4<u32>(p3), vec4<bool>(m1.yzw, m0.x));
    ring_1 = select(ring_1, ring_1 + vec4<u32>(p3), vec4<bool>(m0.yzw, m1.x));
}
