# mypy: disable-error-code="no-untyped-call"
"""gpusum.dask.sum on a two-process LocalCluster against gpusum.sum in this process: what a block
costs the scheduler, and a 2^24-value float64 array in blocks of 2^20. Needs the dask extra.

    python python/benches/dask_sum.py
"""

from __future__ import annotations

import time

import dask.array as da
import distributed
import numpy as np

import gpusum
import gpusum.dask


def seconds(x: da.Array) -> tuple[float, object]:
    started = time.perf_counter()
    result = gpusum.dask.sum(x).compute()
    return time.perf_counter() - started, result


def main() -> None:
    with distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster, distributed.Client(cluster):
        small = np.random.default_rng(0).standard_normal(3001)
        seconds(da.from_array(small, chunks=7))  # the workers' engines open
        for chunks in (7, 3001):
            blocks = -(-small.size // chunks)
            took, _ = seconds(da.from_array(small, chunks=chunks))
            print(f"{blocks:5} blocks: {took:.3f} s, {took / blocks * 1e3:.2f} ms a block")
        large = np.random.default_rng(1).standard_normal(2**24)
        took, result = seconds(da.from_array(large, chunks=2**20))
        started = time.perf_counter()
        alone = gpusum.sum(large)
        here = time.perf_counter() - started
        same = "the same bits" if result == alone else "DIFFERENT"
        print(f"2^24 float64 in 16 blocks: {took:.3f} s; gpusum.sum here {here:.3f} s; {same}")


if __name__ == "__main__":
    main()
