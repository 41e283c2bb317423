"""Mines outside the holder (step 9c): ore that answers to price, with a lead time.

Before this, refineries outside the holder could run only on ore mined outside it at a fixed
growth rate, so nothing a nation did moved the holder's share of refining once the announced
refineries ran short of ore. Now each economy outside the holder opens mines while the price
stays above the reference: it aims at extra output ``m(t) · ((p / p_ref)^ε − 1)`` (``m(t)`` its
mine output without new mines, ``ε`` = ``mine_supply_elasticity``), and closes a share
``1 − e^(−dt/L)`` of the gap each step (``L`` = ``mine_lead_time_years``; Mountain Pass restarted
and Lynas's Mount Weld opened within a few years of the 2010 price spike, from deposits already
known). Mines are not closed when the price falls. The holder's own mines grow at the market's
rate only: its output is policy, not price-taking. A control, by raising the price, calls forth
the ore that erodes the leverage it uses.
"""

from __future__ import annotations

import numpy as np

from sim.economy.state import EconParams, State, World


def holdings(world: World, state: State) -> tuple[np.ndarray, np.ndarray]:
    """Each economy's magnet oxide mined and refining capacity outside the holder this step,
    t/yr [N+1] each: what it had at the start at the market's growth, plus what it opened or
    built in the run (:func:`mined`, :func:`sim.economy.rare_earths.market.capacity`; the
    compiled :func:`sim.economy.kernels.market.holdings`, which the step's kernels share)."""
    from sim.economy.kernels.market import holdings as compiled  # (loaded with the step)

    h = world.leverage_holder
    return compiled(world.ree_mining_t_per_yr, state.ree_mining_built_t_per_yr,
                    world.ree_refining_t_per_yr, state.ree_refining_built_t_per_yr,
                    state.ree_supply_factor, -1 if h is None else int(h))


def mined(world: World, state: State) -> np.ndarray:
    """Magnet oxide mined by each economy this step, t/yr [N+1]: its output at the market's
    growth, plus the mines it opened in the run."""
    return holdings(world, state)[0]


def open_mines(world: World, state: State, econ: EconParams) -> np.ndarray:
    """Step 9c: the mines opened outside the holder after this step's price [N+1], t/yr of
    magnet oxide (see the module's docstring). Computed by the compiled
    :func:`sim.economy.kernels.advance.open_mines`."""
    from sim.economy.kernels.advance import open_mines as compiled

    h = world.leverage_holder
    return compiled(world.ree_mining_t_per_yr, state.ree_mining_built_t_per_yr,
                    state.ree_supply_factor, -1 if h is None else int(h),
                    *price_answer(econ, state.ree_price_usd_per_kg, world.dt))


def price_answer(econ: EconParams, price: float, dt: float) -> tuple[bool, float, float]:
    """Whether mines answer to the price at all (a positive elasticity and reference price),
    the extra output each economy aims at per t/yr it mines, ``max((p / p_ref)^ε − 1, 0)``, and
    the share ``1 − e^(−dt/L)`` of the gap it closes in a step."""
    if econ.mine_supply_elasticity <= 0 or econ.ree_price_usd_per_kg <= 0:
        return False, 0.0, 0.0
    ratio = max(price / econ.ree_price_usd_per_kg, 0.0)
    return (True, max(ratio ** econ.mine_supply_elasticity - 1.0, 0.0),
            float(-np.expm1(-dt / econ.mine_lead_time_years)))
