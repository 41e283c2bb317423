"""Each regime's rule, seen acting in play."""

from __future__ import annotations

import copy

import numpy as np
from helpers import raw_scenario, scenario_from

from sim.economics import benefit_transfers
from sim.model import LunarModel


def everyone(raw, strategy):
    raw = copy.deepcopy(raw)
    for nation in raw["nations"]:
        nation["strategy"] = strategy
    return raw


def played(name: str, strategy="always_cooperate", steps=3, seed=0, **changes) -> LunarModel:
    raw = everyone(raw_scenario(name), strategy)
    return LunarModel(scenario_from(raw, **changes), rng=seed, steps=steps).run()


def us_china(model):
    """Whether the US and China coordinated with each other at the last step."""
    us, cn = model.nation_index("United States"), model.nation_index("China")
    return bool(model.last_coordination[us, cn]), bool(model.last_coordination[cn, us])


def test_us_china_cooperation_is_barred_by_the_accords_and_allowed_by_the_agreement():
    assert us_china(played("artemis_accords")) == (False, False)
    assert us_china(played("us_china_cooperation")) == (True, True)
    model = played("us_china_cooperation")
    us, cn = model.nation_index("United States"), model.nation_index("China")
    assert model.rules.recognises_claims[us, cn] and model.rules.recognises_claims[cn, us]
    assert model.rules.hazard_reduction[us, cn] > 0


def test_trembles_cannot_break_the_law():
    raw = everyone(raw_scenario("artemis_accords"), {"name": "always_cooperate", "tremble": 0.5})
    model = LunarModel(scenario_from(raw), rng=1, steps=40)
    us, cn = model.nation_index("United States"), model.nation_index("China")
    seen = []
    for _ in range(40):
        model.step()
        seen.append(model.last_coordination[us, cn] or model.last_coordination[cn, us])
    off = ~np.eye(len(model.names), dtype=bool)
    assert not any(seen)
    assert 0.3 < model.last_actions[off].mean() < 0.7  # the trembles do act elsewhere


def test_rival_blocs_recognise_claims_inside_each_bloc_only():
    model = LunarModel(scenario_from(raw_scenario("rival_blocs")), rng=0)
    rec, blocs = model.rules.recognises_claims, model.blocs
    i = model.nation_index
    assert rec[i("Japan"), i("United States")] and rec[i("Russia"), i("China")]
    assert not rec[i("China"), i("United States")] and not rec[i("United States"), i("Russia")]
    assert not rec[i("India")].any() and not rec[:, i("India")].any()  # non-aligned: in neither
    same = blocs[:, None] == blocs[None, :]
    assert not (rec & ~same).any()


def test_multilateral_transfers_sum_to_zero_and_move_value():
    raw = everyone(raw_scenario("multilateral"), "always_cooperate")
    model = LunarModel(scenario_from(raw), rng=2, steps=40)
    moved = 0.0
    for _ in range(40):
        model.step()
        t = model.last_outcome.transfers
        assert abs(t.sum()) <= 1e-12 * max(1.0, np.abs(t).sum())
        moved += np.abs(t).sum()
    assert moved > 0
    big = model.nation_index("United States")
    assert model.last_outcome.transfers[big] < 0  # the largest producer pays in


def test_benefit_sharing_never_creates_value():
    rng = np.random.default_rng(0)
    for _ in range(100):
        value = rng.normal(size=7)
        members = rng.random(7) < 0.6
        assert abs(benefit_transfers(value, members, float(rng.random())).sum()) < 1e-12


def test_dispute_resolution_lowers_incidents_on_the_same_seeds():
    def incidents(resolution: float) -> float:
        total = 0.0
        for seed in range(5):
            model = played("multilateral", "always_compete", steps=60, seed=seed,
                           regime={"name": "multilateral", "dispute_resolution": resolution},
                           economics__incident_rate_per_year=1.0)
            total += model.recorder.model_column("incidents").sum()
        return total

    low, high = incidents(0.9), incidents(0.0)
    assert low < 0.5 * high


def test_multilateral_charges_its_entry_cost():
    model = played("multilateral", steps=4)
    np.testing.assert_allclose(model.last_outcome.entry_cost, 0.01 / 4)


def test_open_access_recognises_nothing_and_reduces_no_hazard():
    model = played("open_access")
    assert not model.rules.recognises_claims.any() and not model.rules.hazard_reduction.any()
