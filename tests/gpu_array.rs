//! Integer arrays: GPU == CPU twin == a plain i128 loop, on every element type, adapter, kernel,
//! layout and upload, at lengths around the workgroup and chunk sizes, with extreme values.

use crate::common;

use std::sync::OnceLock;

use common::SMALL_SHAPE;
use gpusum::cpu::{CpuTwin, Threads};
use gpusum::gpu::{self, DispatchShape, UnitWalk};
use gpusum::input::{ArrayReader, InputHints};
use gpusum::kernel::ArrayLayout;
use gpusum::{ChunkUpload, Control, Dtype, GpuContext, GpuOptions, IntSlice, KernelChoice};

/// A context and what it was built with.
struct ArrayTarget {
    label: String,
    context: GpuContext,
    chunk: u64,
}

/// Chunks of 48 bytes: 3 units, 6 i64 or 48 u8, so a few hundred elements cross several chunks
/// and both ring slots many times.
const SMALL_CHUNK: u64 = 48;

/// Every adapter x kernel x layout, with a small shape and chunk (uploaded both ways: the web's
/// writes through the queue, tails padded, run here too), and with the adapter's shape and a
/// chunk of a few KiB; each adapter's two shapes walk units both ways.
fn array_targets() -> &'static [ArrayTarget] {
    static TARGETS: OnceLock<Vec<ArrayTarget>> = OnceLock::new();
    let targets = TARGETS.get_or_init(|| {
        let instance = gpu::instance();
        let adapters = gpu::compute_adapters(&instance);
        common::adapter_backends();
        let mut targets = Vec::new();
        for adapter in &adapters {
            // The small shape walks units the other way from the adapter's own shape, so every
            // adapter runs both walks.
            let own = DispatchShape::for_adapter(&adapter.get_info(), &adapter.limits()).walk;
            let other = match own {
                UnitWalk::Runs => UnitWalk::Interleaved,
                _ => UnitWalk::Runs,
            };
            let small = SMALL_SHAPE.with_walk(other);
            for kernel in KernelChoice::all_supported(adapter.features()) {
                for layout in ArrayLayout::ALL {
                    for (shape, chunk, upload) in [
                        (Some(small), SMALL_CHUNK, ChunkUpload::Staging),
                        (Some(small), SMALL_CHUNK, ChunkUpload::Queue),
                        (None, 4096, ChunkUpload::Staging),
                    ] {
                        let mut options = GpuOptions::new()
                            .with_kernel(kernel)
                            .with_array_layout(layout)
                            .with_array_chunk_bytes(chunk)
                            .with_chunk_upload(upload);
                        if let Some(shape) = shape {
                            options = options.with_shape(shape);
                        }
                        let context = GpuContext::new(adapter, &options).unwrap();
                        let label = format!(
                            "{} / {kernel} / {layout} / chunk {chunk} ({upload:?}){} / {:?} walk",
                            context.adapter_label(),
                            if shape.is_some() {
                                " / small shape"
                            } else {
                                ""
                            },
                            context.shape().walk
                        );
                        targets.push(ArrayTarget {
                            label,
                            context,
                            chunk,
                        });
                    }
                }
            }
        }
        targets
    });
    common::found(targets.len());
    targets
}

/// Values of `dtype` as i128: each pattern at `len` elements.
fn patterns(dtype: Dtype, len: usize) -> Vec<(&'static str, Vec<i128>)> {
    let (low, high) = dtype.bounds();
    let mut state = 0x2545_F491_4F6C_DD1Du64 ^ len as u64;
    let span = (high - low + 1) as u128;
    let random: Vec<i128> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            low + ((state as u128 * 0x9E37_79B9) % span) as i128
        })
        .collect();
    vec![
        ("all minimum", vec![low; len]),
        ("all maximum", vec![high; len]),
        (
            "alternating extremes",
            (0..len)
                .map(|i| if i % 2 == 0 { high } else { low })
                .collect(),
        ),
        ("random", random),
    ]
}

