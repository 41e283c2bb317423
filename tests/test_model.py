"""The model as a whole: reproducibility, simultaneity, rules and events acting."""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest
from helpers import assert_same_arrays, scenario_from, with_strategies

from sim.model.model import LunarModel


def series(model: LunarModel) -> dict[str, np.ndarray]:
    table = model.recorder.model_table()
    table |= {f"nation.{k}": v for k, v in model.recorder.nation_table().items()}
    return table


def run(raw, seed=7, steps=24, **changes) -> LunarModel:
    return LunarModel(scenario_from(raw, **changes), rng=seed, steps=steps).run()


def test_same_seed_same_run(baseline_raw):
    assert_same_arrays(series(run(baseline_raw)), series(run(baseline_raw)))


def test_different_seed_different_run(baseline_raw):
    a, b = series(run(baseline_raw, seed=1)), series(run(baseline_raw, seed=2))
    assert not np.array_equal(a["nation.cooperation"], b["nation.cooperation"], equal_nan=True)


def test_without_noise_or_incidents_the_seed_does_not_matter(baseline_raw):
    raw = copy.deepcopy(baseline_raw)
    for nation in raw["nations"]:
        nation["strategy"] = {"name": "tit_for_tat"}
    a = run(raw, seed=1, economics__incident_rate_per_year=0.0)
    b = run(raw, seed=2, economics__incident_rate_per_year=0.0)
    assert_same_arrays(series(a), series(b))


def test_the_order_nations_are_asked_in_changes_nothing(baseline_raw):
    """Decisions are simultaneous: asking the nations in another order at every step changes
    nothing (every rule of the baseline, stochastic ones included, reads one snapshot)."""
    a = LunarModel(scenario_from(baseline_raw), rng=5, steps=20)
    b = LunarModel(scenario_from(baseline_raw), rng=5, steps=20)
    shuffler = random.Random(1000)
    for _ in range(20):
        shuffler.shuffle(b.decision_order)  # another activation order at every step
        a.step()
        b.step()
    assert_same_arrays(series(a), series(b))
    assert b.decision_order != a.decision_order


def test_listing_nations_in_another_order_permutes_results(pd_raw):
    raw = with_strategies(pd_raw, "tit_for_tat", "always_compete")
    flipped = copy.deepcopy(raw)
    flipped["nations"].reverse()
    a, b = run(raw, steps=6), run(flipped, steps=6)
    np.testing.assert_allclose(a.state.welfare_usd_bn, b.state.welfare_usd_bn[::-1])


def test_wolf_amendment_bars_us_china_cooperation_under_the_accords(baseline_raw):
    raw = copy.deepcopy(baseline_raw)
    for nation in raw["nations"]:
        nation["strategy"] = "always_cooperate"
    model = run(raw, steps=4)
    us, cn = model.nation_index("United States"), model.nation_index("China")
    assert model.last_actions[us, cn] and model.last_actions[cn, us]  # both would
    assert not model.last_coordination[us, cn] and not model.last_coordination[cn, us]
    others = np.ones_like(model.last_actions)
    others[[us, cn], [cn, us]] = False
    assert model.last_coordination[others].all()


def test_lifting_the_law_lets_them_cooperate(baseline_raw):
    raw = copy.deepcopy(baseline_raw)
    for nation in raw["nations"]:
        nation["strategy"] = "always_cooperate"
    raw["events"] = [{"year": 2026.5, "name": "lift_law", "law": "wolf_amendment"}]
    model = LunarModel(scenario_from(raw), rng=0, steps=4)
    us, cn = model.nation_index("United States"), model.nation_index("China")
    model.step()
    assert not model.last_coordination[us, cn]
    model.step()  # ends at 2026.5: the law is lifted before this step's decisions
    assert model.last_coordination[us, cn] and model.last_coordination[cn, us]
    assert model.event_log == [(2, 2026.5, "law wolf_amendment lifted")]


def test_accords_recognise_claims_between_signatories_only(baseline_raw):
    model = LunarModel(scenario_from(baseline_raw), rng=0)
    assert model.members.sum() == 8  # the founders; India's 2023 signature applies at step 1
    model.step()
    members = model.members
    assert members.sum() == 9 and members[model.nation_index("India")]
    assert not members[model.nation_index("China")]
    rec = model.rules.recognises_claims
    assert (rec == (np.logical_and.outer(members, members) & ~np.eye(len(members), dtype=bool))).all()
    open_access = LunarModel(scenario_from(baseline_raw, regime={"name": "open_access"}), rng=0)
    assert not open_access.rules.recognises_claims.any()


