//! Requests that sum along axes or by key: checked when planned (axes, key types, lengths), so
//! that a bad one fails before any work, then run chunk by chunk on the CPU twin or a GPU into
//! one exact total per output ([`Outputs`]).

use super::{Engine, Outcome, Place, Plan, Reduce, Request, Source};
use crate::Error;
use crate::array::{ByteOrder, Dtype};
use crate::control::Control;
use crate::cpu::{CpuTwin, Threads};
use crate::engine::ArrayBytes;
use crate::engine::strided::Gather;
use crate::gpu::ring::{Chunks, Feed};
use crate::reduce::keys::KeyTable;
use crate::reduce::outputs::Outputs;
use crate::reduce::sums::Sums;
use crate::reduce::walk::{StreamAxis, Walk, resolve_axes};

/// Elements read at a time from each of a sum by key's two streams.
const KEY_CHUNK_ELEMENTS: usize = 1 << 20;

/// An array's shape, and its axes in the order its elements stream in.
type Shaped = (Vec<u64>, Vec<StreamAxis>);

/// A source's shape and stream order; `None` for a stream of unknown length (one axis).
fn shape_of(source: &Source<'_>) -> Result<Option<Shaped>, Error> {
    let flat = |len: u64| Some((vec![len], StreamAxis::of_shape(&[len], false)));
    Ok(match source {
        Source::Range(_) => {
            return Err(Error::InvalidAxis {
                reason: "a range has no axes to sum along: sum it whole".into(),
            });
        }
        Source::Array(array) => flat(array.len()),
        Source::Strided(view) => {
            let shape: Vec<u64> = view.shape().iter().map(|&len| len as u64).collect();
            Some((shape, view.stream_axes()))
        }
        Source::Reader(reader) => match (reader.shape(), reader.format().count) {
            (Some(shape), _) => {
                let stream = StreamAxis::of_shape(&shape.dims, shape.fortran_order);
                Some((shape.dims, stream))
            }
            (None, Some(count)) => flat(count),
            (None, None) => None,
        },
        Source::Device(array) => match array.shape() {
            Some(shape) => Some((shape.to_vec(), StreamAxis::of_shape(shape, false))),
            None => flat(array.len()),
        },
        Source::Buffer(slice) => flat(slice.len),
    })
}

/// The walk of a sum of `source` along `axes`; `None` where every axis is summed (one output,
/// which the whole-array path sums, stream of unknown length included), with the outputs' shape.
fn walk_of(source: &Source<'_>, axes: &[i64]) -> Result<(Option<Walk>, Vec<u64>), Error> {
    let Some((shape, stream)) = shape_of(source)? else {
        let reduced = resolve_axes(axes, 1)?;
        if reduced.is_empty() {
            return Err(Error::InvalidAxis {
                reason: format!(
                    "the length of {} is not known ahead, so its elements cannot each be an \
                     output; sum along axis 0",
                    source_name(source)
                ),
            });
        }
        return Ok((None, Vec::new()));
    };
    let reduced = resolve_axes(axes, shape.len())?;
    let walk = Walk::new(&stream, &reduced);
    let shape = walk.out_shape.clone();
    Ok(((walk.outputs != 1).then_some(walk), shape))
}

fn source_name(source: &Source<'_>) -> String {
    match source {
        Source::Reader(reader) => reader.name().to_owned(),
        _ => "the array".into(),
    }
}

/// Checks a sum by key before it runs: integer keys, as many as values where both are known,
/// and keys and values that stream in the same order.
fn check_keys(values: &Source<'_>, keys: &Source<'_>) -> Result<(), Error> {
    let Some(dtype) = keys.dtype() else {
        return Err(Error::InvalidArray {
            reason: "the keys of a sum by key must be an array, not a range".into(),
        });
    };
    if dtype.is_float() {
        return Err(Error::KeyType { dtype });
    }
    if values.dtype().is_none() {
        return Err(Error::InvalidArray {
            reason: "a sum by key sums an array, not a range".into(),
        });
    }
    if let (Some(keys), Some(values)) = (keys.count(), values.count())
        && keys != values
    {
        return Err(Error::KeyCount {
            keys: keys as u64,
            values: values as u64,
        });
    }
    in_c_order(values)?;
    in_c_order(keys)
}

