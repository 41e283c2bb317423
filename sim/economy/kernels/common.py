"""What the kernels and their callers share: the division guard, numpy's sum, and the batches
they pass."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def ratio(num: float, den: float) -> float:
    """num / den, and 0 where den is not positive (as :func:`sim.base.units.ratio`)."""
    return num / den if den > 0.0 else 0.0


@numba.njit(cache=True, error_model="numpy")
def maximum(a: float, b: float) -> float:
    """``np.maximum(a, b)``: the larger, NaN if either is, and the second on a tie (so +0.0 or
    -0.0 as numpy gives it); folded over a row of at most eight, numpy's ``max`` of it (longer
    rows are reduced in vector lanes, which may settle a tie between zeros otherwise)."""
    return a if (a > b or a != a) else b


@numba.njit(cache=True, error_model="numpy")
def numpy_sum(a):
    """``a.sum()`` of a 1-D float array, added as numpy adds it, to the last bit (tested): from
    0, pairwise. A block of at most 128 numbers is summed by :func:`_block`; a longer run is
    split in two halves (the first a multiple of 8), each summed alone, then added. The halves
    are walked with a stack, not by recursion, which numba's cache does not load safely
    (numba issue #6061)."""
    count = a.shape[0]
    if count <= 128:
        return 0.0 + _block(a, 0, count)
    # a run's start, length and stage (0: new, 1: left half summed, 2: both summed)
    start, length, stage = np.empty(128, np.int64), np.empty(128, np.int64), np.empty(128, np.int8)
    sums = np.empty(128)
    top, done = 0, 0
    start[0], length[0], stage[0] = 0, count, 0
    while top >= 0:
        s, c = start[top], length[top]
        half = c // 2
        half -= half % 8
        if c <= 128:
            sums[done] = _block(a, s, c)
            done += 1
            top -= 1
        elif stage[top] == 0:
            stage[top] = 1
            top += 1
            start[top], length[top], stage[top] = s, half, 0
        elif stage[top] == 1:
            stage[top] = 2
            top += 1
            start[top], length[top], stage[top] = s + half, c - half, 0
        else:
            done -= 1
            sums[done - 1] = sums[done - 1] + sums[done]
            top -= 1
    return 0.0 + sums[0]


@numba.njit(cache=True, error_model="numpy")
def _block(a, start, count):
    """numpy's pairwise sum of ``a[start:start + count]`` for at most 128 numbers: one by one
    below 8; else eight running sums added in pairs, then the rest one by one."""
    if count < 8:
        total = 0.0
        for i in range(start, start + count):
            total += a[i]
        return total
    r = np.empty(8)
    for k in range(8):
        r[k] = a[start + k]
    i = 8
    while i < count - count % 8:
        for k in range(8):
            r[k] += a[start + i + k]
        i += 8
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < count:
        total += a[start + i]
        i += 1
    return total


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
