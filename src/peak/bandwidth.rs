//! The bandwidths that bound an array sum: the CPU's memory read bandwidth (a streaming read on
//! one or every thread, measured like STREAM), and per GPU the upload bandwidth (host memory
//! through a staging buffer into device data, as the ring moves it) and the device-read
//! bandwidth (shaders/peak_read.wgsl over data already on the device, in the context's layout).

use bytemuck::{Pod, Zeroable};
use rayon::prelude::*;
use serde::Serialize;

use super::{Threads, collect_on_huge_pages, timed};
use crate::Error;
use crate::control::Control;
use crate::cpu::Isa;
use crate::cpu::simd::{Lanes, per_isa};
use crate::gpu::GpuContext;
use crate::gpu::array::{OwnedData, data_entries, data_layout_entries};
use crate::gpu::device::Device;
use crate::gpu::peak_read_wgsl;

/// Timed runs per bandwidth measurement; the median is reported.
const RUNS: usize = 5;

/// Bytes the CPU's read bandwidth streams through: eight times a large last-level cache, so the
/// read comes from memory.
const CPU_BYTES: usize = 256 << 20;

/// Bytes of device data the device-read bandwidth reads per dispatch.
const DEVICE_BYTES: u64 = 256 << 20;

/// How long one submission of the device-read kernel should take, so that its fixed cost is
/// a small part of it.
const SUBMISSION_SECONDS: f64 = 0.02;

/// What a bandwidth bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BandwidthKind {
    /// The CPU reading memory.
    MemoryRead,
    /// Host memory into device data, through a staging buffer.
    Upload,
    /// A kernel reading data on the device.
    DeviceRead,
}

impl BandwidthKind {
    /// Words for tables: "memory read", "upload", "device read".
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            BandwidthKind::MemoryRead => "memory read",
            BandwidthKind::Upload => "upload",
            BandwidthKind::DeviceRead => "device read",
        }
    }
}

/// A bandwidth: the median of several timed runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BandwidthMeasurement {
    /// What was measured.
    pub kind: BandwidthKind,
    /// Bytes per second, the median run's.
    pub bytes_per_second: f64,
    /// Bytes moved in one run.
    #[serde(serialize_with = "crate::json::string")]
    pub bytes: u64,
    /// Timed runs.
    pub runs: usize,
    /// The slowest and the fastest run's rate.
    pub bytes_per_second_range: (f64, f64),
}

/// Times [`RUNS`] runs of `run`, each repeated until it takes at least `min_seconds / RUNS`, and
/// reports the median.
fn measure(
    kind: BandwidthKind,
    bytes: u64,
    min_seconds: f64,
    control: &Control,
    mut run: impl FnMut() -> Result<f64, Error>,
) -> Result<BandwidthMeasurement, Error> {
    let target = min_seconds / RUNS as f64;
    // A first run, untimed, to touch the pages and learn how many runs make one long enough.
    control.check()?;
    let first = run()?;
    let repeat = (target / first.max(1e-9)).ceil().clamp(1.0, 1000.0) as usize;
    let mut rates = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let mut seconds = 0.0;
        for _ in 0..repeat {
            control.check()?;
            seconds += run()?;
        }
        rates.push((bytes * repeat as u64) as f64 / seconds);
    }
    rates.sort_by(f64::total_cmp);
    Ok(BandwidthMeasurement {
        kind,
        bytes_per_second: rates[RUNS / 2],
        bytes,
        runs: RUNS,
        bytes_per_second_range: (rates[0], rates[RUNS - 1]),
    })
}

