// 128-bit arithmetic on four u32 limbs, least significant first, for the range-sum kernels.

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
    // Wraps only past 2^128; a workgroup's partial stays below 2^88.
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
