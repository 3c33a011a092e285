"""gpusum.sum along axes and gpusum.sum_by against exact oracles (Python ints; fractions rounded
by hand for floats) on every engine: every dtype, shapes (0, n), (1, 1), (3, 7), tall, wide and
3-D, C and Fortran order, views, either byte order, every set of axes, keepdims, and dtype=."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

import gpusum
from conftest import exact_float, same_float

INTEGERS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float32", "float64"]


def values(dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Seeded values of `dtype` in `shape`: integers with their extremes, floats over forty
    binades of both signs with zeros among them."""
    rng = np.random.default_rng(seed)
    count = math.prod(shape)
    if dtype == "bool":
        return rng.integers(0, 2, count).astype(bool).reshape(shape)
    if dtype in FLOATS:
        out = rng.standard_normal(count) * np.exp2(rng.integers(-20, 20, count))
        out[:: max(1, count // 6)] = 0.0
        return out.astype(dtype).reshape(shape)
    info = np.iinfo(dtype)
    out = rng.integers(info.min, info.max, count, dtype=dtype, endpoint=True)
    out[:: max(1, count // 5)] = info.max
    out[1 :: max(1, count // 5)] = info.min
    return out.reshape(shape)


def oracle(array: np.ndarray, axes: tuple[int, ...]) -> list[Any]:
    """One exact sum per index of the axes not in `axes`, in C order."""
    kept = [a for a in range(array.ndim) if a not in axes]
    moved = np.moveaxis(array, kept + list(axes), list(range(array.ndim)))
    outputs = math.prod(array.shape[a] for a in kept)
    rows = moved.reshape(outputs, math.prod(array.shape[a] for a in axes))
    if array.dtype.kind == "f":
        return [exact_float(row.tolist(), array.dtype) for row in rows]
    return [sum(int(v) for v in row.tolist()) for row in rows]


def layouts(array: np.ndarray) -> dict[str, np.ndarray]:
    """The same logical array laid out as numpy users have it."""
    return {
        "C": array,
        "Fortran": np.asfortranarray(array),
        "byte-swapped": array.astype(array.dtype.newbyteorder()),
        "reversed view": np.flip(np.flip(array.copy(), axis=0)[::-1], axis=-1)[..., ::-1],
    }


def check(got: Any, want: list[Any], shape: tuple[int, ...], dtype: np.dtype[Any], label: str) -> None:
    if shape == ():
        # Every axis summed: a scalar, as numpy gives (a Python int for integers).
        if dtype.kind == "f":
            assert isinstance(got, np.floating) and got.dtype == dtype, label
            assert same_float(got, want[0]), f"{label}: {got!r} != {want[0]!r}"
        else:
            assert type(got) is int and got == want[0], label
        return
    got = np.asarray(got)
    assert got.shape == shape, label
    if dtype.kind == "f":
        assert got.dtype == dtype, label
        for g, w in zip(got.ravel().tolist(), want):
            assert same_float(g, w), f"{label}: {g!r} != {w!r}"
    else:
        assert got.dtype == object, label
        assert all(type(v) is int for v in got.ravel().tolist()), label
        assert got.ravel().tolist() == want, label


SHAPES = [(0, 5), (1, 1), (3, 7), (301, 3), (3, 301), (4, 5, 6)]


@pytest.mark.parametrize("dtype", ["bool"] + INTEGERS + FLOATS)
def test_every_axis_of_every_shape_and_layout_is_exact(engine: gpusum.Engine, dtype: str) -> None:
    for s, shape in enumerate(SHAPES):
        base = values(dtype, shape, seed=s + len(dtype))
        for name, array in layouts(base).items():
            for count in range(1, base.ndim + 1):
                for axes in itertools.combinations(range(base.ndim), count):
                    want = oracle(base, axes)
                    kept = tuple(n for a, n in enumerate(shape) if a not in axes)
                    label = f"{dtype} {shape} {name} axis {axes}"
                    spelled = axes[0] - base.ndim if len(axes) == 1 else axes
                    got = engine.sum(array, axis=spelled)
                    if kept == ():
                        assert np.ndim(got) == 0, label
                    check(got, want, kept, base.dtype if dtype in FLOATS else np.dtype(object), label)


def test_keepdims_and_dtype_follow_numpy() -> None:
    m = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    for axis in [0, 1, (0, 2), None]:
        got = gpusum.sum(m, axis=axis, keepdims=True)
        want = m.sum(axis=axis, keepdims=True)
        assert got.shape == want.shape and got.tolist() == want.tolist(), axis
    assert gpusum.sum(m, axis=2, dtype=np.int64).dtype == np.int64
    assert gpusum.sum(m, axis=2, dtype=np.int64).tolist() == m.sum(axis=2).tolist()
    assert gpusum.sum(m, axis=(0, 1, 2)) == 276
    big = np.full((2, 3), np.iinfo(np.int64).max, dtype=np.int64)
    assert gpusum.sum(big, axis=0).tolist() == [2 * (2**63 - 1)] * 3
    with pytest.raises(OverflowError, match="does not fit int64"):
        gpusum.sum(big, axis=0, dtype=np.int64)
    with pytest.raises(OverflowError):
        gpusum.sum(big, dtype=np.int64)
    assert gpusum.sum(np.array([1, 2], dtype=np.uint8), dtype=np.uint8) == 3
    halves = np.array([[0.5, 0.25], [0.125, 1.0]], dtype=np.float32)
    assert gpusum.sum(halves, axis=0).dtype == np.float32
    with pytest.raises(TypeError, match="rounds"):
        gpusum.sum(halves, axis=0, dtype=np.float64)


def test_integer_dtype_holds_its_extremes_exactly() -> None:
    # Sums at each integer type's ends, and one past: the extremes exact, one past refused.
    for name in ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", ">i8", "<u4"]:
        target = np.dtype(name)
        info = np.iinfo(target)
        for want in [info.min, info.max, 0]:
            halves = np.array([[want // 2, want - want // 2]], dtype=object)
            source = halves.astype(np.uint64 if want > 2**63 - 1 else np.int64)
            got = gpusum.sum(source, axis=1, dtype=target)
            assert got.dtype == target and got.tolist() == [want], (name, want)
        for past in [info.min - 1, info.max + 1]:
            lo, hi = -(2**63), 2**64 - 1
            parts = [min(max(past // 2, lo), hi), 0]
            parts[1] = past - parts[0]
            if not all(lo <= p <= hi for p in parts):
                continue
            source = np.array([parts], dtype=np.uint64 if max(parts) > 2**63 - 1 else np.int64)
            with pytest.raises(OverflowError, match="does not fit"):
                gpusum.sum(source, axis=1, dtype=target)
    exact = np.array([[2**62, 2**62, 3]], dtype=np.int64)
    assert gpusum.sum(exact, axis=1, dtype=object).tolist() == [2**63 + 3]
    assert gpusum.sum(exact, axis=1, dtype=np.float64).tolist() == [float(2**63 + 3)]


def test_outputs_past_64_bits_are_exact_however_many_their_high_halves() -> None:
    # Column j holds j copies of the type's extreme: sums past 64 bits with 1,099 distinct high
    # halves above zero (more than the ints' maker keeps) and some 550 below.
    n = 1100
    rows = np.arange(n)[:, None]
    columns = np.arange(n)[None, :]
    for extreme, filler, dtype in [(2**64 - 1, 7, np.uint64), (-(2**63), -5, np.int64)]:
        matrix = np.where(rows < columns, np.array(extreme, dtype), np.array(filler, dtype))
        got = gpusum.sum(matrix, axis=0)
        assert got.dtype == object
        assert got.tolist() == [j * extreme + (n - j) * filler for j in range(n)]

def test_bad_axes_are_numpy_axis_errors() -> None:
    m = np.zeros((2, 3))
    for axis in [2, -3, (0, 0)]:
        with pytest.raises(np.exceptions.AxisError):
            gpusum.sum(m, axis=axis)
    with pytest.raises(TypeError, match="axis"):
        gpusum.sum(m, axis="0")


def test_cancellation_per_column_where_numpy_loses_it(engine: gpusum.Engine) -> None:
    m = np.array([[1e308, 1.0], [1.0, 1e100], [-1e308, -1e100]])
    got = engine.sum(m, axis=0)
    assert got.tolist() == [1.0, 1.0]
    assert m.sum(axis=0).tolist() != [1.0, 1.0]


KEY_TYPES = ["int8", "uint16", "int64", "uint64", "bool"]


def keys_of(dtype: str, count: int, kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, count).astype(bool)
    info = np.iinfo(dtype)
    if kind == "dense":
        return rng.integers(max(info.min, -3), min(info.max, 40), count, dtype=dtype, endpoint=True)
    if kind == "one":
        return np.full(count, info.max, dtype=dtype)
    out = rng.integers(info.min, info.max, count, dtype=dtype, endpoint=True)
    out[::7] = info.min
    out[1::7] = info.max
    return out


@pytest.mark.parametrize("key_dtype", KEY_TYPES)
def test_sums_by_key_are_exact_with_keys_ascending(engine: gpusum.Engine, key_dtype: str) -> None:
    for dtype, count, kind in itertools.product(["int64", "uint8", "float32", "float64"], [0, 1, 999], ["dense", "one", "sparse"]):
        keys = keys_of(key_dtype, count, kind, seed=count)
        vals = values(dtype, (count,), seed=count + 1)
        got_keys, got_sums, got_counts = engine.sum_by(keys, vals, return_counts=True)
        want_keys = sorted(set(keys.tolist()))
        label = f"{dtype} by {key_dtype} ({kind}, {count})"
        assert got_keys.dtype == keys.dtype, label
        assert got_keys.tolist() == want_keys, label
        groups = {k: [v for kk, v in zip(keys.tolist(), vals.tolist()) if kk == k] for k in want_keys}
        if dtype in FLOATS:
            want = [exact_float(groups[k], dtype) for k in want_keys]
        else:
            want = [sum(int(v) for v in groups[k]) for k in want_keys]
        check(got_sums, want, (len(want_keys),), np.dtype(dtype) if dtype in FLOATS else np.dtype(object), label)
        assert got_counts.tolist() == [len(groups[k]) for k in want_keys], label


def test_sum_by_pairs_keys_and_values_in_c_order_and_refuses_mismatches() -> None:
    keys = np.array([[1, 2], [2, 1]], dtype=np.int32)
    vals = np.asfortranarray(np.array([[10, 20], [30, 40]], dtype=np.int64))
    k, s = gpusum.sum_by(keys, vals)
    assert k.tolist() == [1, 2] and s.tolist() == [50, 50]
    k, s = gpusum.sum_by(keys[:, ::-1], vals[::-1])
    assert k.tolist() == [1, 2] and s.tolist() == [50, 50]
    with pytest.raises(ValueError, match="keys hold 3 elements but the values 4"):
        gpusum.sum_by(np.arange(3), np.arange(4))
    with pytest.raises(TypeError, match="keys must be integers"):
        gpusum.sum_by(np.zeros(4), np.arange(4))
