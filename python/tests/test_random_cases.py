"""Seeded random cases against exact oracles, the kind that found the float windows' sign bug and
the GPU's grouped-submission panic: awkward values (any finite bits, subnormals, signed zeros,
values near the largest, exact cancellation, NaN and infinities) in random views (transposed,
Fortran, negative steps, byte-swapped), summed along random axes with and without keepdims, by
random keys, and through accumulators split, pickled and merged. Fixed seeds: a failure repeats."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pytest

import gpusum
from conftest import exact_float, same_float

INTEGERS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
CASES = range(40)


def awkward_floats(rng: np.random.Generator, dtype: str, count: int) -> np.ndarray:
    """`count` values of `dtype` in blocks of one kind each, shuffled or not."""
    kind = np.dtype(dtype)
    bits = np.uint64 if kind.itemsize == 8 else np.uint32
    finfo = np.finfo(kind)
    blocks: list[np.ndarray] = []
    while sum(len(b) for b in blocks) < count:
        n = int(rng.integers(1, max(2, count // 3) + 1))
        choice = int(rng.integers(0, 7))
        if choice == 0:  # a band of binades anywhere in the range
            low = int(rng.integers(finfo.minexp - finfo.nmant, finfo.maxexp - 3))
            exponents = np.minimum(rng.integers(low, low + int(rng.integers(0, 60)) + 1, n), finfo.maxexp - 1)
            block = np.ldexp(rng.random(n) + 1.0, exponents) * rng.choice([-1.0, 1.0], n)
            block = block[np.abs(block) <= float(finfo.max)].astype(kind)
        elif choice == 1:  # any finite bits
            block = rng.integers(0, np.iinfo(bits).max, n, dtype=bits, endpoint=True).view(kind)
            block = block[np.isfinite(block)]
        elif choice == 2:  # subnormals of both signs
            block = rng.integers(0, 1 << finfo.nmant, n, dtype=bits).view(kind).copy()
            block[rng.random(n) < 0.5] *= -1
        elif choice == 3:  # zeros, some negative
            block = np.where(rng.random(n) < 0.5, -0.0, 0.0).astype(kind)
        elif choice == 4:  # near the largest, so that partial sums pass it
            block = (float(finfo.max) * (1 - rng.random(n) / 4) * rng.choice([-1.0, 1.0], n)).astype(kind)
        elif choice == 5:  # values and their negations: an exact zero under everything else
            half = awkward_floats(rng, dtype, max(1, n // 2)) if count > 4 else np.ones(1, kind)
            block = np.concatenate([half, -half])
        else:  # a rare NaN or infinity
            block = np.array([rng.choice([np.nan, np.inf, -np.inf])], kind)
            if rng.random() < 0.7:
                continue
        blocks.append(block)
    out = np.concatenate(blocks)[:count]
    if rng.random() < 0.5:
        rng.shuffle(out)
    return out


def random_values(rng: np.random.Generator, count: int) -> np.ndarray:
    if rng.random() < 0.4:
        dtype = INTEGERS[int(rng.integers(0, len(INTEGERS)))]
        info = np.iinfo(dtype)
        out = rng.integers(info.min, info.max, count, dtype=dtype, endpoint=True)
        if rng.random() < 0.3:
            out[:] = info.max if rng.random() < 0.5 else info.min
        return out
    return awkward_floats(rng, "float32" if rng.random() < 0.5 else "float64", count)


def random_view(rng: np.random.Generator, flat: np.ndarray) -> np.ndarray:
    """`flat` (or its first elements) as a 1- to 4-D view of the layouts numpy users have."""
    shape: list[int] = []
    rest = flat.size
    for _ in range(int(rng.integers(0, 4))):
        extent = min(int(rng.choice([1, 2, 3, 5, 16, 33])), rest)
        shape.append(extent)
        rest //= extent
    shape.append(rest)
    array = flat[: math.prod(shape)].reshape(shape)
    if rng.random() < 0.3:
        array = np.asfortranarray(array)
    if rng.random() < 0.4:
        array = array.transpose(rng.permutation(array.ndim))
    if rng.random() < 0.4:
        array = array[tuple(slice(None, None, int(rng.choice([1, 2, -1, -3]))) for _ in shape)]
    if rng.random() < 0.2:
        array = array.astype(array.dtype.newbyteorder())
    return array


def exact(values: np.ndarray) -> Any:
    if values.dtype.kind == "f":
        return exact_float(values.tolist(), values.dtype)
    return sum(int(v) for v in values.tolist())


def same(got: Any, want: Any) -> bool:
    if isinstance(want, float):
        return same_float(got, want)
    return type(got) is int and got == want


@pytest.mark.parametrize("seed", CASES)
def test_random_views_along_random_axes(engine: gpusum.Engine, seed: int) -> None:
    rng = np.random.default_rng(seed)
    array = random_view(rng, random_values(rng, int(rng.integers(1, 3000))))
    roll = rng.random()
    if roll < 0.25:
        axes = tuple(range(array.ndim))
        axis: Any = None
    elif roll < 0.6:
        axis = int(rng.integers(-array.ndim, array.ndim))
        axes = (axis % array.ndim,)
    else:
        axes = tuple(int(a) for a in rng.choice(array.ndim, int(rng.integers(1, array.ndim + 1)), replace=False))
        axis = axes
    keepdims = bool(rng.random() < 0.3)
    kept = [a for a in range(array.ndim) if a not in axes]
    rows = np.moveaxis(array, kept + sorted(axes), list(range(array.ndim)))
    rows = rows.reshape(math.prod(array.shape[a] for a in kept), -1)
    want = [exact(row) for row in rows]
    label = f"seed {seed}: {array.dtype} {array.shape} strides {array.strides} axis {axis} keepdims {keepdims}"

    got = engine.sum(array, axis=axis, keepdims=keepdims)
    if keepdims:
        shape = tuple(1 if a in axes else n for a, n in enumerate(array.shape))
    else:
        shape = tuple(array.shape[a] for a in kept)
    if shape == ():
        assert np.ndim(got) == 0 and same(got, want[0]), f"{label}: {got!r} != {want[0]!r}"
        return
    got = np.asarray(got)
    assert got.shape == shape, label
    for g, w in zip(got.ravel().tolist(), want):
        assert same(g, w), f"{label}: {g!r} != {w!r}"


@pytest.mark.parametrize("seed", CASES)
def test_random_sums_by_random_keys(engine: gpusum.Engine, seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    values = random_values(rng, int(rng.integers(1, 3000)))
    key_dtype = INTEGERS[int(rng.integers(0, len(INTEGERS)))]
    info = np.iinfo(key_dtype)
    spread = int(rng.choice([3, 2000, 2**40]))
    keys = rng.integers(max(info.min, -spread), min(info.max, spread), len(values), endpoint=True).astype(key_dtype)
    if rng.random() < 0.3:
        keys = keys.astype(keys.dtype.newbyteorder())
    if rng.random() < 0.3:
        keys, values = keys[::-2], values[::-2]
    label = f"seed {seed}: {values.dtype} by {keys.dtype}, {len(values)} values"

    got_keys, got_sums, got_counts = engine.sum_by(keys, values, return_counts=True)
    want_keys = np.unique(keys)
    assert got_keys.tolist() == want_keys.tolist(), label
    for key, got, count in zip(want_keys.tolist(), got_sums.tolist(), got_counts.tolist()):
        group = values[keys == key]
        assert count == len(group), label
        assert same(got, exact(group)), f"{label}, key {key}: {got!r} != {exact(group)!r}"


@pytest.mark.parametrize("seed", CASES)
def test_random_pieces_merge_through_pickle_to_the_whole_sum(seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    values = random_values(rng, int(rng.integers(1, 5000)))
    floats = values.dtype.kind == "f"
    total = gpusum.ExactFloatSum(values.dtype) if floats else gpusum.ExactSum()
    pieces = np.array_split(values, int(rng.integers(1, 6)))
    for k in rng.permutation(len(pieces)):
        piece = gpusum.ExactFloatSum(values.dtype) if floats else gpusum.ExactSum()
        piece.add(pieces[k])
        total.merge(pickle.loads(pickle.dumps(piece)))
    assert total.count == len(values)
    assert same(total.value if floats else int(total.value), exact(values)), f"seed {seed}: {values.dtype}"
