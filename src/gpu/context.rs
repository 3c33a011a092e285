//! One device, pipeline and set of buffers, built once and reused for every sum.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytemuck::{Pod, Zeroable};

use super::{Reduction, ShaderVariant, describe_short, kernel_source};
use crate::Error;
use crate::control::Control;
use crate::range::{Block, SumRange};

/// Invocations per workgroup; the same constant as `WORKGROUP_SIZE` in every shader (a test
/// checks that they agree).
pub const WORKGROUP_SIZE: u32 = 256;

/// Most elements one invocation adds: keeps its carry count and the shader's 128-bit partials far
/// from overflow (each invocation's sum < 2^16 * 2^64, each workgroup's < 2^88).
pub const MAX_PER_INVOCATION: u32 = 1 << 16;

/// Most elements in one dispatch: the shaders index elements with u32 and need
/// `count + per_invocation` and `index * per_invocation` to stay below 2^32.
pub const MAX_DISPATCH_ELEMENTS: u64 = 1 << 31;

/// Bytes of one workgroup's partial: four u32 limbs.
const PARTIAL_BYTES: u64 = 16;

/// The shaders' `Params` uniform.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    base_lo: u32,
    base_hi: u32,
    count: u32,
    per_invocation: u32,
}

/// How the range is cut into work: elements per invocation, workgroups per dispatch, and
/// dispatches per submission (one map and readback each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DispatchShape {
    /// Elements each invocation adds in a full dispatch, 1 to [`MAX_PER_INVOCATION`]; shorter
    /// blocks use fewer (see [`DispatchShape::layout`]).
    pub per_invocation: u32,
    /// Workgroups in a full dispatch, at most the adapter's `max_compute_workgroups_per_dimension`.
    pub workgroups_per_dispatch: u32,
    /// Dispatches recorded into one submission before the partials are read back.
    pub dispatches_per_submit: u32,
}

impl DispatchShape {
    /// The shape for this adapter, from measurements (docs/BENCHMARKS.md):
    /// - software adapters (lavapipe, llvmpipe, WARP) run each workgroup on one CPU thread; long
    ///   loops amortize the reduction and loop overhead best (16384 elements per invocation), and 4
    ///   workgroups per core keep every thread busy: 2^25 elements per dispatch on 2 cores, a few
    ///   milliseconds, so progress, Ctrl-C and deadlines are noticed quickly;
    /// - hardware gets 8192 workgroups (several waves on the largest GPUs) of 1024 elements per
    ///   invocation: 2^31 elements per dispatch, well under a watchdog's limit.
    pub fn for_adapter(info: &wgpu::AdapterInfo, limits: &wgpu::Limits) -> Self {
        let max_workgroups = limits.max_compute_workgroups_per_dimension;
        if info.device_type == wgpu::DeviceType::Cpu {
            let per_invocation = 1 << 14;
            let cores = std::thread::available_parallelism().map_or(4, |n| n.get()) as u64;
            let fits = MAX_DISPATCH_ELEMENTS / (WORKGROUP_SIZE as u64 * per_invocation as u64);
            Self {
                per_invocation,
                workgroups_per_dispatch: (4 * cores).min(fits).min(max_workgroups as u64) as u32,
                dispatches_per_submit: 8,
            }
        } else {
            Self {
                per_invocation: 1 << 10,
                workgroups_per_dispatch: (1 << 13).min(max_workgroups),
                dispatches_per_submit: 4,
            }
        }
    }

    /// Elements per invocation and workgroups for a block of `len` elements, at most a full
    /// dispatch: spread over all of the shape's workgroups, each invocation adding as few elements
    /// as that allows, so short ranges keep their parallelism.
    pub fn layout(&self, len: u64) -> (u32, u32) {
        let invocations = WORKGROUP_SIZE as u64 * self.workgroups_per_dispatch as u64;
        let per_invocation = len
            .div_ceil(invocations)
            .clamp(1, self.per_invocation as u64);
        // per_invocation >= len / invocations, so this is at most workgroups_per_dispatch.
        let workgroups = len.div_ceil(WORKGROUP_SIZE as u64 * per_invocation);
        (per_invocation as u32, workgroups as u32)
    }

    /// Elements a workgroup covers in a full dispatch.
    pub fn elements_per_workgroup(&self) -> u64 {
        WORKGROUP_SIZE as u64 * self.per_invocation as u64
    }

