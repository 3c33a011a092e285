use super::*;

/// Every element's output, in stream order, computed the plain way: each stream axis's index
/// taken back to the array's index, the kept ones in C order.
fn oracle(stream: &[StreamAxis], reduced: &[usize]) -> Vec<i64> {
    let ndim = stream.len();
    let mut lens = vec![0u64; ndim];
    for s in stream {
        lens[s.axis] = s.len;
    }
    let total: u64 = lens.iter().product();
    let mut outputs = Vec::with_capacity(total as usize);
    let mut index = vec![0u64; ndim];
    for _ in 0..total {
        let mut logical = vec![0u64; ndim];
        for (k, s) in stream.iter().enumerate() {
            logical[s.axis] = if s.reversed {
                s.len - 1 - index[k]
            } else {
                index[k]
            };
        }
        let mut out = 0i64;
        for axis in (0..ndim).filter(|a| !reduced.contains(a)) {
            out = out * lens[axis] as i64 + logical[axis] as i64;
        }
        outputs.push(out);
        for k in (0..ndim).rev() {
            index[k] += 1;
            if index[k] < stream[k].len {
                break;
            }
            index[k] = 0;
        }
    }
    outputs
}

/// The outputs the walk's blocks give a stream cut into chunks of `chunk` elements.
fn walked(walk: &Walk, chunk: u64) -> Vec<i64> {
    let mut pairs = Vec::new();
    let mut first = 0;
    while first < walk.elements {
        let len = chunk.min(walk.elements - first);
        let blocks = walk.blocks(first, len);
        assert!(blocks.len() <= 2 * walk.dims.len() + 1, "{blocks:?}");
        let covered: u64 = blocks.iter().map(Block::len).sum();
        assert_eq!(covered, len);
        for block in blocks {
            pairs.extend(block.outputs());
        }
        first += len;
    }
    pairs.sort_unstable();
    pairs.into_iter().map(|(_, out)| out).collect()
}

#[test]
fn every_element_goes_to_its_output_in_any_order_reversal_and_chunking() {
    let shapes: [&[u64]; 7] = [
        &[7],
        &[3, 7],
        &[4, 1, 5],
        &[2, 3, 4],
        &[5, 2, 3, 2],
        &[1, 1],
        &[6, 0, 2],
    ];
    for shape in shapes {
        let ndim = shape.len();
        for fortran in [false, true] {
            for reversed_mask in 0..(1u32 << ndim) {
                let mut stream = StreamAxis::of_shape(shape, fortran);
                for (k, s) in stream.iter_mut().enumerate() {
                    s.reversed = reversed_mask & (1 << k) != 0;
                }
                // Every subset of the axes, the empty one included.
                for mask in 0..(1u32 << ndim) {
                    let reduced: Vec<usize> = (0..ndim).filter(|a| mask & (1 << a) != 0).collect();
                    let walk = Walk::new(&stream, &reduced);
                    let expected = oracle(&stream, &reduced);
                    assert_eq!(walk.elements as usize, expected.len());
                    for chunk in [1, 2, 3, 5, 8, 13, 1000] {
                        assert_eq!(
                            walked(&walk, chunk),
                            expected,
                            "{shape:?} fortran {fortran} reversed {reversed_mask:b} reduced \
                             {reduced:?} chunk {chunk}"
                        );
                    }
                    let per: u64 = reduced.iter().map(|&a| shape[a]).product();
                    assert_eq!(walk.per_output, per);
                    assert_eq!(walk.outputs * per, walk.elements);
                }
            }
        }
    }
}

#[test]
fn neighbours_of_one_kind_merge() {
    // A C-order (4, 5, 6) array summed over its last two axes: rows of 30.
    let stream = StreamAxis::of_shape(&[4, 5, 6], false);
    let walk = Walk::new(&stream, &[1, 2]);
    assert_eq!(
        walk.dims,
        [
            Dim {
                len: 4,
                stride: 30,
                out: Some(1)
            },
            Dim {
                len: 30,
                stride: 1,
                out: None
            }
        ]
    );
    // Over its first axis: columns of 30 outputs.
    let walk = Walk::new(&stream, &[0]);
    assert_eq!(
        walk.dims,
        [
            Dim {
                len: 4,
                stride: 30,
                out: None
            },
            Dim {
                len: 30,
                stride: 1,
                out: Some(1)
            }
        ]
    );
    // The same array in Fortran order over axis 0: its first axis is the stream's innermost,
    // and the kept ones do not merge, as the outputs' C order steps through them the other way.
    let stream = StreamAxis::of_shape(&[4, 5, 6], true);
    let walk = Walk::new(&stream, &[0]);
    assert_eq!(
        walk.dims,
        [
            Dim {
                len: 6,
                stride: 20,
                out: Some(1)
            },
            Dim {
                len: 5,
                stride: 4,
                out: Some(6)
            },
            Dim {
                len: 4,
                stride: 1,
                out: None
            }
        ]
    );
    assert_eq!(walk.out_shape, [5, 6]);
}

#[test]
fn axes_resolve_as_numpy_resolves_them() {
    assert_eq!(resolve_axes(&[-1, 0], 3).unwrap(), [0, 2]);
    assert_eq!(resolve_axes(&[], 3).unwrap(), Vec::<usize>::new());
    for bad in [&[3][..], &[-4], &[1, -2]] {
        assert!(matches!(
            resolve_axes(bad, 3),
            Err(Error::InvalidAxis { .. })
        ));
    }
    let message = resolve_axes(&[5], 2).unwrap_err().to_string();
    assert!(
        message.contains("axis 5 is out of range for an array of 2 axes"),
        "{message}"
    );
}
