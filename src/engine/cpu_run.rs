//! A request on the CPU twin: one thread or the pool, as the plan says, with the check by the
//! twin's other path where asked for. Only a stream awaits (its reads) and a strided array goes
//! through the same chunked path; everything else runs at once, so the blocking API calls
//! [`Engine::run_cpu_now`] without building a future.

use super::{Engine, Outcome, Place, Plan, Source};
use crate::control::Control;
use crate::cpu::{CpuTwin, Threads};
use crate::{ArrayTotal, Error, ExactIntSum};

/// The twin a plan's place sums on, or (`other`) the one that checks it.
fn twin(plan: &Plan, other: bool) -> CpuTwin {
    let one = (plan.place == Place::Seq) != other;
    CpuTwin::new(if one { Threads::One } else { Threads::All })
}

impl Engine {
    /// `source` on the CPU, at once; `None` for a stream, which [`Engine::run_cpu`] awaits.
    pub(super) fn run_cpu_now(
        &self,
        source: &Source<'_>,
        check: bool,
        plan: &Plan,
        control: &Control<'_>,
    ) -> Option<Result<Outcome, Error>> {
        let sum = || -> Result<(ArrayTotal, Option<ArrayTotal>), Error> {
            match source {
                Source::Range(range) => {
                    let sum = twin(plan, false).sum_range(*range, control)?;
                    let too_long = Error::RangeTooLong {
                        count: range.count(),
                    };
                    let count = u64::try_from(range.count()).map_err(|_| too_long)?;
                    Ok((ArrayTotal::Int(ExactIntSum::from_parts(sum, count)?), None))
                }
                Source::Array(array) => {
                    let total = twin(plan, false).sum_array(*array, control)?;
                    let quiet = control.without_progress();
                    let checked = check.then(|| twin(plan, true).sum_array(*array, &quiet));
                    Ok((total, checked.transpose()?))
                }
                _ => Err(Error::InvalidArray {
                    reason: "the data is on a GPU: the CPU cannot read it there".into(),
                }),
            }
        };
        if matches!(source, Source::Reader(_) | Source::Strided(_)) {
            return None;
        }
        Some(sum().map(|(total, cpu_check)| Outcome {
            cpu_check,
            ..Outcome::new(total, plan.clone())
        }))
    }

    /// `source` on the CPU: at once, or a stream chunk by chunk.
    pub(super) async fn run_cpu(
        &self,
        source: &mut Source<'_>,
        check: bool,
        plan: &Plan,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        if let Some(result) = self.run_cpu_now(source, check, plan, control) {
            return result;
        }
        let mut gather;
        let reader: &mut dyn crate::input::ChunkRead = match source {
            Source::Reader(reader) => &mut **reader,
            Source::Strided(view) => {
                gather = view.gather();
                &mut gather
            }
            _ => unreachable!("run_cpu_now sums everything but streams and strided arrays"),
        };
        let twin = twin(plan, false);
        let stream = twin.sum_stream(reader, self.cpu_chunk_bytes, check, control);
        let (total, cpu_check) = Box::pin(stream).await?;
        Ok(Outcome {
            cpu_check,
            ..Outcome::new(total, plan.clone())
        })
    }
}
