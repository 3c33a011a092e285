// Integer sums along axes, in core WGSL (32-bit words and explicit carries). Composed with a
// reduction (reduce_*.wgsl, whose entry point `main` reduces each workgroup's piece), limbs.wgsl,
// a layout file, element.wgsl and grouped_params.wgsl. A piece takes at most 2^16 elements per
// invocation, which element.wgsl's running sums take. `main` sums one piece per workgroup, its lanes taking
// turns along R; `narrow` sums one piece per invocation and writes it to partials[invocation].

// The biased sum of piece `p`'s R indices from `start`, `step` apart.
fn piece_sum(p: u32, start: u32, step: u32) -> vec4<u32> {
    let piece = piece_at(p);
    var s = Running(0u, 0u, 0u, 0u);
    for (var r = start; r < piece.count; r += step) {
        s = add_element(s, load_element(piece.first + r * params.r_stride));
    }
    return as_limbs(s);
}

// For the reduction's entry point: lane `index % WORKGROUP_SIZE` of the workgroup's piece.
fn invocation_sum(index: u32) -> vec4<u32> {
    return piece_sum(params.first_piece + index / WORKGROUP_SIZE, index % WORKGROUP_SIZE, WORKGROUP_SIZE);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn narrow(@builtin(global_invocation_id) global_id: vec3<u32>) {
    if global_id.x < params.pieces {
        partials[global_id.x] = piece_sum(params.first_piece + global_id.x, 0u, 1u);
    }
}
