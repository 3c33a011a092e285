#!/usr/bin/env python3
"""The CPU path on AVX-512 where the CPU lacks it: the engine's one-thread sums run inside Bochs
(bochscpu-python, a Tiger Lake with AVX-512) and natively (AVX2, or --native-isa), on the same
generated arrays, compared bit for bit: integers and floats, whole, along an axis, by key, and
ranges. Linux on x86-64.

    pip install bochscpu-python numpy
    cargo build --release --example emulated_isa
    python3 scripts/emulate-isa.py --seed 1 --count 200

How: `examples/emulated_isa.rs` is a C library, loaded twice so that each copy has its own
feature-detection cache. The emulated copy's first call runs under Bochs, so it sees AVX-512;
then every sum of that copy runs under Bochs on this process's own memory (the guest's page
tables map each page of /proc/self/maps to itself). The guest has no kernel: malloc is kept off
mmap and given room in the heap before each call, and a system call stops the run with its
number.
A mismatch prints its case and keeps its files under --keep; the exit status is 1 if any.
"""

import argparse
import ctypes
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = 4096
SENTINEL = 0xDEAD_0000  # an unmapped return address: fetching it ends the call
NO_KERNEL = 0xDEAD_1000  # where SYSCALL goes (LSTAR): unmapped, so a system call ends it too
ISAS = ["avx512", "avx2", "sse2", "neon", "scalar"]  # gpusum::cpu::Isa::ALL's order
INTEGERS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
WHOLE = -(2**63)
GUEST_HEAP_BYTES = 256 << 20
MXCSR = 0x1F80  # the default: round to nearest, exceptions masked
FLUSH_SUBNORMALS = 0x8040  # FTZ and DAZ: the lanes leave every block to the bins


def reexec_with_glibc_shim(error: ImportError) -> None:
    """bochscpu-python's wheel wants two glibc 2.38 names (C23's scanf and strtoull); an older
    glibc has the same functions under their old names. Builds a shim and runs again with it."""
    if "__isoc23" not in str(error) or os.environ.get("GPUSUM_EMULATE_SHIM"):
        raise error
    folder = Path(tempfile.mkdtemp(prefix="gpusum-emulate-"))
    (folder / "shim.c").write_text(
        "#include <stdarg.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
        "unsigned long long __isoc23_strtoull(const char *s, char **e, int b) { return strtoull(s, e, b); }\n"
        "int __isoc23_sscanf(const char *s, const char *f, ...) {\n"
        "  va_list a; va_start(a, f); int r = vsscanf(s, f, a); va_end(a); return r; }\n"
    )
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", folder / "shim.so", folder / "shim.c"], check=True)
    env = dict(os.environ, GPUSUM_EMULATE_SHIM="1", LD_PRELOAD=str(folder / "shim.so"))
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


try:
    import bochscpu
    import bochscpu.cpu
    import bochscpu.memory
except ImportError as missing:
    reexec_with_glibc_shim(missing)

import numpy as np  # noqa: E402

LIBC = ctypes.CDLL(None, use_errno=True)


def heap_without_the_kernel() -> None:
    """malloc as the guest needs it: one arena, no mmap'd chunks (every one from the heap, which
    the guest maps), a heap that never shrinks, and grows with room to spare (see
    `Emulator.call`)."""
    m_trim_threshold, m_top_pad, m_mmap_max, m_arena_max = -1, -2, -4, -8
    assert LIBC.mallopt(m_mmap_max, 0) and LIBC.mallopt(m_trim_threshold, 2**62)
    assert LIBC.mallopt(m_arena_max, 1)  # other threads' arenas would be mmap'd
    assert LIBC.mallopt(m_top_pad, 2 * GUEST_HEAP_BYTES)
    LIBC.malloc.restype = ctypes.c_void_p
    LIBC.free.argtypes = [ctypes.c_void_p]


def fs_base() -> int:
    """This thread's FS base (thread-local storage, the stack canary), for the guest's FS."""
    value = ctypes.c_uint64()
    LIBC.syscall.restype = ctypes.c_long
    assert LIBC.syscall(158, 0x1003, ctypes.byref(value)) == 0  # arch_prctl(ARCH_GET_FS)
    return value.value