/// The CPU's memory read bandwidth on `threads`: a plain streaming sum of 256 MiB of u64 (on
/// huge pages where the system gives them: see [`collect_on_huge_pages`]), the least work that
/// reads every byte, built for `isa`.
///
/// # Errors
/// [`Error::Cancelled`] or [`Error::Timeout`] from `control`, checked between runs.
pub fn memory_read(
    isa: Isa,
    threads: Threads,
    min_seconds: f64,
    control: &Control,
) -> Result<BandwidthMeasurement, Error> {
    let words = collect_on_huge_pages(CPU_BYTES / 8, (0..).map(|i: u64| i * 0x9e37_79b9));
    let run = || {
        let (sum, seconds) = timed(|| match threads {
            Threads::One => stream_sum(isa, &words),
            Threads::All => words
                .par_chunks(1 << 15)
                .map(|chunk| stream_sum(isa, chunk))
                .reduce(|| 0, u64::wrapping_add),
        });
        std::hint::black_box(sum);
        Ok(seconds)
    };
    measure(
        BandwidthKind::MemoryRead,
        CPU_BYTES as u64,
        min_seconds,
        control,
        run,
    )
}

per_isa! {
    /// A wrapping sum of `words`: one add per 8 bytes, vectorized.
    fn stream_sum(words: &[u64]) -> u64 = stream_sum_body
}

/// # Safety
/// Only from code built for `V`'s instruction set.
#[inline(always)]
unsafe fn stream_sum_body<V: Lanes>(words: &[u64]) -> u64 {
    words.iter().fold(0u64, |sum, &word| sum.wrapping_add(word))
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ReadParams {
    units: u32,
    per_invocation: u32,
    sentinel: u32,
    pad: u32,
}

/// A GPU's upload and device-read bandwidths, measured on a context's device.
pub struct GpuBandwidth<'a> {
    context: &'a GpuContext,
    device: &'a Device,
}

impl<'a> GpuBandwidth<'a> {
    /// Measures on `context`'s device, with its array layout and chunk size.
    pub fn new(context: &'a GpuContext) -> Self {
        Self {
            context,
            device: context.shared_device(),
        }
    }

    /// Chunks of the context's size, from host memory through a mapped staging buffer into device
    /// data of its layout: what a stream costs before any kernel runs.
    ///
    /// # Errors
    /// [`Error::Cancelled`] or [`Error::Timeout`] from `control`, and the device's failures.
    pub fn upload(
        &self,
        min_seconds: f64,
        control: &Control,
    ) -> Result<BandwidthMeasurement, Error> {
        let bytes = self.context.array_chunk_bytes();
        let host: Vec<u8> = (0..bytes).map(|i| i as u8).collect();
        let layout = self.context.array_layout();
        let (staging, data) = self.device.scoped(|| {
            let staging = self.device.buffer(
                "upload staging",
                bytes,
                wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
            );
            (staging, OwnedData::new(self.device, layout, bytes))
        })?;
        let run = || {
            let (result, seconds) = timed(|| -> Result<(), Error> {
                let (sender, receiver) = std::sync::mpsc::sync_channel(1);
                staging
                    .slice(..)
                    .map_async(wgpu::MapMode::Write, move |result| {
                        sender.send(result).ok();
                    });
                self.device.wait(None, control)?;
                receiver
                    .recv()
                    .map_err(|_| Error::DeviceLost {
                        reason: "the map callback was dropped".into(),
                    })?
                    .map_err(Error::Map)?;
                staging
                    .slice(..)
                    .get_mapped_range_mut()?
                    .slice(..)
                    .copy_from_slice(&host);
                staging.unmap();
                let mut encoder = self
                    .device
                    .wgpu()
                    .create_command_encoder(&Default::default());
                data.upload(&mut encoder, &staging, bytes);
                let submission = self.device.queue().submit([encoder.finish()]);
                self.device.wait(Some(submission), control)
            });
            result.map(|()| seconds)
        };
        measure(BandwidthKind::Upload, bytes, min_seconds, control, run)
    }

