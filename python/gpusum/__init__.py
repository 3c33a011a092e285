"""Exact sums of numpy arrays on any GPU that wgpu reaches (Vulkan, Metal, DX12, OpenGL), or on
the CPU, wherever each sum finishes first.

Integers (and bools, as counts) sum to an exact Python ``int``, never wrapped; float32 and float64
arrays sum exactly and are rounded once, to nearest with ties to even: a ``numpy.float32`` or a
``float`` with the same bits on every GPU and CPU, whatever the order of the data::

    >>> import numpy as np, gpusum
    >>> gpusum.sum(np.array([2**62] * 3, dtype=np.int64))
    13835058055282163712
    >>> gpusum.sum(np.array([1e308, 1.0, -1e308]))
    1.0
    >>> gpusum.sum_range(1, 20)
    210

Along axes and by key, as numpy spells them, with one exact sum per output::

    >>> m = np.array([[2**62, 2**62], [2**62, 1]], dtype=np.int64)
    >>> gpusum.sum(m, axis=0)
    array([9223372036854775808, 4611686018427387905], dtype=object)
    >>> keys, sums = gpusum.sum_by(np.array([3, 1, 3]), np.array([0.1, 2.5, 0.2]))
    >>> keys, sums  # 0.1 + 0.2 is 0.30000000000000004 in floats; exactly, it rounds to 0.3
    (array([1, 3]), array([2.5, 0.3]))

``sum`` (whole, or along ``axis``, with numpy's ``keepdims`` and ``dtype``), ``sum_by``,
``sum_range`` and ``sum_file`` run on one default engine per backend and adapter;
``Engine`` opens one of your own. ``ExactSum`` and ``ExactFloatSum`` are the exact, mergeable
running totals, which pickle, so partial sums can travel between processes; ``gpusum.dask.sum``
(the ``dask`` extra) sums Dask arrays with them. Every sum releases
the GIL, honours ``timeout`` (``TimeoutError``) and stops on Ctrl-C (``KeyboardInterrupt``).
Errors: ``ValueError`` for a bad argument, ``TypeError`` for a dtype gpusum does not sum,
``OverflowError`` for bounds outside int64 or a sum a ``dtype`` cannot hold, numpy's ``AxisError``
for an axis the array lacks, ``OSError`` for a file, ``gpusum.GpuError`` (a ``gpusum.Error``) for
a GPU that failed.
"""

from ._gpusum import (
    Engine,
    Error,
    ExactFloatSum,
    ExactSum,
    GpuError,
    __version__,
    adapters,
    sum,
    sum_by,
    sum_file,
    sum_range,
)

__all__ = [
    "Engine",
    "Error",
    "ExactFloatSum",
    "ExactSum",
    "GpuError",
    "__version__",
    "adapters",
    "sum",
    "sum_by",
    "sum_file",
    "sum_range",
]
