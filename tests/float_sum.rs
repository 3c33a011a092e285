//! `ExactFloatSum` against an independent oracle: every value scaled to an integer (a big
//! integer), summed, written as an exact decimal and parsed back by Rust's correctly rounded
//! `str::parse`, compared bit for bit.

use gpusum::{ExactFloat, ExactFloatSum};
use num_bigint::BigInt;
use proptest::prelude::*;

/// The exact sum of finite values, correctly rounded, by way of an exact decimal.
fn oracle_f64(values: &[f64]) -> f64 {
    let units: BigInt = values.iter().map(|&v| scaled(v.to_bits(), 52, 11)).sum();
    // units * 2^-1074 = units * 5^1074 / 10^1074.
    decimal(units * BigInt::from(5).pow(1074), 1074)
        .parse()
        .unwrap()
}

fn oracle_f32(values: &[f32]) -> f32 {
    let units: BigInt = values
        .iter()
        .map(|&v| scaled(u64::from(v.to_bits()), 23, 8))
        .sum();
    decimal(units * BigInt::from(5).pow(149), 149)
        .parse()
        .unwrap()
}

/// A finite value in units of the smallest subnormal.
fn scaled(bits: u64, fraction_bits: u32, exponent_bits: u32) -> BigInt {
    let exponent = (bits >> fraction_bits) & ((1 << exponent_bits) - 1);
    let fraction = bits & ((1 << fraction_bits) - 1);
    let magnitude = if exponent == 0 {
        BigInt::from(fraction)
    } else {
        BigInt::from(fraction | 1 << fraction_bits) << (exponent - 1)
    };
    if bits >> (fraction_bits + exponent_bits) != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// `digits` / 10^`point` as a decimal string.
fn decimal(digits: BigInt, point: usize) -> String {
    let negative = digits.sign() == num_bigint::Sign::Minus;
    let text = digits.magnitude().to_string();
    let text = format!("{text:0>width$}", width = point + 1);
    let (whole, fraction) = text.split_at(text.len() - point);
    format!("{}{whole}.{fraction}", if negative { "-" } else { "" })
}

fn exact<T: ExactFloat>(values: &[T]) -> (T, bool) {
    let mut sum = ExactFloatSum::new();
    sum.add_slice(values).unwrap();
    let rounded = sum.round();
    (rounded.value, rounded.overflow)
}

#[test]
fn adversarial_sums_round_once() {
    let cases: &[(&[f64], f64)] = &[
        (&[1e308, 1.0, -1e308], 1.0),
        (&[], 0.0),
        (&[1.0, f64::EPSILON / 2.0], 1.0),
        (
            &[1.0 + f64::EPSILON, f64::EPSILON / 2.0],
            1.0 + 2.0 * f64::EPSILON,
        ),
        (&[f64::MAX, f64::MAX, -f64::MAX], f64::MAX),
        (&[5e-324, 5e-324, 5e-324], 1.5e-323),
        (&[f64::MIN_POSITIVE, -5e-324], f64::MIN_POSITIVE - 5e-324),
        // Not a short decimal: the oracle alone says what it is.
        (&[0.1, 0.2, 0.3, -0.6], f64::NAN),
    ];
    for &(values, expected) in cases {
        let (value, overflow) = exact(values);
        assert!(!overflow);
        assert_eq!(value.to_bits(), oracle_f64(values).to_bits(), "{values:?}");
        if !expected.is_nan() {
            assert_eq!(value.to_bits(), expected.to_bits(), "{values:?}");
        }
    }
    let big = 2.0f32.powi(24);
    assert_eq!(exact(&[big, 1.0, 1.0]).0, big + 2.0);
    assert_eq!([big, 1.0, 1.0].iter().sum::<f32>(), big);
}

#[test]
fn special_values_follow_ieee_754() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    assert!(exact(&[1.0, nan]).0.is_nan());
    assert!(exact(&[inf, -inf]).0.is_nan());
    assert!(exact(&[inf, nan, -1.0]).0.is_nan());
    assert_eq!(exact(&[inf, 1.0, f64::MAX]).0, inf);
    assert_eq!(exact(&[-inf, -f64::MAX, -f64::MAX]), (-inf, false));
    assert_eq!(exact(&[f64::MAX, f64::MAX]), (inf, true));
    assert_eq!(exact(&[-f64::MAX, -f64::MAX / 1e15]), (-inf, true));
    assert_eq!(exact(&[-0.0f64, -0.0]).0.to_bits(), (-0.0f64).to_bits());
    assert_eq!(exact(&[-0.0f64, 0.0]).0.to_bits(), 0);
    assert_eq!(exact(&[1.5f64, -1.5]).0.to_bits(), 0);
    assert_eq!(exact::<f64>(&[]).0.to_bits(), 0);
    assert_eq!(exact(&[f32::MAX, f32::MAX]), (f32::INFINITY, true));
    assert_eq!(exact(&[-0.0f32]).0.to_bits(), (-0.0f32).to_bits());
}

