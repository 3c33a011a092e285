"""What every test here shares: the engines to check against (cpu, seq, auto, and each GPU adapter
present), and exact oracles (Python ints; fractions rounded by hand for floats).

Where no adapter is found the GPU cases are skipped, loudly: pytest's summary counts them, and a
notice names the line that makes them run. GPUSUM_REQUIRE_GPU=1 (CI) makes a missing adapter a
failure instead.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Any, Iterable

import numpy as np
import pytest

import gpusum

INSTALL = "apt-get install -y mesa-vulkan-drivers libvulkan1 libegl1 libegl-mesa0 libgl1-mesa-dri"


def _gpu_apis() -> list[str]:
    apis: list[str] = []
    for report in gpusum.adapters():
        if report["backend"] not in apis:
            apis.append(report["backend"])
    return apis


GPU_APIS = _gpu_apis()


def _engines() -> list[tuple[str, str, str | None]]:
    engines: list[tuple[str, str, str | None]] = [
        ("cpu", "cpu", None),
        ("seq", "seq", None),
        ("auto", "auto", None),
    ]
    # Without an adapter the GPU case still exists, and skips loudly (see no_gpu).
    engines += [(f"gpu-{api}", "gpu", f"({api})") for api in GPU_APIS] or [("gpu", "gpu", None)]
    return engines


def no_gpu(what: str) -> None:
    """Skips a GPU case on a machine without an adapter, or fails it under GPUSUM_REQUIRE_GPU=1."""
    if os.environ.get("GPUSUM_REQUIRE_GPU") == "1":
        pytest.fail(f"GPUSUM_REQUIRE_GPU=1 but no GPU adapter was found for {what}; {INSTALL}")
    pytest.skip(f"no GPU adapter: {INSTALL}")


@pytest.fixture(params=_engines(), ids=lambda e: e[0], scope="session")
def engine(request: pytest.FixtureRequest) -> gpusum.Engine:
    """Each engine a user can ask for here."""
    _, backend, adapter = request.param
    if backend == "gpu" and not GPU_APIS:
        no_gpu(request.node.nodeid)
    return gpusum.Engine(backend, adapter)


@pytest.fixture(scope="session")
def gpu_engines(request: pytest.FixtureRequest) -> list[gpusum.Engine]:
    """An engine on each graphics API's adapter."""
    if not GPU_APIS:
        no_gpu(request.node.nodeid)
    return [gpusum.Engine("gpu", f"({api})") for api in GPU_APIS]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "no GPU adapter" in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_line(
            f"!!!!! NO GPU ADAPTER: {len(skipped)} GPU tests did not run. To run them on a "
            f"machine without a GPU: {INSTALL}. GPUSUM_REQUIRE_GPU=1 makes this a failure.",
            red=True,
        )


def exact_int(values: np.ndarray) -> int:
    """The plainest exact sum: every element as a Python int."""
    return sum(int(v) for v in values.ravel().tolist())


def round_fraction(value: Fraction, bits: int, min_exponent: int, max_exponent: int) -> float:
    """`value` rounded to nearest, ties to even, as a float of `bits` significand bits whose
    smallest subnormal is 2**min_exponent and whose values stay below 2**max_exponent; an
    infinity past that."""
    if value == 0:
        return 0.0
    sign = -1.0 if value < 0 else 1.0
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:
        exponent -= 1
    quantum = max(exponent - (bits - 1), min_exponent)
    scaled = magnitude / Fraction(2) ** quantum
    whole = math.floor(scaled)
    rest = scaled - whole
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and whole % 2 == 1):
        whole += 1
    if whole * Fraction(2) ** quantum >= Fraction(2) ** max_exponent:
        return sign * math.inf
    return sign * math.ldexp(whole, quantum)


def exact_float(values: Iterable[float], dtype: Any) -> float:
    """The exact sum of `values`, rounded once to `dtype`, with IEEE 754's rules for NaN,
    infinities and -0.0, as gpusum documents them."""
    values = [float(v) for v in values]
    if any(math.isnan(v) for v in values):
        return math.nan
    positive = any(v == math.inf for v in values)
    negative = any(v == -math.inf for v in values)
    if positive and negative:
        return math.nan
    if positive or negative:
        return math.inf if positive else -math.inf
    total = sum((Fraction(v) for v in values), Fraction(0))
    if total == 0:
        every_negative_zero = bool(values) and all(v == 0 and math.copysign(1, v) < 0 for v in values)
        return -0.0 if every_negative_zero else 0.0
    if np.dtype(dtype).itemsize == 4:
        return round_fraction(total, 24, -149, 128)
    return round_fraction(total, 53, -1074, 1024)


def same_float(got: Any, expected: float) -> bool:
    """Bit for bit, NaN equal to NaN."""
    got = float(got)
    if math.isnan(expected):
        return math.isnan(got)
    return got == expected and math.copysign(1, got) == math.copysign(1, expected)
