"""What the kernels and their callers share: the division guard, and the batches they pass."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def ratio(num: float, den: float) -> float:
    """num / den, and 0 where den is not positive (as :func:`sim.base.units.ratio`)."""
    return num / den if den > 0.0 else 0.0


@numba.njit(cache=True, error_model="numpy")
def repeated(a, count):
    """[count, *a.shape]: ``count`` copies of ``a``, each copied as one run of memory (assigning
    ``a`` to each slice of the result costs two to five times as much, measured)."""
    source = np.ascontiguousarray(a).reshape(-1)
    out = np.empty((count,) + a.shape, dtype=a.dtype)
    flat = out.reshape(-1)
    size = source.shape[0]
    for k in range(count):
        start = k * size
        for x in range(size):
            flat[start + x] = source[x]
    return out


def batch(a: np.ndarray, lead: tuple[int, ...], *tail: int) -> np.ndarray:
    """``a`` broadcast to ``lead + tail`` as a C-ordered, writable [B, *tail] array (a copy only
    where needed): the one layout the kernels are compiled for."""
    if a.shape != lead + tail:
        a = np.broadcast_to(a, lead + tail)
    a = a.reshape(-1, *tail)
    return a if a.flags.c_contiguous and a.flags.writeable else np.array(a, order="C")
