"""The rare-earth market: honest about transport costs, and China's leverage."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import raw_scenario, scenario_from

from sim.model import LunarModel

SEEDS = range(3)


def run(name: str, seed: int, steps: int | None = None, **changes) -> LunarModel:
    return LunarModel(scenario_from(raw_scenario(name), **changes), rng=seed, steps=steps).run()


def nation_series(model: LunarModel, metric: str, nation: str) -> np.ndarray:
    return model.recorder.nation_table()[metric][1:, model.nation_index(nation)]


def test_with_todays_return_cost_no_rare_earths_reach_earth():
    for seed in SEEDS:
        model = run("baseline", seed)
        assert model.recorder.model_column("ree_delivered_step").sum() == 0
        assert model.state.ree_mined_t.sum() == 0  # and nobody works a KREEP site for nothing


def test_cheap_transport_ships_rare_earths_and_erodes_leverage_on_the_same_seeds():
    for seed in SEEDS:
        base, cheap = run("baseline", seed), run("cheap_transport", seed)
        assert cheap.recorder.model_column("ree_delivered_step").sum() > 0
        years = cheap.recorder.model_column("leverage_index")
        after = np.asarray(cheap.recorder.steps) > (2030 - 2026) * 4 + 1
        assert (cheap.recorder.model_column("leverage_index")[after]
                <= base.recorder.model_column("leverage_index")[after]).all()
        assert years[after].mean() < base.recorder.model_column("leverage_index")[after].mean()


def test_export_control_hits_those_china_competes_with_only_while_active():
    for seed in SEEDS:
        model = LunarModel(scenario_from(raw_scenario("ree_export_control")), rng=seed, steps=16)
        china = model.nation_index("China")
        for _ in range(16):
            w, st = model.world, model.state
            importers = (w.ree_demand_t_per_yr * st.ree_demand_factor
                         > w.ree_production_t_per_yr * st.ree_supply_factor)
            model.step()
            out = model.last_outcome
            active = 2027.0 <= model.year < 2029.0  # imposed 2026.87, lifted 2028.87 (step ends)
            competed = ~model.last_actions[china] & (np.arange(len(model.names)) != china)
            assert (out.export_targets == (competed if active else False)).all()
            # China forgoes sales only to targets that buy from it (the US mines more than it uses)
            assert (out.export_revenue_lost[china] > 0) == bool((out.export_targets & importers).any())
            assert (out.shortfall_cost[~out.export_targets] == 0).all()


def test_2010_style_halt_costs_japan_and_china_against_the_same_run_without_it():
    halt = [{"year": 2026.5, "name": "impose_export_control", "targets": ["Japan"], "severity": 1.0},
            {"year": 2027.5, "name": "lift_export_control"}]
    for seed in SEEDS:
        with_halt = run("baseline", seed, steps=8, events=halt)
        without = run("baseline", seed, steps=8, events=[])
        japan = nation_series(with_halt, "shortfall_cost", "Japan")
        active = np.arange(1, 9) >= 2  # steps ending 2026.5 .. 2028.0; lifted before step 6
        active &= np.arange(1, 9) < 6
        assert (japan[active] > 0).all() and (japan[~active] == 0).all()
        assert nation_series(without, "shortfall_cost", "Japan").sum() == 0
        lost = nation_series(with_halt, "export_revenue_lost", "China")
        assert (lost[active] > 0).all() and (lost[~active] == 0).all()
        # China's welfare is lower, and the world price higher, while the halt lasts
        step = 4
        assert (with_halt.recorder.nation_table()["payoff"][step, with_halt.nation_index("China")]
                < without.recorder.nation_table()["payoff"][step, without.nation_index("China")])
        assert (with_halt.recorder.model_column("ree_price")[step]
                > without.recorder.model_column("ree_price")[step])


def test_targets_diversify_away_from_the_holder():
    raw = raw_scenario("ree_export_control")
    for nation in raw["nations"]:  # the holder competes with everyone: all are targets
        if nation["name"] == "China":
            nation["strategy"] = "always_compete"
    model = LunarModel(scenario_from(raw), rng=0, steps=16).run()
    dependence = model.recorder.nation_table()["import_dependence"]
    targeted = model.recorder.nation_table()["export_control"][1:].astype(bool).any(axis=0)
    assert targeted.any()
    assert (dependence[-1, targeted] < dependence[0, targeted]).all()
    assert (dependence[-1, ~targeted] == dependence[0, ~targeted]).all()
    leverage = model.recorder.model_column("leverage_index")
    assert leverage[-1] < leverage[0]


def test_price_moves_with_supply_and_demand():
    fast_demand = run("baseline", 0, steps=20, market__demand_growth_per_year=0.2)
    slow_demand = run("baseline", 0, steps=20, market__demand_growth_per_year=0.0)
    assert fast_demand.state.ree_price_usd_per_kg > slow_demand.state.ree_price_usd_per_kg
    assert slow_demand.state.ree_price_usd_per_kg < 60.0  # supply grows 4 %/yr, demand not


@pytest.mark.parametrize("elasticity", [0.3, 1.0, 3.0])
def test_constant_elasticity_price(elasticity):
    model = run("baseline", 0, steps=1, market__price_elasticity=elasticity,
                market__demand_growth_per_year=0.0, market__supply_growth_per_year=0.0,
                market__rest_of_world_demand_t_per_yr=75400.0 * 2 + 314600.0)
    demand = 2 * 390000.0
    assert model.state.ree_price_usd_per_kg == pytest.approx(60.0 * 2.0 ** (1 / elasticity))
    assert demand / 390000.0 == 2.0
