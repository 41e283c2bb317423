"""Lunar rare earths on Earth's market: the Earth-return cost below which working the best
KREEP site pays at the current price (section 7.5 of docs/ODD.md)."""

from __future__ import annotations

import math

import numpy as np

from sim.base.units import KG_PER_T
from sim.economy.state import EconParams, State, World


def break_even_return_cost(world: World, state: State, econ: EconParams) -> float:
    """The Earth-return cost (USD per kg of lunar oxide shipped) below which working the best
    KREEP site pays at this step's price: ``f·p − c_op / (grade · recovery · uptime · 1000)``
    (section 7.5). NaN where the scenario has no rare-earth site that yields anything."""
    from sim.economy.kernels.market import best_margin  # (loaded with the step)

    cost = _operating_cost_per_kg(world, econ.recovery_fraction, econ.ree_operating_cost_usd_per_t)
    if cost is None:
        return float("nan")
    best = best_margin(econ.magnet_share * state.ree_price_usd_per_kg, cost)
    return best if math.isfinite(best) else float("nan")  # no site yields anything


_last: tuple = (None, None, None, None)  # the last world and numbers asked, and the answer


def _operating_cost_per_kg(world: World, recovery: float, cost_per_t: float) -> np.ndarray | None:
    """``c_op / (grade · recovery · uptime · 1000)`` at each rare-earth site (inf where one
    yields nothing), None without one: the part of the break-even that does not move with the
    price, kept for the last world and numbers asked (the recorder asks at every step)."""
    global _last
    last = _last  # (read once: another thread may replace it)
    if last[0] is world and last[1] == recovery and last[2] == cost_per_t:
        return last[3]
    ree = ~world.site_is_ice
    cost = None
    if ree.any():
        yield_kg = world.grade[ree] * recovery * world.uptime[ree] * KG_PER_T
        with np.errstate(divide="ignore"):
            cost = np.where(yield_kg > 0, cost_per_t / yield_kg, np.inf)
    _last = (world, recovery, cost_per_t, cost)
    return cost
