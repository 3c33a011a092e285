use super::*;
use crate::cpu::Threads;
use crate::float::ExactFloatSum;
use crate::reduce::walk::{StreamAxis, Walk};

/// A repeatable stream of bytes (xorshift64).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Element `k` of `data` as an i128 (integers) or its bits (floats).
fn element(dtype: Dtype, order: ByteOrder, data: &[u8], k: usize) -> (i128, u64) {
    let size = dtype.size();
    let mut raw = [0u8; 8];
    raw[..size].copy_from_slice(&data[k * size..(k + 1) * size]);
    if order == ByteOrder::Big {
        raw[..size].reverse();
    }
    let bits = u64::from_le_bytes(raw);
    let width = 8 * size as u32;
    let value = if dtype.is_signed() && width < 64 {
        i128::from(((bits << (64 - width)) as i64) >> (64 - width))
    } else if dtype.is_signed() {
        i128::from(bits as i64)
    } else {
        i128::from(bits)
    };
    (value, bits)
}

/// Every output's elements, by the plain walk over the array's indices.
fn members(stream: &[StreamAxis], reduced: &[usize]) -> Vec<Vec<usize>> {
    let walk = Walk::new(stream, reduced);
    let mut members = vec![Vec::new(); walk.outputs as usize];
    for block in walk.blocks(0, walk.elements) {
        for (at, out) in block.outputs() {
            members[out as usize].push(at as usize);
        }
    }
    members
}

fn expected(dtype: Dtype, order: ByteOrder, data: &[u8], members: &[Vec<usize>]) -> Vec<String> {
    members
        .iter()
        .map(|ks| match dtype {
            Dtype::F32 => {
                let values: Vec<f32> = ks
                    .iter()
                    .map(|&k| f32::from_bits(element(dtype, order, data, k).1 as u32))
                    .collect();
                let mut sum = ExactFloatSum::new();
                sum.add_slice(&values).unwrap();
                format!("{:?}", sum.to_bytes())
            }
            Dtype::F64 => {
                let values: Vec<f64> = ks
                    .iter()
                    .map(|&k| f64::from_bits(element(dtype, order, data, k).1))
                    .collect();
                let mut sum = ExactFloatSum::new();
                sum.add_slice(&values).unwrap();
                format!("{:?}", sum.to_bytes())
            }
            _ => ks
                .iter()
                .map(|&k| element(dtype, order, data, k).0)
                .sum::<i128>()
                .to_string(),
        })
        .collect()
}

fn got(sums: &Sums, count: u64) -> Vec<String> {
    (0..sums.len())
        .map(|i| match sums {
            Sums::Int(sums) => sums[i].to_string(),
            Sums::F32(sums) => format!("{:?}", sums.sum(i, count).unwrap().to_bytes()),
            Sums::F64(sums) => format!("{:?}", sums.sum(i, count).unwrap().to_bytes()),
        })
        .collect()
}

