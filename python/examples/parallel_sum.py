"""The classic split of 1..20 over two processes: each sums its half exactly with gpusum and sends
back its ExactSum (pickled, through the queue); the parent merges the halves, in whatever order
they arrive. Exact sums merge to the same bits in any order, so the answer is 210 whatever the
split.

    python python/examples/parallel_sum.py       # runs the test below
"""

from __future__ import annotations

import multiprocessing
import unittest

import numpy as np

import gpusum


def sum_half(start: int, end: int, results: multiprocessing.Queue[gpusum.ExactSum]) -> None:
    """Sums start..=end into an ExactSum and sends it back."""
    part = gpusum.ExactSum()
    part.add(np.arange(start, end + 1, dtype=np.int64))
    results.put(part)


def parallel_sum(end: int, processes: int = 2) -> gpusum.ExactSum:
    """The exact sum of 1..=end, split over `processes` processes."""
    results: multiprocessing.Queue[gpusum.ExactSum] = multiprocessing.Queue()
    bounds = np.linspace(0, end, processes + 1, dtype=np.int64)
    workers = [
        multiprocessing.Process(target=sum_half, args=(int(low) + 1, int(high), results))
        for low, high in zip(bounds[:-1], bounds[1:])
    ]
    for worker in workers:
        worker.start()
    total = gpusum.ExactSum()
    for _ in workers:
        total.merge(results.get(timeout=60))
    for worker in workers:
        worker.join(timeout=60)
    return total


class ParallelSumTest(unittest.TestCase):
    def test_two_processes_sum_one_to_twenty(self) -> None:
        total = parallel_sum(20)
        self.assertEqual(total.value, 210)
        self.assertEqual(total.count, 20)

    def test_any_split_gives_the_same_sum(self) -> None:
        self.assertEqual(parallel_sum(10**6, processes=3).value, 10**6 * (10**6 + 1) // 2)


if __name__ == "__main__":
    unittest.main()
