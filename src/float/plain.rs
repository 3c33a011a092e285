//! Plain float sums: float additions in sixteen lanes, as a vectorizing compiler likes them. They
//! are neither exact nor reproducible (the lanes, the split across threads and the final
//! additions each round); they are the yardstick `gpusum bench --workload float` sets the exact
//! sums beside, so users see what exactness costs.

use rayon::prelude::*;

use super::ExactFloat;
use crate::Error;
use crate::control::Control;

/// Values one thread adds between checks of the control (and the unit of a parallel split).
const PIECE_VALUES: usize = 1 << 16;

/// Independent accumulators: enough to keep a vector unit's adds in flight.
const LANES: usize = 16;

/// The plain sum of `values`, on every rayon thread if `parallel`. Every value is added (the data
/// comes from memory, so no compiler can fold it), in an order that depends on the split.
///
/// # Errors
/// [`Error::Cancelled`] or [`Error::Timeout`] from `control`.
pub fn plain_sum<T>(values: &[T], parallel: bool, control: &Control) -> Result<T, Error>
where
    T: ExactFloat + std::ops::Add<Output = T> + Default + Send + Sync,
{
    let piece = |values: &[T]| -> Result<T, Error> {
        control.check()?;
        Ok(lanes_sum(values))
    };
    if parallel && crate::cpu::HAS_THREADS {
        values
            .par_chunks(PIECE_VALUES)
            .map(piece)
            .try_reduce(T::default, |a, b| Ok(a + b))
    } else {
        values
            .chunks(PIECE_VALUES)
            .try_fold(T::default(), |sum, values| Ok(sum + piece(values)?))
    }
}

fn lanes_sum<T: Copy + std::ops::Add<Output = T> + Default>(values: &[T]) -> T {
    let mut lanes = [T::default(); LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &value) in lanes.iter_mut().zip(chunk) {
            *lane = *lane + value;
        }
    }
    let tail = chunks.remainder().iter().fold(T::default(), |a, &b| a + b);
    lanes.into_iter().fold(tail, |a, b| a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_every_value_on_one_thread_and_many() {
        let values: Vec<f64> = (1..=100_003).map(f64::from).collect();
        let exact = 100_003.0 * 100_004.0 / 2.0;
        let control = Control::new();
        assert_eq!(plain_sum(&values, false, &control).unwrap(), exact);
        assert_eq!(plain_sum(&values, true, &control).unwrap(), exact);
        let small: Vec<f32> = vec![0.5; 37];
        assert_eq!(plain_sum(&small, false, &control).unwrap(), 18.5);
        assert_eq!(plain_sum::<f32>(&[], true, &control).unwrap(), 0.0);
    }
}
