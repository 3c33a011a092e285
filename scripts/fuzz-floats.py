#!/usr/bin/env python3
"""Exact float sums fuzzed against an exact oracle: `gpusum file` on generated .npy files (whole
arrays, along an axis, by key), on each CPU instruction set and GPU driver asked for, compared
bit for bit with the sum of Python Fractions rounded once. Arrays mix blocks the kernels plan
differently: narrow and wide exponent bands, any finite bits, subnormals, zeros of both signs,
values near the largest, repeats, NaNs and infinities with any payload, and exact cancellation.

    python3 scripts/fuzz-floats.py --exe target/release/gpusum --seed 1 --count 200 \\
        --targets avx2,sse2,scalar,vulkan,gl

A mismatch prints its case and keeps its files under --keep; the exit status is 1 if any.
Needs numpy. (It found the float windows' sign bug that sums along an axis had: fixed in b6ce029.)
"""

import argparse
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

# Significand bits, least and greatest normal exponents.
FORMATS = {np.float64: (53, -1022, 1023), np.float32: (24, -126, 127)}
GPU_DRIVERS = ("vulkan", "gl")


def round_once(values: np.ndarray):
    """The exact sum of `values`, rounded once to their type: a numpy scalar, or 'nan', 'inf', '-inf'."""
    kind = values.dtype.type
    bits, least, greatest = FORMATS[kind]
    if np.isnan(values).any() or (np.isposinf(values).any() and np.isneginf(values).any()):
        return "nan"
    if np.isinf(values).any():
        return "inf" if np.isposinf(values).any() else "-inf"
    exact = sum((Fraction(float(v)) for v in values), Fraction(0))
    if exact == 0:
        negative = len(values) > 0 and bool(np.signbit(values).all())
        return kind(-0.0 if negative else 0.0)
    sign, exact = (-1 if exact < 0 else 1), abs(exact)
    exponent = exact.numerator.bit_length() - exact.denominator.bit_length()
    if Fraction(2) ** exponent > exact:
        exponent -= 1
    unit = Fraction(2) ** (max(exponent, least) - (bits - 1))
    units, rest = divmod(exact, unit)
    if rest > unit / 2 or (rest == unit / 2 and units % 2 == 1):
        units += 1
    if units * unit >= Fraction(2) ** (greatest + 1):
        return "inf" if sign > 0 else "-inf"
    return kind(sign * float(units * unit))


def block(rng, kind, count: int, specials: bool) -> np.ndarray:
    """`count` or fewer values of one generated kind."""
    bits, least, greatest = FORMATS[kind]
    unsigned = np.uint64 if kind is np.float64 else np.uint32
    finfo = np.finfo(kind)
    choice = int(rng.integers(0, 8 if specials else 6))
    if choice == 0:  # an exponent band, narrow or wide
        low = int(rng.integers(least - bits, greatest - 2))
        exponents = rng.integers(low, low + int(rng.integers(0, 80)) + 1, size=count)
        wide = np.ldexp(rng.random(count) + 1.0, exponents) * rng.choice([-1.0, 1.0], size=count)
        wide = wide[np.abs(wide) <= float(finfo.max)]
        return wide.astype(kind)
    if choice == 1:  # any finite bits
        values = rng.integers(0, np.iinfo(unsigned).max, size=count, dtype=unsigned, endpoint=True)
        values = values.view(kind)
        return values[np.isfinite(values)]
    if choice == 2:  # subnormals and zeros, both signs
        values = rng.integers(0, 1 << (bits - 1), size=count, dtype=unsigned).view(kind).copy()
        values[rng.random(count) < 0.5] *= -1
        return values
    if choice == 3:  # zeros, some negative
        values = np.zeros(count, kind)
        values[rng.random(count) < rng.random()] = -0.0
        return values
    if choice == 4:  # near the largest finite value
        near = np.ldexp(rng.random(count) + 1.0, rng.integers(greatest - 3, greatest + 1, size=count))
        near = near[near <= float(finfo.max)].astype(kind)
        near[rng.random(len(near)) < 0.5] *= -1
        return near
    if choice == 5:  # one value repeated
        return np.full(count, kind(rng.choice([1.5, -3.25, 1e-30, 6e30])), kind)
    if choice == 6:  # any bits: NaNs and infinities among them
        return rng.integers(0, np.iinfo(unsigned).max, size=count, dtype=unsigned, endpoint=True).view(kind)
    values = np.zeros(count, kind)  # one special, its payload set or not
    values[int(rng.integers(0, count))] = rng.choice([np.inf, -np.inf, np.nan])
    if rng.random() < 0.5:
        raw = values.view(unsigned)
        raw[raw != 0] |= unsigned(rng.integers(0, 1 << (bits - 1)))
    return values


