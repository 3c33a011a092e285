"""gpusum.sum, sum_range and sum_file against exact oracles: every dtype in every layout numpy
makes (C and Fortran order, transposed, sliced, negative strides, 0-d, empty, either byte order)
on every engine; the float rules (cancellation, subnormals, NaN, infinities, -0.0, overflow);
ranges at the ends of int64; files, raw and .npy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gpusum
from conftest import exact_float, exact_int, same_float

INTEGERS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float32", "float64"]


def values(dtype: str, count: int, seed: int) -> np.ndarray:
    """Seeded values of `dtype`: its extremes, and random values over its whole range (floats:
    both signs over sixty binades, with a few subnormals)."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, count).astype(bool)
    if dtype in FLOATS:
        exponents = rng.integers(-30, 30, count)
        out = (rng.standard_normal(count) * np.exp2(exponents)).astype(dtype)
        out[:: max(1, count // 5)] = np.finfo(dtype).smallest_subnormal
        return out
    info = np.iinfo(dtype)
    out = rng.integers(info.min, info.max, count, dtype=dtype, endpoint=True)
    out[:: max(1, count // 7)] = info.max
    out[1 :: max(1, count // 7)] = info.min
    return out


def expected(array: np.ndarray) -> object:
    if array.dtype.kind == "f":
        return exact_float(array.ravel().tolist(), array.dtype)
    return exact_int(array)


def layouts(base: np.ndarray) -> dict[str, np.ndarray]:
    """The views numpy users sum: of a 2-D array built from `base`'s first 60 x 50 values."""
    matrix = base[: 60 * 50].reshape(60, 50)
    swapped = matrix.astype(matrix.dtype.newbyteorder())
    return {
        "1-D": base,
        "C": matrix,
        "Fortran": np.asfortranarray(matrix),
        "transposed": matrix.T,
        "sliced": matrix[3:41:3, 1::4],
        "negative strides": base[::-7],
        "reversed rows": matrix[::-1, ::-2],
        "0-d": np.array(base[5]),
        "empty": base[:0],
        "empty 2-D": matrix[:, :0],
        "byte-swapped": swapped,
        "byte-swapped view": swapped[::2, ::-3],
    }


@pytest.mark.parametrize("dtype", ["bool"] + INTEGERS + FLOATS)
def test_every_dtype_and_layout_is_exact_on_every_engine(engine: gpusum.Engine, dtype: str) -> None:
    base = values(dtype, 7003, seed=len(dtype))
    for name, array in layouts(base).items():
        got = engine.sum(array)
        want = expected(array)
        if dtype == "float32":
            assert isinstance(got, np.float32), name
        elif dtype == "float64":
            assert isinstance(got, float), name
        else:
            assert isinstance(got, int) and not isinstance(got, bool), name
        if isinstance(want, float):
            assert same_float(got, want), f"{dtype} {name}: {got!r} != {want!r}"
        else:
            assert got == want, f"{dtype} {name}: {got} != {want}"


def test_integers_never_wrap() -> None:
    big = np.full(1000, np.iinfo(np.int64).max, dtype=np.int64)
    assert gpusum.sum(big) == 1000 * (2**63 - 1)
    assert int(big.sum()) != 1000 * (2**63 - 1)  # numpy wraps, silently
    assert gpusum.sum(np.full(10, 2**64 - 1, dtype=np.uint64)) == 10 * (2**64 - 1)
    assert gpusum.sum(np.ones(300, dtype=np.int8) * 127) == 300 * 127


@pytest.mark.parametrize(
    ("data", "dtype", "want"),
    [
        ([1e308, 1.0, -1e308], "float64", 1.0),
        ([2.0**24, 1.0, 1.0], "float32", 2.0**24 + 2),
        ([5e-324] * 7, "float64", 7 * 5e-324),
        ([math.nan, 1.0], "float64", math.nan),
        ([math.inf, -math.inf], "float32", math.nan),
        ([math.inf, 1e308], "float64", math.inf),
        ([-0.0, -0.0], "float64", -0.0),
        ([-0.0, 0.0], "float64", 0.0),
        ([], "float32", 0.0),
        ([1.7e308, 1.7e308], "float64", math.inf),
        ([-3e38, -3e38], "float32", -math.inf),
    ],
)
def test_float_rules(engine: gpusum.Engine, data: list[float], dtype: str, want: float) -> None:
    got = engine.sum(np.array(data, dtype=dtype))
    assert same_float(got, want), f"{data}: {got!r}"
    assert same_float(want, exact_float(np.array(data, dtype=dtype).tolist(), dtype))


def test_array_likes_and_refused_dtypes() -> None:
    assert gpusum.sum([1, 2, 3]) == 6
    assert gpusum.sum(5) == 5
    assert gpusum.sum([0.5, 0.25]) == 0.75
    for bad in [np.zeros(3, dtype=np.float16), np.zeros(2, dtype=complex), np.array(["a"]),
                np.array([1, "x"], dtype=object), np.zeros(2, dtype="datetime64[s]")]:
        with pytest.raises(TypeError, match=str(bad.dtype).split("[")[0]):
            gpusum.sum(bad)


def test_ranges(engine: gpusum.Engine) -> None:
    top, bottom = 2**63 - 1, -(2**63)
    assert engine.sum_range(1, 20) == 210
    assert engine.sum_range(20, 1) == 0
    assert engine.sum_range(bottom, bottom + 999) == sum(range(bottom, bottom + 1000))
    assert engine.sum_range(top - 999, top) == sum(range(top - 999, top + 1))
    assert engine.sum_range(-(2**33), 2**33 + 5) == sum(range(2**33 + 1, 2**33 + 6))


def test_range_bounds_outside_int64_are_overflow_errors() -> None:
    for start, end in [(0, 2**63), (-(2**63) - 1, 0)]:
        with pytest.raises(OverflowError):
            gpusum.sum_range(start, end)
    with pytest.raises(OverflowError, match="elements"):
        gpusum.sum_range(-(2**63), 2**63 - 1)


def test_files(tmp_path: object, engine: gpusum.Engine) -> None:
    import pathlib

    folder = pathlib.Path(str(tmp_path))
    data = values("int64", 5001, seed=3)
    np.save(folder / "a.npy", data)
    assert engine.sum_file(folder / "a.npy") == exact_int(data)
    raw = data.astype(">i4")
    (folder / "a.raw").write_bytes(raw.tobytes())
    assert engine.sum_file(str(folder / "a.raw"), dtype="int32", big_endian=True) == exact_int(raw)
    assert engine.sum_file(folder / "a.raw", dtype=np.uint8) == int(np.frombuffer(raw.tobytes(), np.uint8).astype(int).sum())
    floats = values("float32", 999, seed=4)
    np.save(folder / "f.npy", np.asfortranarray(floats.reshape(27, 37)))
    assert same_float(engine.sum_file(folder / "f.npy"), exact_float(floats.tolist(), "float32"))


def test_file_errors(tmp_path: object) -> None:
    import pathlib

    folder = pathlib.Path(str(tmp_path))
    with pytest.raises(FileNotFoundError):
        gpusum.sum_file(folder / "missing.npy")
    (folder / "odd.raw").write_bytes(b"12345")
    with pytest.raises(ValueError, match="not a whole number"):
        gpusum.sum_file(folder / "odd.raw", dtype="int32")
    np.save(folder / "half.npy", np.zeros(3, dtype=np.float16))
    with pytest.raises(TypeError, match="f2"):
        gpusum.sum_file(folder / "half.npy")
    (folder / "text.raw").write_bytes(b"not a npy file at all")
    with pytest.raises(ValueError, match="dtype"):
        gpusum.sum_file(folder / "text.raw")
    with pytest.raises(TypeError, match="float16"):
        gpusum.sum_file(folder / "odd.raw", dtype="float16")


def test_engines_say_where_and_why(gpu_engines: list[gpusum.Engine]) -> None:
    auto = gpusum.Engine()
    assert auto.place is None and auto.reason is None
    assert auto.sum(np.arange(20)) == 190
    assert auto.place == "seq"
    assert auto.reason is not None and "before a GPU could be opened" in auto.reason
    assert auto.fallback is None
    for engine in gpu_engines:
        assert engine.sum(np.arange(1000)) == 499500
        assert engine.place == "gpu" and engine.adapter is not None
        assert engine.adapter in (engine.reason or "")
        assert "Engine" in repr(engine)


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        gpusum.Engine("fast")
    with pytest.raises(ValueError, match="sums on the CPU"):
        gpusum.Engine("cpu", adapter="vulkan")
    with pytest.raises(ValueError, match="timeout"):
        gpusum.sum([1], timeout=-1)
    with pytest.raises(ValueError, match="no adapter matches"):
        gpusum.Engine("gpu", adapter="no such adapter anywhere")


def test_a_timeout_that_passes_is_a_timeout_error() -> None:
    with pytest.raises(TimeoutError):
        gpusum.sum_range(1, 10**15, backend="seq", timeout=0.1)


def test_adapters_are_described_as_the_cli_does() -> None:
    reports = gpusum.adapters()
    assert isinstance(reports, list)
    for report in reports:
        assert {"name", "backend", "device_type", "software", "int64", "subgroups"} <= set(report)
    assert gpusum.__version__.count(".") == 2
    assert issubclass(gpusum.GpuError, gpusum.Error) and issubclass(gpusum.Error, Exception)