/// Refuses a stream whose elements do not come in C order: a Fortran-order .npy file of more
/// than one axis.
fn in_c_order(source: &Source<'_>) -> Result<(), Error> {
    if let Source::Reader(reader) = source
        && let Some(shape) = reader.shape()
        && shape.fortran_order
        && shape.dims.iter().filter(|&&n| n > 1).count() > 1
    {
        return Err(Error::InvalidArray {
            reason: format!(
                "{} is in Fortran order, so its elements do not come in the order of their keys; \
                 a sum by key pairs them in C order (save it with np.ascontiguousarray)",
                reader.name()
            ),
        });
    }
    Ok(())
}

impl Request<'_> {
    /// How many outputs a sum along axes has, once its source's shape is known (`None` for a
    /// sum by key, whose keys tell only as they are read, and for a whole sum).
    ///
    /// # Errors
    /// [`Error::InvalidAxis`] for axes the source does not have.
    pub fn outputs(&self) -> Result<Option<u64>, Error> {
        match &self.reduce {
            Reduce::Axes(axes) => {
                let (walk, _) = walk_of(&self.source, axes)?;
                Ok(Some(walk.map_or(1, |walk| walk.outputs)))
            }
            _ => Ok(None),
        }
    }
}

impl Engine {
    /// What can be refused before a grouped request runs.
    pub(super) fn check_reduce(source: &Source<'_>, reduce: &Reduce<'_>) -> Result<(), Error> {
        match reduce {
            Reduce::All => Ok(()),
            Reduce::Axes(axes) => walk_of(source, axes).map(|_| ()),
            Reduce::ByKey(keys) => check_keys(source, keys),
        }
    }

    /// Runs a sum along axes or by key where `plan` says; with `check`, the CPU twin sums each
    /// chunk of host data a second time (see [`checker`]).
    pub(super) async fn run_grouped(
        &self,
        source: &mut Source<'_>,
        reduce: &mut Reduce<'_>,
        check: bool,
        plan: &Plan,
        control: &Control<'_>,
    ) -> Result<Outcome, Error> {
        let dtype = source.dtype().expect("checked when planned");
        let checker = checker(plan, check && !source.on_device());
        let (outputs, checked) = match reduce {
            Reduce::All => unreachable!("whole sums take the other path"),
            Reduce::Axes(axes) => {
                let (walk, shape) = walk_of(source, axes)?;
                let Some(walk) = walk else {
                    // One output: the whole-array sum, in place where the elements are one block.
                    let mut block = match source {
                        Source::Strided(view) => view.contiguous().map(Source::Array),
                        _ => None,
                    };
                    let source = block.as_mut().unwrap_or(source);
                    let whole = Box::pin(self.run_all(source, check, plan, control)).await?;
                    let one = |total: &crate::ArrayTotal| {
                        let mut sums = Sums::new(dtype, 1);
                        sums.add_total(0, total);
                        Outputs::along(dtype, shape.clone(), sums, total.count())
                    };
                    let checked = whole.cpu_check.as_ref().map(one);
                    return grouped_outcome(one(&whole.total), checked, plan);
                };
                let (sums, checked) = match plan.place {
                    Place::Gpu => {
                        self.along_gpu(source, &walk, dtype, checker, control)
                            .await?
                    }
                    _ => {
                        self.along_cpu(source, &walk, dtype, plan, checker, control)
                            .await?
                    }
                };
                let outputs = |sums| Outputs::along(dtype, shape.clone(), sums, walk.per_output);
                (outputs(sums), checked.map(outputs))
            }
            Reduce::ByKey(keys) => {
                let (table, checked) = match plan.place {
                    Place::Gpu => self.by_key_gpu(source, keys, checker, control).await?,
                    _ => {
                        self.by_key_cpu(source, keys, plan, checker, control)
                            .await?
                    }
                };
                (table.into_outputs(), checked.map(KeyTable::into_outputs))
            }
        };
        grouped_outcome(outputs, checked, plan)
    }

