"""gpusum.dask.sum on a two-process LocalCluster: integer and float arrays, odd chunk sizes, an
empty array, sums along axes, each equal to gpusum.sum of the whole array, bit for bit. Needs the
dask extra (pip install ./python[dask]); CI installs it."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest

import gpusum

da = pytest.importorskip("dask.array", reason="needs the dask extra: pip install ./python[dask]")
distributed = pytest.importorskip(
    "distributed", reason="needs the dask extra: pip install ./python[dask]"
)
import gpusum.dask  # noqa: E402  (after the extra is known to be there)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        yield client


def same(got: Any, want: Any) -> bool:
    """The same type and values; floats bit for bit."""
    if type(got) is not type(want):
        return False
    if isinstance(want, np.ndarray):
        if (got.dtype, got.shape) != (want.dtype, want.shape):
            return False
        if want.dtype == object:
            return all(type(a) is type(b) and a == b for a, b in zip(got.flat, want.flat))
        return bool(got.tobytes() == want.tobytes())
    if isinstance(want, int):
        return bool(got == want)
    return bool(np.asarray(got).tobytes() == np.asarray(want).tobytes())


def cancelling(dtype: str, n: int) -> np.ndarray:
    """Huge values that cancel across chunks, with small ones between that decide the sum."""
    rng = np.random.default_rng(n)
    big = np.finfo(dtype).max / 4
    out = (rng.standard_normal(n) * 1e-3).astype(dtype)
    out[0], out[n // 2], out[-1] = big, 1, -big
    return out


@pytest.mark.parametrize("chunks", [7, 97, 1000, 4097])
def test_whole_arrays_equal_gpusum_sum_whatever_the_chunks(client: Any, chunks: int) -> None:
    rng = np.random.default_rng(chunks)
    arrays = [
        rng.integers(-(2**63), 2**63 - 1, 3001, dtype=np.int64),
        rng.integers(0, 2**64 - 1, 3001, dtype=np.uint64),
        rng.integers(-128, 127, 3001, dtype=np.int8),
        rng.integers(0, 2, 3001).astype(bool),
        cancelling("float64", 3001),
        cancelling("float32", 3001),
    ]
    for x in arrays:
        got = gpusum.dask.sum(da.from_array(x, chunks=chunks)).compute()
        assert same(got, gpusum.sum(x)), (x.dtype, got, gpusum.sum(x))


def test_an_empty_array_sums_to_zero_of_its_kind(client: Any) -> None:
    for dtype in ["int32", "float32", "float64"]:
        x = np.array([], dtype=dtype)
        got = gpusum.dask.sum(da.from_array(x, chunks=3)).compute()
        assert same(got, gpusum.sum(x)), dtype


@pytest.mark.parametrize("axis", [0, 1, -1, (0, 1), (0, 2)])
def test_sums_along_axes_equal_gpusum_sum(client: Any, axis: Any) -> None:
    rng = np.random.default_rng(3)
    ints = rng.integers(-(2**62), 2**62, (13, 9, 5))
    floats = rng.standard_normal((13, 9, 5)) * np.exp2(rng.integers(-60, 60, (13, 9, 5)))
    for x in [ints, floats, floats.astype(np.float32)]:
        got = gpusum.dask.sum(da.from_array(x, chunks=(4, 5, 3)), axis=axis).compute()
        assert same(got, gpusum.sum(x, axis=axis)), (x.dtype, axis)


def test_what_gpusum_does_not_sum_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        gpusum.dask.sum(da.from_array(np.array([1.0], dtype=np.float16)))
    with pytest.raises(TypeError):
        gpusum.dask.sum(da.from_array(np.array(["a"])))
