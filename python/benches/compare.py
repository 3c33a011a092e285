"""gpusum beside numpy and math.fsum on the same arrays, in one run: medians of interleaved runs,
and the ratios the targets are written in (docs/BENCHMARKS.md, "Python").

    python python/benches/compare.py [--elements 2^25] [--side 4096] [--by 2^24] [--runs 15]
                                     [--backend cpu]

numpy's `a.sum()` wraps int64 and rounds floats pairwise, and `np.bincount(keys, weights)` rounds
every weight to float64; math.fsum is exact and slow; gpusum is exact. Every gpusum sum is
checked against an exact oracle first (along axes and by key, against numpy's on values that
cannot round or wrap, and output by output against math.fsum).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any, Callable

import numpy as np

import gpusum


def parse_count(text: str) -> int:
    base, _, power = text.partition("^")
    return int(base) ** int(power) if power else int(float(text))


def timed(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median seconds of each call, the calls interleaved run by run (after one warm-up each)."""
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def seconds(value: float) -> str:
    return f"{value * 1e3:.2f} ms" if value >= 1e-3 else f"{value * 1e6:.2f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=parse_count, default=2**25)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--side", type=int, default=4096, help="the axis rows' matrix is SIDE x SIDE")
    parser.add_argument("--by", type=parse_count, default=2**24, help="values summed by 1,000 keys")
    parser.add_argument("--backend", default="cpu")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    n, backend = args.elements, args.backend
    ints = rng.integers(-(2**62), 2**62, n, dtype=np.int64)
    floats = rng.standard_normal(n) * np.exp2(rng.integers(-20, 20, n))
    small = np.arange(8, dtype=np.int64)

    assert gpusum.sum(ints, backend=backend) == sum(int(v) for v in ints[: 1 << 20]) + sum(
        int(v) for v in ints[1 << 20 :]
    )
    # math.fsum rounds the exact sum correctly, as gpusum does: the same float.
    assert gpusum.sum(floats, backend=backend) == math.fsum(floats)

    rows = []
    t = timed({"numpy": ints.sum, "gpusum": lambda: gpusum.sum(ints, backend=backend)}, args.runs)
    rows.append(("int64", "numpy a.sum() (wraps)", t["numpy"], t["gpusum"], t["numpy"] / t["gpusum"], ">= 1"))
    t = timed({"numpy": floats.sum, "gpusum": lambda: gpusum.sum(floats, backend=backend)}, args.runs)
    rows.append(("float64", "numpy a.sum() (rounds)", t["numpy"], t["gpusum"], t["numpy"] / t["gpusum"], ">= 0.5"))
    t_fsum = timed({"fsum": lambda: math.fsum(floats)}, max(1, args.runs // 5))["fsum"]
    rows.append(("float64", "math.fsum (exact)", t_fsum, t["gpusum"], t_fsum / t["gpusum"], ">= 20"))
    calls: dict[str, Callable[[], object]] = {
        "numpy": small.sum,
        "auto": lambda: gpusum.sum(small),
        "forced": lambda: gpusum.sum(small, backend=backend),
    }
    t = timed(calls, 2001)
    rows.append(("8 x int64", "numpy a.sum()", t["numpy"], t["auto"], t["numpy"] / t["auto"], ">= 1/3"))
    rows.append(
        ("8 x int64", f"numpy, gpusum backend={backend}", t["numpy"], t["forced"], t["numpy"] / t["forced"], ">= 1/3")
    )

    rows.extend(grouped_rows(rng, args.side, args.by, args.runs, backend))

    print(f"{n} elements (the 8-element, axis and key rows aside), gpusum backend={backend!r}, medians of {args.runs} interleaved runs")
    print(f"{'array':<10} {'against':<32} {'them':>11} {'gpusum':>11} {'speed ratio':>12}  target")
    for array, against, theirs, ours, ratio, target in rows:
        print(f"{array:<10} {against:<32} {seconds(theirs):>11} {seconds(ours):>11} {ratio:>12.2f}  {target}")
    print("speed ratio: their time over gpusum's (above 1, gpusum is faster)")


def grouped_rows(
    rng: np.random.Generator, side: int, by: int, runs: int, backend: Any
) -> list[tuple[str, str, float, float, float, str]]:
    """Sums along axes of a SIDE x SIDE matrix and by 1,000 keys, beside numpy's."""
    matrix_ints = rng.integers(-(2**40), 2**40, (side, side), dtype=np.int64)
    matrix_floats = rng.standard_normal((side, side)) * np.exp2(rng.integers(-20, 20, (side, side)))
    keys = rng.integers(0, 1000, by, dtype=np.int64)
    by_ints = rng.integers(-(2**40), 2**40, by, dtype=np.int64)
    by_floats = rng.standard_normal(by) * np.exp2(rng.integers(-20, 20, by))
    for axis in (0, 1):
        # Below 2^40 each, 2^12 of them: numpy's int64 sums cannot wrap here.
        got = np.asarray(gpusum.sum(matrix_ints, axis=axis, backend=backend))
        assert got.tolist() == matrix_ints.sum(axis=axis).tolist()
    columns = np.asarray(gpusum.sum(matrix_floats[:64], axis=0, backend=backend))
    assert columns.tolist() == [math.fsum(column) for column in matrix_floats[:64].T]
    unique, sums = gpusum.sum_by(keys, by_floats, backend=backend)
    first = unique[0]
    assert sums[0] == math.fsum(by_floats[keys == first])
    unique, sums = gpusum.sum_by(keys, by_ints, backend=backend)
    assert sums[0] == sum(int(v) for v in by_ints[keys == first])

    rows = []
    shape = f"{side}x{side}"
    def along(matrix: np.ndarray, axis: int) -> dict[str, Callable[[], object]]:
        return {
            "numpy": lambda: matrix.sum(axis=axis),
            "gpusum": lambda: gpusum.sum(matrix, axis=axis, backend=backend),
        }

    def by_key(values: np.ndarray) -> dict[str, Callable[[], object]]:
        return {
            "numpy": lambda: np.bincount(keys, weights=values),
            "gpusum": lambda: gpusum.sum_by(keys, values, backend=backend),
        }

    for name, matrix, target in [("int64", matrix_ints, ">= 1"), ("float64", matrix_floats, ">= 0.5")]:
        for axis in (0, 1):
            t = timed(along(matrix, axis), runs)
            against = f"numpy a.sum(axis={axis})"
            rows.append((f"{shape} {name}", against, t["numpy"], t["gpusum"], t["numpy"] / t["gpusum"], target))
    for name, values, target in [("int64", by_ints, ">= 1"), ("float64", by_floats, ">= 0.5")]:
        t = timed(by_key(values), runs)
        rows.append((f"{by} {name}", "np.bincount(k, weights) (rounds)", t["numpy"], t["gpusum"], t["numpy"] / t["gpusum"], target))
    return rows


if __name__ == "__main__":
    main()
