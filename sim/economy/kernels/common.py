"""What the kernels share: the division guard."""

from __future__ import annotations

import numba


@numba.njit(cache=True, error_model="numpy")
def ratio(num: float, den: float) -> float:
    """num / den, and 0 where den is not positive (as :func:`sim.base.units.ratio`)."""
    return num / den if den > 0.0 else 0.0
