// Array data in an rgba32uint storage texture, read only, one unit per texel, row after row of
// TEXTURE_WIDTH texels (a power of two the host prepends). Software adapters load texels with
// vector gathers but storage buffers one invocation at a time: lavapipe read 15.7 GB/s from a
// storage texture, 8.9 from a sampled one, 1.1 from a storage buffer (docs/BENCHMARKS.md).

@group(0) @binding(2) var texels: texture_storage_2d<rgba32uint, read>;

fn load_unit(unit: u32) -> vec4<u32> {
    return textureLoad(texels, vec2<u32>(unit % TEXTURE_WIDTH, unit / TEXTURE_WIDTH));
}

fn load_edge_unit(unit: u32) -> vec4<u32> {
    return load_unit(unit);
}

fn load_word(word: u32) -> u32 {
    return load_unit(word / 4u)[word % 4u];
}
