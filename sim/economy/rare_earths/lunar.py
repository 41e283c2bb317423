"""Lunar rare earths on Earth's market: the Earth-return cost below which working the best
KREEP site pays at the current price (section 7.5 of docs/ODD.md)."""

from __future__ import annotations

import numpy as np

from sim.base.units import KG_PER_T
from sim.economy.state import EconParams, State, World


def break_even_return_cost(world: World, state: State, econ: EconParams) -> float:
    """The Earth-return cost (USD per kg of lunar oxide shipped) below which working the best
    KREEP site pays at this step's price: ``f·p − c_op / (grade · recovery · uptime · 1000)``
    (section 7.5). NaN where the scenario has no rare-earth site that yields anything."""
    ree = ~world.site_is_ice
    if not ree.any():
        return float("nan")
    yield_kg = world.grade[ree] * econ.recovery_fraction * world.uptime[ree] * KG_PER_T
    with np.errstate(divide="ignore"):
        threshold = econ.magnet_share * state.ree_price_usd_per_kg - np.where(
            yield_kg > 0, econ.ree_operating_cost_usd_per_t / yield_kg, np.inf)
    best = float(threshold.max())
    return best if np.isfinite(best) else float("nan")  # no site yields anything
