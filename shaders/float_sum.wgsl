// Exact sums of f32 or f64 arrays with integer operations only: no float arithmetic touches the
// data, so no compiler may reassociate or fuse it. Composed with array_params.wgsl and a layout
// file (array_load_*.wgsl); owns its entry point. The host prepends WORKGROUP_SIZE,
// ELEMENT_BYTES (4 or 8), SIGN_FLIP (zero), TEXTURE_WIDTH, DIGITS (9 for f32, 66 for f64) and
// PIECES (2 or 3).
//
// Every finite value is significand * 2^shift units of the smallest subnormal, which is
// significand << (shift % 32) placed at 32-bit digit shift / 32: PIECES words. Each invocation
// adds its values into a window of 4 digits, each a 64-bit two's-complement counter (low, high),
// and moves the window to workgroup memory whenever a value falls outside it. Each workgroup
// writes its flags and DIGITS counters; the host adds them up exactly (ExactFloatSum).

@group(0) @binding(1) var<storage, read_write> partials: array<u32>;

// A partial: the flags, three spare words, then (low, high) per digit.
const PARTIAL_WORDS: u32 = 4u + 2u * DIGITS;
const WINDOW: u32 = 4u;

const FLAG_NAN: u32 = 1u;
const FLAG_POSITIVE_INFINITY: u32 = 2u;
const FLAG_NEGATIVE_INFINITY: u32 = 4u;
const FLAG_NOT_NEGATIVE_ZERO: u32 = 8u;

// The workgroup's counters. Bound: a workgroup adds at most 256 * (2^14 units * 4 + 8) values
// per dispatch, each less than 2^32 per digit, so every counter stays below 2^57 in magnitude.
var<workgroup> digit_low: array<atomic<u32>, DIGITS>;
var<workgroup> digit_high: array<atomic<u32>, DIGITS>;
var<workgroup> group_flags: atomic<u32>;

// The invocation's window: digits [base, base + 4). Bound: at most 2^16 + 8 values between
// flushes, so each counter stays below 2^49 in magnitude.
var<private> base: u32;
var<private> window_low: vec4<u32>;
var<private> window_high: vec4<u32>;
var<private> flags: u32;

fn flush() {
    for (var k = 0u; k < WINDOW; k += 1u) {
        let low = window_low[k];
        let high = window_high[k];
        if (low | high) != 0u {
            // 64-bit addition modulo 2^64: the low word's wrap, seen from its old value, carries.
            let old = atomicAdd(&digit_low[base + k], low);
            let carry = select(0u, 1u, old + low < old);
            atomicAdd(&digit_high[base + k], high + carry);
        }
    }
    window_low = vec4<u32>(0u);
    window_high = vec4<u32>(0u);
}

// Adds or subtracts `pieces` (least significant first) at digit `digit`.
fn place(digit: u32, pieces: vec4<u32>, negative: bool) {
    if digit < base || digit + PIECES > base + WINDOW {
        flush();
        base = min(digit, DIGITS - WINDOW);
    }
    var v = pieces;
    let offset = digit - base;
    if offset == 1u {
        v = vec4<u32>(0u, pieces.x, pieces.y, pieces.z);
    } else if offset == 2u {
        v = vec4<u32>(0u, 0u, pieces.x, pieces.y);
    }
    if negative {
        let borrow = select(vec4<u32>(0u), vec4<u32>(1u), window_low < v);
        window_low -= v;
        window_high -= borrow;
    } else {
        window_low += v;
        window_high += select(vec4<u32>(0u), vec4<u32>(1u), window_low < v);
    }
}

fn special(negative: bool, nan: bool) {
    if nan {
        flags |= FLAG_NAN;
    } else if negative {
        flags |= FLAG_NEGATIVE_INFINITY;
    } else {
        flags |= FLAG_POSITIVE_INFINITY;
    }
}