class Emulator:
    """Calls functions of this process on an emulated CPU, on this process's memory."""

    def __init__(self, stack_bytes: int = 16 << 20):
        self.session = bochscpu.Session()
        self.session.missing_page_handler = self.missing_page
        self.stack = ctypes.create_string_buffer(stack_bytes)
        self.mapped: set = set()
        self.physical: dict = {}
        self.next_physical = 0x1000_0000
        self.table = bochscpu.memory.PageMapLevel4Table()
        self.instructions = 0

    @staticmethod
    def missing_page(gpa: int) -> None:
        raise RuntimeError(f"the guest touched physical page {gpa:#x}, which nothing maps")

    def map_process(self) -> None:
        """Page tables mapping each readable page of the process to itself, extended whenever
        the process maps more. A page keeps its physical address for good, so that what the
        emulated CPU's TLB holds stays true."""
        lines = [line.split() for line in Path("/proc/self/maps").read_text().splitlines()]
        self.regions = []
        new = False
        for fields in lines:
            low, high = (int(x, 16) for x in fields[0].split("-"))
            self.regions.append((low, high, f"{fields[1]} {fields[-1]}"))
            if "r" not in fields[1] or fields[-1] == "[vsyscall]" or (low, high) in self.mapped:
                continue
            self.mapped.add((low, high))
            for page in range(low, high, PAGE):
                if page not in self.physical:
                    new = True
                    self.physical[page] = self.next_physical
                    bochscpu.memory.page_insert(self.next_physical, page)
                    self.table.insert(page, self.next_physical, 1)
                    self.next_physical += PAGE
        if not new:
            return
        # The tables' own pages go next, and no other page will take their addresses.
        self.cr3 = self.next_physical
        layout = self.table.commit(self.cr3)
        for host, guest in layout:
            bochscpu.memory.page_insert(guest, host)
        self.next_physical = max(guest for _, guest in layout) + PAGE

    def state(self, function: int, args: tuple, mxcsr: int) -> "bochscpu.State":
        state = bochscpu.State()
        bochscpu.cpu.set_long_mode(state)
        cr0 = bochscpu.cpu.ControlRegister(state.cr0)
        cr0.AM = False
        state.cr0 = int(cr0)
        cr4 = bochscpu.cpu.ControlRegister(state.cr4)
        cr4.OSFXSR = cr4.OSXMMEXCPT = cr4.OSXSAVE = True
        state.cr4 = int(cr4)
        state.xcr0 = 0xE7  # x87, SSE, AVX and the three AVX-512 states
        state.mxcsr, state.mxcsr_mask = mxcsr, 0xFFFF
        state.fpcw, state.pat = 0x37F, 0x0007_0406_0007_0406  # the reset values
        # The System V call: six arguments in registers, the rest on the stack above the
        # return address; the stack 16-byte aligned before the call.
        stacked = list(args[6:])
        top = (ctypes.addressof(self.stack) + len(self.stack) - 64) & ~0xF
        rsp = top - 8 - 8 * (len(stacked) + len(stacked) % 2)
        for k, value in enumerate([SENTINEL, *stacked]):
            ctypes.c_uint64.from_address(rsp + 8 * k).value = value % 2**64
        state.rsp, state.rip, state.rflags = rsp, function, 0x202
        state.lstar = NO_KERNEL
        for register, value in zip(["rdi", "rsi", "rdx", "rcx", "r8", "r9"], args):
            setattr(state, register, value % 2**64)
        code, data = bochscpu.Segment(), bochscpu.Segment()
        for segment, selector, attr in [(code, 0x33, 0x22FB), (data, 0x2B, 0xCF3)]:
            segment.present, segment.selector, segment.base = True, selector, 0
            segment.limit, segment.attr = 0xFFFF_FFFF, attr
        state.cs, state.ds, state.ss, state.es, state.gs = code, data, data, data, data
        fs = bochscpu.Segment()
        fs.present, fs.selector, fs.base, fs.limit, fs.attr = True, 0x2B, fs_base(), 0xFFFF_FFFF, 0xCF3
        state.fs = fs
        return state

    def call(self, function: int, *args: int, count: bool = False, mxcsr: int = MXCSR) -> int:
        """`function(*args)` on the emulated CPU, counting its instructions if asked and with
        the float control `mxcsr`: its return value (rax)."""
        state = self.state(function, args, mxcsr)
        # Room in the heap for everything the call allocates, so that its malloc never asks the
        # kernel for more; then the tables, last, so that they hold the heap as it now is.
        LIBC.free(LIBC.malloc(GUEST_HEAP_BYTES))
        self.map_process()
        state.cr3 = self.cr3
        self.session.cpu.state = state
        stops = []
        hook = bochscpu.Hook()

        def exception(session, cpu, vector, error_code):
            stops.append((vector, error_code, session.cpu.rip))
            session.stop()

        hook.exception = exception
        if count:
            self.instructions = 0

            def after(session, cpu, instruction):
                self.instructions += 1

            hook.after_execution = after
        self.session.run([hook])
        cpu = self.session.cpu
        if cpu.rip == SENTINEL:
            return cpu.rax
        # The guest may have stopped inside malloc, holding its lock: say why and leave without
        # touching malloc (only small objects, which Python keeps apart).
        if cpu.rip == NO_KERNEL:  # rax is the call's number, rcx where it was made
            why = f"the guest made system call {cpu.rax} (from {cpu.rcx:#x})"
        else:
            why = f"the guest stopped at {cpu.rip:#x} (cr2 {cpu.cr2:#x}): exceptions {stops}"
            near = [r for r in self.regions if r[0] - (1 << 24) <= cpu.cr2 < r[1] + (1 << 24)]
            why += f" near {[(hex(a), hex(b), n) for a, b, n in near]}"
            code = [(hex(a), n) for a, b, n in self.regions if a <= cpu.rip < b]
            why += f"; code in {code}"
        os.write(2, f"emulate-isa: {why}\n".encode())
        os._exit(3)