def test_accession_adds_a_member_and_its_recognition(baseline_raw):
    raw = copy.deepcopy(baseline_raw)
    raw["events"] = [{"year": 2026.25, "name": "accede", "nation": "Russia"}]
    model = LunarModel(scenario_from(raw), rng=0, steps=2)
    ru, us = model.nation_index("Russia"), model.nation_index("United States")
    assert not model.rules.recognises_claims[ru, us]
    model.step()
    assert model.members[ru] and model.rules.recognises_claims[ru, us]


def test_stocks_and_capacities_stay_non_negative_over_a_long_run(baseline_raw):
    model = run(baseline_raw, steps=100, economics__incident_rate_per_year=5.0,
                economics__incident_damage=0.9)
    nations = model.recorder.nation_table()
    assert (nations["capacity_t_per_yr"] >= 0).all() and (nations["propellant_t"] >= 0).all()
    assert (model.state.reserve_t >= 0).all()
    reserve_series = model.recorder.model_column("ice_depletion")
    assert (np.diff(reserve_series) >= -1e-15).all()  # extraction only ever uses reserves up


def test_welfare_is_cash_flow_plus_the_change_in_capital_over_a_run(baseline_raw):
    """The accounting identity of a whole run, nation by nation: cumulative welfare (net
    product) = what came in less what went out, investment included, plus the capital still
    installed at the end less that at the start."""
    model = LunarModel(scenario_from(baseline_raw), rng=5)
    start_capital = model.state.capital_usd_bn.copy()
    cash = np.zeros(len(model.names))
    invested = np.zeros(len(model.names))
    for _ in range(60):
        model.step()
        o = model.last_outcome
        cash += (o.gross_output - o.operating_cost + o.transfers - o.entry_cost
                 - o.shortfall_cost - o.export_revenue_lost - o.diversification_cost
                 - o.retaliation_cost - model.last_investment)
        invested += model.last_investment
    end_capital = model.state.capital_usd_bn
    assert invested.sum() > 1.0  # plants were bought: the identity is not trivially 0 = 0
    np.testing.assert_allclose(model.state.welfare_usd_bn, cash + end_capital - start_capital,
                               rtol=1e-9, atol=1e-9)


def test_welfare_splits_into_its_channels_exactly(baseline_raw):
    from sim.experiment.run import run_scenario

    for name in ("baseline", "multilateral"):
        result = run_scenario(scenario_from(baseline_raw, regime={"name": name} if name != "baseline"
                                            else baseline_raw["regime"]), seed=2, steps=40)
        total = sum(v for k, v in result.overall.items() if k.startswith("channel_"))
        assert total == pytest.approx(result.overall["welfare_total_usd_bn"], rel=1e-9, abs=1e-9)
        assert result.overall["channel_potential_output_usd_bn"] > 0


def test_works_with_mesa_batch_run(pd_raw):
    import inspect

    import mesa

    params = {"scenario": [scenario_from(pd_raw)], "steps": 3}
    seeds = [1, 2]
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.4
        kwargs = {"rng": seeds}
    else:  # Mesa 3.3: the seed is one more model parameter
        params, kwargs = params | {"rng": seeds}, {}
    rows = mesa.batch_run(LunarModel, params, number_processes=1, data_collection_period=-1,
                          display_progress=False, **kwargs)
    second = [row for row in rows if row["rng"] == 2]
    assert len(second) == 2  # a row per nation agent
    direct = LunarModel(scenario_from(pd_raw), rng=2, steps=3).run()
    # the last row is the end of the run on Mesa 3.3 and 3.5 alike: same seed, same number
    final = direct.recorder.model_column("welfare_total_usd_bn")[-1]
    assert all(row["welfare_total_usd_bn"] == final for row in second) and final > 0


def test_a_finished_run_leaves_nothing_behind(pd_raw):
    import gc
    import weakref

    from sim.experiment.run import run_scenario

    spec = scenario_from(pd_raw)
    before = LunarModel(spec, rng=0)
    ref = weakref.ref(before)
    before.release()
    del before
    gc.collect()
    assert ref() is None  # thousands of runs in one process must not pile up


    def models() -> int:
        gc.collect()
        return sum(isinstance(o, LunarModel) for o in gc.get_objects())

    alive = models()
    for seed in range(5):
        run_scenario(spec, seed=seed, steps=2)
    assert models() == alive


def test_sites_name_their_operators_and_nations_their_numbers(baseline_raw):
    model = run(baseline_raw, steps=8)
    working = {n for site in model.site_list for n in site.operators}
    assert "United States" in working and "China" in working
    us = model.nation_list[model.nation_index("United States")]
    assert us.capacity_t_per_yr > 0 and us.propellant_t > 0
    assert set(us.trust) == set(model.names) - {"United States"}


# --- the builder alone (sim.model.build): no Mesa model behind it -----------------------------