/// The values as little-endian bytes of `dtype`.
fn to_bytes(dtype: Dtype, values: &[i128]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| (v as u128).to_le_bytes()[..dtype.size()].to_vec())
        .collect()
}

/// The sum of little-endian elements of `dtype`, by a plain loop.
fn sum_of_bytes(dtype: Dtype, bytes: &[u8]) -> i128 {
    bytes
        .chunks_exact(dtype.size())
        .map(|chunk| {
            let mut wide = [0u8; 16];
            wide[..chunk.len()].copy_from_slice(chunk);
            let raw = u128::from_le_bytes(wide);
            let bits = 8 * chunk.len() as u32;
            if dtype.is_signed() && raw >> (bits - 1) == 1 {
                raw as i128 - (1i128 << bits)
            } else {
                raw as i128
            }
        })
        .sum()
}

/// Runs `check` with the values as a typed slice.
fn with_slice<T>(dtype: Dtype, values: &[i128], check: impl FnOnce(IntSlice<'_>) -> T) -> T {
    match dtype {
        Dtype::I8 => check(IntSlice::from(
            &values.iter().map(|&v| v as i8).collect::<Vec<_>>()[..],
        )),
        Dtype::I16 => check(IntSlice::from(
            &values.iter().map(|&v| v as i16).collect::<Vec<_>>()[..],
        )),
        Dtype::I32 => check(IntSlice::from(
            &values.iter().map(|&v| v as i32).collect::<Vec<_>>()[..],
        )),
        Dtype::I64 => check(IntSlice::from(
            &values.iter().map(|&v| v as i64).collect::<Vec<_>>()[..],
        )),
        Dtype::U8 => check(IntSlice::from(
            &values.iter().map(|&v| v as u8).collect::<Vec<_>>()[..],
        )),
        Dtype::U16 => check(IntSlice::from(
            &values.iter().map(|&v| v as u16).collect::<Vec<_>>()[..],
        )),
        Dtype::U32 => check(IntSlice::from(
            &values.iter().map(|&v| v as u32).collect::<Vec<_>>()[..],
        )),
        Dtype::U64 => check(IntSlice::from(
            &values.iter().map(|&v| v as u64).collect::<Vec<_>>()[..],
        )),
        _ => unreachable!(),
    }
}

/// Lengths around the workgroup sizes, the chunk, and units (a partial word for narrow types).
fn lengths(dtype: Dtype, chunk: u64, shape: DispatchShape) -> Vec<usize> {
    let per_chunk = (chunk / dtype.size() as u64) as usize;
    let group = shape.workgroup_size as usize;
    let mut lengths = vec![0, 1, 3, 5, 17, group - 1, group, group + 1];
    lengths.extend([per_chunk - 1, per_chunk, per_chunk + 1, 3 * per_chunk + 7]);
    lengths
}

#[test]
fn every_type_layout_and_kernel_matches_a_plain_loop() {
    let control = Control::new();
    for target in array_targets() {
        let shape = target.context.shape();
        for dtype in Dtype::INTEGERS {
            for len in lengths(dtype, target.chunk, shape) {
                for (pattern, values) in patterns(dtype, len) {
                    let expected: i128 = values.iter().sum();
                    let what = format!("{} / {dtype} x {len} {pattern}", target.label);
                    with_slice(dtype, &values, |slice| {
                        assert_eq!(slice.reference_sum(), expected);
                        let cpu = CpuTwin::new(Threads::All)
                            .sum_array(slice.into(), &control)
                            .unwrap();
                        let cpu = cpu.int().unwrap();
                        assert_eq!(
                            (cpu.sum(), cpu.count()),
                            (expected, len as u64),
                            "CPU {what}"
                        );
                        let gpu = target
                            .context
                            .sum_ints(slice, &control)
                            .unwrap_or_else(|e| panic!("{what}: {e}"));
                        assert_eq!(gpu.total.int_sum().unwrap(), expected, "GPU {what}");
                        assert_eq!(gpu.total.count(), len as u64, "GPU count {what}");
                    });
                }
            }
        }
    }
}

#[test]
fn big_endian_streams_are_summed_like_their_values() {
    let control = Control::new();
    for target in array_targets() {
        for dtype in Dtype::INTEGERS {
            let len = (3 * target.chunk as usize / dtype.size()) + 5;
            let (_, values) = patterns(dtype, len).pop().unwrap();
            let mut bytes = to_bytes(dtype, &values);
            for element in bytes.chunks_exact_mut(dtype.size()) {
                element.reverse();
            }
            let hints = InputHints::raw(dtype).with_big_endian(true);
            let mut reader = ArrayReader::new(&bytes[..], "stream", hints, None).unwrap();
            let gpu = target.context.sum_reader(&mut reader, &control).unwrap();
            let what = format!("{} / big-endian {dtype}", target.label);
            assert_eq!(
                gpu.total.int_sum().unwrap(),
                values.iter().sum::<i128>(),
                "{what}"
            );
        }
    }
}

#[test]
fn a_callers_buffer_is_summed_in_place_at_any_aligned_offset() {
    let control = Control::new();
    for target in array_targets().iter().filter(|t| t.chunk == SMALL_CHUNK) {
        let device = target.context.device();
        let alignment = device.limits().min_storage_buffer_offset_alignment as u64;
        for dtype in [Dtype::I8, Dtype::U16, Dtype::I32, Dtype::I64] {
            let (_, values) = patterns(dtype, 1000).pop().unwrap();
            let bytes = to_bytes(dtype, &values);
            let padded = (alignment as usize + bytes.len() + 64).next_multiple_of(4);
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("caller data"),
                size: padded as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut contents = vec![0xa5u8; padded];
            let at = alignment as usize + 8;
            contents[at..at + bytes.len()].copy_from_slice(&bytes);
            target.context.queue().write_buffer(&buffer, 0, &contents);
            for (offset, len) in [(at, 1000), (at + 8, 990), (at, 0), (8, 1), (at + 16, 3)] {
                let expected = sum_of_bytes(dtype, &contents[offset..offset + len * dtype.size()]);
                let gpu = target
                    .context
                    .sum_buffer(&buffer, offset as u64, len as u64, dtype, &control)
                    .unwrap_or_else(|e| panic!("{} {dtype} {offset}+{len}: {e}", target.label));
                let what = format!("{} / buffer {dtype} at {offset} x {len}", target.label);
                assert_eq!(gpu.total.int_sum().unwrap(), expected, "{what}");
            }
            let refused = target
                .context
                .sum_buffer(&buffer, 2, 1, dtype, &control)
                .is_err();
            assert!(refused, "an offset of 2 bytes is refused for {dtype}");
            assert!(
                target
                    .context
                    .sum_buffer(&buffer, 0, padded as u64 + 1, dtype, &control)
                    .is_err()
            );
        }
    }
}

#[test]
fn device_arrays_are_summed_without_moving_data() {
    let control = Control::new();
    for target in array_targets().iter().filter(|t| t.chunk == SMALL_CHUNK) {
        for dtype in Dtype::INTEGERS {
            for len in [0, 1, 1001] {
                let (_, values) = patterns(dtype, len).pop().unwrap();
                let expected: i128 = values.iter().sum();
                with_slice(dtype, &values, |slice| {
                    let array = target.context.upload(slice, &control).unwrap();
                    assert_eq!(array.layout(), target.context.array_layout());
                    let sum = target.context.sum_device_array(&array, &control).unwrap();
                    assert_eq!(
                        sum.total.int_sum().unwrap(),
                        expected,
                        "{} {dtype} x {len}",
                        target.label
                    );
                });
            }
        }
    }
}
