// Entry point and workgroup reduction with subgroup operations (needs SUBGROUP; naga gates them
// by that capability and takes no `enable` directive, Tint needs `enable subgroups;`, which the
// host prepends for it): subgroupAdd first, then one partial per subgroup. The subgroup size is
// read, never assumed (WARP has 4, lavapipe 8, NVIDIA 32, others up to 128). Same contract as
// reduce_tree.wgsl, and the host prepends `const WORKGROUP_SIZE: u32` the same way.

@group(0) @binding(1) var<storage, read_write> partials: array<vec4<u32>>;

// One partial per subgroup: at most WORKGROUP_SIZE of them (subgroups of one invocation).
var<workgroup> scratch: array<vec4<u32>, WORKGROUP_SIZE>;
// Subgroups that have stored their partial; each takes the next slot. Workgroup memory starts
// zeroed (WGSL guarantees it).
var<workgroup> filled: atomic<u32>;

// The exact sum of `value` over the subgroup. Limbs are added as 16-bit halves: a subgroup has at
// most 128 invocations, so each half's sum stays below 128 * 2^16 = 2^23 and cannot wrap.
fn subgroup_sum128(value: vec4<u32>) -> vec4<u32> {
    let low = subgroupAdd(value & vec4<u32>(0xffffu));
    let high = subgroupAdd(value >> vec4<u32>(16u));
    // Limb k of the sum is low[k] + high[k] * 2^16: high[k]'s low 16 bits shift into limb k, its
    // top 7 bits into limb k + 1. high.w's top bits would pass 2^128; sums stay below 2^88.
    let shifted = vec4<u32>(
        high.x << 16u,
        (high.y << 16u) | (high.x >> 16u),
        (high.z << 16u) | (high.y >> 16u),
        (high.w << 16u) | (high.z >> 16u),
    );
    return add128(low, shifted);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(global_invocation_id) global_id: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
    @builtin(workgroup_id) group_id: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    // Every invocation reaches this call: control flow is uniform up to here.
    let total = subgroup_sum128(invocation_sum(global_id.x));
    // A slot from a counter, not from the driver's numbering of subgroups, which is not
    // guaranteed everywhere (naga derives it on D3D12 from the lane count), and two subgroups
    // sharing a slot would lose a partial without a trace. Every invocation adds (one for a
    // subgroup's lane 0, zero for the rest) so that the atomic sits in uniform control flow:
    // lavapipe ran the whole kernel 3x slower with it inside the branch below.
    let slot = atomicAdd(&filled, select(0u, 1u, lane == 0u));
    if lane == 0u {
        scratch[slot] = total;
    }
    workgroupBarrier();
    // Together the subgroups' partials are the workgroup's sum, below 2^80 * WORKGROUP_SIZE <=
    // 2^88; their count is at most WORKGROUP_SIZE.
    if local_index == 0u {
        let count = atomicLoad(&filled);
        var sum = vec4<u32>(0u);
        for (var i = 0u; i < count; i += 1u) {
            sum = add128(sum, scratch[i]);
        }
        partials[group_id.x] = sum;
    }
}
