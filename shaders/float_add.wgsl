// Exact float accumulation with integer operations only, shared by every float kernel: no
// float arithmetic touches the data, so no compiler may reassociate or fuse it. An entry point
// (float_sum.wgsl for whole arrays, grouped_float.wgsl for sums along axes) feeds it values with
// add_f32 and add_f64, then moves its counters with flush_all; float_every_digit.wgsl is composed
// after it. The host prepends WORKGROUP_SIZE, ELEMENT_BYTES (4 or 8), SIGN_FLIP (zero),
// DIGITS (9 for f32, 66 for f64), PIECES (2 or 3) and the partial's layout and flags.
//
// Every finite value is significand * 2^shift units of the smallest subnormal, which is
// significand << (shift % 32) placed at 32-bit digit shift / 32: PIECES words. Each invocation
// adds its values into 64-bit two's-complement counters (low, high words): a window of 4 digits
// that moves to its target whenever a value falls outside it, or, where the host sets
// EVERY_DIGIT (software adapters), counters for every digit a value may touch, placed by selects
// (float_every_digit.wgsl). The target is the workgroup's counters (atomics), or where the host
// sets STORAGE_COUNTERS, counters in `partials` from word `counters_first` on (atomics too: a
// piece of its own, or a key's that other invocations share).

@group(0) @binding(1) var<storage, read_write> partials: array<atomic<u32>>;

const WINDOW: u32 = 4u;

// Every digit's counter rather than a window (FloatAccumulation on the host).
override EVERY_DIGIT: bool = false;

// Each invocation moves its counters to 64-bit counters in `partials` from word
// `counters_first` on, rather than to the workgroup's: a piece's own (a sum along axes with one
// output per invocation) or a key's (a sum by key). Bounds: a piece takes at most 2^16 values
// and a key's counters at most 2^31 per dispatch, each less than 2^32 per digit, so they stay
// below 2^63 in magnitude.
override STORAGE_COUNTERS: bool = false;
var<private> counters_first: u32;

// The workgroup's counters. Bound: a workgroup adds at most 256 * (2^14 units * 4 + 8) values
// per dispatch, each less than 2^32 per digit, so every counter stays below 2^57 in magnitude.
// With EVERY_DIGIT, each f32 invocation adds its 64-bit counters once, each below 2^49; each
// f64 invocation moves its ring at most 65 times, less than 4 * 2^32 per digit each (below
// 2^49 for the workgroup, beside what the windows add).
var<workgroup> digit_low: array<atomic<u32>, DIGITS>;
var<workgroup> digit_high: array<atomic<u32>, DIGITS>;
var<workgroup> group_flags: atomic<u32>;

// The invocation's counters. Bound: an invocation adds at most 2^16 + 8 values, each less than
// 2^32 per digit, so each counter stays below 2^49 in magnitude.
var<private> flags: u32;
// f32 with EVERY_DIGIT: the largest bits added, and the largest with the sign bit flipped
// (f32_flags): two operations a value instead of a dozen for the flags. The window keeps the
// flags per value: with the maxima, or with the batched loop below, it ran slower on an H100.
var<private> largest_bits: u32;
var<private> largest_flipped: u32;
// The window: digits [base, base + 4).
var<private> base: u32;
var<private> window_low: vec4<u32>;
var<private> window_high: vec4<u32>;
// Adds the 64-bit counter (low, high) to digit k of the target, modulo 2^64.
fn add_to_workgroup(k: u32, low: u32, high: u32) {
    if (low | high) != 0u {
        if STORAGE_COUNTERS {
            let at = counters_first + 2u * k;
            let old = atomicAdd(&partials[at], low);
            atomicAdd(&partials[at + 1u], high + select(0u, 1u, old + low < old));
            return;
        }
        // The low word's wrap, seen from its old value, carries.
        let old = atomicAdd(&digit_low[k], low);
        let carry = select(0u, 1u, old + low < old);
        atomicAdd(&digit_high[k], high + carry);
    }
}

// Moves the window to the workgroup's counters.
fn flush() {
    for (var k = 0u; k < WINDOW; k += 1u) {
        add_to_workgroup(base + k, window_low[k], window_high[k]);
    }
    window_low = vec4<u32>(0u);
    window_high = vec4<u32>(0u);
}

// Moves every counter of the invocation to the workgroup's.
fn flush_all() {
    if ELEMENT_BYTES == 8u || !EVERY_DIGIT {
        flush();
        return;
    }
    move_small();
    for (var k = 0u; k < F32_DIGITS; k += 1u) {
        add_to_workgroup(k, big_low[k], big_high[k]);
    }
}

// Writes the workgroup's flags and counters as partial `partial`: every invocation calls it,
// after a barrier that follows the last flush and flag of the workgroup.
fn write_partial(partial: u32, local_index: u32) {
    let first = partial * PARTIAL_WORDS;
    if local_index == 0u {
        atomicStore(&partials[first], atomicLoad(&group_flags));
        for (var spare = 1u; spare < PARTIAL_HEADER_WORDS; spare++) {
            atomicStore(&partials[first + spare], 0u);
        }
    }
    for (var k = local_index; k < DIGITS; k += WORKGROUP_SIZE) {
        atomicStore(&partials[first + PARTIAL_HEADER_WORDS + 2u * k], atomicLoad(&digit_low[k]));
        atomicStore(&partials[first + PARTIAL_HEADER_WORDS + 2u * k + 1u], atomicLoad(&digit_high[k]));
    }
}

