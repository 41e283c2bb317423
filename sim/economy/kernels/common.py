"""What the kernels and their callers share: the division guard, and the batches they pass."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def ratio(num: float, den: float) -> float:
    """num / den, and 0 where den is not positive (as :func:`sim.base.units.ratio`)."""
    return num / den if den > 0.0 else 0.0


def batch(a: np.ndarray, lead: tuple[int, ...], *tail: int) -> np.ndarray:
    """``a`` broadcast to ``lead + tail`` as a C-ordered, writable [B, *tail] array (a copy only
    where needed): the one layout the kernels are compiled for."""
    if a.shape != lead + tail:
        a = np.broadcast_to(a, lead + tail)
    a = a.reshape(-1, *tail)
    return a if a.flags.c_contiguous and a.flags.writeable else np.array(a, order="C")