#[test]
fn every_type_layout_axis_set_chunking_and_pool_matches_the_plain_sums() {
    let shapes: [&[u64]; 6] = [&[37], &[3, 7], &[1, 1], &[0, 4], &[4, 3, 5], &[2, 600]];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    for (s, shape) in shapes.iter().enumerate() {
        let ndim = shape.len();
        let elements: u64 = shape.iter().product();
        for dtype in Dtype::ALL {
            let mut data = noise(elements as usize * dtype.size(), 7 + s as u64);
            if dtype.is_float() {
                // Finite values of a few dozen binades, both signs, as floats usually are.
                for chunk in data.chunks_exact_mut(dtype.size()) {
                    let top = chunk.len() - 1;
                    chunk[top] = (chunk[top] & 0x80) | 0x3f;
                    chunk[top - 1] &= 0x7f;
                }
            }
            for order in [ByteOrder::Little, ByteOrder::Big] {
                for fortran in [false, true] {
                    let stream = StreamAxis::of_shape(shape, fortran);
                    for mask in 0..(1u32 << ndim) {
                        let reduced: Vec<usize> =
                            (0..ndim).filter(|a| mask & (1 << a) != 0).collect();
                        let walk = Walk::new(&stream, &reduced);
                        let want = expected(dtype, order, &data, &members(&stream, &reduced));
                        for (threads, chunk) in [
                            (Threads::One, 1 << 20),
                            (Threads::All, 1 << 20),
                            (Threads::One, 5),
                            (Threads::All, 13),
                        ] {
                            let twin = CpuTwin::new(threads);
                            let mut sums = Sums::new(dtype, walk.outputs as usize);
                            let mut first = 0;
                            while first < walk.elements {
                                let len = chunk.min(walk.elements - first);
                                let bytes = &data[first as usize * dtype.size()..];
                                for block in walk.blocks(first, len) {
                                    pool.install(|| {
                                        twin.add_block(
                                            dtype,
                                            order,
                                            bytes,
                                            first,
                                            &block,
                                            &mut sums,
                                            &Control::new(),
                                        )
                                    })
                                    .unwrap();
                                }
                                first += len;
                            }
                            assert_eq!(
                                got(&sums, walk.per_output),
                                want,
                                "{dtype} {order:?} {shape:?} fortran {fortran} reduced {reduced:?} \
                                 {threads:?} chunk {chunk}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The outputs of `walk` over all of `data` at once, on `twin`.
fn whole(twin: &CpuTwin, dtype: Dtype, order: ByteOrder, data: &[u8], walk: &Walk) -> Vec<String> {
    let mut sums = Sums::new(dtype, walk.outputs as usize);
    for block in walk.blocks(0, walk.elements) {
        twin.add_block(dtype, order, data, 0, &block, &mut sums, &Control::new())
            .unwrap();
    }
    got(&sums, walk.per_output)
}

#[test]
fn long_columns_and_rows_split_over_the_pool_and_every_isa() {
    // 300 x 700 i64 extremes: columns and rows long enough to split into tasks, and columns
    // whose rows go to the lanes eight at a time.
    let (rows, columns) = (300u64, 700u64);
    let values: Vec<i64> = (0..rows * columns)
        .map(|k| {
            if k % 3 == 0 {
                i64::MIN
            } else {
                i64::MAX - k as i64
            }
        })
        .collect();
    let data: Vec<u8> = bytemuck::cast_slice(&values).to_vec();
    // Unaligned too: the same bytes one past an aligned start, rows that cannot be read as i64
    // slices.
    let mut shifted = vec![0u8; data.len() + 1];
    shifted[1..].copy_from_slice(&data);
    let unaligned = &shifted[1..];
    let stream = StreamAxis::of_shape(&[rows, columns], false);
    for reduced in [vec![0], vec![1]] {
        let walk = Walk::new(&stream, &reduced);
        let want = expected(
            Dtype::I64,
            ByteOrder::NATIVE,
            &data,
            &members(&stream, &reduced),
        );
        for isa in Isa::available() {
            for threads in [Threads::One, Threads::All] {
                let twin = CpuTwin::new(threads).with_isa(isa);
                for (bytes, how) in [(&data[..], "aligned"), (unaligned, "unaligned")] {
                    let sums = whole(&twin, Dtype::I64, ByteOrder::NATIVE, bytes, &walk);
                    assert_eq!(sums, want, "{isa} {threads:?} {reduced:?} {how}");
                }
            }
        }
    }
}

/// Floats of every kind for the column bins: a few dozen binades of both signs, with zeros of
/// both signs, subnormals, the largest finite values, and (where `specials`) infinities and NaNs.
fn awkward_floats(dtype: Dtype, len: usize, seed: u64, specials: bool) -> Vec<u8> {
    let mut data = noise(len * dtype.size(), seed);
    let size = dtype.size();
    for (k, chunk) in data.chunks_exact_mut(size).enumerate() {
        let top = size - 1;
        let bits: u64 = match (k * 7919 + seed as usize) % 97 {
            0 => 1 << (8 * size - 1),             // -0.0
            1 => 0,                               // +0.0
            2 => 1,                               // the smallest subnormal
            3 if size == 8 => f64::MAX.to_bits(), // sums past the largest finite value
            3 => u64::from(f32::MAX.to_bits()),
            4 if specials && size == 8 => f64::INFINITY.to_bits(),
            4 if specials => u64::from(f32::NEG_INFINITY.to_bits()),
            5 if specials && size == 8 => f64::NAN.to_bits(),
            5 if specials => u64::from(f32::NAN.to_bits()),
            _ => {
                chunk[top] = (chunk[top] & 0x80) | 0x3f;
                chunk[top - 1] &= 0x7f;
                continue;
            }
        };
        chunk.copy_from_slice(&bits.to_le_bytes()[..size]);
    }
    data
}

#[test]
fn float_columns_through_the_bins_match_the_plain_sums() {
    // Columns long enough for the bins, down more runs than one placing takes (1023 for f64,
    // 511 for f32), tiles of 64 and a narrower last one, a kept dimension outside the reduced
    // one, and one column of nothing but -0.0.
    let cases: [(&[u64], &[usize]); 6] = [
        (&[40, 3], &[0]),
        (&[1100, 70], &[0]),
        (&[3, 600, 5], &[1]),
        (&[2, 50, 130], &[0, 1]),
        (&[64, 33], &[0]),
        (&[64, 9], &[0]),
    ];
    for (shape, reduced) in cases {
        let elements: u64 = shape.iter().product();
        let stream = StreamAxis::of_shape(shape, false);
        let walk = Walk::new(&stream, reduced);
        for dtype in [Dtype::F32, Dtype::F64] {
            for specials in [false, true] {
                let mut data = awkward_floats(dtype, elements as usize, elements, specials);
                if shape == [64, 9] {
                    // No zeros anywhere (their runs note every column's sign of zero).
                    data = noise(data.len(), 11);
                    for chunk in data.chunks_exact_mut(dtype.size()) {
                        let top = chunk.len() - 1;
                        chunk[top] = (chunk[top] & 0x80) | 0x3f;
                        chunk[top - 1] |= 0x01;
                    }
                }
                if shape[0] == 64 {
                    // Column 5 all -0.0 (a sum of -0.0), column 7 values that cancel (+0.0).
                    let size = dtype.size();
                    let negative_zero = (1u64 << (8 * size - 1)).to_le_bytes();
                    let (plus, minus) = match dtype {
                        Dtype::F32 => (1.5f32.to_bits().into(), (-1.5f32).to_bits().into()),
                        _ => (1.5f64.to_bits(), (-1.5f64).to_bits()),
                    };
                    let width = shape[1] as usize;
                    for row in 0..64 {
                        if width == 33 {
                            let at = (row * width + 5) * size;
                            data[at..at + size].copy_from_slice(&negative_zero[..size]);
                        }
                        let at = (row * width + 7) * size;
                        let value: u64 = if row % 2 == 0 { plus } else { minus };
                        data[at..at + size].copy_from_slice(&value.to_le_bytes()[..size]);
                    }
                }
                for order in [ByteOrder::Little, ByteOrder::Big] {
                    let want = expected(dtype, order, &data, &members(&stream, reduced));
                    // Unaligned too: the same bytes one past an aligned start.
                    let mut shifted = vec![0u8; data.len() + 1];
                    shifted[1..].copy_from_slice(&data);
                    for (bytes, isa) in Isa::available()
                        .into_iter()
                        .map(|isa| (&data[..], isa))
                        .chain([(&shifted[1..], Isa::best())])
                    {
                        for threads in [Threads::One, Threads::All] {
                            let twin = CpuTwin::new(threads).with_isa(isa);
                            assert_eq!(
                                whole(&twin, dtype, order, bytes, &walk),
                                want,
                                "{dtype} {order:?} {shape:?} {reduced:?} specials {specials} \
                                 {isa} {threads:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}
