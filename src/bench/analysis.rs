//! What the points say together: speedups, crossovers, shares of each device's peak, and flags
//! on measurements that cannot be honest work.

use super::backend::{Backend, BackendId};
use super::report::{Crossover, Flag, Peak, PeakFraction, Row};
use super::{BenchError, BenchOptions, Event};
use crate::control::Control;
use crate::cpu::Isa;
use crate::gpu::adapter_label;
use crate::kernel::ShaderVariant;
use crate::peak::{GpuPeak, PeakMeasurement, Threads, cpu_peak};

/// Each row's speedup over `seq` and `cpu` at the same length (and for arrays, the same type;
/// for grouped sums, the same reduction).
pub(crate) fn fill_speedups(rows: &mut [Row]) {
    let median_of = |rows: &[Row], backend: &BackendId, like: &Row| {
        rows.iter()
            .find(|r| {
                &r.backend == backend
                    && r.count == like.count
                    && r.dtype == like.dtype
                    && r.method == like.method
                    && r.reduce == like.reduce
            })
            .map(|r| r.median_seconds)
    };
    let speedups: Vec<(Option<f64>, Option<f64>)> = rows
        .iter()
        .map(|row| {
            let over = |baseline: &BackendId| {
                median_of(rows, baseline, row).map(|base| base / row.median_seconds)
            };
            (over(&BackendId::Seq), over(&BackendId::Cpu))
        })
        .collect();
    for (row, (seq, cpu)) in rows.iter_mut().zip(speedups) {
        row.speedup_vs_seq = seq;
        row.speedup_vs_cpu = cpu;
    }
}

/// For each GPU series, the length from which it beat `cpu` at every length both measured.
pub(crate) fn crossovers(rows: &[Row]) -> Vec<Crossover> {
    let mut series: Vec<&Row> = Vec::new();
    for row in rows {
        if matches!(row.backend, BackendId::Gpu { .. })
            && !series.iter().any(|first| first.series == row.series)
        {
            series.push(row);
        }
    }
    series
        .into_iter()
        .map(|first| {
            // Lengths both measured, ascending, with whether the GPU won.
            let wins: Vec<(u64, bool)> = rows
                .iter()
                .filter(|row| row.series == first.series)
                .filter_map(|row| row.speedup_vs_cpu.map(|speedup| (row.count, speedup > 1.0)))
                .collect();
            let losses_after = wins.iter().rposition(|&(_, won)| !won);
            let count = match losses_after {
                None => wins.first().map(|&(count, _)| count),
                Some(last_loss) => wins.get(last_loss + 1).map(|&(count, _)| count),
            };
            Crossover {
                backend: first.backend.clone(),
                series: first.series.clone(),
                label: first.label.clone(),
                count,
                largest_common_count: wins.last().map(|&(count, _)| count),
            }
        })
        .collect()
}

pub(crate) fn peaks(
    backends: &[Backend],
    rows: &[Row],
    options: &BenchOptions,
    on_event: &mut impl FnMut(Event),
) -> Result<Vec<Peak>, BenchError> {
    let control = Control::new();
    let largest = |backend: &Backend| {
        rows.iter()
            .filter(|row| row.backend == backend.id)
            .max_by_key(|row| row.count)
    };
    let fractions = |members: &[&Backend], peak: &PeakMeasurement| {
        members
            .iter()
            .filter_map(|backend| Some((largest(backend)?, ops_per_element(backend))))
            .map(|(row, ops)| {
                let fraction = row.elements_per_second / peak.ops_per_second;
                PeakFraction {
                    backend: row.backend.clone(),
                    count: row.count,
                    fraction,
                    ops_per_element: ops,
                    ceiling_fraction: fraction * ops,
                }
            })
            .collect()
    };
    let mut peaks = Vec::new();
    for (position, backend) in backends.iter().enumerate() {
        // One peak per device: the CPU paths each, an adapter on its first backend.
        let first_on_adapter = backend.adapter_index.is_some_and(|index| {
            !backends[..position]
                .iter()
                .any(|b| b.adapter_index == Some(index))
        });
        let (device, measurement) = match (&backend.id, backend.engine.gpu()) {
            (BackendId::Seq, _) => {
                on_event(Event::Peak { device: "seq" });
                (
                    "seq".to_owned(),
                    cpu_peak(Isa::best(), Threads::One, options.peak_seconds, &control)?,
                )
            }
            (BackendId::Cpu, _) => {
                on_event(Event::Peak { device: "cpu" });
                (
                    "cpu".to_owned(),
                    cpu_peak(Isa::best(), Threads::All, options.peak_seconds, &control)?,
                )
            }
            (BackendId::Gpu { .. }, Some(context)) if first_on_adapter => {
                let adapter = adapter_label(context.adapter_info());
                on_event(Event::Peak { device: &adapter });
                let measurement = GpuPeak::new(context)?.measure(options.peak_seconds, &control)?;
                (format!("gpu:{adapter}"), measurement)
            }
            _ => continue,
        };
        let members: Vec<&Backend> = backends
            .iter()
            .filter(|b| match backend.adapter_index {
                Some(index) => b.adapter_index == Some(index),
                None => b.id == backend.id,
            })
            .collect();
        peaks.push(Peak {
            device,
            fractions: fractions(&members, &measurement),
            measurement,
        });
    }
    Ok(peaks)
}

