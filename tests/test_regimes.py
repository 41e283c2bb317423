"""Each regime's rule, seen acting in play."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import random_world_state, raw_scenario, scenario_from

from sim.economy.step import resolve_step
from sim.model.model import LunarModel


def everyone(raw, strategy):
    raw = copy.deepcopy(raw)
    for nation in raw["nations"]:
        nation["strategy"] = strategy
    return raw


def imposed(raw):
    """The scenario with its regime's membership fixed: every founding member stays in, so a
    test sees the regime's rules act (tests/test_membership.py sees members choose)."""
    raw = copy.deepcopy(raw)
    raw["regime"]["membership"] = "fixed"
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
    raw = imposed(everyone(raw_scenario("multilateral"), "always_cooperate"))
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
    import dataclasses

    rng = np.random.default_rng(0)
    for seed in range(60):
        world, state, actions, rules, econ = random_world_state(seed, 7, 3)
        rules = dataclasses.replace(rules, sharing_members=rng.random(7) < 0.6,
                                    benefit_share=float(rng.random()))
        t = resolve_step(world, state, actions, rules, econ, None).transfers
        assert abs(t.sum()) < 1e-12 * max(1.0, np.abs(t).sum())


def test_a_member_that_races_members_pays_them_escalating_fines():
    """One member races members who coordinate; the same run without escalation takes the same
    course (fines change no plan), so the ratio of the fines is 1 + escalation × the record of
    detected breaches (detection times the steps it breached, halving yearly)."""
    raw = imposed(everyone(raw_scenario("multilateral"), "always_cooperate"))
    us = next(k for k, n in enumerate(raw["nations"]) if n["name"] == "United States")
    raw["nations"][us]["strategy"] = "always_compete"
    # a fine small enough that the cap (no more than the racer's operations produce) stays off
    raw["regime"]["fine_multiple"] = 0.02
    graduated = LunarModel(scenario_from(raw), rng=0, steps=16)
    flat = LunarModel(scenario_from(raw, regime__escalation=0.0), rng=0, steps=16)
    detection, record, dt = graduated.rules.detection, 0.0, 1 / graduated.steps_per_year
    assert 0 < detection < 1
    escalated = 0
    for _ in range(16):
        graduated.step()
        flat.step()
        paid = -graduated.last_outcome.sanctions[us]
        if paid > 0:
            assert paid == pytest.approx(-flat.last_outcome.sanctions[us] * (1.0 + record))
            escalated += record > 0.5
        record = record * 0.5 ** dt + detection * (graduated.last_outcome.breaches[us] > 0)
    assert escalated >= 2  # fines half as large again, or more, in at least two steps
    others = np.delete(graduated.last_outcome.sanctions, us)
    assert (others >= 0).all() and others.sum() > 0  # the members it took from are paid
    assert abs(graduated.last_outcome.sanctions.sum()) < 1e-12
    open_access = LunarModel(scenario_from(raw, regime={"name": "open_access"}), rng=0, steps=2)
    open_access.run()
    assert not open_access.last_outcome.sanctions.any()  # no regime, no fines


def test_the_side_that_raced_compensates_the_other_for_an_incident():
    raw = imposed(everyone(raw_scenario("multilateral"), "always_cooperate"))
    us = next(k for k, n in enumerate(raw["nations"]) if n["name"] == "United States")
    raw["nations"][us]["strategy"] = "always_compete"
    liability = np.zeros(len(raw["nations"]))
    model = LunarModel(scenario_from(raw, economics__incident_rate_per_year=50.0), rng=1, steps=40)
    for _ in range(40):
        model.step()
        liability += model.last_outcome.liability
    assert liability[us] < 0 and (np.delete(liability, us) >= 0).all()
    assert abs(liability.sum()) < 1e-9


def test_coordination_takes_both_and_removes_the_hazard():
    def incidents(strategy: str) -> float:
        return sum(played("us_china_cooperation", strategy, steps=40, seed=seed,
                          economics__incident_rate_per_year=5.0)
                   .recorder.model_column("incidents").sum() for seed in range(3))

    assert incidents("always_cooperate") == 0  # every pair coordinates: no hazard at all
    assert incidents("always_compete") > 0
    assert incidents("tit_for_tat") == 0


