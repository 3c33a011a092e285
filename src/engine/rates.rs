//! How fast each place sums, as the planner estimates it: a [`Rates`] per place, from a saved
//! profile where one matches, else from defaults by instruction set and adapter kind. The
//! defaults are measurements rounded down (docs/BENCHMARKS.md: the CI-class machine's two cores,
//! an H100 and its 16-thread host); a profile replaces them with this machine's.

use serde::{Deserialize, Serialize};

use crate::array::Dtype;
use crate::cpu::Isa;

/// How fast one place sums each kind of work.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rates {
    /// Range elements per second.
    pub range: f64,
    /// Bytes of integer arrays per second, read where the data lives.
    pub ints: f64,
    /// Exact f32 values per second.
    pub f32: f64,
    /// Exact f64 values per second.
    pub f64: f64,
    /// Seconds every call costs whatever its length: a pool's wake-up, or a GPU's submission
    /// and readback.
    pub call: f64,
}

/// How fast a GPU sums, and what it costs to get data and kernels onto it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GpuRates {
    /// Sums of data on the device (and of ranges, which need none).
    pub sums: Rates,
    /// Bytes per second from host memory onto the device, through the stream's ring.
    pub upload: f64,
    /// Seconds to open the device and build its kernels, once per engine.
    pub open: f64,
}

/// What the planner knows of a request before running it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Work {
    /// The element type, or `None` for a range.
    pub(crate) dtype: Option<Dtype>,
    /// Elements, where known (the planner refuses ranges past 2^63 - 1 before it weighs one).
    pub(crate) elements: Option<u64>,
    /// Whether the data is already on a device.
    pub(crate) on_device: bool,
    /// `elements` as a float, converted once: the planner weighs it several times a call.
    count: f64,
}

/// The fewest seconds any hardware GPU has been seen to take from nothing to a ready context
/// (instance, adapters, device, kernels); an H100 took 0.22 s. Work the CPU finishes sooner
/// never looks for a GPU.
pub(crate) const OPEN_FLOOR: f64 = 0.05;

impl Work {
    pub(crate) fn new(dtype: Option<Dtype>, elements: Option<u128>, on_device: bool) -> Self {
        let elements = elements.map(|n| u64::try_from(n).unwrap_or(u64::MAX));
        Self {
            dtype,
            elements,
            on_device,
            count: elements.unwrap_or(0) as f64,
        }
    }

    /// Bytes of array data, or 0 for a range.
    pub(crate) fn bytes(&self) -> f64 {
        self.count * self.dtype.map_or(0, Dtype::size) as f64
    }
}

impl Rates {
    /// Seconds to sum `work` where it lives (or where a range is generated).
    pub(crate) fn seconds(&self, work: &Work) -> f64 {
        let elements = work.count;
        let busy = match work.dtype {
            None => elements / self.range,
            Some(Dtype::F32) => elements / self.f32,
            Some(Dtype::F64) => elements / self.f64,
            Some(_) => work.bytes() / self.ints,
        };
        self.call + busy
    }

    /// The defaults for the CPU twin with `isa` on `threads` threads. Vector units shared by
    /// hyperthreads and the memory bus keep the pool below `threads` times one thread: 16
    /// threads of an H100's host summed ranges 10 times as fast as one, and read arrays at most
    /// 1e11 bytes/s.
    pub(crate) fn cpu(isa: Isa, threads: usize) -> Self {
        // One thread of the CI-class Xeon: 2.7e10 (AVX-512), 1.6e10 (AVX2), 6.9e9 (SSE2).
        let range_per_thread = match isa {
            Isa::Avx512 => 2.5e10,
            Isa::Avx2 => 1.5e10,
            Isa::Sse2 | Isa::Neon => 6.0e9,
            Isa::Scalar => 1.5e9,
        };
        // Exact floats: where the float lanes run (AVX-512, AVX2), one thread of an AVX2-only
        // EPYC summed f32 at 2.2e9 to 2.7e9 and f64 at 1.6e9 to 2.2e9 values/s; through the
        // bins, the CI-class Xeon's thread 1.1e9 and 8.6e8, an H100's host half that.
        let (f32_per_thread, f64_per_thread) = match isa {
            Isa::Avx512 | Isa::Avx2 => (2.0e9, 1.5e9),
            Isa::Sse2 | Isa::Neon | Isa::Scalar => (8.0e8, 6.0e8),
        };
        let threads = threads.max(1) as f64;
        let effective = threads.min(2.0) + (threads - 2.0).max(0.0) * 0.6;
        Self {
            range: range_per_thread * effective,
            // One thread of the CI-class Xeon read i64 arrays at 9.7e9 bytes/s.
            ints: (8.0e9 * effective).min(1.0e11),
            f32: f32_per_thread * effective,
            f64: f64_per_thread * effective,
            // rayon wakes its pool for every call; one thread starts at once.
            call: if threads > 1.0 { 3.0e-5 } else { 2.0e-7 },
        }
    }
}

