//! A request on the CPU twin: one thread or the pool, as the plan says, with the check by the
//! twin's other path where asked for.

use super::{Engine, Outcome, Place, Plan, Source};
use crate::Error;
use crate::control::Control;
use crate::cpu::{CpuTwin, Threads};

impl Engine {
    pub(super) async fn run_cpu(
        &self,
        source: &mut Source<'_>,
        check: bool,
        plan: Plan,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        let threads = match plan.place {
            Place::Seq => Threads::One,
            _ => Threads::All,
        };
        let twin = CpuTwin::new(threads);
        let other = CpuTwin::new(match threads {
            Threads::One => Threads::All,
            _ => Threads::One,
        });
        let mut outcome = Outcome::new(source.dtype(), plan);
        match source {
            Source::Range(range) => {
                let sum = twin.sum_range(*range, control)?;
                let count = u64::try_from(range.count()).map_err(|_| Error::TooManyElements)?;
                outcome.total = crate::ArrayTotal::Int(crate::ExactIntSum::from_parts(sum, count)?);
            }
            Source::Array(array) => {
                outcome.total = twin.sum_array(*array, control)?;
                if check {
                    outcome.cpu_check = Some(other.sum_array(*array, &control.without_progress())?);
                }
            }
            Source::Reader(reader) => {
                let (sum, checked) = twin
                    .sum_stream(&mut **reader, self.cpu_chunk_bytes, check, control)
                    .await?;
                outcome.total = sum;
                outcome.cpu_check = checked;
            }
            Source::Device(_) | Source::Buffer(_) => {
                return Err(Error::InvalidArray {
                    reason: "the data is on a GPU: the CPU cannot read it there".into(),
                });
            }
        }
        Ok(outcome)
    }
}