def test_regimes_differ_through_play_alone():
    """No regime scales an outcome: the Accords, rival blocs and the multilateral regime differ
    from open access in welfare only because nations face other rules, and the multilateral
    regime (which fines breaches) in cooperation too. The Accords and the blocs change what the
    same moves earn (whose safety zones are respected), not the moves: at the defaults the US
    races China at the pole under all three (the Wolf Amendment bars coordination, and China
    answers the race with rare-earth controls), and the others follow their rules."""
    def outcome(name: str) -> tuple[float, float]:
        coop, welfare = 0.0, 0.0
        for seed in range(3):
            raw = raw_scenario(name)
            model = LunarModel(scenario_from(imposed(raw) if name == "multilateral" else raw),
                               rng=seed, steps=40).run()
            coop += model.recorder.model_column("cooperation_rate")[1:].mean()
            welfare += model.state.welfare_usd_bn.sum()
        return coop, welfare

    base = outcome("open_access")
    for name in ("artemis_accords", "rival_blocs", "multilateral"):
        coop, welfare = outcome(name)
        if name == "multilateral":
            assert coop != pytest.approx(base[0], abs=1e-6), name
        assert welfare != pytest.approx(base[1], abs=1e-6), name


def test_multilateral_charges_its_entry_cost():
    model = played("multilateral", steps=4)
    np.testing.assert_allclose(model.last_outcome.entry_cost, 0.01 / 4)


def test_a_sanction_takes_at_most_the_breachers_output_and_only_where_they_meet():
    """One member races everyone; the others coordinate. With a fine far above anything at
    stake, it pays in a step in which it took from members at most its output (exactly that,
    at least once), nothing in a step in which it took nothing, and only to members it meets."""
    raw = imposed(everyone(raw_scenario("multilateral"), "always_cooperate"))
    us = next(n for n in raw["nations"] if n["name"] == "United States")
    us["strategy"] = {"name": "always_compete"}
    model = LunarModel(scenario_from(raw, regime__fine_multiple=100.0),
                       rng=0, steps=12)
    i = model.nation_index("United States")
    paid_any = False
    while model.running:
        model.step()
        out = model.last_outcome
        if out.breaches[i] > 0:  # it took from members: fined, at most all it produced
            assert 0 < -out.sanctions[i] <= out.gross_output[i] * (1 + 1e-9)
            paid_any |= bool(np.isclose(-out.sanctions[i], out.gross_output[i], rtol=1e-9))
        else:
            assert out.sanctions[i] == 0  # nothing taken, nothing to pay
        share = out.demand_t / np.maximum(out.demand_t.sum(axis=1, keepdims=True), 1e-300)
        meets = share @ share[i]
        others = np.arange(len(model.names)) != i
        assert (out.sanctions[others & (meets <= 0)] == 0).all()  # apart: no fine
        assert (out.sanctions[others] >= 0).all()
    assert paid_any


def test_open_access_recognises_nothing_monitors_nothing_and_makes_no_one_liable():
    rules = played("open_access").rules
    assert not (rules.recognises_claims.any() or rules.monitored.any() or rules.liable.any())


def _us_china_coordination(name: str, delta: float, seeds=range(3)) -> float:
    """How often the US and China coordinated with each other, with both looking ahead by δ."""
    rates = []
    for seed in seeds:
        raw = raw_scenario(name)
        if name.startswith("multilateral"):
            raw = imposed(raw)
        for nation in raw["nations"]:
            if nation["name"] in ("United States", "China"):
                nation["strategy"] = {"name": "forward_looking", "discount_per_year": delta}
        model = LunarModel(scenario_from(raw), rng=seed, steps=60).run()
        us, cn = model.nation_index("United States"), model.nation_index("China")
        share = model.pair_cooperation()
        rates.append((share[us, cn] + share[cn, us]) / 2)
    return float(np.mean(rates))


def test_us_china_coordination_is_an_outcome_of_play_that_answers_to_delta_and_the_regime():
    assert _us_china_coordination("artemis_accords", 0.95) == 0.0  # the law bars it
    # lifted, the stage game is a dilemma: a myopic rule races, a patient one coordinates
    bilateral_myopic = _us_china_coordination("us_china_cooperation", 0.0)
    bilateral_patient = _us_china_coordination("us_china_cooperation", 0.95)
    assert 0.0 < bilateral_myopic < 0.5 < bilateral_patient
    # the inclusive regime's sanctions and liability make coordinating pay at once
    assert _us_china_coordination("multilateral_inclusive", 0.0) > 0.9
