// Sums by key: each element's value goes to the counters of its slot. The binding holds the
// values, then from word `slots_word` on one u32 slot per element, which the host gives (a key's
// distance from the lowest key, or its rank among distinct keys). Composed with a layout file and
// element.wgsl.

struct Params {
    slots_word: u32,
    // The dispatch adds elements [first, first + count); each invocation at most per_invocation
    // (at most 2^16) consecutive ones.
    first: u32,
    count: u32,
    per_invocation: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// The elements [start, end) of invocation `index`.
fn invocation_elements(index: u32) -> vec2<u32> {
    let offset = min(index * params.per_invocation, params.count);
    let end = min(offset + params.per_invocation, params.count);
    return vec2<u32>(params.first + offset, params.first + end);
}

fn slot_of(e: u32) -> u32 {
    return load_word(params.slots_word + e);
}

// Adds the 64-bit `value` to the counter at words [at, at + 2) of `counters`, modulo 2^64.
fn add_count(at: u32, value: u32) {
    let old = atomicAdd(&partials[at], value);
    atomicAdd(&partials[at + 1u], select(0u, 1u, old + value < old));
}