def array(rng, kind) -> np.ndarray:
    """An array of awkward length built from blocks, sometimes cancelling to a small remainder."""
    length = int(rng.choice([1, 3, 17, 255, 257, 1000, 4095, 4097, 8191, 9000, 20000, 70000]))
    specials = rng.random() < 0.15
    parts, have = [], 0
    while have < length:
        parts.append(block(rng, kind, int(rng.integers(1, 6000)), specials))
        have += len(parts[-1])
    values = np.concatenate(parts)[:length].astype(kind)
    if rng.random() < 0.3:
        values = np.concatenate([values, -values, values[: int(rng.integers(0, 5))]])
    if rng.random() < 0.6:
        rng.shuffle(values)
    return values


def matrix_of(rng, values: np.ndarray):
    """`values` as a matrix of awkward width, C or Fortran order, and an axis to sum it along."""
    columns = min(int(rng.choice([1, 2, 3, 5, 8, 16, 63, 64, 65, 257])), len(values))
    matrix = values[: len(values) // columns * columns].reshape(-1, columns)
    if rng.random() < 0.5:
        matrix = np.asfortranarray(matrix)
    return matrix, int(rng.choice([0, 1, -1]))


def keys_for(rng, count: int) -> np.ndarray:
    """`count` keys from a few distinct ones to about a thousand, of a random integer type."""
    keys = rng.integers(-3, int(rng.choice([1, 2, 5, 100, 1000])), size=count)
    return keys.astype(rng.choice([np.int64, np.int32, np.int16]))


def case(rng, kind, mode: str, folder: Path):
    """Writes one case's files; returns the extra arguments and the expected lines."""
    values = array(rng, kind)
    path = folder / "values.npy"
    if mode == "whole":
        np.save(path, values)
        return [], [round_once(values)]
    if mode == "axis":
        matrix, axis = matrix_of(rng, values)
        np.save(path, matrix)
        lines = matrix if axis == 0 else matrix.T
        return ["--axis", str(axis)], [round_once(np.ascontiguousarray(lines[:, j])) for j in range(lines.shape[1])]
    keys = keys_for(rng, len(values))
    np.save(path, values)
    np.save(folder / "keys.npy", keys)
    expected = [(k, round_once(values[keys == k])) for k in sorted(set(keys.tolist()))]
    return ["--by", str(folder / "keys.npy")], expected


def same(text: str, want, kind) -> bool:
    """Whether gpusum's printed sum is `want`, bit for bit."""
    if isinstance(want, str):
        return text == want
    try:
        return kind(float(text)).tobytes() == want.tobytes()
    except ValueError:
        return False


def matches(stdout: str, expected, kind, mode: str) -> bool:
    lines = stdout.splitlines()
    if len(lines) != len(expected):
        return False
    if mode != "by":
        return all(same(line, want, kind) for line, want in zip(lines, expected))
    pairs = [line.split("\t") for line in lines]
    return all(len(p) == 2 and int(p[0]) == k and same(p[1], want, kind) for p, (k, want) in zip(pairs, expected))


def run(exe: str, target: str, backend: str, chunk: str, path: Path, extra: list) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if target in GPU_DRIVERS:
        env["WGPU_BACKEND"], backend = target, "gpu"
    else:
        env["GPUSUM_CPU_ISA"] = target
    command = [exe, "file", str(path), "--backend", backend, "-q", *extra]
    if chunk:
        command += ["--chunk-bytes", chunk]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exe", default="target/release/gpusum")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=100, help="cases")
    parser.add_argument("--targets", default="avx2,sse2,scalar", help="instruction sets and GPU drivers")
    parser.add_argument("--modes", default="whole,axis,by")
    parser.add_argument("--keep", default="fuzz-floats", help="where mismatching cases are kept")
    args = parser.parse_args()
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    rng = np.random.default_rng(args.seed)
    modes, targets = args.modes.split(","), args.targets.split(",")
    work = Path(args.keep) / f"seed-{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    bad = 0
    for number in range(args.count):
        kind = np.float64 if rng.random() < 0.5 else np.float32
        mode = str(rng.choice(modes))
        extra, expected = case(rng, kind, mode, work)
        for target in targets:
            backend = str(rng.choice(["cpu", "seq"]))
            # Small chunks cut the values (and a GPU's uploads) anywhere.
            chunk = str(rng.choice(["", "4KiB", "64KiB"]))
            done = run(args.exe, target, backend, chunk, work / "values.npy", extra)
            if done.returncode == 0 and matches(done.stdout, expected, kind, mode):
                continue
            bad += 1
            kept = work / f"case-{number}"
            kept.mkdir(exist_ok=True)
            for name in ("values.npy", "keys.npy"):
                if (work / name).exists():
                    (kept / name).write_bytes((work / name).read_bytes())
            print(f"case {number} ({kind.__name__}, {mode} {' '.join(extra)}, {target}, {backend}, "
                  f"chunk {chunk or 'default'}): "
                  f"exit {done.returncode}, {done.stderr.strip()[:200]!r}; kept in {kept}", flush=True)
    print(f"seed {args.seed}: {args.count} cases on {args.targets}, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    np.seterr(over="ignore")
    sys.exit(main())
