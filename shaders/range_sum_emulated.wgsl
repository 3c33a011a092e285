// Exact partial sums of an integer range, in core WGSL: 32-bit limbs and explicit carries only.
//
// Every value is biased, u = v + 2^63, so elements are unsigned 64-bit numbers (lo, hi); the host
// subtracts count * 2^63 once per dispatch. Each workgroup writes one 128-bit partial (4 limbs,
// least significant first).

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

var<workgroup> scratch: array<vec4<u32>, WORKGROUP_SIZE>;

// a + b + carry_in, returned as (sum, carry_out).
fn add_carry(a: u32, b: u32, carry_in: u32) -> vec2<u32> {
    let partial = a + b;
    let sum = partial + carry_in;
    let carry_out = select(0u, 1u, partial < a) + select(0u, 1u, sum < partial);
    return vec2<u32>(sum, carry_out);
}

fn add128(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
    let x = add_carry(a.x, b.x, 0u);
    let y = add_carry(a.y, b.y, x.y);
    let z = add_carry(a.z, b.z, y.y);
    // Wraps only past 2^128; a workgroup's partial stays below 2^88 (see main).
    return vec4<u32>(x.x, y.x, z.x, a.w + b.w + z.y);
}

// Full 64-bit product of two u32, as (lo, hi), from 16-bit halves.
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let low = a0 * b0;
    let cross = add_carry(a0 * b1, a1 * b0, 0u);
    let lo = add_carry(low, cross.x << 16u, 0u);
    let hi = a1 * b1 + (cross.x >> 16u) + (cross.y << 16u) + lo.y;
    return vec2<u32>(lo.x, hi);
}

// The biased sum of this invocation's elements, exactly, as 4 limbs.
fn invocation_sum(index: u32) -> vec4<u32> {
    let per = params.per_invocation;
    // count <= 2^31 and per <= 2^16, so neither this sum nor index * per below can wrap.
    if index >= (params.count + per - 1u) / per {
        return vec4<u32>(0u);
    }
    let first = index * per;
    let n = min(per, params.count - first);
    let lo0 = params.base_lo + first;
    let hi0 = params.base_hi + select(0u, 1u, lo0 < params.base_lo);

    // The honest part: add every element's low limb. The carry count depends on each partial
    // sum, so no compiler can replace this loop with the closed form.
    // Bound: n <= 2^16 elements, so carries <= 2^16.
    var lo = lo0;
    var sum_lo = 0u;
    var carries = 0u;
    // Unrolled by 8: software adapters pay a mask update and a branch per iteration, and this
    // tripled their throughput (docs/BENCHMARKS.md). The second loop takes the remainder.
    var j = 0u;
    for (; j + 8u <= n; j += 8u) {
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
    }
    for (; j < n; j += 1u) {
        sum_lo += lo;
        carries += select(0u, 1u, sum_lo < lo);
        lo += 1u;
    }

    // Widen once: the high limbs are hi0 for every element, plus one for each element whose low
    // limb wrapped past 2^32 - 1. Elements before the wrap: 2^32 - lo0 (all of them when lo0 = 0).
    let before_wrap = 0u - lo0;
    let wrapped = select(0u, n - min(n, before_wrap), lo0 != 0u);
    // high = carries + n * hi0 + wrapped < 2^16 + 2^48 + 2^16 < 2^49, as two limbs.
    let product = mul_wide(n, hi0);
    let high_lo = add_carry(product.x, carries, 0u);
    let high = add_carry(high_lo.x, wrapped, 0u);
    let high_hi = product.y + high_lo.y + high.y;
    // Total = sum_lo + 2^32 * high < n * 2^64 <= 2^80.
    return vec4<u32>(sum_lo, high.x, high_hi, 0u);
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
        partials[group_id.x] = scratch[0];
    }
}
