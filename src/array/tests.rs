//! Unit tests of the parent module.

use super::*;

#[test]
fn bytes_view_as_slices_only_when_aligned_and_whole() {
    let words = [u64::MAX, 7];
    let bytes: &[u8] = bytemuck::cast_slice(&words);
    assert_eq!(
        IntSlice::from_bytes(Dtype::I64, bytes),
        Some(IntSlice::I64(&[-1, 7]))
    );
    assert_eq!(
        IntSlice::from_bytes(Dtype::U8, &bytes[1..4]).map(|s| s.len()),
        Some(3)
    );
    assert_eq!(IntSlice::from_bytes(Dtype::U32, &bytes[..6]), None);
    assert_eq!(IntSlice::from_bytes(Dtype::U32, &bytes[2..6]), None);
}

#[test]
fn names_sizes_and_bounds() {
    for dtype in Dtype::ALL {
        assert_eq!(dtype.name().parse::<Dtype>().unwrap(), dtype);
    }
    for dtype in Dtype::INTEGERS {
        let (low, high) = dtype.bounds();
        assert_eq!(high - low + 1, 1i128 << (8 * dtype.size()));
        assert_eq!(dtype.bias() as i128, -low);
    }
    assert!("f16".parse::<Dtype>().is_err());
}

#[test]
fn unbias_removes_each_elements_bias() {
    // i8: -128 and 127 are biased to 0 and 255.
    assert_eq!(unbias(Dtype::I8, 255, 2), -1);
    assert_eq!(unbias(Dtype::U64, 7, 3), 7);
    let biased = 2 * ((i64::MIN as u64) ^ (1 << 63)) as u128;
    assert_eq!(unbias(Dtype::I64, biased, 2), 2 * i64::MIN as i128);
}

#[test]
fn swapping_reverses_each_element() {
    let mut bytes = [1u8, 2, 3, 4, 5, 6, 7, 8];
    swap_to_little_endian(Dtype::U16, &mut bytes);
    assert_eq!(bytes, [2, 1, 4, 3, 6, 5, 8, 7]);
    swap_to_little_endian(Dtype::I64, &mut bytes);
    assert_eq!(bytes, [7, 8, 5, 6, 3, 4, 1, 2]);
    swap_to_little_endian(Dtype::U8, &mut bytes);
    assert_eq!(bytes, [7, 8, 5, 6, 3, 4, 1, 2]);
    let mut odd = [0u8, 1, 2, 3, 4];
    swap_to_little_endian(Dtype::U32, &mut odd[1..]);
    assert_eq!(odd, [0, 4, 3, 2, 1]);
}

#[test]
fn merging_past_the_element_bound_is_refused() {
    let mut full = ExactIntSum::from_parts(5, MAX_ELEMENTS).unwrap();
    let one = ExactIntSum::from_parts(1, 1).unwrap();
    assert!(matches!(full.merge(one), Err(Error::TooManyElements)));
    assert_eq!((full.sum(), full.count()), (5, MAX_ELEMENTS));
    assert!(ExactIntSum::from_parts(0, 1 << 63).is_err());
}
