"""Step 10, what nations learn of a step, compiled: trust (:func:`sim.economy.step.learn_trust`)
and standing (:func:`sim.rules.strategies.trade.update_standing`), each one pass over the pairs
instead of a dozen numpy calls on arrays of a hundred numbers. The same operations on the same
numbers in the same order, so the results are numpy's to the last bit (tested)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def learn_trust(trust, received, incidents, rate, shock):
    """Trust [N, N] after a step in which i received ``received[i, j]`` (j's C toward i, in
    both arenas) and had ``incidents``: moved toward what it received at ``rate``, cut by
    ``shock`` where an incident was, 1 toward oneself, clipped to [0, 1]."""
    n = trust.shape[0]
    new = np.empty((n, n))
    kept = 1.0 - shock
    for i in range(n):
        for j in range(n):
            t = trust[i, j]
            v = t + rate * ((1.0 if received[j, i] else 0.0) - t)
            if incidents[i, j]:
                v = v * kept
            if i == j:
                v = 1.0
            new[i, j] = min(max(v, 0.0), 1.0)
    return new


@numba.njit(cache=True, error_model="numpy")
def update_standing(standing, actions, trade):
    """Standing [2, N, N] (counting defections in the rare-earth arena only, and in either)
    after a step of ``actions`` at the pole and ``trade`` (True = C): good where i did not
    defect against j, or did as a justified punishment (in good standing against a j in bad
    standing, counting either arena); always toward oneself."""
    n = actions.shape[0]
    new = np.empty((2, n, n), dtype=np.bool_)  # [0]: the arena only (TRADE_ONLY), [1]: EITHER
    for i in range(n):
        for j in range(n):
            justified = standing[1, i, j] and not standing[1, j, i]
            new[0, i, j] = i == j or trade[i, j] or justified
            new[1, i, j] = i == j or (trade[i, j] and actions[i, j]) or justified
    return new