def test_build_is_a_function_of_the_scenario_and_the_generator(baseline_raw):
    from sim.model.build import build

    scenario = scenario_from(baseline_raw)
    one, two = build(scenario, np.random.default_rng(5)), build(scenario, np.random.default_rng(5))
    for a, b in ((one.state, two.state), (one.world, two.world)):
        assert_same_arrays(vars(a), vars(b))
    draws = [[s.rng.random() for s in parts.strategies] for parts in (one, two)]
    assert draws[0] == draws[1]
    other = build(scenario, np.random.default_rng(6))
    assert [s.rng.random() for s in other.strategies] != draws[0]


def test_each_rule_and_the_model_draw_from_their_own_spawned_stream(baseline_raw):
    """Spawned children of the one generator: incidents, trembles, then one per nation, so a
    rule that draws more never shifts another's numbers."""
    from sim.model.build import build

    parts = build(scenario_from(baseline_raw), np.random.default_rng(9))
    expected = np.random.default_rng(9).spawn(2 + len(parts.names))
    got = [parts.incident_rng, parts.tremble_rng, *(s.rng for s in parts.strategies)]
    assert [g.random() for g in got] == [e.random() for e in expected]


def test_build_sets_trust_by_bloc_then_by_named_pair(baseline_raw):
    from sim.model.build import build

    raw = copy.deepcopy(baseline_raw)
    raw["trust"] |= {"within_bloc": 0.6, "across_bloc": 0.2,
                     "pairs": [{"a": "China", "b": "Japan", "value": 0.05}]}
    parts = build(scenario_from(raw), np.random.default_rng(0))
    trust, names, blocs = parts.state.trust, list(parts.names), parts.blocs
    i, j = names.index("China"), names.index("Japan")
    assert trust[i, j] == trust[j, i] == 0.05
    for a in range(len(names)):
        for b in range(len(names)):
            if a == b:
                assert trust[a, b] == 1.0
            elif {a, b} != {i, j}:
                assert trust[a, b] == (0.6 if blocs[a] == blocs[b] else 0.2)


def test_the_best_sites_are_the_ice_sites_of_highest_grade_times_illumination(baseline_raw):
    from sim.model.build import world_of

    raw = copy.deepcopy(baseline_raw)
    raw["metrics"] = {"best_sites": 2}
    scenario = scenario_from(raw)
    quality = {s.name: s.grade * s.illumination for s in scenario.sites if s.kind == "ice"}
    top = sorted(quality, key=quality.get, reverse=True)[:2]
    world = world_of(scenario)
    assert [s.name for s, best in zip(scenario.sites, world.best_sites) if best] == \
        [s.name for s in scenario.sites if s.name in top]


def test_plants_in_place_are_booked_at_their_cost_and_events_fall_in_date_order(baseline_raw):
    from sim.model.build import build

    raw = copy.deepcopy(baseline_raw)
    raw["nations"][0]["capacity_t_per_yr"] = 2000.0
    raw["events"] = [{"name": "budget_shock", "year": 2035.0, "nation": "China", "factor": 0.5},
                     {"name": "lift_law", "year": 2030.0, "law": "wolf_amendment"},
                     {"name": "accede", "year": 2030.0, "nation": "India"}]
    scenario = scenario_from(raw)
    parts = build(scenario, np.random.default_rng(0))
    cost = scenario.economics.capacity_cost_usd_per_t_yr
    np.testing.assert_allclose(parts.state.capital_usd_bn[0], 2000.0 * cost / 1e9, rtol=1e-12)
    mine = [(e.year, e.name) for e in parts.events if e.name != "refining_project"]
    assert mine == [(2030.0, "lift_law"), (2030.0, "accede"), (2035.0, "budget_shock")]


def test_utilities_read_no_action_toward_oneself_and_one_trade_matrix_as_every_one():
    """A nation's action toward itself is no action: utilities of matrices whose diagonals say
    D equal those of the same matrices with C there; one rare-earth matrix stands for the same
    matrix at every position of the batch; each matrix's utilities are its own alone."""
    from sim.economy.step import expected_utility

    model = LunarModel("baseline", rng=4)
    for _ in range(3):
        model.step()
    n = len(model.names)
    rng = np.random.default_rng(8)
    lunar = rng.random((5, n, n)) < 0.6
    trade = rng.random((n, n)) < 0.8
    got = model.utilities(lunar, trade)
    cleaned = lunar.copy()
    cleaned[:, np.arange(n), np.arange(n)] = True
    assert np.array_equal(got, model.utilities(cleaned, np.repeat(trade[None], 5, axis=0)))
    assert not np.array_equal(got, model.utilities(~lunar, trade))  # (the actions matter)
    for b in range(5):
        alone = expected_utility(model.world, model.state, cleaned[b], model.rules, model.econ,
                                 trade=trade, prepared=model.prepared())
        assert np.array_equal(got[b], alone)