impl GpuRates {
    /// The defaults for an adapter of `device_type`: a discrete GPU rounded down from an H100's
    /// figures, an integrated one from published bandwidths a tenth of that.
    pub(crate) fn for_device_type(device_type: wgpu::DeviceType) -> Self {
        use wgpu::DeviceType::*;
        match device_type {
            DiscreteGpu => Self {
                sums: Rates {
                    range: 2.0e12,
                    ints: 1.0e12,
                    f32: 2.0e10,
                    f64: 1.0e10,
                    call: 1.5e-4,
                },
                upload: 1.0e10,
                open: 0.25,
            },
            Cpu => Self {
                sums: Rates {
                    range: 5.0e9,
                    ints: 5.0e9,
                    f32: 5.0e8,
                    f64: 3.0e8,
                    call: 3.0e-4,
                },
                upload: 5.0e9,
                open: 0.03,
            },
            IntegratedGpu | VirtualGpu | Other => Self {
                sums: Rates {
                    range: 3.0e11,
                    ints: 6.0e10,
                    f32: 5.0e9,
                    f64: 2.0e9,
                    call: 1.5e-4,
                },
                upload: 1.5e10,
                open: 0.15,
            },
        }
    }

    /// The fastest any current GPU could be: what the planner weighs the CPU against before it
    /// has looked for an adapter (an H200 reads 4.8e12 bytes/s; a PCIe 5 link moves 5e10).
    pub(crate) const CEILING: GpuRates = GpuRates {
        sums: Rates {
            range: 5.0e12,
            ints: 4.8e12,
            f32: 1.2e12,
            f64: 6.0e11,
            call: 5.0e-5,
        },
        upload: 5.0e10,
        open: OPEN_FLOOR,
    };

    /// Seconds to sum `work` on this GPU: opening it unless `open` already, and uploading host
    /// data (which the ring overlaps with the kernels).
    pub(crate) fn seconds(&self, work: &Work, open: bool) -> f64 {
        let on_device = self.sums.seconds(work);
        let upload = if work.on_device || work.dtype.is_none() {
            0.0
        } else {
            self.sums.call + work.bytes() / self.upload
        };
        let opening = if open { 0.0 } else { self.open };
        opening + on_device.max(upload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_grow_with_the_work_and_pay_the_opening_once() {
        let gpu = GpuRates::for_device_type(wgpu::DeviceType::DiscreteGpu);
        let small = Work::new(None, Some(20), false);
        let large = Work::new(None, Some(1 << 40), false);
        assert!(gpu.seconds(&small, false) > gpu.open);
        assert!(gpu.seconds(&small, true) < 1e-3);
        assert!(gpu.seconds(&large, true) > gpu.seconds(&small, true));
        // Host data pays the upload; data on the device does not.
        let host = Work::new(Some(Dtype::I64), Some(1 << 27), false);
        let device = Work::new(Some(Dtype::I64), Some(1 << 27), true);
        assert!(gpu.seconds(&host, true) > 10.0 * gpu.seconds(&device, true));
        let cpu = Rates::cpu(Isa::Avx2, 16);
        assert!(cpu.range > Rates::cpu(Isa::Avx2, 1).range * 9.0);
        assert!(cpu.ints <= 1.0e11);
    }
}
