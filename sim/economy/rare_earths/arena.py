"""The rare-earth arena (step 6): what the nations' rare-earth actions do. Pure functions.

Every nation acts in two arenas. In the lunar arena it coordinates (C) or races (D); in the
rare-earth arena ``trade[i, j]`` is True (C) when i trades with j without restriction:

* the **holder** h's D toward j restricts its sales to j: it withholds ``control_severity`` of
  the magnet oxides j would buy from it (licensing delays and bans, MOFCOM 2023-2025);
* an **importer** j's D toward h retaliates: it withholds from h exports of the same value as
  the holder's sales to j at that severity ("equivalent to the level of the nullification or
  impairment", WTO DSU Art. 22.4). The retaliator forgoes those sales; the holder loses
  ``retaliation_cost_multiple`` times their value (what it costs to replace or do without them).

Only pairs with the holder act in this arena (:func:`arena_pairs`); elsewhere the action is C
and does nothing. A restriction is worth something to the one who imposes it only through the
**coercion weight** c: a nation values the pain its restriction inflicts on a rival it distrusts
at ``c · (1 − trust)`` (utility, not welfare; :func:`coercion_value`). So the arena's stage game
comes from the market the step clears, and whether a restriction pays depends on trust, on the
rival's answer and on the future, as in the lunar arena.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.base.units import KG_PER_T, USD_PER_BN


def arena_pairs(n: int, holder: int | None) -> np.ndarray:
    """[N, N] bool: the pairs whose rare-earth actions do something (the holder and each other
    nation, both ways)."""
    return np.stack([partners(n, holder, i) for i in range(n)]) if n else np.zeros((0, 0), bool)


def partners(n: int, holder: int | None, me: int) -> np.ndarray:
    """[N] bool: the nations the rare-earth arena pairs nation ``me`` with (every other nation
    for the holder, the holder for the others)."""
    row = np.zeros(n, dtype=bool)
    if holder is not None:
        if me == holder:
            row[:] = True
        else:
            row[holder] = True
        row[me] = False
    return row


def all_trade(n: int) -> np.ndarray:
    """Everyone trades freely: the rare-earth actions of a step nobody restricts."""
    return np.ones((n, n), dtype=bool)


def restrictions(trade: np.ndarray, holder: int | None, severity: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(controls, retaliation) [..., N]: the share of the holder's sales to each nation it
    withholds, and the share of the equivalent value each nation withholds from the holder
    (0 for the holder itself)."""
    trade = np.asarray(trade, dtype=bool)
    shape = trade.shape[:-1]
    if holder is None:
        return np.zeros(shape), np.zeros(shape)
    controls = np.where(trade[..., holder, :], 0.0, severity)
    retaliation = np.where(trade[..., :, holder], 0.0, severity)
    controls[..., holder] = retaliation[..., holder] = 0.0
    return controls, retaliation


@dataclass(frozen=True)
class Retaliation:
    """What importers' retaliation costs this step, USD bn [..., N]."""

    sales_lost: np.ndarray  # each retaliator's exports forgone
    cost: np.ndarray  # what the holder loses (its own entry: the sum over retaliators)
    pain: np.ndarray  # [..., N, N] pain[i, j]: the loss i's retaliation inflicts on j


def retaliation(retaliated: np.ndarray, holder_sales_t_per_yr: np.ndarray, price: np.ndarray,
                holder: int | None, cost_multiple: float, dt: float) -> Retaliation:
    """The cost of importers' retaliation this step: nation j withholds ``retaliated[j]`` of
    the value of the holder's sales to it (``holder_sales_t_per_yr[j]``, without controls, at
    this step's ``price``); it forgoes that value, and the holder loses ``cost_multiple`` times
    it."""
    value = (retaliated * holder_sales_t_per_yr * dt
             * np.expand_dims(np.asarray(price) * KG_PER_T / USD_PER_BN, -1))
    n = value.shape[-1]
    pain = np.zeros(value.shape + (n,))
    cost = np.zeros(value.shape)
    if holder is not None:
        pain[..., :, holder] = cost_multiple * value
        cost[..., holder] = pain[..., :, holder].sum(axis=-1)
    return Retaliation(sales_lost=value, cost=cost, pain=pain)


def coercion_value(pain: np.ndarray, trust: np.ndarray, weight: float) -> np.ndarray:
    """[..., N]: what the pain each nation inflicts is worth to it, ``c · Σ_j (1 − trust[i, j])
    · pain[i, j]`` — the coercive gain of a restriction (utility, not welfare)."""
    if weight <= 0:
        return np.zeros(pain.shape[:-1])
    return weight * ((1.0 - trust) * pain).sum(axis=-1)