    /// Elements in a full dispatch.
    pub fn elements_per_dispatch(&self) -> u64 {
        self.elements_per_workgroup() * self.workgroups_per_dispatch as u64
    }

    fn validate(&self, limits: &wgpu::Limits) -> Result<(), Error> {
        let invalid = |reason: String| Err(Error::InvalidShape { reason });
        if !(1..=MAX_PER_INVOCATION).contains(&self.per_invocation) {
            return invalid(format!(
                "elements per invocation must be 1 to {MAX_PER_INVOCATION}"
            ));
        }
        let max_workgroups = limits.max_compute_workgroups_per_dimension;
        if !(1..=max_workgroups).contains(&self.workgroups_per_dispatch) {
            return invalid(format!(
                "workgroups per dispatch must be 1 to {max_workgroups} on this adapter"
            ));
        }
        if self.dispatches_per_submit == 0 {
            return invalid("dispatches per submission must be at least 1".into());
        }
        if self.elements_per_dispatch() > MAX_DISPATCH_ELEMENTS {
            return invalid(format!(
                "a dispatch may hold at most 2^31 elements, not {}",
                self.elements_per_dispatch()
            ));
        }
        Ok(())
    }
}

/// How to build a [`GpuContext`].
#[derive(Clone, Copy, Debug, Default)]
pub struct GpuOptions {
    /// Force a shader variant; `None` takes the best the device supports.
    pub variant: Option<ShaderVariant>,
    /// Force a workgroup reduction; `None` takes the best the device supports.
    pub reduction: Option<Reduction>,
    /// Override the dispatch shape; `None` takes [`DispatchShape::for_adapter`].
    pub shape: Option<DispatchShape>,
}

/// A GPU sum and where its time went.
#[derive(Clone, Copy, Debug)]
pub struct GpuOutcome {
    /// The exact sum.
    pub sum: i128,
    /// Time the kernels ran by GPU timestamps, when the device has TIMESTAMP_QUERY.
    pub kernel_seconds: Option<f64>,
    /// Submissions made.
    pub submissions: u32,
}

/// A device with its pipeline and buffers, built once and reused by every call.
///
/// Calls on one context are serialized; build one context per device and share it.
pub struct GpuContext {
    info: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    variant: ShaderVariant,
    reduction: Reduction,
    shape: DispatchShape,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    params: wgpu::Buffer,
    partials: wgpu::Buffer,
    readback: wgpu::Buffer,
    params_stride: u64,
    partials_stride: u64,
    timestamps: Option<Timestamps>,
    lost: Arc<Mutex<Option<String>>>,
    uncaptured: Arc<Mutex<Option<String>>>,
    busy: Mutex<()>,
}

/// Begin and end timestamps of each submission's compute pass.
struct Timestamps {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    period_ns: f64,
}

impl GpuContext {
    /// Opens a device on `adapter` with the features gpusum can use, and builds the context.
    pub fn new(adapter: &wgpu::Adapter, options: &GpuOptions) -> Result<Self, Error> {
        let info = adapter.get_info();
        if let Some(variant) = options.variant {
            ensure_variant(variant, adapter.features(), &info)?;
        }
        if let Some(reduction) = options.reduction {
            ensure_reduction(reduction, adapter.features(), &info)?;
        }
        let (device, queue) = open_device(adapter)?;
        Self::from_device(info, device, queue, options)
    }

