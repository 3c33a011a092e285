"""How gpusum behaves inside a Python program: the GIL is released while it sums, Ctrl-C stops a
long sum at once, memory stays bounded for arrays it reads in place or in chunks, a fork child
after a parallel sum sums again instead of hanging, and the package's example runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import gpusum

HERE = Path(__file__).resolve().parent


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_other_threads_run_while_a_sum_runs() -> None:
    counted = 0
    done = threading.Event()

    def count() -> None:
        nonlocal counted
        while not done.is_set():
            counted += 1

    thread = threading.Thread(target=count)
    thread.start()
    started = time.perf_counter()
    try:
        total = gpusum.sum_range(1, 2 * 10**10, backend="seq")
    finally:
        done.set()
        thread.join()
    seconds = time.perf_counter() - started
    assert total == 2 * 10**10 * (2 * 10**10 + 1) // 2
    # A Python loop runs millions of times a second; holding the GIL, the sum would allow none.
    assert counted > 100_000 * seconds, (counted, seconds)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX's")
def test_ctrl_c_stops_a_long_sum_with_keyboard_interrupt_at_once() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(
            """
            import gpusum, sys, time
            print("ready", flush=True)
            try:
                gpusum.sum_range(1, 10**17, backend="seq")
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                sys.exit(130)
            """
        )],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    waited = time.perf_counter() - sent
    assert child.returncode == 130, err
    assert "interrupted" in out
    assert waited < 1.0, f"Ctrl-C took {waited:.2f} s"


def test_memory_stays_bounded_for_a_gigabyte_and_a_strided_view() -> None:
    result = run_python(
        """
        import resource, numpy as np, gpusum
        a = np.ones(1 << 27, dtype=np.int64)  # 1 GiB, every page touched
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert gpusum.sum(a) == 1 << 27
        for backend in ("cpu", "seq"):
            assert gpusum.sum(a, backend=backend) == 1 << 27
            assert gpusum.sum(a[::2], backend=backend) == 1 << 26
            assert gpusum.sum(a.reshape(1 << 13, 1 << 14)[:, ::3], backend=backend) == (1 << 13) * 5462
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) // 1024)
        """
    )
    assert result.returncode == 0, result.stderr
    grew_mib = int(result.stdout.strip())
    assert grew_mib < 100, f"peak RSS grew by {grew_mib} MiB"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX's")
def test_a_fork_child_sums_again_after_the_parent_used_its_pool() -> None:
    result = run_python(
        """
        import os, sys, numpy as np, gpusum
        a = np.arange(1 << 22, dtype=np.int64)
        want = int(a.sum())
        assert gpusum.sum(a, backend="cpu") == want
        engine = gpusum.Engine("cpu")
        assert engine.sum(a) == want
        pid = os.fork()
        if pid == 0:
            ok = gpusum.sum(a, backend="cpu") == want and engine.sum(a) == want
            ok = ok and gpusum.sum(a) == want and gpusum.sum_range(1, 10**9) == 10**9 * (10**9 + 1) // 2
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0", result.stderr


def test_the_parallel_sum_example_runs() -> None:
    example = HERE.parent / "examples" / "parallel_sum.py"
    result = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stderr
