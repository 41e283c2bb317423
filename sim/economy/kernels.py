"""Compiled kernels of the step's economics (numba), each the loop form of the equations its
numpy caller documents, with no temporaries in the hot loop. Compiled on first use and cached
on disk (next to this file, or under ``~/.cache/lunarsim/numba`` where this folder is not
writable), so workers and later runs load them instead of compiling. Imported by the step
only: listing or validating scenarios never loads the compiler.
"""

from __future__ import annotations

import os
from pathlib import Path

if "NUMBA_CACHE_DIR" not in os.environ and not os.access(Path(__file__).parent, os.W_OK):
    os.environ["NUMBA_CACHE_DIR"] = str(Path.home() / ".cache" / "lunarsim" / "numba")

import numba  # noqa: E402
import numpy as np  # noqa: E402


@numba.njit(cache=True)
def _ratio(num: float, den: float) -> float:
    """num / den, and 0 where den is not positive (as :func:`sim.base.units.ratio`)."""
    return num / den if den > 0.0 else 0.0


@numba.njit(cache=True)
def contest(demand, capacity, compete, respects, race_advantage, zone_share, worth):
    """:func:`sim.economy.step.pairwise_contest` over a batch of action matrices
    ``compete`` [B, N, N]: regolith worked [B, N, S] and value moved [B, N, N]."""
    n, s = demand.shape
    batch = compete.shape[0]
    out = np.empty((batch, n, s))
    moved = np.zeros((batch, n, n))
    for b in range(batch):
        out[b] = demand
    gross = np.zeros((n, n))
    y0 = np.empty(n)
    others = np.empty(n)
    for c in range(s):
        total = 0.0
        for i in range(n):
            total += demand[i, c]
        if not total > capacity[c]:
            continue
        for i in range(n):
            y0[i] = demand[i, c] * (capacity[c] / total)
            others[i] = total - demand[i, c]
        for b in range(batch):
            for i in range(n):  # what the settlement moves, net from j to i
                di = demand[i, c]
                for j in range(n):
                    if i == j:
                        gross[i, j] = 0.0
                        continue
                    dj = demand[j, c]
                    pool = y0[i] * _ratio(dj, others[i]) + y0[j] * _ratio(di, others[j])
                    wi = 1.0 + compete[b, i, j] * (race_advantage
                                                   * (1.0 - zone_share * respects[i, j]))
                    wj = 1.0 + compete[b, j, i] * (race_advantage
                                                   * (1.0 - zone_share * respects[j, i]))
                    raced = pool * (_ratio(wi * di, wi * di + wj * dj) - _ratio(di, di + dj))
                    kept = zone_share * respects[j, i] * ((di - y0[i]) * _ratio(dj, others[i]))
                    back = zone_share * respects[i, j] * ((dj - y0[j]) * _ratio(di, others[j]))
                    flow = raced + kept - back
                    gross[i, j] = flow if flow > 0.0 else 0.0
            for j in range(n):  # nobody gives more than its pro-rata share
                given = 0.0
                for i in range(n):
                    given += gross[i, j]
                scale = min(1.0, _ratio(y0[j], given))
                for i in range(n):
                    gross[i, j] *= scale
            for i in range(n):  # nobody gets more than it brought
                taken = 0.0
                for j in range(n):
                    taken += gross[i, j]
                scale = min(1.0, _ratio(demand[i, c] - y0[i], taken))
                for j in range(n):
                    gross[i, j] *= scale
            for i in range(n):
                got, gave = 0.0, 0.0
                for j in range(n):
                    got += gross[i, j]
                    gave += gross[j, i]
                    moved[b, i, j] += gross[i, j] * worth[c]
                out[b, i, c] = min(max(y0[i] + got - gave, 0.0), demand[i, c])
    return out, moved