    /// Builds the context on a caller's device and queue (tests and benches inject theirs).
    /// The device's enabled features decide which variants it can run.
    pub fn from_device(
        info: wgpu::AdapterInfo,
        device: wgpu::Device,
        queue: wgpu::Queue,
        options: &GpuOptions,
    ) -> Result<Self, Error> {
        let features = device.features();
        let limits = device.limits();
        let variant = match options.variant {
            Some(variant) => ensure_variant(variant, features, &info).map(|()| variant)?,
            None => ShaderVariant::best_for(features),
        };
        let reduction = match options.reduction {
            Some(reduction) => ensure_reduction(reduction, features, &info).map(|()| reduction)?,
            None => Reduction::best_for(features),
        };
        let shape = options
            .shape
            .unwrap_or_else(|| DispatchShape::for_adapter(&info, &limits));
        shape.validate(&limits)?;
        check_limits(&limits, &info)?;

        let lost = Arc::new(Mutex::new(None));
        let lost_slot = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            let reason = match reason {
                wgpu::DeviceLostReason::Destroyed => "the device was destroyed",
                wgpu::DeviceLostReason::Unknown => "the driver gave no reason",
            };
            let detail = if message.is_empty() {
                String::new()
            } else {
                format!(" ({message})")
            };
            *lock(&lost_slot) = Some(format!("{reason}{detail}"));
        });
        let uncaptured = Arc::new(Mutex::new(None));
        let uncaptured_slot = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            lock(&uncaptured_slot).get_or_insert_with(|| error.to_string());
        }));

        let scopes = ErrorScopes::push(&device);
        let module = trusted_module(&device, variant.name(), &kernel_source(variant, reduction));
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("gpusum"),
            entries: &[
                layout_entry(0, wgpu::BufferBindingType::Uniform),
                layout_entry(1, wgpu::BufferBindingType::Storage { read_only: false }),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("gpusum"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(variant.name()),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });

        let slots = shape.dispatches_per_submit as u64;
        let params_stride = align(
            size_of::<Params>() as u64,
            limits.min_uniform_buffer_offset_alignment,
        );
        let partials_bytes = shape.workgroups_per_dispatch as u64 * PARTIAL_BYTES;
        let partials_stride = align(partials_bytes, limits.min_storage_buffer_offset_alignment);
        let readback_bytes = slots * partials_stride + TIMESTAMP_BYTES;
        if readback_bytes > limits.max_buffer_size
            || partials_bytes > limits.max_storage_buffer_binding_size
        {
            return Err(Error::InvalidShape {
                reason: format!(
                    "{readback_bytes} bytes of partials exceed this adapter's buffer limits"
                ),
            });
        }
        let buffer = |label, size, usage| create_buffer(&device, label, size, usage);
        use wgpu::BufferUsages as U;
        let params = buffer("params", slots * params_stride, U::UNIFORM | U::COPY_DST);
        let partials = buffer(
            "partials",
            slots * partials_stride,
            U::STORAGE | U::COPY_SRC,
        );
        let readback = buffer("readback", readback_bytes, U::MAP_READ | U::COPY_DST);
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("gpusum"),
            layout: &layout,
            entries: &[
                binding(0, &params, size_of::<Params>() as u64),
                binding(1, &partials, partials_bytes),
            ],
        });
        let timestamps = features
            .contains(wgpu::Features::TIMESTAMP_QUERY)
            .then(|| Timestamps {
                queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("pass begin and end"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                }),
                resolve: buffer(
                    "timestamps",
                    TIMESTAMP_BYTES,
                    U::QUERY_RESOLVE | U::COPY_SRC,
                ),
                period_ns: queue.get_timestamp_period() as f64,
            });
        scopes.pop(&info)?;

        Ok(Self {
            info,
            device,
            queue,
            variant,
            reduction,
            shape,
            pipeline,
            bind_group,
            params,
            partials,
            readback,
            params_stride,
            partials_stride,
            timestamps,
            lost,
            uncaptured,
            busy: Mutex::new(()),
        })
    }

    /// The adapter this context runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The adapter as messages name it: "name (backend)".
    pub fn adapter_name(&self) -> String {
        describe_short(&self.info)
    }

    /// The device this context runs on.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue this context submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The shader variant this context runs.
    pub fn variant(&self) -> ShaderVariant {
        self.variant
    }

    /// How this context's workgroups combine their sums.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// How this context cuts a range into dispatches.
    pub fn shape(&self) -> DispatchShape {
        self.shape
    }

    /// Whether kernel times from GPU timestamps are available.
    pub fn has_timestamps(&self) -> bool {
        self.timestamps.is_some()
    }

    /// The exact sum of `range`, every element added on the device.
    pub fn sum(&self, range: SumRange, control: &Control) -> Result<i128, Error> {
        self.sum_outcome(range, control).map(|outcome| outcome.sum)
    }

    /// The exact sum of `range` with kernel timings.
    pub fn sum_outcome(&self, range: SumRange, control: &Control) -> Result<GpuOutcome, Error> {
        let _busy = lock(&self.busy);
        self.check_health()?;
        let total_count = range.count();
        let mut blocks = range.blocks(self.shape.elements_per_dispatch());
        let mut outcome = GpuOutcome {
            sum: 0,
            kernel_seconds: self.timestamps.as_ref().map(|_| 0.0),
            submissions: 0,
        };
        let mut done: u128 = 0;
        loop {
            let batch: Vec<Block> = blocks
                .by_ref()
                .take(self.shape.dispatches_per_submit as usize)
                .collect();
            if batch.is_empty() {
                return Ok(outcome);
            }
            control.check()?;
            let (sum, kernel_seconds) = self.run_batch(&batch, control)?;
            // Any prefix of an i64 range sums to less than 2^126 in magnitude: no overflow.
            outcome.sum += sum;
            outcome.submissions += 1;
            if let (Some(total), Some(seconds)) = (outcome.kernel_seconds.as_mut(), kernel_seconds)
            {
                *total += seconds;
            }
            done += batch.iter().map(|block| block.len as u128).sum::<u128>();
            control.report(done, total_count);
        }
    }

    /// Records the batch's dispatches into one submission, reads the partials back with one map,
    /// and finishes their sum on the CPU.
    fn run_batch(&self, batch: &[Block], control: &Control) -> Result<(i128, Option<f64>), Error> {
        let workgroups = |block: &Block| self.shape.layout(block.len).1;
        let mut params = vec![0u8; (batch.len() as u64 * self.params_stride) as usize];
        for (slot, block) in batch.iter().enumerate() {
            let offset = slot * self.params_stride as usize;
            let value = Params {
                base_lo: block.first_biased as u32,
                base_hi: (block.first_biased >> 32) as u32,
                // Blocks are at most elements_per_dispatch <= 2^31 long.
                count: block.len as u32,
                per_invocation: self.shape.layout(block.len).0,
            };
            params[offset..offset + size_of::<Params>()]
                .copy_from_slice(bytemuck::bytes_of(&value));
        }

        let scopes = ErrorScopes::push(&self.device);
        self.queue.write_buffer(&self.params, 0, &params);
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("range sum"),
                timestamp_writes: self.timestamps.as_ref().map(|t| {
                    wgpu::ComputePassTimestampWrites {
                        query_set: &t.queries,
                        beginning_of_pass_write_index: Some(0),
                        end_of_pass_write_index: Some(1),
                    }
                }),
            });
            pass.set_pipeline(&self.pipeline);
            for (slot, block) in batch.iter().enumerate() {
                let offsets = [
                    (slot as u64 * self.params_stride) as u32,
                    (slot as u64 * self.partials_stride) as u32,
                ];
                pass.set_bind_group(0, &self.bind_group, &offsets);
                pass.dispatch_workgroups(workgroups(block), 1, 1);
            }
        }
        let last = batch.len() as u64 - 1;
        let partials_bytes =
            last * self.partials_stride + workgroups(&batch[last as usize]) as u64 * PARTIAL_BYTES;
        encoder.copy_buffer_to_buffer(&self.partials, 0, &self.readback, 0, partials_bytes);
        let timestamp_offset = self.readback.size() - TIMESTAMP_BYTES;
        if let Some(t) = &self.timestamps {
            encoder.resolve_query_set(&t.queries, 0..2, &t.resolve, 0);
            encoder.copy_buffer_to_buffer(
                &t.resolve,
                0,
                &self.readback,
                timestamp_offset,
                TIMESTAMP_BYTES,
            );
        }
        let submission = self.queue.submit([encoder.finish()]);
        scopes.pop(&self.info)?;

        let (sender, receiver) = futures_intrusive::channel::shared::oneshot_channel();
        let slice = self.readback.slice(..);
        slice.map_async(wgpu::MapMode::Read, move |result| {
            sender.send(result).ok();
        });
        let timeout = control
            .deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()));
        let polled = self.device.poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout,
        });
        if let Err(error) = polled {
            // Drop the pending map so the next call starts clean.
            self.readback.unmap();
            // A lost device is reported through its callback, which only a poll delivers; a
            // failed wait is most often that loss, so give it the chance to say so.
            let _ = self.device.poll(wgpu::PollType::Poll);
            self.check_health()?;
            return Err(match error {
                wgpu::PollError::Timeout => Error::Timeout,
                other => Error::Poll(other),
            });
        }
        let mapped = pollster::block_on(receiver.receive());
        self.check_health()?;
        match mapped {
            Some(Ok(())) => {}
            Some(Err(source)) => return Err(Error::Map(source)),
            None => {
                return Err(Error::DeviceLost {
                    reason: "the map callback never ran".into(),
                });
            }
        }

        let (sum, kernel_seconds) = {
            let view = slice.get_mapped_range().map_err(|e| Error::Readback {
                reason: e.to_string(),
            })?;
            let mut sum: i128 = 0;
            for (slot, block) in batch.iter().enumerate() {
                let start = slot * self.partials_stride as usize;
                let end = start + workgroups(block) as usize * PARTIAL_BYTES as usize;
                // Each partial < 2^88 and a dispatch has at most 2^16 of them: < 2^104, no overflow.
                let biased: u128 = view[start..end]
                    .chunks_exact(PARTIAL_BYTES as usize)
                    .map(limbs_to_u128)
                    .sum();
                sum += block.unbias(biased);
            }
            let kernel_seconds = self.timestamps.as_ref().map(|t| {
                let at = |i: usize| {
                    let offset = timestamp_offset as usize + 8 * i;
                    u64::from_le_bytes(view[offset..offset + 8].try_into().expect("8 bytes"))
                };
                at(1).saturating_sub(at(0)) as f64 * t.period_ns * 1e-9
            });
            (sum, kernel_seconds)
        };
        self.readback.unmap();
        Ok((sum, kernel_seconds))
    }

    /// Fails if the device was lost or reported an error outside any scope.
    fn check_health(&self) -> Result<(), Error> {
        if let Some(reason) = lock(&self.lost).clone() {
            return Err(Error::DeviceLost { reason });
        }
        if let Some(message) = lock(&self.uncaptured).take() {
            return Err(Error::Gpu {
                adapter: self.adapter_name(),
                message,
            });
        }
        Ok(())
    }
}

