# Type stubs of the native module; gpusum/__init__.py re-exports every name.
from os import PathLike
from typing import Any, Literal

import numpy
import numpy.typing

__version__: str

Backend = Literal["auto", "gpu", "cpu", "seq"]
Number = int | float | numpy.float32
DtypeLike = str | type[Any] | numpy.dtype[Any]
Axis = int | tuple[int, ...] | None
# A whole sum with axis=None (a numpy scalar where dtype is given), else an array of sums.
Sum = Number | numpy.generic | numpy.typing.NDArray[Any]

class Error(Exception):
    """The base of gpusum's own errors."""

class GpuError(Error):
    """A GPU failed or could not be used: none found, lost, out of memory, or a driver error."""

class Engine:
    """A place to run exact sums, opened once and reused; thread-safe."""

    def __init__(self, backend: Backend = "auto", adapter: str | None = None) -> None: ...
    def sum(
        self,
        x: numpy.typing.ArrayLike,
        axis: Axis = None,
        *,
        dtype: DtypeLike | None = None,
        keepdims: bool = False,
        timeout: float | None = None,
    ) -> Sum:
        """The exact sum of ``x``: whole, or one sum per index of the axes not in ``axis``."""
    def sum_by(
        self,
        keys: numpy.typing.ArrayLike,
        values: numpy.typing.ArrayLike,
        *,
        return_counts: bool = False,
        timeout: float | None = None,
    ) -> tuple[numpy.typing.NDArray[Any], ...]:
        """The exact sum of ``values`` per distinct key: ``(unique_keys, sums[, counts])``."""
    def sum_range(self, start: int, end: int, *, timeout: float | None = None) -> int:
        """The exact sum of the inclusive range [start, end]."""
    def sum_file(
        self,
        path: str | PathLike[str],
        *,
        dtype: DtypeLike | None = None,
        big_endian: bool = False,
        timeout: float | None = None,
    ) -> Number:
        """The exact sum of a .npy or raw file, streamed."""
    @property
    def place(self) -> Literal["gpu", "cpu", "seq"] | None:
        """Where the last sum ran."""
    @property
    def reason(self) -> str | None:
        """Why the last sum ran there, in one sentence."""
    @property
    def adapter(self) -> str | None:
        """The GPU adapter, once the engine has opened one."""
    @property
    def fallback(self) -> str | None:
        """Why "auto" moved to the CPU for good, if it did."""

class ExactSum:
    """An exact running sum of integers; mergeable, serializable, picklable."""

    def __init__(self) -> None: ...
    def add(self, x: int | numpy.typing.ArrayLike) -> None:
        """Adds an int or every element of an integer or bool array-like."""
    def merge(self, other: ExactSum) -> None:
        """Adds another sum's elements."""
    @property
    def value(self) -> int:
        """The exact sum."""
    @property
    def count(self) -> int:
        """Elements added."""
    def __int__(self) -> int: ...
    def to_bytes(self) -> bytes:
        """The sum in the library's versioned byte format."""
    @staticmethod
    def from_bytes(data: bytes) -> ExactSum:
        """Reads what to_bytes wrote; ValueError for anything else."""

class ExactFloatSum:
    """An exact running sum of float32 or float64 values, rounded once when read."""

    def __init__(self, dtype: DtypeLike | None = None) -> None: ...
    def add(self, x: float | numpy.typing.ArrayLike) -> None:
        """Adds a value of this sum's type or every value of an array-like of it."""
    def merge(self, other: ExactFloatSum) -> None:
        """Adds another sum of the same type."""
    @property
    def value(self) -> float | numpy.float32:
        """The exact sum rounded once."""
    @property
    def count(self) -> int:
        """Values added."""
    @property
    def dtype(self) -> Literal["float32", "float64"]:
        """The values' type."""
    def __float__(self) -> float: ...
    def to_bytes(self) -> bytes:
        """The sum in the library's versioned byte format."""
    @staticmethod
    def from_bytes(data: bytes) -> ExactFloatSum:
        """Reads what to_bytes wrote; ValueError for anything else."""

def sum(
    x: numpy.typing.ArrayLike,
    axis: Axis = None,
    *,
    dtype: DtypeLike | None = None,
    keepdims: bool = False,
    backend: Backend = "auto",
    adapter: str | None = None,
    timeout: float | None = None,
) -> Sum:
    """The exact sum of ``x`` on the default engine, whole or along ``axis``."""

def sum_by(
    keys: numpy.typing.ArrayLike,
    values: numpy.typing.ArrayLike,
    *,
    return_counts: bool = False,
    backend: Backend = "auto",
    adapter: str | None = None,
    timeout: float | None = None,
) -> tuple[numpy.typing.NDArray[Any], ...]:
    """The exact sum of ``values`` per distinct key on the default engine."""

def sum_range(
    start: int,
    end: int,
    *,
    backend: Backend = "auto",
    adapter: str | None = None,
    timeout: float | None = None,
) -> int:
    """The exact sum of the inclusive range [start, end] on the default engine."""

def sum_file(
    path: str | PathLike[str],
    *,
    dtype: DtypeLike | None = None,
    big_endian: bool = False,
    backend: Backend = "auto",
    adapter: str | None = None,
    timeout: float | None = None,
) -> Number:
    """The exact sum of a .npy or raw file, streamed, on the default engine."""

def adapters() -> list[dict[str, Any]]:
    """Every adapter wgpu finds, with the fields of `gpusum adapters --json`."""
