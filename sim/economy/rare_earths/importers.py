"""The importers' answer (step 9b): the supply threat each feels after the holder's controls,
and the refining outside the holder that it builds toward, with a lead time."""

from __future__ import annotations

import numpy as np

from sim.economy.rare_earths.mines import holdings
from sim.economy.state import EconParams, State, World


def diversify(world: World, state: State, targets: np.ndarray, same_bloc: np.ndarray,
              econ: EconParams) -> tuple[np.ndarray, np.ndarray]:
    """Step 9b: threat felt and refining built, after this step's controls.

    A nation under control feels the full threat (1); one whose ally (same bloc) is under control
    feels ``ally_threat``; threat otherwise halves every ``threat_half_life_years``. A bloc wants
    refining outside the holder for ``self_reliance_goal`` of its members' demand, each member's
    weighed by the threat it feels (the EU's Critical Raw Materials Act, Japan after 2010); the
    members build it in proportion to their mine output (refineries go where the ore is:
    Australia and the US for their allies), or to their demand in a bloc without mines. Each
    builds toward its part with a lag: a share ``1 − e^(−dt/L)`` of the gap each step, L the
    ``refining_lead_time_years``. Plants built are not torn down. Returns (built [N+1] t/yr,
    the rest of the world's as it was, and threat [N]). ``same_bloc`` [N, N] is True on the
    diagonal. Computed by the compiled :func:`sim.economy.kernels.market.diversify`.
    """
    from sim.economy.kernels.market import diversify as compiled

    h = world.leverage_holder
    if h is None:  # nobody to diversify away from
        return state.ree_refining_built_t_per_yr.copy(), np.zeros_like(state.ree_threat)
    mined, capacity = holdings(world, state)
    return compiled(int(h), np.asarray(same_bloc, dtype=bool), np.asarray(targets, dtype=bool),
                    state.ree_threat, world.ree_demand_t_per_yr[:-1] * state.ree_demand_factor,
                    mined[:-1], capacity[:-1],
                    state.ree_refining_built_t_per_yr, *rates(econ, world.dt))


def rates(econ: EconParams, dt: float) -> tuple[float, float, float, float]:
    """What step 9b reads of the parameters for a step of ``dt`` years: how much of the threat
    felt is left (it halves every ``threat_half_life_years``), the threat an ally's control
    carries, the self-reliance goal, and the share ``1 − e^(−dt/L)`` of the gap built."""
    return (0.5 ** (dt / econ.threat_half_life_years), econ.ally_threat, econ.self_reliance_goal,
            float(-np.expm1(-dt / econ.refining_lead_time_years)))
