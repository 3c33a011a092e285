"""Exact sums of Dask arrays: ``gpusum.dask.sum(x)``, bit for bit ``gpusum.sum`` of the whole
array, whatever the chunking and the cluster.

Each block is summed exactly on its worker, on that process's default gpusum engine (opened once
per process, on its GPU where the planner says so), into an exact accumulator (``ExactSum``,
``ExactFloatSum``), which pickles to travel between workers; the combine steps merge
accumulators, which is exact in any order, and the last step rounds once. Needs the ``dask``
extra: ``pip install ./python[dask]``.

    >>> import dask.array as da, numpy as np, gpusum.dask
    >>> x = da.from_array(np.array([1e308, 1.0, -1e308] * 3), chunks=2)
    >>> float(gpusum.dask.sum(x).compute())
    3.0
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence, Union

import dask.array as da
import numpy as np

from . import ExactFloatSum, ExactSum
from . import sum as exact_sum

Accumulator = Union[ExactSum, ExactFloatSum]
Axis = Union[None, int, Sequence[int]]

__all__ = ["sum"]


def sum(x: Any, axis: Axis = None, *, split_every: int | None = None) -> da.Array:
    """The exact sum of the Dask array ``x``, whole or along ``axis`` (numpy's axes), as a lazy
    Dask array; ``.compute()`` gives what ``gpusum.sum`` gives for the whole array: Python ints
    (in an object array) for integers and bools, the input's float type for floats.
    ``split_every`` is Dask's fan-in of the combine steps."""
    x = da.asarray(x)  # type: ignore[no-untyped-call]
    kind = np.dtype(x.dtype)
    if kind.kind not in "biuf" or (kind.kind == "f" and kind.itemsize not in (4, 8)):
        raise TypeError(f"gpusum sums integers, bools, float32 and float64, not {kind}")
    floats = kind.kind == "f"
    whole = axis is None
    reduced: da.Array = da.reduction(  # type: ignore[no-untyped-call]
        x,
        chunk=_chunk_whole if whole else _chunk_along,
        combine=_combine,
        aggregate=_aggregate,
        axis=axis,
        keepdims=False,
        dtype=kind if floats else np.dtype(object),
        split_every=split_every,
        concatenate=False,
        meta=np.empty((0,) * (0 if whole else 1), dtype=kind if floats else object),
    )
    return reduced


def _accumulator(kind: np.dtype[Any]) -> Accumulator:
    return ExactFloatSum(kind) if kind.kind == "f" else ExactSum()


def _chunk_whole(block: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """One block's exact accumulator, in an object array with the reduced axes kept."""
    total = _accumulator(block.dtype)
    total.add(block)
    return _holding(total, (1,) * block.ndim)


def _chunk_along(block: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """One accumulator per output of the block: integers' exact sums are Python ints already
    (they add exactly); floats get an ``ExactFloatSum`` per output."""
    if block.dtype.kind != "f":
        return np.asarray(exact_sum(block, axis=axis, keepdims=True), dtype=object)
    kept = [a for a in range(block.ndim) if a not in axis]
    rows = np.moveaxis(block, kept + list(axis), range(block.ndim))
    shape = tuple(block.shape[a] for a in kept)
    rows = rows.reshape(int(np.prod(shape, dtype=np.int64)), -1)
    out = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        out[i] = _accumulator(block.dtype)
        out[i].add(row)
    return np.expand_dims(out.reshape(shape), axis)


def _combine(parts: Any, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Merges the parts' accumulators output by output (exact, in any order)."""
    blocks = list(_flatten(parts))
    merged = np.empty(blocks[0].shape, dtype=object)
    for index in np.ndindex(merged.shape):
        merged[index] = _merge(block[index] for block in blocks)
    return merged


def _aggregate(parts: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """The merged accumulators, each rounded once: what ``gpusum.sum`` gives."""
    merged = _combine(parts, axis, keepdims)
    values = np.empty(merged.shape, dtype=object)
    for index in np.ndindex(merged.shape):
        total = merged[index]
        values[index] = total.value if isinstance(total, (ExactSum, ExactFloatSum)) else total
    values = values.squeeze(axis)
    if values.ndim == 0:
        return values[()]
    first = values.flat[0] if values.size else None
    if isinstance(first, (float, np.floating)):
        # float64 sums are Python floats, float32 sums numpy.float32s: the input's type.
        return np.asarray(values.tolist(), dtype=np.asarray(first).dtype)
    return values


def _merge(totals: Iterable[Any]) -> Any:
    merged: Any = None
    for total in totals:
        if merged is None:
            merged = _copy(total)
        elif isinstance(merged, (ExactSum, ExactFloatSum)):
            merged.merge(total)
        else:
            merged = merged + total
    return merged


def _copy(total: Any) -> Any:
    """A copy to merge into: the parts may be a scheduler's own objects, shared between tasks."""
    if isinstance(total, ExactSum):
        return ExactSum.from_bytes(total.to_bytes())
    if isinstance(total, ExactFloatSum):
        return ExactFloatSum.from_bytes(total.to_bytes())
    return total


def _holding(total: Accumulator, shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    out.flat[0] = total
    return out


def _flatten(parts: Any) -> Iterable[np.ndarray]:
    if isinstance(parts, np.ndarray):
        yield parts
    else:
        for part in parts:
            yield from _flatten(part)
