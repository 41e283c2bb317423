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

The step's compiled kernels compute all of this with the market (``_severity`` and ``_clear``
in :mod:`sim.economy.kernels.market`); this module names the arena's pairs and its accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


@dataclass(frozen=True)
class Retaliation:
    """What importers' retaliation costs this step, USD bn [..., N]."""

    sales_lost: np.ndarray  # each retaliator's exports forgone
    cost: np.ndarray  # what the holder loses (its own entry: the sum over retaliators)
    pain: np.ndarray  # [..., N, N] pain[i, j]: the loss i's retaliation inflicts on j
