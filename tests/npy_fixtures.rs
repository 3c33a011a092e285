//! .npy files written by numpy itself (tests/fixtures/npy, made by generate.py): every integer
//! type, both byte orders, header versions 1.0 and 2.0, 2-D in C and Fortran order, and the
//! files gpusum must refuse, read by the library and summed on the CPU and every GPU adapter.

use crate::common;

use std::path::PathBuf;

use gpusum::cpu::{CpuTwin, Threads};
use gpusum::gpu;
use gpusum::input::{ArrayReader, InputHints};
use gpusum::{Control, Error, GpuContext, GpuOptions, InputProblem};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npy")
        .join(name)
}

/// (file, element count, exact sum) for every file numpy wrote that gpusum sums.
fn expected() -> Vec<(String, u64, i128)> {
    let text = std::fs::read_to_string(fixture("expected.txt")).expect("expected.txt");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (
                fields[0].to_owned(),
                fields[1].parse().unwrap(),
                fields[2].parse().unwrap(),
            )
        })
        .collect()
}

fn open(name: &str) -> Result<ArrayReader<std::fs::File>, Error> {
    ArrayReader::open(&fixture(name), InputHints::default())
}

#[test]
fn every_variant_numpy_writes_sums_exactly_on_the_cpu() {
    let files = expected();
    assert_eq!(files.len(), 8 * 6 + 3);
    for (name, count, sum) in files {
        let mut reader = open(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(reader.format().count, Some(count), "{name}");
        let total = CpuTwin::new(Threads::All)
            .sum_reader(&mut reader, &Control::new())
            .unwrap();
        assert_eq!(
            (total.int_sum(), total.count()),
            (Some(sum), count),
            "{name}"
        );
    }
}

#[test]
fn every_variant_numpy_writes_sums_exactly_on_every_adapter() {
    let instance = gpu::instance();
    let adapters = gpu::compute_adapters(&instance);
    common::adapter_backends();
    for adapter in &adapters {
        // Chunks of 32 bytes: several per file, and both ring slots.
        let options = GpuOptions::new().with_array_chunk_bytes(32);
        let context = GpuContext::new(adapter, &options).unwrap();
        for (name, count, sum) in expected() {
            let mut reader = open(&name).unwrap();
            let outcome = context.sum_reader(&mut reader, &Control::new()).unwrap();
            let what = format!("{name} on {}", context.adapter_label());
            assert_eq!(
                (outcome.total.int_sum(), outcome.total.count()),
                (Some(sum), count),
                "{what}"
            );
        }
        for (name, count, sum) in expected_floats() {
            let mut reader = open(&name).unwrap();
            let outcome = context.sum_reader(&mut reader, &Control::new()).unwrap();
            let what = format!("{name} on {}", context.adapter_label());
            assert_same_float(&outcome.total, &sum, count, &what);
        }
    }
}

/// (file, count, the correctly rounded sum as Python printed it) for the float fixtures.
fn expected_floats() -> Vec<(String, u64, String)> {
    let text = std::fs::read_to_string(fixture("expected_float.txt")).expect("expected_float.txt");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (
                fields[0].into(),
                fields[1].parse().unwrap(),
                fields[2].into(),
            )
        })
        .collect()
}

/// The total's printed sum reads back as the same bits as Python's.
fn assert_same_float(total: &gpusum::ArrayTotal, expected: &str, count: u64, what: &str) {
    let printed = total.to_string();
    let same = match total {
        gpusum::ArrayTotal::F32(_) => {
            printed.parse::<f32>().unwrap().to_bits() == expected.parse::<f32>().unwrap().to_bits()
                || (printed == "nan" && expected == "nan")
        }
        _ => {
            printed.parse::<f64>().unwrap().to_bits() == expected.parse::<f64>().unwrap().to_bits()
                || (printed == "nan" && expected == "nan")
        }
    };
    assert!(same, "{what}: printed {printed}, Python gives {expected}");
    assert_eq!(total.count(), count, "{what}");
}

#[test]
fn float_files_sum_to_the_correctly_rounded_value_on_the_cpu() {
    let files = expected_floats();
    assert_eq!(files.len(), 8);
    for (name, count, sum) in files {
        for threads in [Threads::All, Threads::One] {
            let mut reader = open(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let total = CpuTwin::new(threads)
                .sum_reader(&mut reader, &Control::new())
                .unwrap();
            assert_same_float(&total, &sum, count, &name);
        }
    }
}

#[test]
fn types_gpusum_does_not_sum_are_named() {
    for (name, kind) in [
        ("bad_half.npy", "floats of a width gpusum does not sum"),
        ("bad_bool.npy", "booleans"),
        ("bad_complex.npy", "complex numbers"),
        ("bad_unicode.npy", "Unicode strings"),
        ("bad_datetime.npy", "datetimes"),
        ("bad_object.npy", "Python objects"),
        ("bad_structured.npy", "structured records"),
    ] {
        match open(name) {
            Err(Error::Input {
                problem: InputProblem::UnsupportedDtype { kind: found, .. },
                ..
            }) => assert_eq!(found, kind, "{name}"),
            Err(other) => panic!("{name}: {other}"),
            Ok(_) => panic!("{name} was accepted"),
        }
    }
}

#[test]
fn damaged_files_are_refused_with_the_reason() {
    let mut truncated = open("bad_truncated.npy").unwrap();
    let error = CpuTwin::new(Threads::All)
        .sum_reader(&mut truncated, &Control::new())
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Input {
                problem: InputProblem::Truncated {
                    expected: 80,
                    got: 68
                },
                ..
            }
        ),
        "{error}"
    );
    for name in ["bad_header_cut.npy", "bad_header.npy"] {
        match open(name) {
            Err(Error::Input {
                problem: InputProblem::BadHeader { .. },
                ..
            }) => {}
            Err(other) => panic!("{name}: {other}"),
            Ok(_) => panic!("{name} was accepted"),
        }
    }
}