    /// A sum along axes on the CPU twin: in memory as one block, a stream chunk by chunk.
    async fn along_cpu(
        &self,
        source: &mut Source<'_>,
        walk: &Walk,
        dtype: Dtype,
        plan: &Plan,
        checker: Option<CpuTwin>,
        control: &Control<'_>,
    ) -> Result<(Sums, Option<Sums>), Error> {
        let twin = twin_of(plan);
        let mut sums = Sums::new(dtype, walk.outputs as usize);
        let mut checked = checker.map(|_| Sums::new(dtype, walk.outputs as usize));
        let mut gather = None;
        let (feed, chunk_bytes) = stream_feed(source, &mut gather, self.cpu_chunk_bytes)?;
        let mut chunks = Chunks::new(feed);
        let mut first = 0u64;
        let quiet = control.without_progress();
        loop {
            control.check()?;
            let chunk = chunks.next(chunk_bytes).await?;
            if chunk.is_empty() {
                return Ok((sums, checked));
            }
            add_chunk(&twin, walk, dtype, chunk, first, &mut sums, &quiet)?;
            if let (Some(other), Some(checked)) = (&checker, &mut checked) {
                add_chunk(other, walk, dtype, chunk, first, checked, &quiet)?;
            }
            first += (chunk.len() / dtype.size()) as u64;
            control.report(u128::from(first), u128::from(walk.elements));
        }
    }

    /// A sum by key on the CPU twin: in memory at once, streams in lockstep chunks.
    async fn by_key_cpu(
        &self,
        values: &mut Source<'_>,
        keys: &mut Source<'_>,
        plan: &Plan,
        checker: Option<CpuTwin>,
        control: &Control<'_>,
    ) -> Result<(KeyTable, Option<KeyTable>), Error> {
        let twin = twin_of(plan);
        let value_dtype = values.dtype().expect("checked when planned");
        let key_dtype = keys.dtype().expect("checked when planned");
        let mut table = KeyTable::new(key_dtype, value_dtype);
        let mut checked = checker.map(|_| KeyTable::new(key_dtype, value_dtype));
        let mut add = |k: ArrayBytes<'_>, v: ArrayBytes<'_>, control: &Control<'_>| {
            twin.add_by_key(k, v, &mut table, control)?;
            if let (Some(other), Some(checked)) = (&checker, &mut checked) {
                other.add_by_key(k, v, checked, control)?;
            }
            Ok::<_, Error>(())
        };
        if let (Some(k), Some(v)) = (in_memory(keys), in_memory(values)) {
            add(k, v, control)?;
            control.report(u128::from(v.len()), u128::from(v.len()));
            return Ok((table, checked));
        }
        let total = values.count().unwrap_or(0);
        let (mut key_gather, mut value_gather) = (None, None);
        let key_feed = c_order_feed(keys, &mut key_gather)?;
        let value_feed = c_order_feed(values, &mut value_gather)?;
        let (mut key_chunks, mut value_chunks) = (Chunks::new(key_feed), Chunks::new(value_feed));
        let (mut read_keys, mut read_values) = (0u64, 0u64);
        let quiet = control.without_progress();
        loop {
            control.check()?;
            let k = key_chunks
                .next(KEY_CHUNK_ELEMENTS * key_dtype.size())
                .await?;
            let v = value_chunks
                .next(KEY_CHUNK_ELEMENTS * value_dtype.size())
                .await?;
            let k = ArrayBytes::new(k, key_dtype, ByteOrder::Little)?;
            let v = ArrayBytes::new(v, value_dtype, ByteOrder::Little)?;
            read_keys += k.len();
            read_values += v.len();
            if k.len() != v.len() {
                return Err(Error::KeyCount {
                    keys: read_keys,
                    values: read_values,
                });
            }
            if v.is_empty() {
                return Ok((table, checked));
            }
            add(k, v, &quiet)?;
            control.report(u128::from(read_values), total);
        }
    }
}

/// The outcome of a grouped request: its outputs, their whole, and the check's.
fn grouped_outcome(
    outputs: Outputs,
    checked: Option<Outputs>,
    plan: &Plan,
) -> Result<Outcome, Error> {
    let total = outputs.whole()?;
    let cpu_check = checked.as_ref().map(Outputs::whole).transpose()?;
    Ok(Outcome {
        outputs: Some(outputs),
        cpu_check,
        cpu_check_outputs: checked,
        ..Outcome::new(total, plan.clone())
    })
}

