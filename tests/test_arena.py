"""The rare-earth arena: what restrictions and retaliation cost, the coercive value of a
restriction, the holder's controls as repeated policy (the historical episodes reproduced by the
rule under the conditions of their time), linked play across the two arenas, and the linked
US-China scenario sustaining restraint that neither arena sustains alone."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import random_trade, random_world_state, raw_scenario, scenario_from

from sim.economy.rare_earths import clear_market
from sim.economy.rare_earths.arena import arena_pairs
from sim.economy.step import expected_utility, resolve_step
from sim.model.model import LunarModel
from sim.rules.strategies.plans import Payoffs, cooperation_threshold
from sim.rules.strategies.trade import (
    EITHER,
    TRADE_ONLY,
    initial_standing,
    reciprocate,
    update_standing,
)

# --- what the arena's actions cost --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_retaliation_withholds_the_value_the_control_withheld(seed):
    """WTO DSU Art. 22.4: each importer that retaliates against a control at the same severity
    withholds exactly the value the holder's control withheld from it; the retaliator forgoes
    that value and the holder loses ``retaliation_cost_multiple`` times the sum."""
    n = 5
    world, state, actions, rules, econ = random_world_state(seed, n, 3)
    if world.leverage_holder is None:
        return
    h = world.leverage_holder
    state.export_control_active = False
    trade = np.ones((n, n), dtype=bool)
    trade[h, :] = trade[:, h] = False  # the holder restricts everyone; everyone answers
    np.fill_diagonal(trade, True)
    m = clear_market(world, state, ~actions, np.zeros(n), econ, trade)
    usd_bn_per_t = m.price * 1000 / 1e9
    withheld_value = m.flows.withheld[:-1] * world.dt * usd_bn_per_t
    others = np.arange(n) != h
    np.testing.assert_allclose(m.retaliation.sales_lost[others], withheld_value[others], rtol=1e-12)
    assert m.retaliation.sales_lost[h] == 0
    assert m.retaliation.cost[h] == pytest.approx(
        econ.retaliation_cost_multiple * withheld_value[others].sum(), rel=1e-12)
    assert m.export_revenue_lost[h] == pytest.approx(withheld_value[others].sum(), rel=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_coercion_is_worth_something_only_to_the_one_who_restricts(seed):
    """The coercion weight changes utility, never welfare: the value is c·Σ(1 − trust)·pain of
    the restrictions a nation imposes, and a nation that restricts nobody gets none of it."""
    n = 4
    world, state, actions, rules, econ = random_world_state(seed, n, 3)
    trade = random_trade(seed, n)
    econ.relative_gains_weight = 0.0
    econ.coercion_weight = 0.0
    plain = resolve_step(world, state, actions, rules, econ, None, trade=trade)
    econ.coercion_weight = 0.7
    coercing = resolve_step(world, state, actions, rules, econ, None, trade=trade)
    np.testing.assert_array_equal(plain.welfare, coercing.welfare)
    gain = coercing.utility - plain.utility
    np.testing.assert_allclose(gain, coercing.coercion_value, rtol=1e-12, atol=1e-15)
    restricts = (~trade & arena_pairs(n, world.leverage_holder)).any(axis=1)
    assert (gain[~restricts] == 0).all()
    assert (gain >= 0).all()


def small_world(trust: float, coercion: float = 0.5, multiple: float = 3.0):
    """A holder (0) and two importers, the rare-earth arena alone at stake (no lunar plants)."""
    world, state, actions, rules, econ = random_world_state(3, 3, 2)
    import dataclasses

    world = dataclasses.replace(
        world, steps_per_year=4, leverage_holder=0, ree_rest_ore_to_holder=0.0,
        ree_demand_t_per_yr=np.array([50000.0, 3000.0, 6000.0, 5000.0]),
        ree_mining_t_per_yr=np.array([50000.0, 8000.0, 0.0, 6000.0]),
        ree_refining_t_per_yr=np.array([0.0, 1000.0, 0.0, 4000.0]))
    state.capacity_t_per_yr[:] = 0.0
    state.export_control_active = False
    state.trust = np.full((3, 3), trust)
    np.fill_diagonal(state.trust, 1.0)
    econ.coercion_weight, econ.shortfall_cost_multiple = coercion, multiple
    econ.relative_gains_weight, econ.control_severity = 0.0, 0.5
    return world, state, np.ones((3, 3), dtype=bool), rules, econ


@pytest.mark.parametrize("coercion, multiple", [(0.5, 3.0), (1.0, 2.0), (2.0, 5.0)])
def test_restricting_pays_the_holder_exactly_while_trust_is_below_one_less_one_over_ck(
        coercion, multiple):
    """The holder's temptation T − R toward an importer that does not answer: the coercive
    value of the pain less the sales forgone, c·(1 − t)·k − 1 per unit withheld, so it changes
    sign at trust 1 − 1/(c·k)."""
    threshold = 1 - 1 / (coercion * multiple)
    for trust, pays in ((threshold - 1e-3, True), (threshold + 1e-3, False)):
        world, state, lunar, rules, econ = small_world(trust, coercion, multiple)
        trade = np.ones((2, 3, 3), dtype=bool)
        trade[1, 0, 2] = False  # the holder restricts Japan
        u = expected_utility(world, state, np.stack([lunar, lunar]), rules, econ, trade=trade)
        assert (u[1, 0] > u[0, 0]) == pays, trust


# --- contrite reciprocity ----------------------------------------------------------------------


def play(standing, lunar, trade):
    return update_standing(standing, np.asarray(lunar, dtype=bool), np.asarray(trade, dtype=bool))


@pytest.mark.parametrize("seed", range(30))
def test_the_reciprocators_rows_for_all_at_once_are_each_nation_s_own(seed):
    """The model sets the rows of every nation that acts in the rare-earth arena by contrite
    reciprocity alone in one compiled call: each must be :func:`reciprocate`'s, as
    ``Strategy.decide_trade`` and ``Strategy.answer_in_lunar`` use it (a restriction where
    its arena pairs it with a rival it may punish; a linked one's C withheld at the pole), and
    every other row left as it was."""
    from sim.economy.kernels.rules import reciprocate_rows

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    standing = rng.random((2, n, n)) < rng.uniform(0.3, 0.9)
    they, linked = rng.random(n) < 0.6, rng.random(n) < 0.5
    arenas = rng.random((n, n)) < 0.8
    trade, intended = rng.random((n, n)) < 0.5, rng.random((n, n)) < 0.7
    want_trade, want_intended = trade.copy(), intended.copy()
    for i in np.flatnonzero(they):
        want_trade[i] = ~reciprocate(i, standing, bool(linked[i])) | ~arenas[i]
        if linked[i]:
            want_intended[i] &= ~(reciprocate(i, standing, linked=True) & arenas[i])
    reciprocate_rows(standing[EITHER], standing[TRADE_ONLY], they, linked, arenas, trade,
                     intended)
    assert np.array_equal(trade, want_trade) and np.array_equal(intended, want_intended)


def test_one_slip_is_punished_once_and_forgiven():
    """Two reciprocators: A slips once; B punishes once; A accepts it; both return to C."""
    s = initial_standing(2)
    c = np.ones((2, 2), dtype=bool)
    slip = c.copy()
    slip[0, 1] = False
    s = play(s, c, slip)  # A restricts B by mistake
    assert reciprocate(1, s, linked=False).tolist() == [True, False]  # B answers A
    assert reciprocate(0, s, linked=False).tolist() == [False, False]  # A does not answer back
    answer = c.copy()
    answer[1, 0] = False
    s = play(s, c, answer)  # B's justified answer keeps B in good standing; A's C restores A
    assert not reciprocate(0, s, linked=False).any() and not reciprocate(1, s, linked=False).any()


def test_a_rival_that_keeps_defecting_is_punished_for_as_long_as_it_does():
    s = initial_standing(2)
    trade = np.ones((2, 2), dtype=bool)
    trade[0, 1] = False  # A restricts B every step
    answers = []
    for _ in range(6):
        b_answers = reciprocate(1, s, linked=False)[0]
        answers.append(b_answers)
        now = trade.copy()
        now[1, 0] = not b_answers
        s = play(s, np.ones((2, 2), dtype=bool), now)
    assert answers == [False] + [True] * 5


def test_a_linked_reciprocator_answers_a_race_at_the_pole_and_an_unlinked_one_does_not():
    s = initial_standing(2)
    lunar = np.ones((2, 2), dtype=bool)
    lunar[0, 1] = False  # A races B at the pole
    s = play(s, lunar, np.ones((2, 2), dtype=bool))
    assert reciprocate(1, s, linked=True)[0] and not reciprocate(1, s, linked=False)[0]
    assert s[EITHER, 0, 1] == 0 and s[TRADE_ONLY, 0, 1] == 1


# --- the holder's controls as repeated policy: the record --------------------------------------


def episode(importer: str, trust: float, linked: bool, steps: int, script: dict,
            seed: int = 0, coercion: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """China (forward-looking, δ = 0.9 a year) and one importer at one crowded ice site, quarterly.
    The importer's moves are scripted: ``script[step] = (lunar C?, trade C?)`` toward China
    (C in both otherwise). Returns China's trade and lunar actions toward the importer, by step."""
    raw = raw_scenario("two_player_pd")
    raw["time"] = {"start_year": 2030, "steps_per_year": 4, "horizon_years": steps / 4}
    china, other = raw["nations"]
    china.update(name="China", bloc="ilrs", ree_production_t_per_yr=270000.0,
                 ree_demand_t_per_yr=52000.0,
                 strategy={"name": "forward_looking", "discount_per_year": 0.9, "linked": linked})
    other.update(name=importer, bloc="artemis", ree_demand_t_per_yr=6000.0,
                 ree_production_t_per_yr=45000.0, ree_refining_t_per_yr=1300.0)
    raw["market"].update(leverage_holder="China", coercion_weight=coercion)
    raw["trust"] = {"within_bloc": 0.7, "across_bloc": trust}
    model = LunarModel(scenario_from(raw), rng=seed)
    rule = model.nation_list[1].strategy

    def moves(obs, arena):
        lunar, trade = script.get(model.steps, (True, True))
        return np.array([lunar if arena == 0 else trade, True])

    rule.decide = lambda obs: moves(obs, 0)
    rule.decide_trade = lambda obs: moves(obs, 1)
    model._rule_groups, model._grouped[:] = [], False  # each asked alone: the script answers
    model._reciprocating[:] = False  # (in both arenas)
    model.tremble[:] = 0.0
    trade, lunar = [], []
    for _ in range(steps):
        model.step()
        trade.append(model.last_trade[0, 1])
        lunar.append(model.last_actions[0, 1])
    return np.array(trade), np.array(lunar)


def test_2010_japan_a_move_in_another_arena_answered_with_rare_earths():
    """September 2010: Japan detains a Chinese trawler captain near the Senkakus; China halts
    rare-earth exports to Japan. In the model Japan's move is a race at the pole (step 4); a
    linked China restricts Japan at the next step, and only then; an unlinked China does not."""
    for seed in range(3):
        script = {4: (False, True)}
        linked, _ = episode("Japan", 0.3, True, 12, script, seed)
        assert linked[:4].all() and not linked[4], linked  # the step after Japan's move
        unlinked, _ = episode("Japan", 0.3, False, 12, script, seed)
        assert unlinked.all()


def test_2023_and_2025_a_trade_move_answered_at_the_next_step_linked_or_not():
    """The US's export controls on chips (Oct 2022) and tariffs (Apr 2025), moves in the trade
    arena, were answered by controls on gallium and germanium (Jul 2023) and on seven heavy rare
    earths (Apr 2025), as China's Export Control Law (Art. 48) provides. China restricts at the
    step after the US's move, linked or not, and not before; the answer does not wait on trust
    (it is the law's reciprocity, not the coercive gain)."""
    script = {4: (True, False)}
    for linked in (False, True):
        for trust in (0.1, 0.9):
            answer, _ = episode("United States", trust, linked, 10, script)
            assert answer[:4].all() and not answer[4], (linked, trust, answer)


def test_november_2025_a_control_lifted_when_the_rival_lifts_its_own_and_renewed_when_it_moves_again():
    """October 2025: a US move (the 50 % affiliates rule) answered by wider controls; November
    2025: both suspended in one deal. The rule lifts its control within a year of the rival's
    return to C, and a second move brings a second control: policy, not a one-off."""
    script = {4: (True, False), 20: (True, False)}
    trade, _ = episode("United States", 0.1, True, 32, script)
    assert not trade[4] and trade[5:20].any(), trade  # answered, then lifted
    first_lift = 5 + int(np.argmax(trade[5:]))
    assert first_lift <= 4 + 4, trade  # within a year
    assert trade[first_lift:20].all() and not trade[20], trade  # renewed after the second move


def test_no_move_no_control_whatever_the_trust():
    """2011-2022 apart from the episodes: without a defection by the importer the holder does
    not restrict, even where a restriction would pay it in the stage game (trust 0): the
    importer's answer it expects outweighs the gain."""
    for trust in (0.0, 0.1, 0.3):
        trade, _ = episode("United States", trust, True, 20, {})
        assert trade.all(), trust


# --- linked play --------------------------------------------------------------------------------


def test_a_linked_forward_looking_rule_answers_in_both_arenas():
    """Japan's one race at the pole: a linked China answers at the pole too, in the same step as
    its restriction (one plan for both arenas)."""
    trade, lunar = episode("Japan", 0.3, True, 8, {4: (False, True)})
    assert not trade[4] and not lunar[4]


def test_a_linked_importer_answers_a_restriction_at_the_pole():
    """The US, linked, answers China's restriction of its rare earths by racing China at the
    pole; unlinked, it does not take the restriction to the pole (where, the Wolf Amendment
    lifted, the two coordinate)."""
    for linked in (True, False):
        raw = raw_scenario("us_china_cooperation")
        for nation in raw["nations"]:
            if nation["name"] == "United States":
                nation["strategy"]["linked"] = linked
        model = LunarModel(scenario_from(raw), rng=0, steps=40)
        model.tremble[:] = 0.0
        china = model.nation_list[model.nation_index("China")].strategy
        us = model.nation_index("United States")
        for _ in range(24):  # years of coordination at the pole
            model.step()
        restrict = china.decide_trade
        china.decide_trade = lambda obs, r=restrict: np.where(np.arange(len(model.names)) == us,
                                                              False, r(obs))
        model.step()  # China restricts the US
        china.decide_trade = restrict
        before = model.last_actions[us, model.nation_index("China")]
        model.step()
        answered = not model.last_actions[us, model.nation_index("China")]
        assert before and answered == linked, linked


# --- linkage sustains what neither arena does ---------------------------------------------------


def restraint(name: str, steps: int, seeds=range(3), **linked) -> float:
    """Share of steps in which the US and China did not race each other at the pole (C, which
    the Wolf Amendment keeps from becoming coordination), over the first ``steps``."""
    shares = []
    for seed in seeds:
        raw = copy.deepcopy(raw_scenario(name))
        for nation in raw["nations"]:
            if nation["name"] in linked:
                nation["strategy"]["linked"] = linked[nation["name"]]
        model = LunarModel(scenario_from(raw), rng=seed, steps=steps)
        us, china = model.nation_index("United States"), model.nation_index("China")
        while model.running:
            model.step()
            shares.append(model.last_actions[[us, china], [china, us]].mean())
    return float(np.mean(shares))


def pair_games(model: LunarModel, me: str, rival: str) -> tuple[Payoffs, Payoffs, Payoffs]:
    """Nation me's stage games toward rival at the model's next step: at the pole, in rare
    earths, and pooled."""
    rule = model.nation_list[model.nation_index(me)].strategy
    j = model.nation_index(rival)
    obs = model.observation()
    lunar, trade = (Payoffs(*(float(x[j]) for x in rule.payoffs(obs, arena)))
                    for arena in ("lunar", "trade"))
    return lunar, trade, Payoffs(*(a + b for a, b in zip(lunar, trade, strict=True)))


def test_the_linked_bargain_sustains_restraint_that_neither_arena_sustains_alone():
    """Under the Wolf Amendment restraint at the pole is worth no more to the US than racing
    (R = P: coordination is barred), so no patience sustains it in the lunar arena alone; the
    rare-earth arena alone is no dilemma (restricting costs more than it is worth at trust 1).
    Linked, the rare-earth arena lends its punishment: δ* of the pooled game is below the
    players' δ (2031, seed 0: the US 0.63, China 0.87 a year, against 0.9), and over the first
    ten years they restrain each other at the pole in about 0.73 of steps, against 0.19
    unlinked on the same seeds."""
    model = LunarModel("us_china_linked", rng=0)
    for _ in range(20):
        model.step()
    for me, rival in (("United States", "China"), ("China", "United States")):
        lunar, trade, pooled = pair_games(model, me, rival)
        assert lunar.R <= lunar.P + 1e-12 and cooperation_threshold(lunar) == np.inf
        assert trade.R > trade.T and trade.R > trade.P  # a slack arena: C is never tempted away
        assert cooperation_threshold(pooled) < model.nation_list[0].strategy.discount
    linked = restraint("us_china_linked", 40)
    unlinked = restraint("us_china_linked", 40, **{"United States": False, "China": False})
    assert linked > 0.6 and unlinked < 0.3, (linked, unlinked)


def test_the_link_lasts_while_the_importer_buys_from_the_holder():
    """The rare-earth arena can lend only what is at stake in it: once the US refines all it
    uses (its own mines and refineries, built against the threat and opened by the price), it
    buys nothing from China, a restriction and its answer move nothing, and the pooled game is
    the lunar one again, in which no patience sustains restraint."""
    model = LunarModel("us_china_linked", rng=0)
    for _ in range(60):  # to 2041
        model.step()
    us = model.nation_index("United States")
    assert model.state.import_dependence[us] == 0
    _, trade, pooled = pair_games(model, "United States", "China")
    assert trade.R - trade.P == pytest.approx(0.0, abs=1e-12)
    assert cooperation_threshold(pooled) == np.inf


# --- what the report says of it ---------------------------------------------------------------


def test_the_report_names_what_carries_the_difference_and_splits_welfare_by_arena():
    """From a results table made up here: the sentence names the scenarios with fewest and
    most nation-years under control; each nation's lunar welfare and rare-earth costs are shown
    side by side for the nations with any rare-earth cost; a nation that retaliated says how
    long; and nothing is said where controls do not differ."""
    from types import SimpleNamespace

    import pandas as pd

    from sim.report import rare_earths

    def results(years_b: float):
        rows = []
        for k, (scenario, years) in enumerate((("a", 3.0), ("b", years_b))):
            for seed in range(2):
                run = 2 * k + seed
                rows += [{"run": run, "nation": "Japan", "controlled_years": years,
                          "welfare_lunar_usd_bn": 1.0, "ree_costs_usd_bn": 2.0 + years,
                          "retaliation_years": 1.5 * (scenario == "b")},
                         {"run": run, "nation": "India", "controlled_years": 0.0,
                          "welfare_lunar_usd_bn": 3.0, "ree_costs_usd_bn": 0.0,
                          "retaliation_years": 0.0}]
        runs = pd.DataFrame({"run": range(4), "scenario": ["a", "a", "b", "b"]})
        return SimpleNamespace(nations=pd.DataFrame(rows), runs=runs, scenarios=["a", "b"],
                               label=str.upper, holder="China")

    differ = results(10.0)
    why = rare_earths._why_different(differ)
    assert why.startswith("What carries the difference: play at the pole.")
    assert why.endswith("Fewest nation-years under control: A (3); most: B (10).")
    assert rare_earths._why_different(results(3.2)) == ""  # within half a year: not different
    arenas = rare_earths._arenas(differ).set_index("nation")
    assert list(arenas.index) == ["Japan"]  # India bears no rare-earth cost anywhere
    assert arenas.loc["Japan", "A"] == "+1 / -5" and arenas.loc["Japan", "B"] == "+1 / -12"
    mean = differ.nations.assign(scenario=differ.nations["run"].map(
        differ.runs.set_index("run")["scenario"])).groupby(["nation", "scenario"]).mean()
    assert rare_earths._retaliating(mean, "Japan", "b") == "; retaliating 1.5 y"
    assert rare_earths._retaliating(mean, "Japan", "a") == ""


def test_contrite_reciprocity_for_all_at_once_is_each_nation_s_own():
    """The model computes the rare-earth rows of every rule that acts there by contrite
    reciprocity alone in one compiled call (each row tested above): in a run with standing in
    any state and a mix of linked and unlinked nations, the same actions as each nation's own
    rule."""
    rng = np.random.default_rng(7)
    raw = raw_scenario("us_china_linked")
    for k, nation in enumerate(raw["nations"]):  # linked and unlinked reciprocators both
        if nation["name"] not in ("United States", "China"):
            nation["strategy"] = {"name": "tit_for_tat", "linked": bool(k % 2)}
    models = [LunarModel(scenario_from(raw), rng=3, steps=40) for _ in range(2)]
    models[1]._reciprocating[:] = False  # each nation's own rule
    for step in range(12):
        standing = rng.random((2,) + models[0].standing.shape[1:]) < 0.7  # some in bad standing
        chosen = []
        for model in models:
            model.standing = standing.copy()
            chosen.append(model.decide())
            model.step()
        for a, b in zip(*chosen, strict=True):
            np.testing.assert_array_equal(a, b)


def test_standing_is_its_definition_for_any_play():
    """The compiled standing update equals its definition in array form: good where i did not
    defect against j (in the arena counted) or defected as a justified punishment, counting
    either arena; always toward oneself."""
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 7, 30):
        for _ in range(40):
            standing = rng.random((2, n, n)) < rng.random()
            lunar, trade = rng.random((2, n, n)) < rng.random()
            either = standing[EITHER]
            want = ~np.stack([~trade, ~trade | ~lunar]) | (either & ~either.T)
            want[:, np.arange(n), np.arange(n)] = True
            assert np.array_equal(play(standing, lunar, trade), want)
