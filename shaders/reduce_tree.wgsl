// Entry point and workgroup reduction, portable: a tree in workgroup memory.
//
// A range-sum kernel is this file, limbs.wgsl, range_params.wgsl and one arithmetic file
// (range_sum_*.wgsl), which provides `invocation_sum(index) -> vec4<u32>`: the biased sum of an
// invocation's elements, below 2^80. Each workgroup writes one 128-bit partial, as 4 limbs, least
// significant first. The host prepends `const WORKGROUP_SIZE: u32`, a power of two from 1 to 256
// that the device allows.

@group(0) @binding(1) var<storage, read_write> partials: array<vec4<u32>>;

var<workgroup> scratch: array<vec4<u32>, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(global_invocation_id) global_id: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
    @builtin(workgroup_id) group_id: vec3<u32>,
) {
    scratch[local_index] = invocation_sum(global_id.x);
    workgroupBarrier();
    // log2(WORKGROUP_SIZE) steps. Each partial < 2^80, so a workgroup's sum stays below
    // 2^80 * WORKGROUP_SIZE <= 2^88.
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
