//! Exact totals over your own MPI communicator, with `gpusum::mpi`: run it as
//! `mpiexec -n 4 target/release/examples/mpi_reduce` (build with `--features mpi`).
//!
//! Each rank sums its share of an array whose cancellation spans ranks (1e308 on the first,
//! -1e308 on the last, small values between), then reduces and all-reduces the exact f64
//! accumulators; rank 0 checks the bits against one process's sum of the whole array and
//! prints the median time of a reduce, the merge cost of going past one process.

use std::time::{Duration, Instant};

use gpusum::mpi::{self as exact, Communicator as _};
use gpusum::{ArrayTotal, Control, ExactFloatSum};

fn values(len: usize) -> Vec<f64> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut values: Vec<f64> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    values[0] = 1e308;
    values[len - 1] = -1e308;
    values
}

fn main() -> Result<(), gpusum::Error> {
    let universe = exact::rsmpi::initialize().expect("MPI initializes once");
    let world = universe.world();
    let (rank, ranks) = (world.rank() as usize, world.size() as usize);
    let all = values(100_003);
    let share = exact::share(all.len() as u128, rank, ranks);
    let mut mine = ExactFloatSum::<f64>::new();
    mine.add_slice(&all[share.start as usize..share.end as usize])?;
    let mine = ArrayTotal::F64(mine);
    let control = Control::new().with_timeout(Duration::from_secs(30));

    let reduced = exact::reduce(&world, 0, &mine, &control)?;
    let everywhere = exact::all_reduce(&world, &mine, &control)?;
    let mut whole = ExactFloatSum::<f64>::new();
    whole.add_slice(&all)?;
    let whole = ArrayTotal::F64(whole);
    assert_eq!(everywhere, whole, "rank {rank}: all_reduce differs");

    let mut times = Vec::new();
    for _ in 0..200 {
        // In step: each call times the merge, not a rank still finishing the previous one.
        exact::all_reduce(&world, &gpusum::ExactIntSum::new(), &control)?;
        let started = Instant::now();
        exact::reduce(&world, 0, &mine, &control)?;
        times.push(started.elapsed());
    }
    if let Some(reduced) = reduced {
        assert_eq!(reduced, whole, "reduce differs from one process's sum");
        times.sort();
        let median = times[times.len() / 2].as_secs_f64() * 1e6;
        println!("sum {reduced} over {ranks} ranks: the same bits as one process");
        println!("reduce of {ranks} f64 accumulators: median {median:.1} µs over 200 calls");
    }
    Ok(())
}
