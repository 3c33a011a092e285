use super::*;

/// A repeatable stream of bits (xorshift64).
struct Bits(u64);

impl Bits {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// f64 values over `decades` decimal decades around 1, both signs, some zeros of each sign.
fn values(bits: &mut Bits, n: usize, decades: i32) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let r = bits.next();
            match r % 97 {
                0 => 0.0,
                1 => -0.0,
                _ => {
                    let mantissa = (r >> 11) as f64 / (1u64 << 53) as f64 + 0.5;
                    let exponent = ((r >> 3) % (2 * decades as u64 + 1)) as i32 - decades;
                    let sign = if r & 4 == 0 { 1.0 } else { -1.0 };
                    sign * mantissa * 10f64.powi(exponent)
                }
            }
        })
        .collect()
}

/// Each output's values summed by the full accumulator, the reference.
fn reference<T: ExactFloat>(per_output: &[Vec<T>]) -> Vec<ExactFloatSum<T>> {
    per_output
        .iter()
        .map(|values| {
            let mut sum = ExactFloatSum::new();
            sum.add_slice(values).unwrap();
            sum
        })
        .collect()
}

/// Checks each output's full sum and its rounding straight from the window against
/// `expected`, and every output's total against theirs merged.
fn check<T: ExactFloat>(windows: &FloatWindows<T>, expected: &[ExactFloatSum<T>], what: &str) {
    let mut whole = ExactFloatSum::new();
    for (i, expected) in expected.iter().enumerate() {
        let got = windows.sum(i, expected.count()).unwrap();
        assert_eq!(got, *expected, "{what}: output {i}");
        let rounded = expected.round();
        assert_eq!(
            got.round().value.bits(),
            rounded.value.bits(),
            "{what}: {i}"
        );
        let direct = windows.rounded(i, expected.count()).unwrap();
        assert_eq!(direct.value.bits(), rounded.value.bits(), "{what}: {i}");
        assert_eq!(direct.overflow, rounded.overflow, "{what}: output {i}");
        whole.merge(expected).unwrap();
    }
    assert_eq!(
        windows.total(whole.count()).unwrap(),
        whole,
        "{what}: total"
    );
}

/// Values dealt to `outputs` outputs in a repeatable order, added one at a time.
fn dealt<T: ExactFloat>(values: &[T], outputs: usize, seed: u64) -> (Vec<Vec<T>>, FloatWindows<T>) {
    let mut bits = Bits(seed);
    let mut per_output = vec![Vec::new(); outputs];
    let mut windows = FloatWindows::new(outputs);
    for &value in values {
        let i = (bits.next() % outputs as u64) as usize;
        per_output[i].push(value);
        windows.add_bits(i, value.bits());
    }
    (per_output, windows)
}

#[test]
fn each_output_sums_like_the_full_accumulator_over_any_range_of_exponents() {
    let mut bits = Bits(0x2545_F491_4F6C_DD1D);
    for decades in [0, 3, 10, 20, 60, 300] {
        let values = values(&mut bits, 20_000, decades);
        let (per_output, windows) = dealt(&values, 37, decades as u64 + 1);
        check(
            &windows,
            &reference(&per_output),
            &format!("{decades} decades"),
        );
        // Values from 10^-10 to 10^10 (and their sums) take at most 133 bits + 53: a window.
        if decades <= 10 {
            assert_eq!(windows.spilled(), 0, "{decades} decades fit a window");
        }
        let narrow: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let (per_output, windows) = dealt(&narrow, 5, 7);
        check(
            &windows,
            &reference(&per_output),
            &format!("f32, {decades} decades"),
        );
    }
}

#[test]
fn extremes_cancellation_and_specials_follow_ieee_rules() {
    let cases: Vec<Vec<f64>> = vec![
        vec![1e308, 1.0, -1e308],
        vec![f64::MAX, f64::MAX, -f64::MAX],
        vec![f64::MAX; 4],
        vec![5e-324, -5e-324, 5e-324],
        vec![-0.0, -0.0],
        vec![-0.0, 0.0],
        vec![],
        vec![1.0, f64::NAN, 2.0],
        vec![f64::INFINITY, 1.0],
        vec![f64::INFINITY, f64::NEG_INFINITY],
        vec![-1e-300, 1e300, -1e300, 2.5],
        vec![-1.0, -2.0, -3.0, 1e-310],
    ];
    let mut windows = FloatWindows::<f64>::new(cases.len());
    for (i, values) in cases.iter().enumerate() {
        values.iter().for_each(|v| windows.add_bits(i, v.to_bits()));
    }
    check(&windows, &reference(&cases), "cases");
    let rounded: Vec<f64> = (0..cases.len())
        .map(|i| windows.sum(i, cases[i].len() as u64).unwrap().round().value)
        .collect();
    assert_eq!(rounded[0], 1.0);
    assert_eq!(rounded[1], f64::MAX);
    assert_eq!(rounded[2], f64::INFINITY);
    assert_eq!(rounded[4].to_bits(), (-0.0f64).to_bits());
    assert_eq!(rounded[5].to_bits(), 0.0f64.to_bits());
    assert!(rounded[7].is_nan() && rounded[9].is_nan());
    assert_eq!(rounded[10], 2.5 - 1e-300);
}

