"""Membership as a decision: nations ratify, join and leave a regime as it is worth it to them."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import raw_scenario, scenario_from

from sim.economy.step import expected_accounts, expected_utility, locate, prepare
from sim.model.build import rules_in_force
from sim.model.membership import GAIN_PARTS, Membership, worth_of_membership
from sim.model.model import LunarModel


def review(free=(True,) * 4, notice_years=1.0):
    ship = Membership.of(True, len(free), 4, notice_years)
    ship.free[:] = free
    return ship


def fixed(worth):
    """What membership is worth, whoever is expected in."""
    def worth_for(expected):
        return np.asarray(worth, dtype=float), {k: np.zeros(len(worth)) for k in GAIN_PARTS}
    return worth_for


def test_joining_is_at_once_leaving_after_notice_and_a_tie_changes_nothing():
    ship = review()
    ship.reviews = 1  # past the first review
    members = np.array([True, True, False, False])
    after, said = ship.review(5, members, fixed([-1.0, 0.0, 1.0, -1.0]))
    assert after.tolist() == [True, True, True, False]  # 0 leaves later; 2 joins now
    assert said == ["gives notice of withdrawal", "", "joins", ""]
    assert ship.leaving_at.tolist() == [9, -1, -1, -1]
    for step in range(6, 9):
        assert ship.leave(step, after).tolist() == [True, True, True, False]
    assert ship.leave(9, after).tolist() == [False, True, True, False]


def test_a_notice_is_withdrawn_when_membership_is_worth_keeping_again():
    ship = review()
    ship.reviews = 1
    members = np.array([True, True, True, True])
    after, _ = ship.review(5, members, fixed([-1.0, 1, 1, 1]))
    after, said = ship.review(6, after, fixed([0.5, 1, 1, 1]))
    assert said[0] == "withdraws its notice" and ship.leaving_at[0] == -1
    assert ship.leave(100, after).all()


def test_at_the_first_review_a_founding_member_that_gains_nothing_does_not_ratify():
    ship = review(notice_years=2.0)
    after, said = ship.review(5, np.ones(4, dtype=bool), fixed([-0.1, 0.2, -0.3, 0.0]))
    assert after.tolist() == [False, True, False, True]
    assert said[0] == said[2] == "does not ratify"


def test_a_nation_an_event_binds_is_not_reviewed():
    ship = review(free=(True, False, True, True))
    ship.reviews = 1
    after, said = ship.review(5, np.array([False, False, False, False]), fixed(np.ones(4)))
    assert after.tolist() == [True, False, True, True] and said[1] == ""


def test_nations_decide_one_at_a_time_the_most_eager_first_seeing_those_before():
    """Two small nations each gain from joining alone, but not both: a pool split two ways pays
    each less than the fee. Deciding together they would both join and both leave, year after
    year; one at a time, the more eager joins and the other, seeing it in, stays out."""
    def worth_for(expected):
        worth = np.array([0.0, 0.3, 0.2, 0.0])  # each small nation, the other out
        worth[1] = -0.1 if expected[2] else worth[1]
        worth[2] = -0.1 if expected[1] else worth[2]
        return worth, {k: np.zeros(4) for k in GAIN_PARTS}

    ship = review()
    ship.reviews = 1
    after, said = ship.review(5, np.zeros(4, dtype=bool), worth_for)
    assert after.tolist() == [False, True, False, False] and said[1] == "joins"
    assert ship.gain[1] == 0.3 and ship.gain[2] == -0.1  # as each saw it when deciding
    again, said = ship.review(9, after, worth_for)  # settled: no one moves
    assert again.tolist() == after.tolist() and not any(said)


def _model(name="multilateral_inclusive", steps=12, **changes):
    return LunarModel(scenario_from(raw_scenario(name), **changes), rng=3, steps=steps)


def test_worth_is_the_utility_in_less_out_and_its_parts_add_up():
    """The yearly comparison, done by hand with the step's own economics: each nation's utility
    with its membership flipped, everyone else as they are, over each of the past year's
    intended action matrices in turn."""
    model = _model(regime__membership="fixed").run()
    n = len(model.names)
    members = model.members.copy()
    members[model.nation_index("Japan")] = False

    def rules(m):
        return rules_in_force(model.regime, model.names, model.blocs, m, model.laws,
                              model._law_bars)

    alloc = locate(model.world, model.state, model.econ)
    actions = np.array(model.recent_intended)
    assert actions.shape == (4, n, n)
    worth, parts = worth_of_membership(model.world, model.state, actions, model.econ, members,
                                       np.ones(n, dtype=bool), rules,
                                       prepare(model.world, model.state, rules(members),
                                               model.econ, alloc))
    for i in range(n):
        flipped = members.copy()
        flipped[i] = ~flipped[i]
        here = np.mean([expected_utility(model.world, model.state, a, rules(members), model.econ,
                                         allocation=alloc)[i] for a in actions])
        there = np.mean([expected_utility(model.world, model.state, a, rules(flipped),
                                          model.econ, allocation=alloc)[i] for a in actions])
        inside, outside = (here, there) if members[i] else (there, here)
        assert worth[i] == pytest.approx((inside - outside) * model.steps_per_year, rel=1e-9)
    assert parts["fee"] == pytest.approx(np.full(n, -0.01))  # the fee, a year
    assert set(parts) == set(GAIN_PARTS)
    # every part, to the last bit, as its definition reads each membership's accounts
    now = expected_accounts(model.world, model.state, actions, rules(members), model.econ)
    for i in range(n):
        flipped = members.copy()
        flipped[i] = ~flipped[i]
        other = expected_accounts(model.world, model.state, actions, rules(flipped), model.econ)
        inside, outside = (now, other) if members[i] else (other, now)
        assert worth[i] == np.mean(inside.utility[:, i] - outside.utility[:, i]) / model.world.dt
        for name, (_, part) in GAIN_PARTS.items():
            want = np.mean(part(inside)[:, i] - part(outside)[:, i]) / model.world.dt
            assert parts[name][i] == want, (name, i)
    assert np.isfinite(worth).all()


def test_a_law_the_regime_lifts_is_lifted_between_members_only():
    model = _model(steps=1)
    us, cn = model.nation_index("United States"), model.nation_index("China")
    both = model.members.copy()
    assert both[us] and both[cn] and model.rules.may_cooperate[us, cn]
    both[us] = False
    rules = rules_in_force(model.regime, model.names, model.blocs, both, model.laws,
                           model._law_bars)
    assert not rules.may_cooperate[us, cn] and not rules.may_cooperate[cn, us]
    assert rules.may_cooperate[cn, model.nation_index("Japan")]


def test_every_member_is_in_because_it_chose_to_be():
    """Over a whole run, after each review: every nation free to choose is in if being in was
    worth more to it, out if less; a member worth less is one serving its notice. And the
    regime's rules follow the membership (fees only from members)."""
    for name in ("multilateral", "multilateral_inclusive"):
        free = {"regime__entry_cost_usd_bn_per_yr": 0.0, "regime__benefit_share": 0.0}
        for changes in ({}, free):
            model = _model(name, steps=60, **changes)
            reviewed = 0
            while model.running:
                model.step()
                ship = model.membership
                if ship.due(model.steps):
                    reviewed += 1
                    gain, notice = ship.gain, ship.leaving_at >= 0
                    assert (model.members[gain > 0]).all()
                    assert (~model.members[gain < 0] | notice[gain < 0]).all()
                    assert (model.members[notice]).all()
                paying = model.last_outcome.entry_cost > 0
                assert (model.members[paying]).all()
            assert reviewed == 14


