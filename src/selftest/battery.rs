//! The battery of ranges: fixed awkward cases, lengths around each of a target's sizes, and
//! seeded random ranges.

use crate::range::SumRange;

/// One range to sum, with a name that says why it is there.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Case {
    /// Why the case exists, e.g. "workgroup size + 1".
    pub name: String,
    /// The range.
    pub range: SumRange,
}

/// The battery: fixed cases, lengths around each of a target's `sizes` (named chunk sizes, small
/// to large), a range over several of the largest, and six seeded random ranges.
pub(crate) fn battery(sizes: &[(&str, u64)], seed: u64) -> Vec<Case> {
    let case = |name: String, start: i64, end: i64| Case {
        name,
        range: SumRange::new(start, end),
    };
    let mut cases = vec![
        case("classic 1..=20".into(), 1, 20),
        case("empty".into(), 1, 0),
        case("single zero".into(), 0, 0),
        case("single i64::MIN".into(), i64::MIN, i64::MIN),
        case("single i64::MAX".into(), i64::MAX, i64::MAX),
        case("crossing zero".into(), -1000, 999),
        case("i64::MIN..=i64::MIN+999".into(), i64::MIN, i64::MIN + 999),
        case("i64::MAX-999..=i64::MAX".into(), i64::MAX - 999, i64::MAX),
    ];
    for (name, pivot) in [
        ("2^32", 1i64 << 32),
        ("2^53", 1 << 53),
        ("2^63 - 2^20", i64::MAX - (1 << 20) + 1),
    ] {
        cases.push(case(format!("around {name}"), pivot - 600, pivot + 600));
        cases.push(case(format!("around -{name}"), -pivot - 600, -pivot + 600));
    }
    for &(name, size) in sizes {
        for (delta, suffix) in [(-1i64, " - 1"), (0, ""), (1, " + 1")] {
            let len = size as i64 + delta;
            if len > 0 {
                cases.push(case(
                    format!("{name}{suffix}"),
                    -(len / 2),
                    len - len / 2 - 1,
                ));
            }
        }
    }
    if let [.., (second_name, second), (largest_name, largest)] = sizes {
        let len = (2 * largest + 3 * second + 17) as i64;
        cases.push(case(
            format!("2 x {largest_name} + 3 x {second_name} + 17"),
            i64::MIN + 5,
            i64::MIN + 4 + len,
        ));
    }
    let mut random = SplitMix64(seed);
    for index in 0..6 {
        let start = random.next() as i64;
        let len = (random.next() % (1 << 20)) as i64;
        cases.push(case(
            format!("random #{index}"),
            start,
            start.saturating_add(len),
        ));
    }
    cases
}

/// A tiny, well-known generator: enough for reproducible test ranges.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_battery_is_reproducible_and_covers_each_size() {
        let sizes = [("small", 10), ("large", 100)];
        let a = battery(&sizes, 7);
        let b = battery(&sizes, 7);
        assert_eq!(a, b);
        for len in [9u128, 10, 11, 99, 100, 101, 2 * 100 + 3 * 10 + 17] {
            assert!(
                a.iter().any(|c| c.range.count() == len),
                "no case of length {len}"
            );
        }
        assert_ne!(battery(&sizes, 8).last(), a.last());
    }
}
