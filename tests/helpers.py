"""Helpers for tests: library scenarios as raw tables, and variants of them built in code."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from sim.scenario import Scenario
from sim.scenario.loader import find_scenario, resolve_raw, validate

REPO = Path(__file__).resolve().parents[1]


def raw_scenario(name: str) -> dict[str, Any]:
    """A library scenario as its merged raw table, ready to be changed by a test."""
    return resolve_raw(find_scenario(name))


def scenario_from(raw: dict[str, Any], **changes: Any) -> Scenario:
    """Validate a raw table after setting dotted keys, e.g. ``economics__synergy=0.0``."""
    raw = copy.deepcopy(raw)
    for key, value in changes.items():
        node = raw
        *parents, last = key.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return validate(raw, "<test>")


def with_strategies(raw: dict[str, Any], *names: str) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    for nation, name in zip(raw["nations"], names, strict=True):
        nation["strategy"] = name
    return raw


def assert_same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _skip(*_draws: object) -> dict:
    return {}


def random_trade(seed: int, n: int, batch: int | None = None) -> np.ndarray:
    """Random rare-earth actions [N, N] (or [batch, N, N]): about a third of them restrictions."""
    rng = np.random.default_rng([seed, 7])
    trade = rng.random((n, n) if batch is None else (batch, n, n)) < 0.65
    trade[..., np.arange(n), np.arange(n)] = True
    return trade


def random_world_state(seed: int, n: int, s: int):
    """A random but valid (world, state, actions, rules, econ) for property tests."""
    from sim.economy.state import EconParams, RegimeRules, State, World
    from sim.scenario.schema import EconomicsSpec, MarketSpec, TrustSpec

    rng = np.random.default_rng(seed)
    arena = np.random.default_rng([seed, 11])
    is_ice = rng.random(s) < 0.7
    reserve0 = rng.uniform(1.0, 1e4, s)
    world = World(
        steps_per_year=int(rng.integers(1, 13)),
        site_is_ice=is_ice,
        grade=rng.uniform(0.001, 0.3, s),
        site_capacity_t_per_yr=rng.uniform(10, 1e5, s),
        uptime=rng.uniform(0.0, 1.0, s),
        initial_reserve_t=reserve0,
        best_sites=is_ice,
        ree_demand_t_per_yr=rng.uniform(0, 1e5, n + 1) * (rng.random(n + 1) < 0.8),
        ree_mining_t_per_yr=rng.uniform(0, 1e5, n + 1) * (rng.random(n + 1) < 0.7),
        ree_refining_t_per_yr=rng.uniform(0, 3e4, n + 1) * (rng.random(n + 1) < 0.5),
        leverage_holder=None if rng.random() < 0.2 else int(rng.integers(0, n)),
        ree_rest_ore_to_holder=float(rng.uniform(0, 1)) * (rng.random() < 0.5),
    )
    alloc = rng.random((n, s)) * (rng.random((n, s)) < 0.6)
    alloc = np.divide(alloc, alloc.sum(1, keepdims=True), out=np.zeros_like(alloc),
                      where=alloc.sum(1, keepdims=True) > 0)
    trust = rng.random((n, n))
    np.fill_diagonal(trust, 1.0)
    state = State(
        capacity_t_per_yr=rng.uniform(0, 2e5, n) * (rng.random(n) < 0.9),
        budget_usd_bn=rng.uniform(0, 30, n),
        reserve_t=reserve0 * rng.uniform(0, 1, s),
        allocation=alloc,
        site_load_t=rng.uniform(0, 1e5, s),
        exposure=rng.random((n, s)),
        trust=trust,
        ree_price_usd_per_kg=float(rng.uniform(10, 2e6)),
        propellant_t=np.zeros(n),
        ree_mined_t=np.zeros(n),
        welfare_usd_bn=np.zeros(n),
        capital_usd_bn=rng.uniform(0, 5, n),
        breach_record=rng.uniform(0, 3, n),
        import_dependence=rng.uniform(0, 1, n),
        leverage_index=float(rng.uniform(0, 1)),
        ree_refining_built_t_per_yr=rng.uniform(0, 1e4, n + 1) * (rng.random(n + 1) < 0.5),
        ree_threat=rng.uniform(0, 1, n),
        ree_mining_built_t_per_yr=arena.uniform(0, 2e4, n + 1) * (arena.random(n + 1) < 0.4),
        **_skip(rng.random(n), rng.uniform(0, 1, n)),  # draws of a retired field, kept so that
        # every later draw (and each property test's state) stays what it was
        ree_demand_factor=float(rng.uniform(0.5, 3)),
        ree_supply_factor=float(rng.uniform(0.5, 3)),
        forced_incidents=np.zeros((n, n), dtype=bool),
        export_control_active=bool(rng.random() < 0.5),
        export_control_severity=float(rng.uniform(0, 1)),
        export_control_targets=None if rng.random() < 0.5 else rng.random(n) < 0.5,
    )
    if n > 1 and rng.random() < 0.3:
        state.forced_incidents[0, 1] = state.forced_incidents[1, 0] = True
    econ = EconParams.from_specs(
        EconomicsSpec(
            race_advantage=float(rng.uniform(0, 3)),
            claim_exclusion=float(rng.uniform(0, 1)),
            interference=float(rng.uniform(0, 1)),
            synergy=float(rng.uniform(0, 1)),
            incident_rate_per_year=float(rng.uniform(0, 50)),
            incident_damage=float(rng.uniform(0, 1)),
            relative_gains_weight=float(rng.uniform(0, 2)),
            ree_return_cost_usd_per_kg=float(rng.uniform(10, 1e6)),
        ),
        MarketSpec(
            price_elasticity=float(rng.uniform(0.2, 2)),
            shortfall_cost_multiple=float(rng.uniform(0, 10)),
            magnet_share=float(rng.uniform(0.05, 1)),
            refining_cost_premium_usd_per_kg=float(rng.uniform(0, 100)),
            # the rare-earth arena's, from their own stream (the others' draws stay as they were)
            control_severity=float(arena.uniform(0, 1)),
            coercion_weight=float(arena.uniform(0, 2)) * (arena.random() < 0.7),
            retaliation_cost_multiple=float(arena.uniform(0, 5)),
        ),
        TrustSpec(),
    )
    members = rng.random(n) < 0.5
    rec = rng.random((n, n)) < 0.5
    np.fill_diagonal(rec, False)
    may = rng.random((n, n)) < 0.8  # some pairs barred by law
    np.fill_diagonal(may, True)
    rules = RegimeRules(
        may_cooperate=may,
        recognises_claims=rec,
        benefit_share=float(rng.uniform(0, 0.5)),
        sharing_members=members,
        entry_cost_usd_bn_per_yr=rng.uniform(0, 0.1, n),
        monitored=rng.random((n, n)) < 0.5,
        fine_multiple=float(rng.uniform(0, 5)),
        detection=float(rng.uniform(0, 1)),
        escalation=float(rng.uniform(0, 2)),
        liable=rng.random((n, n)) < 0.5,
        liability_share=float(rng.uniform(0, 1)),
    )
    actions = rng.random((n, n)) < 0.5
    np.fill_diagonal(actions, True)
    return world, state, actions, rules, econ


class KillOnRun:
    """A chunk runner that kills its own worker process (as the OOM killer would) when the
    chunk holds run ``run``; otherwise it runs the chunk. Picklable, so workers can use it."""

    def __init__(self, run: int) -> None:
        self.run = run

    def __call__(self, chunk):
        import os
        import signal

        from sim.experiment.worker import run_chunk

        if any(task.run == self.run for task in chunk.tasks):
            os.kill(os.getpid(), signal.SIGKILL)
        return run_chunk(chunk)
