// The range-sum kernels' per-dispatch uniform, and each invocation's share of the dispatch.
//
// Every value is biased, u = v + 2^63, so elements are unsigned 64-bit numbers; the host subtracts
// count * 2^63 once per dispatch.

struct Params {
    // Biased value of the dispatch's first element.
    base_lo: u32,
    base_hi: u32,
    // Elements in this dispatch, at most 2^31 (see MAX_DISPATCH_ELEMENTS on the host).
    count: u32,
    // Elements each invocation adds; the host keeps it at most 2^16.
    per_invocation: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// (offset of the invocation's first element in the dispatch, its number of elements); no
// elements for invocations past the end.
fn invocation_share(index: u32) -> vec2<u32> {
    let per = params.per_invocation;
    // count <= 2^31 and per <= 2^16, so neither this sum nor index * per below can wrap.
    if index >= (params.count + per - 1u) / per {
        return vec2<u32>(0u);
    }
    let first = index * per;
    return vec2<u32>(first, min(per, params.count - first));
}