fn add_f32(bits: u32) {
    if bits != 0x80000000u {
        flags |= FLAG_NOT_NEGATIVE_ZERO;
    }
    let negative = bits >= 0x80000000u;
    let exponent = (bits >> 23u) & 0xffu;
    let fraction = bits & 0x7fffffu;
    if exponent == 0xffu {
        special(negative, fraction != 0u);
        return;
    }
    if (bits & 0x7fffffffu) == 0u {
        return;
    }
    let normal = select(0u, 1u, exponent != 0u);
    let significand = fraction | (normal << 23u);
    let shift = exponent - normal;
    let r = shift % 32u;
    // 24 + 31 bits over two words; a shift by 32 is not allowed, hence the select.
    let high = select(significand >> (32u - r), 0u, r == 0u);
    place(shift / 32u, vec4<u32>(significand << r, high, 0u, 0u), negative);
}

fn add_f64(low: u32, high: u32) {
    if low != 0u || high != 0x80000000u {
        flags |= FLAG_NOT_NEGATIVE_ZERO;
    }
    let negative = high >= 0x80000000u;
    let exponent = (high >> 20u) & 0x7ffu;
    let fraction_high = high & 0xfffffu;
    if exponent == 0x7ffu {
        special(negative, (fraction_high | low) != 0u);
        return;
    }
    if ((high & 0x7fffffffu) | low) == 0u {
        return;
    }
    let normal = select(0u, 1u, exponent != 0u);
    let significand_high = fraction_high | (normal << 20u);
    let shift = exponent - normal;
    let r = shift % 32u;
    // 53 + 31 bits over three words.
    var pieces = vec4<u32>(low, significand_high, 0u, 0u);
    if r != 0u {
        pieces = vec4<u32>(
            low << r,
            (significand_high << r) | (low >> (32u - r)),
            significand_high >> (32u - r),
            0u,
        );
    }
    place(shift / 32u, pieces, negative);
}

// Adds the elements of a unit whose words `valid` says hold data.
fn add_unit(v: vec4<u32>, valid: vec4<bool>) {
    if ELEMENT_BYTES == 8u {
        if valid.x {
            add_f64(v.x, v.y);
        }
        if valid.z {
            add_f64(v.z, v.w);
        }
    } else {
        for (var k = 0u; k < 4u; k += 1u) {
            if valid[k] {
                add_f32(v[k]);
            }
        }
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(global_invocation_id) global_id: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
    @builtin(workgroup_id) group_id: vec3<u32>,
) {
    for (var k = local_index; k < DIGITS; k += WORKGROUP_SIZE) {
        atomicStore(&digit_low[k], 0u);
        atomicStore(&digit_high[k], 0u);
    }
    if local_index == 0u {
        atomicStore(&group_flags, 0u);
    }
    workgroupBarrier();

    let walk = invocation_units(global_id.x);
    var unit = walk.x;
    for (var turn = 0u; turn < walk.y; turn += 1u) {
        add_unit(load_unit(unit), vec4<bool>(true));
        unit += WORKGROUP_SIZE;
    }
    if global_id.x == 0u {
        if params.edge_a != NO_EDGE {
            add_unit(load_edge_unit(params.edge_a), edge_valid(params.edge_a));
        }
        if params.edge_b != NO_EDGE {
            add_unit(load_edge_unit(params.edge_b), edge_valid(params.edge_b));
        }
    }
    flush();
    if flags != 0u {
        atomicOr(&group_flags, flags);
    }
    workgroupBarrier();

    let first = group_id.x * PARTIAL_WORDS;
    if local_index == 0u {
        partials[first] = atomicLoad(&group_flags);
        partials[first + 1u] = 0u;
        partials[first + 2u] = 0u;
        partials[first + 3u] = 0u;
    }
    for (var k = local_index; k < DIGITS; k += WORKGROUP_SIZE) {
        partials[first + 4u + 2u * k] = atomicLoad(&digit_low[k]);
        partials[first + 5u + 2u * k] = atomicLoad(&digit_high[k]);
    }
}
