// A plain f32 sum: float additions in whatever order the hardware and the compiler choose, so
// neither exact nor reproducible. It is the yardstick `gpusum bench --workload float` sets the
// exact kernel (float_sum.wgsl) beside, so users see what exactness costs. Composed like it with
// array_params.wgsl and a layout file; owns its entry point. Each workgroup writes its sum's
// bits in the first of four words.

@group(0) @binding(1) var<storage, read_write> partials: array<u32>;

var<workgroup> sums: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(global_invocation_id) global_id: vec3<u32>,
    @builtin(local_invocation_index) local_index: u32,
    @builtin(workgroup_id) group_id: vec3<u32>,
) {
    let walk = invocation_units(global_id.x);
    var unit = walk.x;
    var sum = vec4<f32>(0.0);
    for (var turn = 0u; turn < walk.y; turn += 1u) {
        sum += bitcast<vec4<f32>>(load_unit(unit));
        unit += WALK;
    }
    if global_id.x == 0u {
        if params.edge_a != NO_EDGE {
            let v = bitcast<vec4<f32>>(load_edge_unit(params.edge_a));
            sum += select(vec4<f32>(0.0), v, edge_valid(params.edge_a));
        }
        if params.edge_b != NO_EDGE {
            let v = bitcast<vec4<f32>>(load_edge_unit(params.edge_b));
            sum += select(vec4<f32>(0.0), v, edge_valid(params.edge_b));
        }
    }
    sums[local_index] = (sum.x + sum.y) + (sum.z + sum.w);
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
        if local_index < stride {
            sums[local_index] += sums[local_index + stride];
        }
        workgroupBarrier();
    }
    if local_index == 0u {
        let first = group_id.x * 4u;
        partials[first] = bitcast<u32>(sums[0]);
        partials[first + 1u] = 0u;
        partials[first + 2u] = 0u;
        partials[first + 3u] = 0u;
    }
}