/// Adds a chunk of the stream (little-endian, whole elements from stream element `first`) along
/// `walk` to `sums`.
pub(super) fn add_chunk(
    twin: &CpuTwin,
    walk: &Walk,
    dtype: Dtype,
    chunk: &[u8],
    first: u64,
    sums: &mut Sums,
    control: &Control<'_>,
) -> Result<(), Error> {
    let len = (chunk.len() / dtype.size()) as u64;
    for block in walk.blocks(first, len.min(walk.elements - first)) {
        twin.add_block(
            dtype,
            ByteOrder::Little,
            chunk,
            first,
            &block,
            sums,
            control,
        )?;
    }
    Ok(())
}

/// The twin that checks a grouped request, where it asked for a check: the other threads (one
/// against the pool) after a CPU sum, the pool after a GPU one.
pub(super) fn checker(plan: &Plan, check: bool) -> Option<CpuTwin> {
    check.then(|| {
        CpuTwin::new(match plan.place {
            Place::Cpu => Threads::One,
            _ => Threads::All,
        })
    })
}

/// The twin a CPU plan sums on.
fn twin_of(plan: &Plan) -> CpuTwin {
    CpuTwin::new(if plan.place == Place::Seq {
        Threads::One
    } else {
        Threads::All
    })
}

/// A chunk size that hands out all of `array` at once.
fn whole(array: &ArrayBytes<'_>) -> usize {
    array.bytes().len().next_multiple_of(16).max(16)
}

/// A view's elements in place, where they are one block in C order walked forwards.
fn in_memory_view<'a>(view: &crate::engine::StridedBytes<'a>) -> Option<ArrayBytes<'a>> {
    let forwards = view
        .stream_axes()
        .iter()
        .filter(|s| s.len > 1)
        .map(|s| s.axis)
        .is_sorted();
    let reversed = view.stream_axes().iter().any(|s| s.reversed);
    view.contiguous().filter(|_| forwards && !reversed)
}

/// A source's elements in place, in C order, where they are in host memory that way.
fn in_memory<'a>(source: &Source<'a>) -> Option<ArrayBytes<'a>> {
    match source {
        Source::Array(array) => Some(*array),
        Source::Strided(view) => in_memory_view(view),
        _ => None,
    }
}

/// The feed of a sum along axes: a source's host elements in stream order (see
/// `StridedBytes::stream_axes`), and the chunk size to read them in: all of an array in memory at
/// once, `chunk_bytes` of a stream or a gather (which `gather` holds).
pub(super) fn stream_feed<'s, 'a>(
    source: &'s mut Source<'a>,
    gather: &'s mut Option<Gather<'a>>,
    chunk_bytes: usize,
) -> Result<(Feed<'s>, usize), Error> {
    match source {
        Source::Array(array) => Ok((Feed::Slice(*array), whole(array))),
        Source::Strided(view) => match view.contiguous() {
            Some(block) => Ok((Feed::Slice(block), whole(&block))),
            None => Ok((Feed::Reader(gather.insert(view.gather())), chunk_bytes)),
        },
        Source::Reader(reader) => Ok((Feed::Reader(&mut **reader), chunk_bytes)),
        Source::Device(_) | Source::Buffer(_) => Err(Error::InvalidArray {
            reason: "the data is on a GPU: the CPU cannot read it there".into(),
        }),
        Source::Range(_) => unreachable!("refused when planned"),
    }
}

/// The feed of a sum by key: a source's host elements in C order, as keys and values pair up.
pub(super) fn c_order_feed<'s, 'a>(
    source: &'s mut Source<'a>,
    gather: &'s mut Option<Gather<'a>>,
) -> Result<Feed<'s>, Error> {
    match source {
        Source::Strided(view) => Ok(match in_memory_view(view) {
            Some(block) => Feed::Slice(block),
            None => Feed::Reader(gather.insert(view.gather_c_order())),
        }),
        Source::Device(_) | Source::Buffer(_) => Err(Error::InvalidArray {
            reason: "a sum by key reads its keys and values from host memory or a file; this \
                     one is on a GPU"
                .into(),
        }),
        _ => stream_feed(source, gather, 0).map(|(feed, _)| feed),
    }
}
