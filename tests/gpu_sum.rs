//! GPU == CPU == closed form, exactly, on awkward ranges, on every adapter and variant present.

mod common;

use common::{MEDIUM_SHAPE, SMALL_SHAPE, assert_exact, targets};
use gpusum::SumRange;

/// Ranges starting at `start` with each of the lengths, clamped at i64::MAX.
fn lengths_from(start: i64, lengths: &[u64]) -> Vec<SumRange> {
    lengths
        .iter()
        .filter(|&&len| len > 0)
        .map(|&len| SumRange::new(start, start.saturating_add(len as i64 - 1)))
        .collect()
}

fn awkward_lengths() -> Vec<u64> {
    let mut lengths = vec![1, 2, 3, 7, 8, 9, 15, 16, 17];
    for workgroup in [64, 128, 256] {
        lengths.extend([workgroup - 1, workgroup, workgroup + 1]);
    }
    for shape in [SMALL_SHAPE, MEDIUM_SHAPE] {
        let group = shape.elements_per_workgroup();
        let dispatch = shape.elements_per_dispatch();
        let submit = dispatch * shape.dispatches_per_submit as u64;
        lengths.extend([
            group - 1,
            group,
            group + 1,
            dispatch - 1,
            dispatch,
            dispatch + 1,
        ]);
        lengths.extend([
            submit - 1,
            submit,
            submit + 1,
            2 * submit + 3 * dispatch + 17,
        ]);
    }
    lengths
}

#[test]
fn classic_empty_and_single_elements() {
    for target in targets() {
        for (start, end) in [
            (1, 20),
            (5, 4),
            (i64::MAX, i64::MIN),
            (0, 0),
            (-7, -7),
            (i64::MIN, i64::MIN),
            (i64::MAX, i64::MAX),
        ] {
            assert_exact(target, SumRange::new(start, end));
        }
    }
}

#[test]
fn negatives_and_ranges_crossing_zero() {
    for target in targets() {
        for (start, end) in [
            (-5, 5),
            (-100, -1),
            (-1000, 999),
            (-3, 10_000),
            (-123_457, 3),
        ] {
            assert_exact(target, SumRange::new(start, end));
        }
    }
}

#[test]
fn the_extremes_of_i64() {
    for target in targets() {
        for k in [0i64, 1, 255, 256, 257, 1000, 5000] {
            assert_exact(target, SumRange::new(i64::MIN, i64::MIN + k));
            assert_exact(target, SumRange::new(i64::MAX - k, i64::MAX));
        }
    }
}

#[test]
fn values_whose_low_limbs_carry() {
    for target in targets() {
        for pivot in [
            1i64 << 32,
            1 << 53,
            (1 << 62) + (1 << 61),
            i64::MAX - (1 << 20) + 1,
        ] {
            for centre in [pivot, -pivot] {
                assert_exact(target, SumRange::new(centre - 700, centre + 700));
            }
        }
    }
}

#[test]
fn awkward_lengths_and_several_dispatches() {
    let lengths = awkward_lengths();
    for target in targets() {
        for start in [1, -2_000, (1 << 32) - 1000, i64::MIN] {
            for range in lengths_from(start, &lengths) {
                assert_exact(target, range);
            }
        }
        // Ending exactly at i64::MAX with every length.
        for &len in &lengths {
            assert_exact(target, SumRange::new(i64::MAX - (len as i64 - 1), i64::MAX));
        }
    }
}

#[test]
fn a_range_larger_than_one_default_dispatch() {
    for target in targets() {
        let dispatch = target.context.shape().elements_per_dispatch() as i64;
        let range = SumRange::new(-(dispatch / 3), dispatch + dispatch / 2);
        assert_exact(target, range);
    }
}

#[test]
fn harness_reports_what_it_found() {
    for target in targets() {
        eprintln!("GPU target: {}", target.label);
    }
}

/// Without an adapter the GPU tests fail, so a green run always tested a GPU, unless the run was
/// told that none is fine. Runs one test of this binary again with no adapter reachable.
#[test]
fn without_an_adapter_the_gpu_tests_fail_unless_allowed() {
    if std::env::var_os("GPUSUM_HARNESS_CHILD").is_some() {
        return;
    }
    let run = |allow: Option<&str>| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "classic_empty_and_single_elements",
                "--test-threads",
                "1",
            ])
            .env("WGPU_BACKEND", "none")
            .env("GPUSUM_HARNESS_CHILD", "1")
            .env_remove("GPUSUM_REQUIRE_GPU")
            .env_remove("GPUSUM_REQUIRE_BACKENDS")
            .env_remove("GPUSUM_ALLOW_NO_GPU");
        if let Some(value) = allow {
            command.env("GPUSUM_ALLOW_NO_GPU", value);
        }
        command.output().unwrap()
    };
    let refused = run(None);
    assert!(!refused.status.success(), "a run with no adapter passed");
    assert!(String::from_utf8_lossy(&refused.stdout).contains("GPUSUM_ALLOW_NO_GPU=1"));
    let allowed = run(Some("1"));
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stdout)
    );
}