    /// shaders/peak_read.wgsl over 256 MiB of device data (less where the layout's windows are
    /// smaller), in the context's layout, walked as the array kernels walk it.
    ///
    /// # Errors
    /// As for [`GpuBandwidth::upload`].
    pub fn device_read(
        &self,
        min_seconds: f64,
        control: &Control,
    ) -> Result<BandwidthMeasurement, Error> {
        let layout = self.context.array_layout();
        let kernels = self.context.array_kernels();
        let limits = self.device.wgpu().limits();
        let bytes = crate::gpu::ring::max_chunk_bytes(layout, &limits, kernels).min(DEVICE_BYTES);
        let shape = self.context.shape();
        let units = bytes / 16;
        let workgroups = shape.workgroups_per_dispatch as u64;
        let per = units
            .div_ceil(workgroups * shape.workgroup_size as u64)
            .max(1);
        let workgroups = units.div_ceil(per * shape.workgroup_size as u64) as u32;
        let walk = shape.walk.pipeline_constant(shape.workgroup_size);
        let device = self.device;
        let (pipeline, bind_group, params, data) = device.scoped(|| {
            let data = OwnedData::new(device, layout, bytes);
            let params = device.buffer(
                "read params",
                size_of::<ReadParams>() as u64,
                wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            );
            let sink = device.buffer("read sink", 16, wgpu::BufferUsages::STORAGE);
            let mut entries = vec![uniform_entry(0), storage_entry(1)];
            entries.extend(data_layout_entries(layout));
            let bind_group_layout =
                device
                    .wgpu()
                    .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                        label: Some("peak_read"),
                        entries: &entries,
                    });
            let pipeline_layout =
                device
                    .wgpu()
                    .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                        label: Some("peak_read"),
                        bind_group_layouts: &[Some(&bind_group_layout)],
                        immediate_size: 0,
                    });
            let source = peak_read_wgsl(layout, shape.workgroup_size);
            let module = device.trusted_module("peak_read", &source);
            let pipeline =
                device
                    .wgpu()
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some("peak_read"),
                        layout: Some(&pipeline_layout),
                        module: &module,
                        entry_point: Some("main"),
                        // The array kernels' walk (array_params.wgsl), so the ceiling is theirs.
                        compilation_options: wgpu::PipelineCompilationOptions {
                            constants: &[walk],
                            ..Default::default()
                        },
                        cache: None,
                    });
            let mut bindings = vec![
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: params.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: sink.as_entire_binding(),
                },
            ];
            bindings.extend(data_entries(data.as_ref(), kernels.empty_units()));
            let bind_group = device.wgpu().create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("peak_read"),
                layout: &bind_group_layout,
                entries: &bindings,
            });
            (pipeline, bind_group, params, data)
        })?;
        let read_params = ReadParams {
            units: units as u32,
            per_invocation: per as u32,
            sentinel: 0x5eed_f00d,
            pad: 0,
        };
        device
            .queue()
            .write_buffer(&params, 0, bytemuck::bytes_of(&read_params));
        device.wait(None, control)?;
        let read = |dispatches: u32| {
            let mut encoder = device.wgpu().create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                for _ in 0..dispatches {
                    pass.dispatch_workgroups(workgroups, 1, 1);
                }
            }
            let (waited, seconds) = timed(|| {
                let submission = device.queue().submit([encoder.finish()]);
                device.wait(Some(submission), control)
            });
            waited.map(|()| seconds)
        };
        // A fast device reads the data in a fraction of a submission's fixed cost (about 0.1 ms
        // on an H100 for 256 MiB), which would lower the ceiling: one submission holds enough
        // dispatches to take 20 ms.
        read(1)?;
        let one = read(1)?;
        let dispatches = (SUBMISSION_SECONDS / one.max(1e-9)).ceil().clamp(1.0, 64.0) as u32;
        let measurement = measure(
            BandwidthKind::DeviceRead,
            bytes * u64::from(dispatches),
            min_seconds,
            control,
            || read(dispatches),
        );
        drop(data);
        measurement
    }
}

fn uniform_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn storage_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only: false },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl std::fmt::Debug for GpuBandwidth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuBandwidth")
            .field("adapter", &self.device.label())
            .finish_non_exhaustive()
    }
}
