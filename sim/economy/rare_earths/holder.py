"""The holder's export-control policy (step 1b): whom the nation that refines most of the
world's magnet oxides restricts this step, and how hard."""

from __future__ import annotations

import numpy as np

from sim.economy.rare_earths.market import flows
from sim.economy.state import EconParams, State, World


def holder_policy(world: World, state: State, econ: EconParams) -> np.ndarray:
    """Step 1b: the holder's export controls for this step, severity per nation [N].

    The holder restricts its sales ``S_j`` to nation *j* (at severity ``s``) when what it gains
    in coercion exceeds what it loses:

        s·S_j·(c·(1 − t_hj)·k − 1)  >  g·(1 − θ_j)·phi·D_j·H

    Left: the pain it inflicts (the target's shortfall cost, ``k`` times its value), weighed by
    ``c`` (``coercion_weight``) and by how far it distrusts *j* (``1 − t_hj``, trust read from
    lunar play and incidents), less the sales it forgoes. Right: the sales it expects to lose
    for ``H`` years (``holder_foresight_years``) to the refining *j* would build if threatened:
    *j* aims to refine a share ``g`` (``self_reliance_goal``) of its demand ``D_j`` itself, and
    a nation already threatened (``θ_j`` = 1) is building anyway. The rule is re-applied every
    step, so a control lasts while distrust does: trust that recovers lifts it.
    """
    n = state.trust.shape[0]
    h = world.leverage_holder
    if h is None or econ.coercion_weight <= 0 or econ.control_severity <= 0:
        return np.zeros(n)
    f = flows(world, state, np.zeros(n), np.zeros(n))
    sales = f.from_holder[:-1]
    s = econ.control_severity
    gain = s * sales * (econ.coercion_weight * (1.0 - state.trust[h]) * econ.shortfall_cost_multiple - 1.0)
    provoked = (econ.self_reliance_goal * (1.0 - state.ree_threat) * f.phi
                * f.demand[:-1] * econ.holder_foresight_years)
    impose = (sales > 0) & (gain > provoked)
    impose[h] = False
    return np.where(impose, s, 0.0)