#[test]
fn every_exponent_sums_exactly() {
    let values: Vec<f64> = (0..2046u64)
        .map(|e| f64::from_bits(e << 52 | 0x000f_ffff_ffff_ffff))
        .collect();
    assert_eq!(exact(&values).0.to_bits(), oracle_f64(&values).to_bits());
    let values: Vec<f32> = (0..255u32)
        .map(|e| f32::from_bits(e << 23 | 0x7f_ffff))
        .collect();
    assert_eq!(exact(&values).0.to_bits(), oracle_f32(&values).to_bits());
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        (-1e6..1e6f64),
        any::<u64>().prop_map(|b| f64::from_bits(b & 0x800f_ffff_ffff_ffff)),
    ]
    .prop_filter("finite", |v| v.is_finite())
}

proptest! {
    #[test]
    fn random_f64_sums_match_the_oracle(values in prop::collection::vec(finite_f64(), 0..40)) {
        let (value, overflow) = exact(&values);
        let expected = oracle_f64(&values);
        prop_assert_eq!(value.to_bits(), expected.to_bits());
        prop_assert_eq!(overflow, expected.is_infinite());
    }

    #[test]
    fn random_f32_sums_match_the_oracle(bits in prop::collection::vec(any::<u32>(), 0..40)) {
        let values: Vec<f32> = bits.into_iter().map(f32::from_bits).filter(|v| v.is_finite()).collect();
        let (value, overflow) = exact(&values);
        let expected = oracle_f32(&values);
        prop_assert_eq!(value.to_bits(), expected.to_bits());
        prop_assert_eq!(overflow, expected.is_infinite());
    }

    #[test]
    fn merging_in_any_split_and_order_and_the_bytes_give_the_same_bits(
        values in prop::collection::vec(finite_f64(), 0..60),
        cut in 0usize..60,
    ) {
        let cut = cut.min(values.len());
        let (left, right) = values.split_at(cut);
        let mut a = ExactFloatSum::<f64>::new();
        a.add_slice(left).unwrap();
        let mut b = ExactFloatSum::<f64>::new();
        b.add_slice(right).unwrap();
        let mut ab = a.clone();
        ab.merge(&b).unwrap();
        let mut ba = b.clone();
        ba.merge(&a).unwrap();
        let mut whole = ExactFloatSum::<f64>::new();
        whole.add_slice(&values).unwrap();
        prop_assert_eq!(ab.to_bytes(), whole.to_bytes());
        prop_assert_eq!(ba.to_bytes(), whole.to_bytes());
        let back = ExactFloatSum::<f64>::from_bytes(&whole.to_bytes()).unwrap();
        prop_assert_eq!(back.round().value.to_bits(), whole.round().value.to_bits());
        prop_assert_eq!(back.count(), values.len() as u64);
    }
}

proptest! {
    // Few cases: each sums thousands of values against the big-integer oracle.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn long_random_sums_match_the_oracle(
        values in prop::collection::vec(finite_f64(), 8_192..12_000),
        bits in prop::collection::vec(any::<u32>(), 8_192..12_000),
    ) {
        // Long enough to go through the bins (one per sign and exponent) rather than one value
        // at a time.
        prop_assert_eq!(exact(&values).0.to_bits(), oracle_f64(&values).to_bits());
        let floats: Vec<f32> = bits.into_iter().map(f32::from_bits).filter(|v| v.is_finite()).collect();
        prop_assert_eq!(exact(&floats).0.to_bits(), oracle_f32(&floats).to_bits());
    }
}

#[test]
fn every_thread_pool_gives_the_same_bytes() {
    let mut state = 7u64;
    let values: Vec<f64> = (0..300_000)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let value = f64::from_bits(state >> 1 | (i % 2) << 63);
            if value.is_finite() { value } else { 1.0 }
        })
        .collect();
    let mut sequential = ExactFloatSum::<f64>::new();
    sequential.add_slice(&values).unwrap();
    assert_eq!(
        sequential.round().value.to_bits(),
        oracle_f64(&values).to_bits()
    );
    for threads in [1, 2, 7] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let parallel = pool
            .install(|| gpusum::float::sum_parallel(&values, &gpusum::Control::new()))
            .unwrap();
        assert_eq!(
            parallel.to_bytes(),
            sequential.to_bytes(),
            "{threads} threads"
        );
    }
}

#[test]
fn bad_bytes_are_refused() {
    let mut sum = ExactFloatSum::<f32>::new();
    sum.add_slice(&[1.0, -3.5]).unwrap();
    let bytes = sum.to_bytes();
    assert_eq!(
        ExactFloatSum::<f32>::from_bytes(&bytes)
            .unwrap()
            .round()
            .value,
        -2.5
    );
    assert!(ExactFloatSum::<f64>::from_bytes(&bytes).is_err());
    for (index, value) in [(0, b'X'), (4, 2), (5, 8), (6, 0x10), (7, 1), (16 + 4, 1)] {
        let mut broken = bytes.clone();
        broken[index] = value;
        let error = ExactFloatSum::<f32>::from_bytes(&broken).unwrap_err();
        assert!(
            error.to_string().starts_with("not an exact float sum"),
            "{error}"
        );
    }
    assert!(ExactFloatSum::<f32>::from_bytes(&bytes[1..]).is_err());
}
