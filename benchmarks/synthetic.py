"""Synthetic worlds for scaling measurements: N nations and S sites, built as a scenario file
would be, so that the whole model (agents, decisions, recording) is measured, not a mock."""

from __future__ import annotations

import numpy as np

from sim.scenario import Scenario
from sim.scenario.loader import validate

RULES = ["tit_for_tat", "generous_tit_for_tat", "grim_trigger", "pavlov", "bloc_follower",
         "reinforcement"]
BLOCS = ["artemis", "ilrs", "nonaligned"]


def synthetic_scenario(nations: int, sites: int = 20, years: float = 25.0, seed: int = 0) -> Scenario:
    """A world of ``nations`` nations with memory-one and learning rules (no counterfactual
    reasoning, whose cost grows with the number of reasoning nations times the step's)."""
    rng = np.random.default_rng(seed)
    raw = {
        "name": f"synthetic_{nations}x{sites}",
        "time": {"start_year": 2026, "steps_per_year": 4, "horizon_years": years},
        "regime": {"name": "artemis_accords"},
        "market": {"leverage_holder": "N1", "rest_of_world_production_t_per_yr": 50000.0,
                   "rest_of_world_demand_t_per_yr": 50000.0},
        "nations": [
            {"name": f"N{k}", "bloc": BLOCS[k % len(BLOCS)],
             "budget_usd_bn": float(rng.lognormal(0.0, 1.0)),
             "ree_demand_t_per_yr": float(rng.uniform(0, 20000)),
             "ree_production_t_per_yr": float(rng.uniform(0, 20000)),
             "strategy": {"name": RULES[k % len(RULES)], "tremble": 0.02}}
            for k in range(nations)
        ],
        "sites": [
            {"name": f"S{s}", "kind": "ice" if s % 10 else "ree",
             "reserve_t": float(rng.uniform(1e5, 5e5)), "grade": float(rng.uniform(0.01, 0.06)),
             "capacity_t_per_yr": float(rng.uniform(2e4, 6e4)),
             "illumination": float(rng.uniform(0.3, 0.9)), "lat": -88.0, "lon": float(s)}
            for s in range(sites)
        ],
    }
    return validate(raw, raw["name"])
