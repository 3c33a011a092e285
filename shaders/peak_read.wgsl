// The device-read peak: invocations walk units as the array kernels do (a workgroup's units
// consecutive, each WALK invocations side by side taking turns, four loads in flight) and fold
// them with XOR, the cheapest operation that keeps every load. Composed after a layout file
// (array_load_*.wgsl).

struct ReadParams {
    units: u32,
    per_invocation: u32,
    // Compared with the fold so that no compiler can drop the loads; the host never matches it
    // in practice, and a match only writes one word.
    sentinel: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> read_params: ReadParams;
@group(0) @binding(1) var<storage, read_write> sink: array<u32>;

// As in array_params.wgsl: the workgroup on GPUs, 1 (runs) on software adapters.
override WALK: u32 = WORKGROUP_SIZE;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
) {
    let per = read_params.per_invocation;
    let units = read_params.units;
    let index = group.x * WORKGROUP_SIZE + lane;
    var unit = index / WALK * WALK * per + index % WALK;
    var folded = vec4<u32>(0u);
    var turn = 0u;
    for (; turn + 4u <= per && unit + 3u * WALK < units; turn += 4u) {
        let a = load_unit(unit);
        let b = load_unit(unit + WALK);
        let c = load_unit(unit + 2u * WALK);
        let d = load_unit(unit + 3u * WALK);
        folded ^= a ^ b ^ c ^ d;
        unit += 4u * WALK;
    }
    for (; turn < per && unit < units; turn += 1u) {
        folded ^= load_unit(unit);
        unit += WALK;
    }
    if (folded.x ^ folded.y ^ folded.z ^ folded.w) == read_params.sentinel {
        sink[0] = 1u;
    }
}
