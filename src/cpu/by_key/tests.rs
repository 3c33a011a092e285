use super::*;
use crate::ArrayTotal;
use crate::cpu::Threads;
use crate::float::ExactFloatSum;

/// Floats of every kind, by their bits: a few dozen binades of both signs, zeros of both
/// signs, subnormals, the largest finite values, infinities and NaNs, and long stretches of
/// one large significand (which fill a bin past 2^62 for f64, 2^32 for f32).
fn values(size: usize, len: usize) -> Vec<u64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|k| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let (f64_bits, f32_bits) = match k % 101 {
                0 => ((-0.0f64).to_bits(), (-0.0f32).to_bits()),
                1 => (0, 0),
                2 => (1, 1),
                3 => (f64::MAX.to_bits(), f32::MAX.to_bits()),
                4 if k > len / 2 => (f64::NEG_INFINITY.to_bits(), f32::NAN.to_bits()),
                _ if k % 3 == 0 => (1.999_999f64.to_bits(), 1.999_999f32.to_bits()),
                _ => {
                    let scale = (state % 40) as i32 - 20;
                    let value =
                        ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2f64.powi(scale);
                    (value.to_bits(), (value as f32).to_bits())
                }
            };
            if size == 8 {
                f64_bits
            } else {
                u64::from(f32_bits)
            }
        })
        .collect()
}

#[test]
fn float_sums_by_key_through_bins_per_key_match_each_keys_exact_sum() {
    let len = 5000;
    for size in [4usize, 8] {
        let dtype = if size == 8 { Dtype::F64 } else { Dtype::F32 };
        let bits = values(size, len);
        // Three keys, one of them only on -0.0 and values that cancel, and one that
        // takes most of the stretches of one significand.
        let keys: Vec<i32> = (0..len as i32)
            .map(|k| [5, -3, 5, 40][k as usize % 4])
            .collect();
        let mut bits = bits;
        for (k, bits) in bits.iter_mut().enumerate().filter(|(k, _)| k % 4 == 1) {
            *bits = match (k / 4 % 3, size) {
                (0, 8) => (-0.0f64).to_bits(),
                (0, _) => u64::from((-0.0f32).to_bits()),
                (1, 8) => 1.5f64.to_bits(),
                (1, _) => u64::from(1.5f32.to_bits()),
                (_, 8) => (-1.5f64).to_bits(),
                _ => u64::from((-1.5f32).to_bits()),
            };
        }
        let expected = |key: i32| -> Vec<u8> {
            let picked = bits
                .iter()
                .zip(&keys)
                .filter(|&(_, &k)| k == key)
                .map(|(&b, _)| b);
            if size == 8 {
                let mut sum = ExactFloatSum::new();
                sum.add_slice(&picked.map(f64::from_bits).collect::<Vec<_>>())
                    .unwrap();
                ArrayTotal::F64(sum).to_bytes()
            } else {
                let mut sum = ExactFloatSum::new();
                let values: Vec<f32> = picked.map(|b| f32::from_bits(b as u32)).collect();
                sum.add_slice(&values).unwrap();
                ArrayTotal::F32(sum).to_bytes()
            }
        };
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let value_bytes: Vec<u8> = bits
                .iter()
                .flat_map(|&b| match order {
                    ByteOrder::Little => b.to_le_bytes()[..size].to_vec(),
                    ByteOrder::Big => b.to_be_bytes()[8 - size..].to_vec(),
                })
                .collect();
            // i64 keys in this machine's order are read where they lie, the others decoded.
            let key_bytes = |key_dtype: Dtype| -> Vec<u8> {
                keys.iter()
                    .flat_map(|&k| match (order, key_dtype) {
                        (ByteOrder::Little, Dtype::I64) => i64::from(k).to_le_bytes().to_vec(),
                        (ByteOrder::Big, Dtype::I64) => i64::from(k).to_be_bytes().to_vec(),
                        (ByteOrder::Little, _) => k.to_le_bytes().to_vec(),
                        (ByteOrder::Big, _) => k.to_be_bytes().to_vec(),
                    })
                    .collect()
            };
            let key_bytes = [key_bytes(Dtype::I32), key_bytes(Dtype::I64)];
            // Unaligned too: the same bytes one past an aligned start.
            let mut shifted = vec![0u8; value_bytes.len() + 1];
            shifted[1..].copy_from_slice(&value_bytes);
            for (value_bytes, isa) in Isa::available()
                .into_iter()
                .map(|isa| (&value_bytes[..], isa))
                .chain([(&shifted[1..], Isa::best())])
            {
                for (threads, (key_dtype, key_bytes)) in
                    [Threads::One, Threads::All].into_iter().flat_map(|t| {
                        [
                            (t, (Dtype::I32, &key_bytes[0])),
                            (t, (Dtype::I64, &key_bytes[1])),
                        ]
                    })
                {
                    let label = format!("{dtype} {order:?} {isa} {threads:?} {key_dtype}");
                    let keys = ArrayBytes::new(key_bytes, key_dtype, order).unwrap();
                    let values = ArrayBytes::new(value_bytes, dtype, order).unwrap();
                    let mut table = KeyTable::new(key_dtype, dtype);
                    let twin = CpuTwin::new(threads).with_isa(isa);
                    twin.add_by_key(keys, values, &mut table, &Control::new())
                        .unwrap();
                    let outputs = table.into_outputs();
                    let got: Vec<i128> = outputs.keys().unwrap().iter().collect();
                    assert_eq!(got, [-3, 5, 40], "{label}");
                    for (i, key) in [-3, 5, 40].into_iter().enumerate() {
                        let total = outputs.total(i).unwrap();
                        assert_eq!(total.to_bytes(), expected(key), "{label} key {key}");
                    }
                }
            }
        }
    }
}

