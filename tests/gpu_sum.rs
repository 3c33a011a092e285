//! GPU == CPU == closed form, exactly, on awkward ranges, on every adapter and variant present.

use crate::common;

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

/// Without an adapter the GPU tests pass, saying loudly which did not run and how to make them
/// run; with `GPUSUM_REQUIRE_GPU=1` (CI) they fail. Runs two tests of this binary again with the
/// drivers hidden.
#[test]
fn without_an_adapter_the_gpu_tests_skip_loudly_unless_required() {
    if std::env::var_os("GPUSUM_HARNESS_CHILD").is_some() {
        return;
    }
    let run = |require: bool| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "gpu_sum::classic_empty_and_single_elements",
                "gpu_sum::negatives_and_ranges_crossing_zero",
            ])
            .args(["--test-threads", "1"])
            .env("VK_DRIVER_FILES", "/nonexistent.json")
            .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent.json")
            .env("GPUSUM_HARNESS_CHILD", "1")
            .env_remove("VK_ADD_DRIVER_FILES")
            .env_remove("VK_ICD_FILENAMES")
            .env_remove("WGPU_BACKEND")
            .env_remove("GPUSUM_REQUIRE_BACKENDS")
            .env_remove("GPUSUM_REQUIRE_GPU");
        if require {
            command.env("GPUSUM_REQUIRE_GPU", "1");
        }
        command.output().unwrap()
    };
    let skipped = run(false);
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(
        skipped.status.success(),
        "a run without an adapter failed: {stderr}"
    );
    for needed in [
        "NO GPU ADAPTER: 2 GPU tests of integration did not run their GPU part",
        "gpu_sum::classic_empty_and_single_elements, gpu_sum::negatives_and_ranges_crossing_zero",
        common::INSTALL,
        "GPUSUM_REQUIRE_GPU=1 makes this a failure",
    ] {
        assert!(
            stderr.contains(needed),
            "the notice lacks {needed:?}: {stderr}"
        );
    }
    let required = run(true);
    assert!(
        !required.status.success(),
        "GPUSUM_REQUIRE_GPU=1 passed without an adapter"
    );
    assert!(
        String::from_utf8_lossy(&required.stdout)
            .contains("GPUSUM_REQUIRE_GPU=1 but no GPU adapter")
    );
}
