//! How work is cut into dispatches, and the limits every shape is checked against before the
//! first dispatch.

use serde::Serialize;

use crate::Error;

/// Invocations per workgroup where the device allows it; elsewhere the largest power of two it
/// allows. The kernels take the same value as their `WORKGROUP_SIZE` (see
/// [`kernel_wgsl`](super::kernel_wgsl)).
pub const MAX_WORKGROUP_SIZE: u32 = 256;

/// Most elements one invocation adds: keeps its carry count and the shader's 128-bit partials far
/// from overflow (each invocation's sum < 2^16 * 2^64 = 2^80, each workgroup's below
/// 2^80 * workgroup size <= 2^88).
pub const MAX_PER_INVOCATION: u32 = 1 << 16;

/// Most elements in one dispatch: the shaders index elements with u32 and need
/// `count + per_invocation` and `index * per_invocation` to stay below 2^32.
pub const MAX_DISPATCH_ELEMENTS: u64 = 1 << 31;

/// Bytes of one workgroup's partial: four u32 limbs.
pub(crate) const PARTIAL_BYTES: u64 = 16;

/// How an array kernel's invocations walk the units (16 bytes each) of their workgroup's
/// stretch of the array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnitWalk {
    /// Neighbouring invocations read neighbouring units and take turns a workgroup apart, so a
    /// GPU's warp reads one contiguous stretch per turn (coalesced).
    Interleaved,
    /// Each invocation reads its own run of consecutive units. A software adapter runs a
    /// workgroup's SIMD groups one after another, each through its whole loop, so interleaved
    /// turns would make a group skip ahead through memory that the others read only much later;
    /// runs are streams the CPU's prefetchers follow (lavapipe, 2^26 f32: plain sum 2.4e9 ->
    /// 6.1e9 values/s, exact sum 7.7e8 -> 1.1e9).
    Runs,
}

impl UnitWalk {
    /// The `WALK` pipeline constant of the array kernels and the device-read peak: how many
    /// invocations walk side by side, their turns that many units apart.
    pub(crate) fn pipeline_constant(self, workgroup_size: u32) -> (&'static str, f64) {
        let side_by_side = match self {
            UnitWalk::Interleaved => workgroup_size,
            UnitWalk::Runs => 1,
        };
        ("WALK", f64::from(side_by_side))
    }
}

/// How work is cut: invocations per workgroup, elements per invocation, workgroups per dispatch,
/// dispatches per submission (one map and readback each), and how array kernels walk units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DispatchShape {
    /// Invocations per workgroup: a power of two, at most [`MAX_WORKGROUP_SIZE`] and what the
    /// device allows.
    pub workgroup_size: u32,
    /// Elements each invocation adds in a full dispatch, 1 to [`MAX_PER_INVOCATION`]; shorter
    /// blocks use fewer (see [`DispatchShape::layout`]).
    pub per_invocation: u32,
    /// Workgroups in a full dispatch, at most the adapter's `max_compute_workgroups_per_dimension`.
    pub workgroups_per_dispatch: u32,
    /// Dispatches recorded into one submission before the partials are read back.
    pub dispatches_per_submit: u32,
    /// How array kernels' invocations walk their units.
    pub walk: UnitWalk,
}

impl DispatchShape {
    /// A shape with workgroups of [`MAX_WORKGROUP_SIZE`] and interleaved units; a context checks
    /// it against the kernel's and the adapter's limits when it is built.
    #[must_use]
    pub const fn new(
        per_invocation: u32,
        workgroups_per_dispatch: u32,
        dispatches_per_submit: u32,
    ) -> Self {
        Self {
            workgroup_size: MAX_WORKGROUP_SIZE,
            per_invocation,
            workgroups_per_dispatch,
            dispatches_per_submit,
            walk: UnitWalk::Interleaved,
        }
    }

    /// The same shape with array kernels walking units `walk`'s way.
    #[must_use]
    pub const fn with_walk(self, walk: UnitWalk) -> Self {
        Self { walk, ..self }
    }

    /// The same shape with `workgroup_size` invocations per workgroup.
    #[must_use]
    pub const fn with_workgroup_size(self, workgroup_size: u32) -> Self {
        Self {
            workgroup_size,
            ..self
        }
    }

    /// The largest workgroup size the device allows, up to [`MAX_WORKGROUP_SIZE`]: 256 where
    /// allowed (WebGPU's default), 128 on devices that guarantee only Vulkan's or GLES 3.1's
    /// minimum (and WebGPU's compatibility mode), less where even that is not allowed.
    #[must_use]
    pub fn workgroup_size_for(limits: &wgpu::Limits) -> u32 {
        let allowed = limits
            .max_compute_invocations_per_workgroup
            .min(limits.max_compute_workgroup_size_x)
            .min(limits.max_compute_workgroup_storage_size / PARTIAL_BYTES as u32)
            .clamp(1, MAX_WORKGROUP_SIZE);
        1 << allowed.ilog2()
    }