/// `len` keys: one in eight the hot key 7, the rest drawn at random from `distinct` keys
/// spread over all of i64, both of its extremes among them.
fn spread_keys(len: usize, distinct: u64, seed: u64) -> Vec<i64> {
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pool: Vec<i64> = (0..distinct)
        .map(|k| match k {
            0 => i64::MIN,
            1 => i64::MAX,
            _ => next() as i64,
        })
        .collect();
    (0..len)
        .map(|k| match k % 8 {
            0 => 7,
            _ => pool[(next() % distinct) as usize],
        })
        .collect()
}

/// Each key's exact total (as bytes) and count, summed one value at a time.
fn oracle(
    keys: &[i64],
    bits: &[u64],
    dtype: Dtype,
) -> std::collections::BTreeMap<i64, (Vec<u8>, u64)> {
    let mut groups = std::collections::BTreeMap::<i64, Vec<u64>>::new();
    for (&key, &bits) in keys.iter().zip(bits) {
        groups.entry(key).or_default().push(bits);
    }
    groups
        .into_iter()
        .map(|(key, bits)| {
            let total = if dtype == Dtype::F64 {
                let mut sum = ExactFloatSum::new();
                sum.add_slice(&bits.iter().map(|&b| f64::from_bits(b)).collect::<Vec<_>>())
                    .unwrap();
                ArrayTotal::F64(sum)
            } else {
                let sum: i128 = bits.iter().map(|&b| i128::from(b as i64)).sum();
                ArrayTotal::Int(
                    crate::array::ExactIntSum::from_parts(sum, bits.len() as u64).unwrap(),
                )
            };
            (key, (total.to_bytes(), bits.len() as u64))
        })
        .collect()
}

#[test]
fn sums_by_spread_keys_match_an_oracle_however_many_keys_and_however_they_arrive() {
    // More than one piece, so that the pool has tables to merge or ranges to share out; key
    // counts below and above both thresholds for ranges.
    let len = (1 << 19) + 77;
    for distinct in [3u64, 5_000, 1 << 18] {
        let keys = spread_keys(len, distinct, 0x2545_F491_4F6C_DD1D ^ distinct);
        for dtype in [Dtype::I64, Dtype::F64] {
            let bits: Vec<u64> = match dtype {
                Dtype::F64 => values(8, len),
                _ => spread_keys(len, 1 << 20, 99)
                    .iter()
                    .map(|&v| v as u64)
                    .collect(),
            };
            let expected = oracle(&keys, &bits, dtype);
            for order in [ByteOrder::Little, ByteOrder::Big] {
                let bytes = |words: &mut dyn Iterator<Item = u64>| -> Vec<u8> {
                    words
                        .flat_map(|w| match order {
                            ByteOrder::Little => w.to_le_bytes(),
                            ByteOrder::Big => w.to_be_bytes(),
                        })
                        .collect()
                };
                let key_bytes = bytes(&mut keys.iter().map(|&k| k as u64));
                let value_bytes = bytes(&mut bits.iter().copied());
                for threads in [Threads::One, Threads::All] {
                    // The whole at once, and in two calls into one table (a stream's chunks),
                    // the second merged by ranges or, far smaller, key by key.
                    for cut in [len, len / 3, len - 4000] {
                        let label =
                            format!("{distinct} keys, {dtype} {order:?} {threads:?} cut {cut}");
                        let mut table = KeyTable::new(Dtype::I64, dtype);
                        let twin = CpuTwin::new(threads);
                        for (from, to) in [(0, cut), (cut, len)] {
                            let keys =
                                ArrayBytes::new(&key_bytes[from * 8..to * 8], Dtype::I64, order);
                            let values =
                                ArrayBytes::new(&value_bytes[from * 8..to * 8], dtype, order);
                            twin.add_by_key(
                                keys.unwrap(),
                                values.unwrap(),
                                &mut table,
                                &Control::new(),
                            )
                            .unwrap();
                        }
                        let outputs = table.into_outputs();
                        let got: Vec<i128> = outputs.keys().unwrap().iter().collect();
                        let want: Vec<i128> = expected.keys().map(|&k| i128::from(k)).collect();
                        assert_eq!(got, want, "{label}");
                        for (i, (total, count)) in expected.values().enumerate() {
                            assert_eq!(outputs.count(i), *count, "{label} output {i}");
                            assert_eq!(
                                &outputs.total(i).unwrap().to_bytes(),
                                total,
                                "{label} output {i}"
                            );
                        }
                    }
                }
            }
        }
    }
}
