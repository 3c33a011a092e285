// Exact partial sums of an integer range with native 64-bit integers (needs SHADER_INT64).
//
// Same contract as range_sum_emulated.wgsl: values biased by 2^63 (u = v + 2^63), one 128-bit
// partial per workgroup as 4 u32 limbs, least significant first.

const WORKGROUP_SIZE: u32 = 256u;

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
@group(0) @binding(1) var<storage, read_write> partials: array<vec4<u32>>;

// 128-bit values as (lo, hi).
var<workgroup> scratch: array<vec2<u64>, WORKGROUP_SIZE>;

fn add128(a: vec2<u64>, b: vec2<u64>) -> vec2<u64> {
    let lo = a.x + b.x;
    // Wraps only past 2^128; a workgroup's partial stays below 2^88 (see main).
    return vec2<u64>(lo, a.y + b.y + select(0lu, 1lu, lo < a.x));
}

// The biased sum of this invocation's elements, exactly, as (lo, hi).
fn invocation_sum(index: u32) -> vec2<u64> {
    let per = params.per_invocation;
    // count <= 2^31 and per <= 2^16, so neither this sum nor index * per below can wrap.
    if index >= (params.count + per - 1u) / per {
        return vec2<u64>(0lu);
    }
    let first = index * per;
    let n = min(per, params.count - first);
    var value = ((u64(params.base_hi) << 32u) | u64(params.base_lo)) + u64(first);

    // Every element is added; the carry count depends on each partial sum, so no compiler can
    // replace this loop with the closed form. Bound: n <= 2^16 elements, so carries <= 2^16.
    var sum = 0lu;
    var carries = 0u;
    // Unrolled by 8: software adapters pay a mask update and a branch per iteration, and this
    // tripled their throughput (docs/BENCHMARKS.md). The second loop takes the remainder.
    var j = 0u;
    for (; j + 8u <= n; j += 8u) {
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
    }
    for (; j < n; j += 1u) {
        sum += value;
        carries += select(0u, 1u, sum < value);
        value += 1lu;
    }
    // Total = sum + 2^64 * carries < n * 2^64 <= 2^80.
    return vec2<u64>(sum, u64(carries));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(global_invocation_id) global_id: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
    @builtin(workgroup_id) group_id: vec3<u32>,
) {
    scratch[local_index] = invocation_sum(global_id.x);
    workgroupBarrier();
    // Tree reduction, log2(WORKGROUP_SIZE) steps. Each partial < 2^80, so a workgroup's sum
    // stays below 2^80 * 2^8 = 2^88.
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
        if local_index < stride {
            scratch[local_index] = add128(scratch[local_index], scratch[local_index + stride]);
        }
        workgroupBarrier();
    }
    if local_index == 0u {
        let total = scratch[0];
        partials[group_id.x] = vec4<u32>(
            u32(total.x), u32(total.x >> 32u), u32(total.y), u32(total.y >> 32u),
        );
    }
}