const TIMESTAMP_BYTES: u64 = 16;

/// Validation and out-of-memory scopes around a group of wgpu calls.
struct ErrorScopes {
    out_of_memory: wgpu::ErrorScopeGuard,
    validation: wgpu::ErrorScopeGuard,
}

impl ErrorScopes {
    fn push(device: &wgpu::Device) -> Self {
        let out_of_memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        Self {
            out_of_memory,
            validation,
        }
    }

    fn pop(self, info: &wgpu::AdapterInfo) -> Result<(), Error> {
        let validation = pollster::block_on(self.validation.pop());
        let out_of_memory = pollster::block_on(self.out_of_memory.pop());
        match validation.or(out_of_memory) {
            None => Ok(()),
            Some(wgpu::Error::OutOfMemory { .. }) => Err(Error::OutOfMemory {
                adapter: describe_short(info),
            }),
            Some(error) => Err(Error::Gpu {
                adapter: describe_short(info),
                message: error.to_string(),
            }),
        }
    }
}

/// An unmapped buffer.
pub(super) fn create_buffer(
    device: &wgpu::Device,
    label: &str,
    size: u64,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage,
        mapped_at_creation: false,
    })
}

/// Builds a shader module without naga's loop bounding, which cost the native kernel 18% on
/// lavapipe (docs/BENCHMARKS.md). Array bounds checks stay on.
pub(super) fn trusted_module(
    device: &wgpu::Device,
    label: &str,
    source: &str,
) -> wgpu::ShaderModule {
    let descriptor = wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    };
    let checks = wgpu::ShaderRuntimeChecks {
        bounds_checks: true,
        ..wgpu::ShaderRuntimeChecks::unchecked()
    };
    // SAFETY: loop bounding only guards against loops that never end. Every loop in shaders/
    // ends: element loops run at most `per_invocation` (<= 2^16) times, the reduction halves its
    // stride down to zero, and the peak loop runs `iterations` times.
    unsafe { device.create_shader_module_trusted(descriptor, checks) }
}

