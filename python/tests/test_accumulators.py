"""ExactSum and ExactFloatSum: exact running totals that merge in any order to the same value,
travel through pickle and the library's byte format, and refuse what they cannot hold."""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pytest

import gpusum
from conftest import exact_float, same_float


def test_integer_sums_merge_in_any_order_and_pickle() -> None:
    rng = np.random.default_rng(5)
    parts = [rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64, endpoint=True) for n in (0, 1, 999, 40_000)]
    want = sum(int(v) for part in parts for v in part)
    for order in itertools.permutations(range(len(parts))):
        total = gpusum.ExactSum()
        for k in order:
            piece = gpusum.ExactSum()
            piece.add(parts[k])
            total.merge(pickle.loads(pickle.dumps(piece)))
        assert total.value == want and int(total) == want
        assert total.count == sum(len(p) for p in parts)
    total.add(2**64 - 1)
    total.add(True)
    assert total.value == want + 2**64
    back = gpusum.ExactSum.from_bytes(total.to_bytes())
    assert back == total and back.count == total.count
    assert pickle.loads(pickle.dumps(total, protocol=2)) == total


def test_float_sums_merge_to_the_same_bits_and_pickle() -> None:
    rng = np.random.default_rng(6)
    noise = rng.standard_normal(5000) * 1e-5
    for dtype in ("float32", "float64"):
        big = float(np.finfo(dtype).max) / 2
        data = np.concatenate([[big, -big], noise, [1.0]]).astype(dtype)
        want = exact_float(data.tolist(), dtype)
        pieces = np.array_split(data, 7)
        for order in (range(7), reversed(range(7)), [3, 0, 6, 1, 5, 2, 4]):
            total = gpusum.ExactFloatSum(dtype)
            for k in order:
                piece = gpusum.ExactFloatSum(np.dtype(dtype))
                piece.add(pieces[k])
                total.merge(pickle.loads(pickle.dumps(piece)))
            assert same_float(total.value, want), (dtype, total.value, want)
            assert total.count == len(data)
        assert isinstance(total.value, np.float32 if dtype == "float32" else float)
        assert same_float(float(total), want)
        assert gpusum.ExactFloatSum.from_bytes(total.to_bytes()) == total
        assert total.dtype == dtype


def test_numbers_are_added_exactly_or_refused() -> None:
    single = gpusum.ExactFloatSum("float32")
    single.add(0.5)
    single.add(2.0**24)
    single.add(1.0)
    assert same_float(single.value, 2.0**24 + 2)  # 2^24 + 1.5: the nearer float32
    with pytest.raises(ValueError, match="not a float32"):
        single.add(0.1)
    double = gpusum.ExactFloatSum()
    double.add(0.1)
    double.add(3)
    assert same_float(double.value, 3.1)
    with pytest.raises(ValueError, match="would round"):
        double.add(2**60 + 1)
    double.add(math.nan)
    assert math.isnan(double.value)


def test_mismatches_and_garbage_are_refused() -> None:
    ints = gpusum.ExactSum()
    with pytest.raises(TypeError, match="ExactFloatSum"):
        ints.add(np.ones(3))
    with pytest.raises(OverflowError):
        ints.add(2**64)
    with pytest.raises(TypeError):
        gpusum.ExactFloatSum("float32").add(np.ones(3))  # float64 values
    with pytest.raises(TypeError):
        gpusum.ExactFloatSum("float32").merge(gpusum.ExactFloatSum("float64"))
    with pytest.raises(TypeError, match="ExactSum"):
        gpusum.ExactFloatSum("int32")
    for garbage in [b"", b"GSXI", b"x" * 32, gpusum.ExactFloatSum().to_bytes()]:
        with pytest.raises(ValueError):
            gpusum.ExactSum.from_bytes(garbage)
    with pytest.raises(ValueError):
        gpusum.ExactFloatSum.from_bytes(gpusum.ExactSum().to_bytes())
    with pytest.raises(ValueError):
        gpusum.ExactFloatSum.from_bytes(b"GSXF" + b"\0" * 40)
