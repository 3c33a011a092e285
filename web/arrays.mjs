// Arrays for the page to sum, as little-endian bytes: typed from decimal text, or generated from
// a seed. The page (main.js) and its test (page-test.mjs) import this one module, so the test
// knows exactly which elements the page summed.

// Each type gpusum sums: its bytes and the typed array that writes it.
export const DTYPES = {
  i8: [1, Int8Array], i16: [2, Int16Array], i32: [4, Int32Array], i64: [8, BigInt64Array],
  u8: [1, Uint8Array], u16: [2, Uint16Array], u32: [4, Uint32Array], u64: [8, BigUint64Array],
  f32: [4, Float32Array], f64: [8, Float64Array],
};

const known = (dtype) => {
  if (!(dtype in DTYPES)) throw new Error(`unknown element type "${dtype}": use ${Object.keys(DTYPES).join(", ")}`);
  return DTYPES[dtype];
};

/** The bytes of `values` (decimal text, comma-separated) as `dtype` elements; a value the type
 * cannot hold is an error, not the wrapped value a typed array would store. */
export function typedBytes(dtype, text) {
  const [size, Typed] = known(dtype);
  const words = text.split(",").map((word) => word.trim()).filter((word) => word !== "");
  const float = Typed === Float32Array || Typed === Float64Array;
  const wide = size === 8 && !float;
  const bits = BigInt(8 * size);
  const signed = dtype.startsWith("i");
  const [min, max] = signed ? [-(2n ** (bits - 1n)), 2n ** (bits - 1n) - 1n] : [0n, 2n ** bits - 1n];
  const array = new Typed(words.length);
  words.forEach((word, i) => {
    if (float) {
      array[i] = Number(word);
      return;
    }
    let value;
    try {
      value = BigInt(word);
    } catch {
      throw new Error(`"${word}" is not an integer`);
    }
    if (value < min || value > max) throw new Error(`${word} is outside ${dtype}`);
    array[i] = wide ? value : Number(value);
  });
  return new Uint8Array(array.buffer);
}

/** `length` seeded `dtype` elements: integers from random bytes (every value alike), floats
 * with random significands over sixty binades and both signs. */
export function generatedBytes(dtype, length, seed) {
  const [size, Typed] = known(dtype);
  let state = (seed >>> 0) || 1;
  const next = () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state;
  };
  if (Typed === Float32Array || Typed === Float64Array) {
    const array = new Typed(length);
    for (let i = 0; i < length; i++) {
      const significand = next() / 2 ** 32 + next() / 2 ** 64;
      array[i] = (next() & 1 ? -1 : 1) * significand * 2 ** ((next() % 61) - 30);
    }
    return new Uint8Array(array.buffer);
  }
  const words = new Uint32Array(Math.ceil((length * size) / 4));
  for (let i = 0; i < words.length; i++) words[i] = next();
  return new Uint8Array(words.buffer, 0, length * size);
}