/// Opens a device on `adapter` with its full limits and the optional features gpusum can use.
pub fn open_device(adapter: &wgpu::Adapter) -> Result<(wgpu::Device, wgpu::Queue), Error> {
    let descriptor = wgpu::DeviceDescriptor {
        label: Some("gpusum"),
        required_features: adapter.features() & USEFUL_FEATURES,
        required_limits: adapter.limits(),
        ..Default::default()
    };
    pollster::block_on(adapter.request_device(&descriptor)).map_err(|source| Error::RequestDevice {
        adapter: describe_short(&adapter.get_info()),
        source,
    })
}

/// The optional features gpusum uses when an adapter has them.
pub const USEFUL_FEATURES: wgpu::Features = wgpu::Features::SHADER_INT64
    .union(wgpu::Features::TIMESTAMP_QUERY)
    .union(wgpu::Features::SUBGROUP);

fn ensure_reduction(
    reduction: Reduction,
    features: wgpu::Features,
    info: &wgpu::AdapterInfo,
) -> Result<(), Error> {
    if features.contains(reduction.required_features()) {
        Ok(())
    } else {
        Err(Error::ReductionUnsupported {
            reduction,
            adapter: describe_short(info),
            missing: reduction.required_feature_name().unwrap_or("nothing"),
        })
    }
}

