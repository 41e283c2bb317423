"""Units and the one division guard that the step's submodels share (``sim.economy.step`` and
``sim.economy.rare_earths``)."""

from __future__ import annotations

import numpy as np

KG_PER_T = 1.0e3
USD_PER_BN = 1.0e9


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, and 0 where den is 0 (an empty site has no crowding, rivals or partners; an
    economy without supply has no share of it)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    return np.divide(num, den, out=out, where=den > 0)
