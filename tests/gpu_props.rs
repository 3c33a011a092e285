//! Random ranges anywhere in i64, bounded lengths, on every adapter and variant present.

use crate::common;

use common::{assert_exact, targets};
use gpusum::SumRange;
use gpusum::cpu::{CpuTwin, Threads};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn range_strategy() -> impl Strategy<Value = SumRange> {
    let start = prop_oneof![
        any::<i64>(),
        (i64::MIN..i64::MIN + 100_000),
        (i64::MAX - 100_000..=i64::MAX),
        (-100_000i64..100_000),
    ];
    (start, 0u64..20_000)
        .prop_map(|(start, len)| SumRange::new(start, start.saturating_add(len as i64)))
}

#[test]
fn random_ranges_are_exact_everywhere() {
    for target in targets() {
        let config = Config {
            cases: 40,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        runner
            .run(&range_strategy(), |range| {
                assert_exact(target, range);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", target.label));
    }
}

proptest! {
    #![proptest_config(Config { cases: 300, failure_persistence: None, ..Config::default() })]

    #[test]
    fn cpu_paths_match_the_closed_form(range in range_strategy()) {
        let control = gpusum::Control::new();
        prop_assert_eq!(CpuTwin::new(Threads::All).sum_range(range, &control).unwrap(), range.closed_form());
        prop_assert_eq!(CpuTwin::new(Threads::One).sum_range(range, &control).unwrap(), range.closed_form());
    }
}