fn ensure_variant(
    variant: ShaderVariant,
    features: wgpu::Features,
    info: &wgpu::AdapterInfo,
) -> Result<(), Error> {
    if features.contains(variant.required_features()) {
        Ok(())
    } else {
        Err(Error::VariantUnsupported {
            variant,
            adapter: describe_short(info),
            missing: variant.required_feature_name().unwrap_or("nothing"),
        })
    }
}

fn check_limits(limits: &wgpu::Limits, info: &wgpu::AdapterInfo) -> Result<(), Error> {
    let workgroup_bytes = WORKGROUP_SIZE * PARTIAL_BYTES as u32;
    let short = [
        (
            limits.max_compute_invocations_per_workgroup,
            WORKGROUP_SIZE,
            "invocations per workgroup",
        ),
        (
            limits.max_compute_workgroup_size_x,
            WORKGROUP_SIZE,
            "workgroup size x",
        ),
        (
            limits.max_compute_workgroup_storage_size,
            workgroup_bytes,
            "workgroup storage bytes",
        ),
    ]
    .into_iter()
    .find(|(have, need, _)| have < need);
    match short {
        Some((have, need, what)) => Err(Error::AdapterUnsupported {
            adapter: describe_short(info),
            reason: format!("it allows {have} {what}, gpusum needs {need}"),
        }),
        None => Ok(()),
    }
}

fn layout_entry(binding: u32, ty: wgpu::BufferBindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: true,
            min_binding_size: None,
        },
        count: None,
    }
}

fn binding(binding: u32, buffer: &wgpu::Buffer, size: u64) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset: 0,
            size: wgpu::BufferSize::new(size),
        }),
    }
}

fn align(value: u64, alignment: u32) -> u64 {
    value.next_multiple_of(alignment.max(1) as u64)
}

/// Four little-endian u32 limbs, least significant first.
fn limbs_to_u128(bytes: &[u8]) -> u128 {
    bytes.chunks_exact(4).rev().fold(0u128, |acc, limb| {
        (acc << 32) | u32::from_le_bytes(limb.try_into().expect("4 bytes")) as u128
    })
}

/// Locks a mutex, taking over a poisoned one: the data behind it stays valid.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_blocks_spread_over_every_workgroup() {
        let shape = DispatchShape {
            per_invocation: 1 << 14,
            workgroups_per_dispatch: 8,
            dispatches_per_submit: 8,
        };
        assert_eq!(shape.layout(1), (1, 1));
        assert_eq!(shape.layout(256 * 8), (1, 8));
        assert_eq!(shape.layout(256 * 8 + 1), (2, 5));
        assert_eq!(shape.layout(1 << 16), (32, 8));
        assert_eq!(shape.layout(shape.elements_per_dispatch()), (1 << 14, 8));
        for len in [1u64, 255, 257, 12_345, 1 << 20, (1 << 25) - 1] {
            let (per, workgroups) = shape.layout(len);
            assert!(
                per as u64 * 256 * workgroups as u64 >= len && workgroups <= 8,
                "{len}"
            );
        }
    }

    #[test]
    fn limbs_are_least_significant_first() {
        let mut bytes = Vec::new();
        for limb in [1u32, 2, 3, 4] {
            bytes.extend_from_slice(&limb.to_le_bytes());
        }
        assert_eq!(limbs_to_u128(&bytes), 1 + (2 << 32) + (3 << 64) + (4 << 96));
    }
}