// Adds or subtracts `pieces` (least significant first) at digit `digit` of the window.
// Selects rather than branches, so that SIMD lanes stay together; only a move of the window
// branches.
fn place(digit: u32, pieces: vec4<u32>, negative: bool) {
    if digit < base || digit + PIECES > base + WINDOW {
        flush();
        base = min(digit, DIGITS - WINDOW);
    }
    let offset = digit - base;
    let once = vec4<u32>(0u, pieces.x, pieces.y, pieces.z);
    let twice = vec4<u32>(0u, 0u, pieces.x, pieces.y);
    let v = select(select(pieces, once, offset == 1u), twice, offset == 2u);
    let one = vec4<u32>(1u);
    let zero = vec4<u32>(0u);
    let added = window_low + v;
    let carry = select(zero, one, added < v);
    let borrow = select(zero, one, window_low < v);
    window_low = select(added, window_low - v, negative);
    window_high += select(carry, zero - borrow, negative);
}

// The flags a value raises: NaN, an infinity, and whether it is anything but -0.0.
fn value_flags(negative_zero: bool, nan: bool, infinite: bool, negative: bool) -> u32 {
    let infinity = select(FLAG_POSITIVE_INFINITY, FLAG_NEGATIVE_INFINITY, negative);
    return select(FLAG_NOT_NEGATIVE_ZERO, 0u, negative_zero) | select(0u, FLAG_NAN, nan)
        | select(0u, infinity, infinite);
}

// The flags of the f32 values added, from the largest bits: the largest negative magnitude is
// in largest_bits when it has the sign bit, the largest positive one in largest_flipped when it
// has. NaNs are the magnitudes above infinity's.
fn f32_flags() -> u32 {
    let sign = 0x80000000u;
    let infinity = 0x7f800000u;
    let negative_top = select(0u, largest_bits & ~sign, largest_bits >= sign);
    let positive_top = select(0u, largest_flipped & ~sign, largest_flipped >= sign);
    let positive_or_nonzero_negative = largest_flipped >= sign || largest_bits > sign;
    return select(0u, FLAG_NOT_NEGATIVE_ZERO, positive_or_nonzero_negative)
        | select(0u, FLAG_NAN, max(negative_top, positive_top) > infinity)
        | select(0u, FLAG_POSITIVE_INFINITY, positive_top == infinity)
        | select(0u, FLAG_NEGATIVE_INFINITY, negative_top == infinity);
}

fn add_f32(bits: u32) {
    if EVERY_DIGIT {
        largest_bits = max(largest_bits, bits);
        largest_flipped = max(largest_flipped, bits ^ 0x80000000u);
    } else {
        let magnitude = bits & 0x7fffffffu;
        flags |= value_flags(
            bits == 0x80000000u,
            magnitude > 0x7f800000u,
            magnitude == 0x7f800000u,
            bits >= 0x80000000u,
        );
    }
    let exponent = (bits >> 23u) & 0xffu;
    // 1 for normal values (their implicit leading bit), 0 for subnormals and zeros.
    let normal = min(exponent, 1u);
    let significand = select(0u, (bits & 0x7fffffu) | (normal << 23u), exponent != 0xffu);
    let shift = exponent - normal;
    if EVERY_DIGIT {
        // shift / 24 for shifts up to 254, without a division.
        let digit = (shift * 683u) >> 14u;
        let r = shift - 24u * digit;
        // The signed significand times 2^r as a low piece in [0, 2^24) and a signed high one
        // in [-2^24, 2^24): (x ^ flip) - flip negates where flip (the sign, spread) is all ones.
        let flip = bitcast<u32>(bitcast<i32>(bits) >> 31u);
        let signed = bitcast<i32>((significand ^ flip) - flip);
        let low = bitcast<u32>(signed << r) & 0xffffffu;
        let high = bitcast<u32>(signed >> (24u - r));
        place_f32(digit, low, high);
    } else {
        let r = shift % 32u;
        // 24 + 31 bits over two words; a shift by 32 would be one by 0, hence the select. Zeros
        // and specials add nothing.
        let high = select(significand >> (32u - r), 0u, r == 0u);
        let digit = select(base, shift / 32u, significand != 0u);
        place(digit, vec4<u32>(significand << r, high, 0u, 0u), bits >= 0x80000000u);
    }
}

fn add_f64(low: u32, high: u32) {
    let negative = high >= 0x80000000u;
    let magnitude_high = high & 0x7fffffffu;
    let exponent = magnitude_high >> 20u;
    let finite = exponent != 0x7ffu;
    let fraction_high = magnitude_high & 0xfffffu;
    flags |= value_flags(
        low == 0u && high == 0x80000000u,
        !finite && (fraction_high | low) != 0u,
        !finite && (fraction_high | low) == 0u,
        negative,
    );
    let normal = select(0u, 1u, exponent != 0u);
    let significand_high = select(0u, fraction_high | (normal << 20u), finite);
    let significand_low = select(0u, low, finite);
    let shift = exponent - normal;
    let r = shift % 32u;
    // 53 + 31 bits over three words.
    let spill = select(32u - r, 0u, r == 0u);
    let pieces = vec4<u32>(
        significand_low << r,
        (significand_high << r) | select(significand_low >> spill, 0u, r == 0u),
        select(significand_high >> spill, 0u, r == 0u),
        0u,
    );
    let digit = select(base, shift / 32u, (significand_high | significand_low) != 0u);
    place(digit, pieces, negative);
}

