"""The two-player symmetric scenario must behave as an iterated prisoner's dilemma."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import scenario_from, with_strategies

from sim.economy.step import resolve_step
from sim.model.model import LunarModel

C, D = True, False


def stage_payoffs(raw) -> dict[str, float]:
    """Row player's one-step welfare for each action profile, from the economics itself."""
    model = LunarModel(scenario_from(raw), rng=0)
    model.state.allocation = np.ones((2, 1))  # both already at the one site
    out = {}
    for label, (a, b) in {"R": (C, C), "S": (C, D), "T": (D, C), "P": (D, D)}.items():
        actions = np.array([[True, a], [b, True]])
        outcome = resolve_step(model.world, model.state, actions, model.rules, model.econ,
                               np.random.default_rng(0))
        out[label] = float(outcome.welfare[0])
    return out


def test_stage_game_is_a_prisoners_dilemma(pd_raw):
    p = stage_payoffs(pd_raw)
    assert p["T"] > p["R"] > p["P"] > p["S"]
    assert 2 * p["R"] > p["T"] + p["S"]


def test_without_race_advantage_defection_no_longer_tempts(pd_raw):
    # The dilemma comes from racing for the crowded site: take that away and D gains nothing.
    p = stage_payoffs(scenario_from(pd_raw, economics__race_advantage=0.0).model_dump())
    assert p["R"] > p["T"]


def _run(raw, *strategies, steps=10):
    model = LunarModel(scenario_from(with_strategies(raw, *strategies)), rng=3, steps=steps).run()
    return model


def test_mutual_cooperation_beats_mutual_competition(pd_raw):
    coop = _run(pd_raw, "always_cooperate", "always_cooperate")
    comp = _run(pd_raw, "always_compete", "always_compete")
    assert coop.state.welfare_usd_bn.sum() > comp.state.welfare_usd_bn.sum()


def test_tit_for_tat_is_exploited_only_in_the_first_step(pd_raw):
    model = _run(pd_raw, "tit_for_tat", "always_compete", steps=8)
    payoffs = model.recorder.nation_table()["payoff_usd_bn"][1:]  # steps 1..8, [step, nation]
    p = stage_payoffs(pd_raw)
    tft, alld = payoffs[:, 0], payoffs[:, 1]
    assert tft[0] == pytest.approx(p["S"]) and alld[0] == pytest.approx(p["T"])
    np.testing.assert_allclose(tft[1:], p["P"])
    np.testing.assert_allclose(alld[1:], p["P"])
    # so over the match it loses exactly S - P against always_compete, once
    assert tft.sum() == pytest.approx(alld.sum() - (p["T"] - p["S"]))


def test_tit_for_tat_pair_cooperates_throughout(pd_raw):
    model = _run(pd_raw, "tit_for_tat", "tit_for_tat", steps=6)
    coop = model.recorder.nation_table()["cooperation"][1:]
    assert (coop == 1.0).all()


def test_one_mistake_sets_off_alternating_retaliation_between_tit_for_tats(pd_raw):
    # A known weakness of TFT under noise (Axelrod 1984; Molander 1985): one mistaken D echoes.
    model = LunarModel(scenario_from(pd_raw), rng=0, steps=6)
    model.step()  # both C
    slip = np.array([[True, False], [True, True]])  # Blue plays D once by mistake
    trade = np.ones((2, 2), dtype=bool)
    model._apply(resolve_step(model.world, model.state, slip, model.rules, model.econ,
                              np.random.default_rng(0)), slip, trade)
    played = []
    for _ in range(4):
        actions, trade = model.decide()
        played.append((bool(actions[0, 1]), bool(actions[1, 0])))
        model._apply(resolve_step(model.world, model.state, actions, model.rules, model.econ,
                                  np.random.default_rng(0), trade=trade), actions, trade)
    assert played == [(C, D), (D, C), (C, D), (D, C)]
