// Array data in an rgba32uint texture, one unit per texel, row after row of TEXTURE_WIDTH
// texels (a power of two the host prepends). Software adapters fetch texels with vector
// gathers but read storage buffers one invocation at a time, 6 to 8 times slower
// (docs/BENCHMARKS.md).

@group(0) @binding(2) var texels: texture_2d<u32>;

fn load_unit(unit: u32) -> vec4<u32> {
    return textureLoad(texels, vec2<u32>(unit % TEXTURE_WIDTH, unit / TEXTURE_WIDTH), 0);
}

fn load_edge_unit(unit: u32) -> vec4<u32> {
    return load_unit(unit);
}