def test_a_fee_above_anything_membership_brings_empties_the_regime():
    model = _model(steps=8, regime__entry_cost_usd_bn_per_yr=50.0).run()
    assert not model.members.any()
    said = [text for _, _, text in model.event_log if "ratify" in text]
    assert len(said) == len(model.names)
    assert (model.membership.gain < -49).all()


def test_without_fee_or_sharing_the_us_and_china_keep_an_agreement_that_lets_them_coordinate():
    """Under the inclusive regime, free of fee and sharing, being in lifts the legal bar on
    US-China cooperation; both stay in every year, worth more than nothing to each."""
    model = _model(steps=60, regime__entry_cost_usd_bn_per_yr=0.0, regime__benefit_share=0.0)
    us, cn = model.nation_index("United States"), model.nation_index("China")
    while model.running:
        model.step()
        assert model.members[us] and model.members[cn]
        if model.membership.due(model.steps):
            assert model.membership.gain[us] > 0 and model.membership.gain[cn] > 0


def test_an_accession_event_binds_the_nation_it_names():
    raw = raw_scenario("multilateral")
    raw["events"] = [{"year": 2026.5, "name": "accede", "nation": "Luxembourg"}]
    model = LunarModel(scenario_from(raw, regime__entry_cost_usd_bn_per_yr=50.0), rng=0,
                       steps=12).run()
    lux = model.nation_index("Luxembourg")
    assert model.members.tolist() == [i == lux for i in range(len(model.names))]
    assert np.isnan(model.membership.gain[lux])


TINY = """
name = "tiny_members"
scenarios = ["open_access", "multilateral_inclusive"]
reference = "open_access"
replicates = 2
master_seed = 11
horizon_years = 4.0
"""


def test_the_report_says_who_is_in_and_why_from_the_runs(tmp_path):
    """The section's words and table follow the recorded series: the nations it says found
    membership worth less at the first review are those whose recorded worth was negative
    there, with the part that weighed most against, and the years in are the runs' own."""
    from sim.analysis import Results
    from sim.experiment import load_experiment, run_experiment
    from sim.report import membership

    (tmp_path / "tiny.toml").write_text(TINY)
    run_experiment(load_experiment(tmp_path / "tiny.toml"), backend="serial",
                   out=tmp_path / "out")
    results = Results(tmp_path / "out")
    assert membership.chosen(results) == ["multilateral_inclusive"]
    words, table = membership.section(results)
    s = results.series_nations
    s = s[(s["scenario"] == "multilateral_inclusive") & (s["step"] == 5)]
    first = s.groupby("nation")["membership_gain_usd_bn_per_yr"].mean()
    (said,) = words
    worse = said.split("worth less than staying out to ")[1].split(". It was worth more")[0]
    for nation, gain in first.items():
        assert (f"{nation} (" in worse) == (gain <= 0), nation
    years = results.nations[results.nations["scenario"] == "multilateral_inclusive"].groupby(
        "nation")["member_years"].mean()
    row = table.set_index("nation")["Multilateral, US and China in"]
    for nation, value in years.items():
        assert row[nation].startswith(f"{value:.1f} yr; first "), nation
    assert membership.figure(results) is not None