class Library:
    """One copy of the entry points' library, called natively or on an emulator."""

    def __init__(self, path: Path, emulator: "Emulator | None"):
        self.lib = ctypes.CDLL(str(path))
        self.emulator = emulator
        self.lib.gpusum_emulated_engine.restype = ctypes.c_void_p
        self.out = ctypes.create_string_buffer(16 << 20)
        self.isa = ISAS[self.call("gpusum_emulated_init")]
        self.engine = self.lib.gpusum_emulated_engine()  # natively: it asks the system
        assert self.engine, "the engine did not open"

    def call(self, name: str, *args: int) -> int:
        function = getattr(self.lib, name)
        if self.emulator is not None:
            address = ctypes.cast(function, ctypes.c_void_p).value
            return ctypes.c_int64(self.emulator.call(address, *args)).value
        function.restype = ctypes.c_int64
        return function(*[ctypes.c_uint64(a % 2**64) for a in args])

    def text(self, written: int) -> str:
        if written < 0:
            return "error: the output did not fit"
        return ctypes.string_at(self.out, written).decode()

    def sum(self, values: bytes, keys: "bytes | None", axis: int, in_memory: bool) -> str:
        data = ctypes.create_string_buffer(values, len(values))
        key_data = ctypes.create_string_buffer(keys, len(keys)) if keys else None
        written = self.call(
            "gpusum_emulated_sum", self.engine, ctypes.addressof(data), len(values),
            ctypes.addressof(key_data) if key_data else 0, len(keys) if keys else 0, axis,
            int(in_memory), ctypes.addressof(self.out), len(self.out))
        return self.text(written)

    def range(self, first: int, last: int) -> str:
        written = self.call("gpusum_emulated_range", self.engine, first, last,
                            ctypes.addressof(self.out), len(self.out))
        return self.text(written)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def load_fuzzer():
    spec = importlib.util.spec_from_file_location("fuzz_floats", HERE / "fuzz-floats.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def integers(rng, dtype: str) -> np.ndarray:
    info = np.iinfo(dtype)
    length = int(rng.choice([1, 3, 17, 255, 257, 1000, 4095, 4097, 9000, 70000]))
    values = rng.integers(info.min, info.max, size=length, dtype=dtype, endpoint=True)
    if rng.random() < 0.3:
        values[: int(rng.integers(0, length + 1))] = info.max if rng.random() < 0.5 else info.min
    return values


def case(rng, fuzzer):
    """One case: (label, values' .npy, keys' .npy or None, axis)."""
    if rng.random() < 0.6:
        kind = np.float64 if rng.random() < 0.5 else np.float32
        values = fuzzer.array(rng, kind)
    else:
        values = integers(rng, str(rng.choice(INTEGERS)))
    mode = str(rng.choice(["whole", "axis", "by"]))
    if mode == "whole":
        return f"{values.dtype} x {len(values)}, whole", values, None, WHOLE
    if mode == "axis":
        matrix, axis = fuzzer.matrix_of(rng, values)
        return f"{values.dtype} {matrix.shape}, axis {axis}", matrix, None, axis
    keys = fuzzer.keys_for(rng, len(values))
    return f"{values.dtype} x {len(values)}, by {keys.dtype} keys", values, keys, WHOLE


def instructions_a_value(library: "Library", values: np.ndarray, mxcsr: int) -> float:
    """The instructions an exact sum costs a value on the emulated CPU: the difference between
    summing all of `values` and the first half, over the half's length."""
    counts = []
    for count in (len(values) // 2, len(values)):
        done = library.emulator.call(
            ctypes.cast(library.lib.gpusum_emulated_exact_sum, ctypes.c_void_p).value,
            values.ctypes.data, count, int(values.dtype == np.float32), count=True, mxcsr=mxcsr)
        assert done == count, f"summed {done} of {count}"
        counts.append(library.emulator.instructions)
    return (counts[1] - counts[0]) / (len(values) // 2)


def count_instructions(emulated: "Library", avx2_copy: Path, half: int) -> None:
    """Instructions a value of the float bench's data, AVX-512 against AVX2, both emulated,
    through the lanes and through the bins (a thread that flushes subnormals sends every block
    to the bins, whose integer sums are the same)."""
    avx2 = Library(avx2_copy, emulated.emulator)  # one emulator: Bochs has one CPU
    assert avx2.isa == "avx2", avx2.isa
    doubles = np.empty(2 * half, np.float64)
    avx2.lib.gpusum_emulated_bench_values(ctypes.c_size_t(2 * half), ctypes.c_void_p(doubles.ctypes.data))
    singles = doubles.astype(np.float32)
    for name, copy in [("avx512", emulated), ("avx2", avx2)]:
        for path, mxcsr in [("lanes", MXCSR), ("bins", MXCSR | FLUSH_SUBNORMALS)]:
            f32, f64 = (instructions_a_value(copy, values, mxcsr) for values in (singles, doubles))
            print(f"instructions a value ({2 * half} values of the float bench's data), {name} "
                  f"{path}: f32 {f32:.2f}, f64 {f64:.2f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", default="target/release/examples/libemulated_isa.so")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=100, help="array cases")
    parser.add_argument("--ranges", type=int, default=20, help="range cases")
    parser.add_argument("--keep", default="emulate-isa", help="where mismatching cases are kept")
    parser.add_argument("--instructions", type=int, default=0, metavar="N",
                        help="instead, count the instructions an exact float sum of N values "
                        "costs a value on AVX-512 and AVX2, both emulated")
    parser.add_argument("--native-isa", default="avx2",
                        help="the native sums' instruction set (this CPU's widest if it lacks it)")
    args = parser.parse_args()
    np.seterr(over="ignore")
    heap_without_the_kernel()
    copies = Path(tempfile.mkdtemp(prefix="gpusum-emulate-"))
    for name in ("native.so", "emulated.so", "emulated-avx2.so"):
        shutil.copy(args.library, copies / name)
    # Read by each copy at its first sum: unset for the emulated copy, which takes its widest.
    os.environ.pop("GPUSUM_CPU_ISA", None)
    emulated = Library(copies / "emulated.so", Emulator())
    os.environ["GPUSUM_CPU_ISA"] = args.native_isa
    if args.instructions:
        count_instructions(emulated, copies / "emulated-avx2.so", args.instructions // 2)
        return 0
    native = Library(copies / "native.so", None)
    print(f"native: {native.isa}; emulated (Bochs, Tiger Lake): {emulated.isa}", flush=True)
    if emulated.isa != "avx512":
        print("the emulated CPU did not take AVX-512", file=sys.stderr)
        return 1
    rng = np.random.default_rng(args.seed)
    fuzzer = load_fuzzer()
    keep = Path(args.keep) / f"seed-{args.seed}"
    bad, started = 0, time.time()
    for number in range(args.count):
        label, values, keys, axis = case(rng, fuzzer)
        in_memory = bool(rng.random() < 0.5)
        label += ", in memory" if in_memory else ", read in chunks"
        inputs = (npy(values), npy(keys) if keys is not None else None, axis, in_memory)
        want, got = native.sum(*inputs), emulated.sum(*inputs)
        # In memory and in chunks are two ways to the same sums: natively, they must agree.
        assert not in_memory or want == native.sum(*inputs[:3], False), f"case {number} ({label})"
        if want != got:
            bad += 1
            keep.mkdir(parents=True, exist_ok=True)
            np.save(keep / f"case-{number}-values.npy", values)
            if keys is not None:
                np.save(keep / f"case-{number}-keys.npy", keys)
            print(f"case {number} ({label}): {native.isa} {want[:120]!r}, avx512 {got[:120]!r}; "
                  f"kept in {keep}", flush=True)
    for number in range(args.ranges):
        width = int(rng.choice([0, 1, 15, 16, 17, 1000, 100_003]))
        first = int(rng.integers(-(2**63), 2**63 - 1 - width, endpoint=True))
        want, got = native.range(first, first + width), emulated.range(first, first + width)
        if want != got:
            bad += 1
            print(f"range {first}..={first + width}: {native.isa} {want!r}, avx512 {got!r}", flush=True)
    seconds = time.time() - started
    print(f"seed {args.seed}: {args.count} arrays and {args.ranges} ranges on avx512 (emulated) "
          f"against {native.isa}, {bad} mismatches, {seconds:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
