// The array kernels' per-dispatch uniform, and how an invocation walks its units.
//
// A unit is 16 bytes of data: 16 u8, 8 u16, 4 u32 or 2 u64 elements. The host prepends
// `ELEMENT_BYTES` (1, 2, 4 or 8) and `SIGN_FLIP`, the bits that bias signed elements to unsigned
// (each element's sign bit; zero for unsigned types), and a layout file provides `load_unit`.

struct Params {
    // The dispatch walks units [first_unit, first_unit + units) of the binding, all of them
    // whole units of data.
    first_unit: u32,
    units: u32,
    // Units each invocation adds, at most 2^14 (MAX_UNITS_PER_INVOCATION on the host).
    per_invocation: u32,
    // Only bytes [begin_byte, end_byte) of the binding are data: multiples of 4, less than 2^31.
    begin_byte: u32,
    end_byte: u32,
    // Up to two units that hold data only in part (the window's first and last), which the
    // dispatch's first invocation adds, masked; NO_EDGE where there is none.
    edge_a: u32,
    edge_b: u32,
    pad: u32,
}

// Invocations that walk side by side (UnitWalk on the host): the workgroup on GPUs, whose
// neighbouring invocations then read neighbouring units (coalesced); 1 on software adapters,
// where each invocation reads its own run of consecutive units, a stream for the prefetchers.
override WALK: u32 = WORKGROUP_SIZE;
const NO_EDGE: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> params: Params;

// A whole unit's biased words.
fn biased_unit(unit: u32) -> vec4<u32> {
    return load_unit(unit) ^ SIGN_FLIP;
}

// An edge unit's biased words, with bytes outside [begin_byte, end_byte) zeroed: a zero biased
// value is no element at all, and the host removes the bias of the elements that are there.
fn biased_edge_unit(unit: u32) -> vec4<u32> {
    let first_byte = 16u * unit;
    var mask = vec4<u32>(0u);
    for (var k = 0u; k < 4u; k += 1u) {
        let byte = first_byte + 4u * k;
        if byte >= params.begin_byte && byte < params.end_byte {
            // 1 to 4 valid bytes, the low ones (little-endian).
            let valid = min(params.end_byte - byte, 4u);
            mask[k] = 0xffffffffu >> (32u - 8u * valid);
        }
    }
    return (load_edge_unit(unit) ^ SIGN_FLIP) & mask;
}

// Which words of an edge unit lie in [begin_byte, end_byte); for float kernels,
// whose elements start on whole words.
fn edge_valid(unit: u32) -> vec4<bool> {
    var valid = vec4<bool>(false);
    for (var k = 0u; k < 4u; k += 1u) {
        let byte = 16u * unit + 4u * k;
        valid[k] = byte >= params.begin_byte && byte < params.end_byte;
    }
    return valid;
}

// The units of a workgroup are consecutive; each WALK invocations side by side take turns
// through a stretch of WALK * per of them. Returns (the invocation's first unit, how many turns
// it has); its turns are WALK units apart.
fn invocation_units(index: u32) -> vec2<u32> {
    let stretch = index / WALK;
    let lane = index % WALK;
    let per = params.per_invocation;
    // A dispatch's invocations cover fewer than 2^31 units (checked on the host), so neither
    // product wraps.
    let start = stretch * WALK * per + lane;
    if start >= params.units {
        return vec2<u32>(0u);
    }
    let turns = min(per, (params.units - start + WALK - 1u) / WALK);
    return vec2<u32>(params.first_unit + start, turns);
}

// The sum of a unit of 1- or 2-byte elements, below 2^19.
fn narrow_unit_sum(v: vec4<u32>) -> u32 {
    if ELEMENT_BYTES == 2u {
        // Each word's two halves: below 2^17; four of them below 2^19.
        let halves = (v & vec4<u32>(0xffffu)) + (v >> vec4<u32>(16u));
        return halves.x + halves.y + halves.z + halves.w;
    }
    // Bytes, in pairs, in 16-bit lanes: each lane ends below 4 * 2 * 255 = 2040.
    let pairs = (v & vec4<u32>(0x00ff00ffu)) + ((v >> vec4<u32>(8u)) & vec4<u32>(0x00ff00ffu));
    let lanes = pairs.x + pairs.y + pairs.z + pairs.w;
    return (lanes & 0xffffu) + (lanes >> 16u);
}