    /// The shape for this adapter, from measurements (docs/BENCHMARKS.md):
    /// - software adapters (lavapipe, llvmpipe, WARP) run each workgroup on one CPU thread as a
    ///   few SIMD groups, and a barrier switches between them: workgroups of 32 keep a small sum's
    ///   reduction cheap (a one-element sum costs little more than an empty dispatch), 16384
    ///   elements per invocation amortize loop and reduction, and 32 workgroups per core balance
    ///   the threads: 2^25 elements per dispatch on 2 cores, a few milliseconds, so progress,
    ///   Ctrl-C and deadlines are noticed quickly; array kernels walk runs ([`UnitWalk::Runs`]);
    /// - hardware gets workgroups of 256 (or the most the device allows), 8192 of them (several
    ///   waves on the largest GPUs) of 1024 elements per invocation: 2^31 elements per dispatch,
    ///   well under a watchdog's limit, and within 3% of the best shape measured on an H100.
    #[must_use]
    pub fn for_adapter(info: &wgpu::AdapterInfo, limits: &wgpu::Limits) -> Self {
        let max_workgroups = limits.max_compute_workgroups_per_dimension;
        let allowed = Self::workgroup_size_for(limits);
        if info.device_type == wgpu::DeviceType::Cpu {
            let workgroup_size = allowed.min(32);
            let per_invocation = 1 << 14;
            let cores = std::thread::available_parallelism().map_or(4, |n| n.get()) as u64;
            let fits = MAX_DISPATCH_ELEMENTS / (workgroup_size as u64 * per_invocation as u64);
            Self::new(
                per_invocation,
                (32 * cores).min(fits).min(max_workgroups as u64) as u32,
                8,
            )
            .with_workgroup_size(workgroup_size)
            .with_walk(UnitWalk::Runs)
        } else {
            Self::new(1 << 10, (1 << 13).min(max_workgroups), 4).with_workgroup_size(allowed)
        }
    }

    /// Elements per invocation and workgroups for a block of `len` elements, at most a full
    /// dispatch: spread over all of the shape's workgroups, each invocation adding as few elements
    /// as that allows, so short ranges keep their parallelism.
    #[must_use]
    pub fn layout(&self, len: u64) -> (u32, u32) {
        let invocations = self.workgroup_size as u64 * self.workgroups_per_dispatch as u64;
        let per_invocation = len
            .div_ceil(invocations)
            .clamp(1, self.per_invocation as u64);
        // per_invocation >= len / invocations, so this is at most workgroups_per_dispatch.
        let workgroups = len.div_ceil(self.workgroup_size as u64 * per_invocation);
        (per_invocation as u32, workgroups as u32)
    }

    /// Elements a workgroup covers in a full dispatch.
    #[must_use]
    pub fn elements_per_workgroup(&self) -> u64 {
        self.workgroup_size as u64 * self.per_invocation as u64
    }

    /// Elements in a full dispatch.
    #[must_use]
    pub fn elements_per_dispatch(&self) -> u64 {
        self.elements_per_workgroup() * self.workgroups_per_dispatch as u64
    }

    /// Elements in a full submission.
    #[must_use]
    pub fn elements_per_submission(&self) -> u64 {
        self.elements_per_dispatch() * self.dispatches_per_submit as u64
    }

    /// Checks the shape against the kernel's own bounds, which hold on every adapter.
    ///
    /// # Errors
    /// [`Error::InvalidShape`], saying which bound it breaks.
    pub fn check_kernel_bounds(&self) -> Result<(), Error> {
        let invalid = |reason: String| Err(Error::InvalidShape { reason });
        if !self.workgroup_size.is_power_of_two() || self.workgroup_size > MAX_WORKGROUP_SIZE {
            return invalid(format!(
                "the workgroup size must be a power of two from 1 to {MAX_WORKGROUP_SIZE}, not {}",
                self.workgroup_size
            ));
        }
        if !(1..=MAX_PER_INVOCATION).contains(&self.per_invocation) {
            return invalid(format!(
                "elements per invocation must be 1 to {MAX_PER_INVOCATION}"
            ));
        }
        if self.workgroups_per_dispatch == 0 {
            return invalid("workgroups per dispatch must be at least 1".into());
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

    /// Checks the shape against the kernel's bounds and the device's limits.
    pub(crate) fn validate(&self, limits: &wgpu::Limits) -> Result<(), Error> {
        self.check_kernel_bounds()?;
        let invalid = |reason: String| Err(Error::InvalidShape { reason });
        let allowed = Self::workgroup_size_for(limits);
        if self.workgroup_size > allowed {
            return invalid(format!(
                "this adapter allows workgroups of at most {allowed} invocations, not {}",
                self.workgroup_size
            ));
        }
        let max_workgroups = limits.max_compute_workgroups_per_dimension;
        if self.workgroups_per_dispatch > max_workgroups {
            return invalid(format!(
                "workgroups per dispatch must be 1 to {max_workgroups} on this adapter"
            ));
        }
        let partials_bytes = self.workgroups_per_dispatch as u64 * PARTIAL_BYTES;
        if partials_bytes > limits.max_storage_buffer_binding_size {
            return invalid(format!(
                "{partials_bytes} bytes of partials exceed this adapter's storage binding limit"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_blocks_spread_over_every_workgroup() {
        let shape = DispatchShape::new(1 << 14, 8, 8);
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
        let small = shape.with_workgroup_size(64);
        assert_eq!(small.layout(64 * 8), (1, 8));
        assert_eq!(small.elements_per_dispatch(), 64 * (1 << 14) * 8);
    }

    #[test]
    fn the_workgroup_size_is_the_largest_power_of_two_allowed() {
        let limits = |invocations, x, storage| wgpu::Limits {
            max_compute_invocations_per_workgroup: invocations,
            max_compute_workgroup_size_x: x,
            max_compute_workgroup_storage_size: storage,
            ..wgpu::Limits::default()
        };
        assert_eq!(
            DispatchShape::workgroup_size_for(&limits(1024, 1024, 32768)),
            256
        );
        assert_eq!(
            DispatchShape::workgroup_size_for(&limits(128, 1024, 32768)),
            128
        );
        assert_eq!(
            DispatchShape::workgroup_size_for(&limits(256, 96, 32768)),
            64
        );
        assert_eq!(
            DispatchShape::workgroup_size_for(&limits(256, 256, 1024)),
            64
        );
        assert_eq!(DispatchShape::workgroup_size_for(&limits(0, 0, 0)), 1);
    }
}
