"""The array forms of the simple rules that decide for all their players at once
(:meth:`sim.rules.strategies.base.Strategy.decide_all`), compiled: a few loops a step where
numpy would make a dozen calls on arrays of a dozen numbers."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def follow(last, me, lead):
    """Each follower's row [k, N] (:class:`sim.rules.strategies.blocs.BlocFollower`): its
    leader's last row, but toward the leader what the leader played toward it; a leader that
    follows itself answers what each nation played toward it (tit for tat)."""
    k, n = me.shape[0], last.shape[0]
    rows = np.empty((k, n), dtype=np.bool_)
    for x in range(k):
        for j in range(n):
            rows[x, j] = last[j, me[x]] if lead[x] == me[x] else last[lead[x], j]
        rows[x, lead[x]] = last[lead[x], me[x]]
    return rows
