//! Exact totals across MPI ranks (the `mpi` feature, on [rsmpi](https://docs.rs/mpi) 0.8).
//!
//! Exact partial sums merge in any order to the same bits, so summing past one machine is a
//! gather and a merge: each rank sends its total in the versioned byte format
//! ([`ExactIntSum::to_bytes`], [`ExactFloatSum::to_bytes`], [`ArrayTotal::to_bytes`]) and the root
//! merges them. Every wait here is bounded by the caller's [`Control`] (deadline and cancel flag):
//! a rank that never sends is named in [`Error::RanksSilent`] instead of hanging its peers.
//!
//! ```no_run
//! use gpusum::mpi::{self as exact, Communicator as _};
//! use gpusum::{ArrayTotal, Control};
//! use std::time::Duration;
//!
//! let universe = gpusum::mpi::rsmpi::initialize().expect("MPI starts once");
//! let world = universe.world();
//! let mut mine = gpusum::ExactFloatSum::<f64>::new();
//! mine.add([1e308, 1.0, -1e308][world.rank() as usize % 3])?;
//! let total = ArrayTotal::F64(mine);
//! let control = Control::new().with_timeout(Duration::from_secs(10));
//! if let Some(sum) = exact::reduce(&world, 0, &total, &control)? {
//!     println!("{sum}"); // on rank 0 only
//! }
//! # Ok::<(), gpusum::Error>(())
//! ```

use std::ops::Range;
use std::time::{Duration, Instant};

pub use mpi as rsmpi;
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
pub use mpi::topology::Communicator;
use mpi::topology::Rank;

use crate::{ArrayTotal, Control, Error, ExactFloat, ExactFloatSum, ExactIntSum};

/// The tag of gpusum's messages, apart from a program's own traffic on the same communicator.
const GATHER_TAG: i32 = 0x6773;
const BROADCAST_TAG: i32 = 0x6774;

/// A total that travels between ranks as bytes and merges exactly.
pub trait Mergeable: Sized {
    /// The versioned byte format.
    fn to_bytes(&self) -> Vec<u8>;
    /// Reads what [`Mergeable::to_bytes`] wrote.
    ///
    /// # Errors
    /// [`Error::InvalidAccumulator`] for bytes of another kind or version.
    fn from_bytes(bytes: &[u8]) -> Result<Self, Error>;
    /// Adds another total.
    ///
    /// # Errors
    /// As the total's own `merge`: past 2^63 - 1 elements, or totals of different kinds.
    fn merge(&mut self, other: &Self) -> Result<(), Error>;
}

impl Mergeable for ExactIntSum {
    fn to_bytes(&self) -> Vec<u8> {
        ExactIntSum::to_bytes(self)
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        ExactIntSum::from_bytes(bytes)
    }
    fn merge(&mut self, other: &Self) -> Result<(), Error> {
        ExactIntSum::merge(self, *other)
    }
}

impl<T: ExactFloat> Mergeable for ExactFloatSum<T> {
    fn to_bytes(&self) -> Vec<u8> {
        ExactFloatSum::to_bytes(self)
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        ExactFloatSum::from_bytes(bytes)
    }
    fn merge(&mut self, other: &Self) -> Result<(), Error> {
        ExactFloatSum::merge(self, other)
    }
}

impl Mergeable for ArrayTotal {
    fn to_bytes(&self) -> Vec<u8> {
        ArrayTotal::to_bytes(self)
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        ArrayTotal::from_bytes(bytes)
    }
    fn merge(&mut self, other: &Self) -> Result<(), Error> {
        ArrayTotal::merge(self, other)
    }
}

/// Every rank's `total`, merged on `root`: `Some` there, `None` on the other ranks. Each rank
/// calls it once with its own part, as for `MPI_Reduce`.
///
/// # Errors
/// [`Error::RanksSilent`] on the root when ranks sent nothing before `control`'s deadline,
/// [`Error::Cancelled`], [`Error::Timeout`] on a rank whose message was not taken in time,
/// [`Error::InvalidAccumulator`] for a rank's bytes that are not a total of the same kind.
pub fn reduce<T: Mergeable, C: Communicator>(
    comm: &C,
    root: Rank,
    total: &T,
    control: &Control<'_>,
) -> Result<Option<T>, Error> {
    let Some(parts) = gather_bytes(comm, root, &total.to_bytes(), control)? else {
        return Ok(None);
    };
    let mut merged: Option<T> = None;
    for bytes in parts {
        let part = T::from_bytes(&bytes)?;
        match &mut merged {
            Some(merged) => merged.merge(&part)?,
            None => merged = Some(part),
        }
    }
    Ok(merged)
}

/// Every rank's `total`, merged, on every rank (gathered to rank 0, merged, sent back).
///
/// # Errors
/// As for [`reduce`], on any rank.
pub fn all_reduce<T: Mergeable, C: Communicator>(
    comm: &C,
    total: &T,
    control: &Control<'_>,
) -> Result<T, Error> {
    let merged = reduce(comm, 0, total, control)?;
    let bytes = broadcast_bytes(comm, 0, merged.map(|m| m.to_bytes()), control)?;
    T::from_bytes(&bytes)
}

