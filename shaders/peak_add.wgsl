// Integer-add peak: chains of dependent u32 adds, like vkpeak's int32 test. One add is one op.
//
// `a += b; b += a` is a Fibonacci-like recurrence, not an affine one, so no compiler can fold the
// loop into a formula; every add depends on the one before it in its chain. One pair of vec4 is
// four independent chains per invocation: more chains ran slower on lavapipe, where each
// component of each invocation-group is a register and 32 of them spill. Thirty-two adds per
// iteration make the loop's own cost (a software adapter's mask update and branch) small.
//
// The host prepends `const WORKGROUP_SIZE: u32`, as for the sum kernels.

// vec4 adds per loop iteration; the host counts ADDS_PER_ITERATION * 4 ops per iteration.
const ADDS_PER_ITERATION: u32 = 32u;

struct PeakParams {
    iterations: u32,
    seed: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: PeakParams;
@group(0) @binding(1) var<storage, read_write> sink: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) global_id: vec3<u32>) {
    let id = global_id.x;
    var a = vec4<u32>(id, id ^ params.seed, id + 1u, id + 2u);
    var b = a ^ vec4<u32>(params.seed);
    for (var i = 0u; i < params.iterations; i += 1u) {
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
        a += b;
        b += a;
    }
    // Stored so the chains are live; the host never reads it.
    sink[id] = a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w;
}