/// u32 operations per element in each backend's inner loop; the peak over this is the backend's
/// achievable ceiling. GPU kernels, from naga's SPIR-V: emulated, an add, a compare, a select, an
/// add of the carry and the next value's add; native, the same five with three of them on 64-bit
/// values, two u32 operations each on GPUs without 64-bit ALUs. CPU twins, from their assembly:
/// the emulated algorithm with the carry tallied in one to three instructions by set.
fn ops_per_element(backend: &Backend) -> f64 {
    match backend.id {
        BackendId::Seq | BackendId::Cpu => match Isa::best() {
            Isa::Avx512 | Isa::Neon => 4.0,
            Isa::Avx2 => 5.0,
            Isa::Sse2 => 6.0,
            _ => 4.0,
        },
        BackendId::Gpu { variant, .. } => match variant {
            ShaderVariant::Emulated => 5.0,
            _ => 8.0,
        },
    }
}

/// Flags a backend that cannot have added every element:
/// - its throughput beats its device's add peak (each element needs at least one add);
/// - its time stopped growing with the length where adding every element, even at the peak rate,
///   would have taken longer. A time that is flat only because overheads dwarf the work (short
///   ranges on any GPU) is not flagged.
pub(crate) fn flags(rows: &[Row], peaks: &[Peak]) -> Vec<Flag> {
    let mut flags = Vec::new();
    // Noise only ever slows a run down, so the evidence compares a row's slowest run with the
    // peak's fastest, and fastest runs with fastest runs: a flag survives a busy machine.
    for peak in peaks {
        let fastest_peak = peak.measurement.ops_per_second_range.1;
        for fraction in &peak.fractions {
            let Some(row) = rows
                .iter()
                .find(|r| r.backend == fraction.backend && r.count == fraction.count)
            else {
                continue;
            };
            let slowest_rate = row.count as f64 / row.max_seconds;
            if slowest_rate > fastest_peak {
                flags.push(Flag {
                    backend: fraction.backend.clone(),
                    reason: format!(
                        "even its slowest run, {slowest_rate:.1e} elements/s at length {}, beats \
                         the device's fastest peak run of {fastest_peak:.1e} adds/s: the loop was \
                         probably folded",
                        row.count
                    ),
                });
            }
        }
    }
    let mut backends: Vec<&BackendId> = rows.iter().map(|r| &r.backend).collect();
    backends.dedup();
    for backend in backends {
        let fastest_peak = peaks
            .iter()
            .find(|peak| peak.fractions.iter().any(|f| &f.backend == backend))
            .map(|peak| peak.measurement.ops_per_second_range.1);
        let points: Vec<&Row> = rows.iter().filter(|r| &r.backend == backend).collect();
        let (Some(top), Some(fastest_peak)) = (points.last(), fastest_peak) else {
            continue;
        };
        // The largest point at most 1/16 of the top length.
        let Some(lower) = points.iter().rev().find(|r| r.count * 16 <= top.count) else {
            continue;
        };
        let honest_at_peak = top.count as f64 / fastest_peak;
        if top.min_seconds < 2.0 * lower.min_seconds && honest_at_peak > 2.0 * lower.min_seconds {
            flags.push(Flag {
                backend: backend.clone(),
                reason: format!(
                    "its fastest time grew only {:.2}x from length {} to {}, though adding every \
                     element at the device's fastest peak takes {:.1e} s: the loop was probably \
                     folded",
                    top.min_seconds / lower.min_seconds,
                    lower.count,
                    top.count,
                    honest_at_peak
                ),
            });
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::ShaderVariant;

    fn gpu_id() -> BackendId {
        BackendId::Gpu {
            adapter: "x".into(),
            variant: ShaderVariant::Native,
        }
    }

    fn row(backend: BackendId, count: u64, median_seconds: f64) -> Row {
        let mut row = Row::blank(backend.clone(), backend.to_string(), count);
        row.runs = 1;
        row.median_seconds = median_seconds;
        row.min_seconds = median_seconds;
        row.max_seconds = median_seconds;
        row.elements_per_second = count as f64 / median_seconds;
        row
    }

    fn peak(device: &str, ops_per_second: f64, backend: BackendId, count: u64, rate: f64) -> Peak {
        Peak {
            device: device.into(),
            measurement: PeakMeasurement::new(ops_per_second as u64, 1.0),
            fractions: vec![PeakFraction {
                backend,
                count,
                fraction: rate / ops_per_second,
                ops_per_element: 5.0,
                ceiling_fraction: 5.0 * rate / ops_per_second,
            }],
        }
    }

    #[test]
    fn flat_times_are_flagged_only_where_honest_work_could_not_be_flat() {
        let rows = vec![
            // Folded: flat at 1 ms, where 2^18 adds at 1e8/s would take 2.6 ms.
            row(BackendId::Cpu, 1 << 10, 1e-3),
            row(BackendId::Cpu, 1 << 14, 1.1e-3),
            row(BackendId::Cpu, 1 << 18, 1.2e-3),
            // Honest: linear.
            row(BackendId::Seq, 1 << 10, 1e-6),
            row(BackendId::Seq, 1 << 14, 16e-6),
            row(BackendId::Seq, 1 << 18, 256e-6),
            // Overhead-bound: flat at 0.2 ms, but 2^18 adds at 1e11/s take only 2.6 us.
            row(gpu_id(), 1 << 10, 2e-4),
            row(gpu_id(), 1 << 14, 2e-4),
            row(gpu_id(), 1 << 18, 2.1e-4),
        ];
        let peaks = [
            peak("cpu", 1e8, BackendId::Cpu, 1 << 18, 2e8),
            peak("seq", 2e9, BackendId::Seq, 1 << 18, 1e9),
            peak("gpu:x", 1e11, gpu_id(), 1 << 18, 1.2e9),
        ];
        let flags = flags(&rows, &peaks);
        let flagged: Vec<String> = flags.iter().map(|f| f.backend.to_string()).collect();
        // cpu twice: above its peak, and flat where it could not be.
        assert_eq!(flagged, ["cpu", "cpu"], "{flags:?}");
    }

    #[test]
    fn speedups_compare_the_same_reduction() {
        let mut rows = Vec::new();
        for (backend, axis_0, axis_1) in [(BackendId::Seq, 4.0, 1.0), (BackendId::Cpu, 2.0, 1.0)] {
            for (reduce, seconds) in [("axis 0", axis_0), ("axis 1", axis_1)] {
                let mut row = row(backend.clone(), 8, seconds);
                row.reduce = Some(reduce);
                rows.push(row);
            }
        }
        fill_speedups(&mut rows);
        let speedups: Vec<_> = rows.iter().map(|r| r.speedup_vs_seq).collect();
        assert_eq!(speedups, [Some(1.0), Some(1.0), Some(2.0), Some(1.0)]);
    }

    #[test]
    fn the_crossover_is_where_the_gpu_wins_from_then_on() {
        let mut rows = vec![
            row(BackendId::Cpu, 1, 1.0),
            row(BackendId::Cpu, 2, 1.0),
            row(BackendId::Cpu, 4, 1.0),
            row(BackendId::Cpu, 8, 1.0),
            row(gpu_id(), 1, 0.5),
            row(gpu_id(), 2, 2.0),
            row(gpu_id(), 4, 0.5),
            row(gpu_id(), 8, 0.25),
        ];
        fill_speedups(&mut rows);
        let crossover = crossovers(&rows);
        assert_eq!(crossover[0].count, Some(4));
        assert_eq!(crossover[0].largest_common_count, Some(8));
    }
}