/// Every rank's `bytes` on `root`, in rank order (`None` on the other ranks): a gather whose
/// waits `control` bounds, and which names the ranks that sent nothing.
///
/// # Errors
/// [`Error::RanksSilent`] on the root past the deadline; [`Error::Cancelled`];
/// [`Error::Timeout`] on a rank whose message the root did not take in time.
pub fn gather_bytes<C: Communicator>(
    comm: &C,
    root: Rank,
    bytes: &[u8],
    control: &Control<'_>,
) -> Result<Option<Vec<Vec<u8>>>, Error> {
    if comm.rank() != root {
        send(comm, root, GATHER_TAG, bytes.to_vec(), control)?;
        return Ok(None);
    }
    let size = comm.size();
    let mut parts: Vec<Option<Vec<u8>>> = (0..size).map(|_| None).collect();
    parts[root as usize] = Some(bytes.to_vec());
    let mut pace = Pace::new();
    loop {
        for rank in 0..size {
            if parts[rank as usize].is_none()
                && let Some(probed) = comm
                    .process_at_rank(rank)
                    .immediate_matched_probe_with_tag(GATHER_TAG)
            {
                parts[rank as usize] = Some(probed.matched_receive_vec::<u8>().0);
            }
        }
        let silent: Vec<Rank> = (0..size).filter(|&r| parts[r as usize].is_none()).collect();
        if silent.is_empty() {
            return Ok(Some(parts.into_iter().flatten().collect()));
        }
        match pace.wait(control) {
            Err(Error::Timeout) => {
                return Err(Error::RanksSilent {
                    ranks: silent,
                    size,
                });
            }
            other => other?,
        }
    }
}

/// `bytes` from `root` (which passes `Some`) on every rank, each wait bounded by `control`.
///
/// # Errors
/// [`Error::Timeout`] when nothing came (or went) before the deadline; [`Error::Cancelled`];
/// [`Error::InvalidArray`] when the root passes `None`.
pub fn broadcast_bytes<C: Communicator>(
    comm: &C,
    root: Rank,
    bytes: Option<Vec<u8>>,
    control: &Control<'_>,
) -> Result<Vec<u8>, Error> {
    if comm.rank() == root {
        let bytes = bytes.ok_or_else(|| Error::InvalidArray {
            reason: "the root of a broadcast has nothing to send".into(),
        })?;
        for rank in (0..comm.size()).filter(|&r| r != root) {
            send(comm, rank, BROADCAST_TAG, bytes.clone(), control)?;
        }
        return Ok(bytes);
    }
    let mut pace = Pace::new();
    loop {
        if let Some(probed) = comm
            .process_at_rank(root)
            .immediate_matched_probe_with_tag(BROADCAST_TAG)
        {
            return Ok(probed.matched_receive_vec::<u8>().0);
        }
        pace.wait(control)?;
    }
}

/// This process's place among the ranks on its node (`MPI_Comm_split_type` shared), and how
/// many ranks share the node: what adapters and threads are shared by.
pub fn node_place<C: Communicator>(comm: &C) -> (usize, usize) {
    let node = comm.split_shared(comm.rank());
    (node.rank() as usize, node.size() as usize)
}

/// The part of `0..len` that rank `rank` of `ranks` takes: contiguous, in rank order, sizes
/// differing by at most one, empty where there are more ranks than elements.
#[must_use]
pub fn share(len: u128, rank: usize, ranks: usize) -> Range<u128> {
    // len < 2^64 + 1 and ranks < 2^31, so len * ranks < 2^96 fits u128.
    let at = |r: usize| len * r as u128 / ranks.max(1) as u128;
    at(rank)..at(rank + 1)
}

/// Sends `bytes` to `dest` without waiting past `control`'s deadline. A send that did not
/// finish leaves its buffer to MPI (leaked, never freed) and is reported.
fn send<C: Communicator>(
    comm: &C,
    dest: Rank,
    tag: i32,
    bytes: Vec<u8>,
    control: &Control<'_>,
) -> Result<(), Error> {
    let outcome = mpi::request::scope(|scope| {
        let mut request =
            comm.process_at_rank(dest)
                .immediate_send_with_tag(scope, &bytes[..], tag);
        let mut pace = Pace::new();
        loop {
            match request.test() {
                Ok(_) => return Ok(()),
                Err(pending) => request = pending,
            }
            if let Err(error) = pace.wait(control) {
                // SAFETY: MPI may still read the buffer: it is forgotten below, never freed.
                let _ = unsafe { request.into_raw() };
                return Err(error);
            }
        }
    });
    if outcome.is_err() {
        std::mem::forget(bytes);
    }
    outcome
}

/// Polling's pace: spins for the first 2 ms (MPI progresses only while polled, and a message
/// to a peer on the same node takes some thousand polls; a yield would give the core away for a
/// whole time slice, milliseconds), then sleeps, from 20 µs doubling up to a millisecond.
struct Pace {
    started: Instant,
    step: Duration,
}

impl Pace {
    const SPIN: Duration = Duration::from_millis(2);

    fn new() -> Self {
        Self {
            started: Instant::now(),
            step: Duration::from_micros(20),
        }
    }

    fn wait(&mut self, control: &Control<'_>) -> Result<(), Error> {
        control.check()?;
        if self.started.elapsed() < Self::SPIN {
            std::hint::spin_loop();
        } else {
            let step = self.step;
            self.step = (step * 2).min(Duration::from_millis(1));
            std::thread::sleep(control.remaining().map_or(step, |left| left.min(step)));
        }
        Ok(())
    }
}
