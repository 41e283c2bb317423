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


@numba.njit(cache=True, error_model="numpy")
def reciprocate_rows(either, trade_only, they, linked, arenas, trade, intended):
    """In place, for each nation in ``they`` (those that act in the rare-earth arena by contrite
    reciprocity alone, :func:`sim.rules.strategies.trade.reciprocate`): its rare-earth row in
    ``trade`` — a restriction toward each rival in bad standing toward it while it is in good
    standing toward the rival (``either`` or ``trade_only`` [N, N] the standing, as its
    ``linked`` says it counts defections), where its ``arenas`` row pairs them — and, for a
    linked one, its answer at the pole: no C in ``intended`` toward such a rival."""
    n = they.shape[0]
    for i in range(n):
        if not they[i]:
            continue
        good = either if linked[i] else trade_only
        for j in range(n):
            punish = i != j and good[i, j] and not good[j, i]
            trade[i, j] = not punish or not arenas[i, j]
            if linked[i] and punish and arenas[i, j]:
                intended[i, j] = False