#[test]
fn merges_and_segment_sums_in_any_split_give_the_same_bits() {
    let mut bits = Bits(99);
    for decades in [2, 20, 300] {
        let values = values(&mut bits, 6000, decades);
        let outputs = 11;
        let (per_output, whole) = dealt(&values, outputs, 5);
        let expected = reference(&per_output);
        // Three parts merged in reverse order.
        let mut parts: Vec<FloatWindows<f64>> =
            (0..3).map(|_| FloatWindows::new(outputs)).collect();
        for (i, values) in per_output.iter().enumerate() {
            for (k, &value) in values.iter().enumerate() {
                parts[k % 3].add_bits(i, value.bits());
            }
        }
        let mut merged = FloatWindows::new(outputs);
        for part in parts.iter().rev() {
            for i in 0..outputs {
                merged.merge_from(i, part, i);
            }
        }
        check(&merged, &expected, &format!("merged, {decades} decades"));
        // Segments summed by the full accumulator, added to windows that already hold values.
        let mut segments = whole.clone();
        for (i, values) in per_output.iter().enumerate() {
            let mut sum = ExactFloatSum::new();
            sum.add_slice(values).unwrap();
            segments.add_sum(i, &sum);
        }
        let doubled: Vec<ExactFloatSum<f64>> = expected
            .iter()
            .map(|sum| {
                let mut twice = sum.clone();
                twice.merge(sum).unwrap();
                twice
            })
            .collect();
        check(&segments, &doubled, &format!("segments, {decades} decades"));
    }
}

#[test]
fn a_window_moves_down_and_up_before_it_spills() {
    let mut windows = FloatWindows::<f64>::new(1);
    // Each value alone fits; together they span 30 binades, so the window moves twice.
    let values = [1.0, 2f64.powi(-40), 2f64.powi(70), -1.0, 3.0];
    values.iter().for_each(|v| windows.add_bits(0, v.to_bits()));
    assert_eq!(windows.spilled(), 0);
    check(&windows, &reference(&[values.to_vec()]), "moved");
    // Then one far enough away that no window holds both.
    windows.add_bits(0, 1e300f64.to_bits());
    assert_eq!(windows.spilled(), 1);
    let mut all = values.to_vec();
    all.push(1e300);
    check(&windows, &reference(&[all]), "spilled");
}

#[test]
fn a_window_moves_up_by_any_number_of_digits_whatever_the_signs() {
    // A negative sum moved up by three digits once took its sign for a digit: wrong digits
    // above it, and -inf for a finite sum (found by fuzzing sums along an axis).
    fn pairs(lowest: i32, spread: i32) -> Vec<Vec<f64>> {
        let mut cases = Vec::new();
        for first in [-1.0, 1.0] {
            for second in [-1.0, 1.0] {
                for apart in (0..=spread).step_by(5) {
                    let low = first * 1.375 * 2f64.powi(lowest);
                    let high = second * 1.625 * 2f64.powi(lowest + apart);
                    cases.push(vec![low, high]);
                    cases.push(vec![high, low, low]);
                }
            }
        }
        cases
    }
    for lowest in [-1000, -300, 700] {
        let cases = pairs(lowest, 320);
        let mut windows = FloatWindows::<f64>::new(cases.len());
        for (i, values) in cases.iter().enumerate() {
            values.iter().for_each(|v| windows.add_bits(i, v.to_bits()));
        }
        check(&windows, &reference(&cases), &format!("from 2^{lowest}"));
        // The same moves when windows merge: the first value in one, the rest in another,
        // merged either way round.
        let mut firsts = FloatWindows::<f64>::new(cases.len());
        let mut rests = FloatWindows::<f64>::new(cases.len());
        for (i, values) in cases.iter().enumerate() {
            firsts.add_bits(i, values[0].to_bits());
            values[1..]
                .iter()
                .for_each(|v| rests.add_bits(i, v.to_bits()));
        }
        for (into, from, what) in [
            (&firsts, &rests, "rests into firsts"),
            (&rests, &firsts, "firsts into rests"),
        ] {
            let mut merged = into.clone();
            (0..cases.len()).for_each(|i| merged.merge_from(i, from, i));
            check(
                &merged,
                &reference(&cases),
                &format!("{what}, from 2^{lowest}"),
            );
        }
    }
    let narrow: Vec<Vec<f32>> = pairs(-120, 240)
        .iter()
        .map(|values| values.iter().map(|&v| v as f32).collect())
        .collect();
    let mut windows = FloatWindows::<f32>::new(narrow.len());
    for (i, values) in narrow.iter().enumerate() {
        values.iter().for_each(|v| windows.add_bits(i, v.bits()));
    }
    check(&windows, &reference(&narrow), "f32");
}
