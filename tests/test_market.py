"""The rare-earth market: refining dependence, the holder's controls as behaviour, the
importers' diversification, and the return cost at which lunar rare earths would arrive."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from helpers import random_world_state, raw_scenario, scenario_from
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.economy.rare_earths import clear_market, diversify, flows
from sim.economy.rare_earths.mines import mined
from sim.model.model import LunarModel

SEEDS = range(3)
ACCEDE = {"year": 2023.47, "name": "accede", "nation": "India"}


def run(name: str, seed: int, steps: int | None = None, raw: dict | None = None,
        restrained: bool = False, **changes) -> LunarModel:
    """A run of a library scenario; ``restrained``: the holder puts no weight on coercion and
    does not link the arenas, so that it never restricts by its own choice."""
    raw = raw_scenario(name) if raw is None else raw
    if restrained:
        raw, changes["market__coercion_weight"] = restrain(raw), 0.0
    return LunarModel(scenario_from(raw, **changes), rng=seed, steps=steps).run()


def restrain(raw: dict) -> dict:
    """The scenario with no nation linking the arenas."""
    raw = copy.deepcopy(raw)
    for nation in raw["nations"]:
        if isinstance(nation["strategy"], dict):
            nation["strategy"]["linked"] = False
    return raw


def nation_series(model: LunarModel, metric: str, nation: str) -> np.ndarray:
    return model.recorder.nation_table()[metric][1:, model.nation_index(nation)]


# --- the market's accounts ---------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 7), batch=st.integers(0, 3))
def test_market_clearing_conserves_mass(seed, n, batch):
    """Refined output and lunar deliveries = deliveries + withheld + stocks, economy by economy
    in total, with or without a batch of counterfactual controls; nothing is negative."""
    world, state, *_ = random_world_state(seed, n, 3)
    rng = np.random.default_rng(seed)
    shape = (batch, n) if batch else (n,)
    severity = rng.uniform(0, 1, shape) * (rng.random(shape) < 0.5)
    lunar = rng.uniform(0, 1e4, shape) * (rng.random(shape) < 0.3)
    f = flows(world, state, severity, lunar)
    supplied = f.refined.sum(-1) + f.lunar.sum(-1)
    used = f.deliveries.sum(-1) + f.withheld.sum(-1) + f.stocks
    np.testing.assert_allclose(supplied, used, rtol=1e-9, atol=1e-6)
    for part in (f.refined, f.own, f.imports, f.withheld, f.stocks, f.need):
        assert (np.asarray(part) >= -1e-6).all()
    # every refinery outside the residual refiner runs within its capacity and on its own feed
    assert f.refined.sum(-1) == pytest.approx(mined(world, state).sum(), rel=1e-9, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40))
def test_the_compiled_supply_side_is_its_definition_to_the_last_bit(seed, n):
    """What the market has before anyone acts (wanted, refined, built) is the array definition
    of section 7.6, bit for bit, with or without a holder: the refiners outside the residual one
    run their capacity on the ore nobody else refines, the residual refiner the rest."""
    from sim.base.units import ratio
    from sim.economy.rare_earths.market import capacity, supply_side

    world, state, *_ = random_world_state(seed, n, 3)
    rng = np.random.default_rng(seed)
    state.ree_refining_built_t_per_yr = rng.uniform(0, 2e4, n + 1) * (rng.random(n + 1) < 0.5)
    state.ree_mining_built_t_per_yr = rng.uniform(0, 2e4, n + 1) * (rng.random(n + 1) < 0.5)
    state.ree_demand_factor, state.ree_supply_factor = rng.uniform(0.5, 3, 2)
    h = world.leverage_holder
    residual = n if h is None else h
    minedd, cap = mined(world, state), capacity(world, state)
    cap[residual] = 0.0
    feed = minedd.sum() - minedd[residual]
    if h is not None:
        feed -= world.ree_rest_ore_to_holder * minedd[-1]
    use = min(1.0, float(ratio(feed, cap.sum())))
    refined = cap * use
    refined[residual] = max(minedd.sum() - refined.sum(), 0.0)
    want = (world.ree_demand_t_per_yr * state.ree_demand_factor, refined,
            np.minimum(state.ree_refining_built_t_per_yr, cap) * use)
    for got, expected in zip(supply_side(world, state), want, strict=True):
        assert got.tobytes() == expected.tobytes()


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 7))
def test_a_nation_with_no_imports_cannot_be_hurt_by_controls(seed, n):
    """The holder restricts everyone: whoever imports nothing loses nothing."""
    world, state, actions, rules, econ = random_world_state(seed, n, 3)
    econ.control_severity = 1.0
    m = clear_market(world, state, ~actions, np.zeros(n), econ, trade=np.zeros((n, n), dtype=bool))
    free = m.flows.need[:-1] <= 0
    assert (m.shortfall_cost[free] == 0).all() and (m.shortfall_t[free] == 0).all()
    assert (m.dependence[free] == 0).all()


def test_the_us_refining_all_it_uses_is_not_hurt_by_a_control_on_it():
    control = [ACCEDE, {"year": 2026.0, "name": "impose_export_control",
                        "targets": ["United States", "Japan"], "severity": 1.0}]
    for refining in (1300.0, 5000.0):
        raw = raw_scenario("baseline")
        for nation in raw["nations"]:
            if nation["name"] == "United States":
                nation["ree_refining_t_per_yr"] = refining
        model = run("baseline", 0, steps=4, raw=raw, events=control, restrained=True)
        hurt = nation_series(model, "shortfall_cost_usd_bn", "United States").sum()
        assert (hurt == 0) == (refining > 3000), refining  # it uses 3,000 t a year
        assert nation_series(model, "shortfall_cost_usd_bn", "Japan").sum() > 0


def test_lunar_deliveries_add_supply_outside_the_holder():
    world, state, actions, rules, econ = random_world_state(11, 5, 3)
    if world.leverage_holder is None:
        world = copy.copy(world)
        object.__setattr__(world, "leverage_holder", 0)
    n = 5
    without = clear_market(world, state, ~actions, np.zeros(n), econ)
    shipped = np.where(np.arange(n) == world.leverage_holder, 0.0, 1e3)
    with_moon = clear_market(world, state, ~actions, shipped, econ)
    assert with_moon.leverage < without.leverage
    assert with_moon.price < without.price


@pytest.mark.parametrize("elasticity", [0.3, 1.0, 3.0])
def test_constant_elasticity_price(elasticity):
    """World demand at twice the magnet oxide mined: the price is p_ref · 2^(1/η)."""
    raw = raw_scenario("baseline")
    mined = 0.18 * 390000.0
    nations = sum(nation.get("ree_demand_t_per_yr", 0.0) for nation in raw["nations"])
    model = run("baseline", 0, steps=1, market__price_elasticity=elasticity,
                market__demand_growth_per_year=0.0, market__supply_growth_per_year=0.0,
                restrained=True, market__rest_of_world_demand_t_per_yr=2 * mined - nations)
    assert model.state.ree_price_usd_per_kg == pytest.approx(60.0 * 2.0 ** (1 / elasticity))


def test_price_moves_with_supply_and_demand():
    fast_demand = run("baseline", 0, steps=20, market__demand_growth_per_year=0.2)
    slow_demand = run("baseline", 0, steps=20, market__demand_growth_per_year=0.0)
    assert fast_demand.state.ree_price_usd_per_kg > slow_demand.state.ree_price_usd_per_kg
    assert slow_demand.state.ree_price_usd_per_kg < 60.0  # supply grows 4 %/yr, demand not


# --- dependence is counted on refining ---------------------------------------------------------


def test_a_nation_that_mines_more_than_it_uses_still_depends_on_the_holder():
    """The US mines 45,000 t of oxide (8,100 t of magnet oxide) and uses 3,000 t, but refines
    1,300 t: most of what it uses comes from China's refineries (USGS: about 70 % of its
    imports of compounds and metals, 2020-23)."""
    model = LunarModel(scenario_from(raw_scenario("baseline")), rng=0)
    us = model.nation_index("United States")
    assert model.world.ree_mining_t_per_yr[us] > model.world.ree_demand_t_per_yr[us]
    assert model.state.import_dependence[us] == pytest.approx(1 - 1300 / 3000)
    assert model.state.leverage_index == pytest.approx(0.92)


def test_leverage_and_dependence_move_over_time_in_the_baseline():
    model = run("baseline", 0)
    leverage = model.recorder.model_column("leverage_index")
    dependence = model.recorder.model_column("importer_dependence")
    assert leverage.max() - leverage.min() > 0.05
    assert dependence.max() - dependence.min() > 0.2


# --- the holder's controls as behaviour --------------------------------------------------------


def test_a_restrained_holder_never_restricts():
    model = run("baseline", 0, steps=40, restrained=True)
    assert model.recorder.model_column("export_control_targets").sum() == 0


def test_the_holders_policy_reads_lunar_play():
    """Trust follows play at the south pole: China restricts a Japan that races it more than a
    Japan that coordinates with it, on the same seeds."""
    for seed in SEEDS:
        raw = raw_scenario("baseline")
        for nation in raw["nations"]:
            if nation["name"] == "Japan":
                nation["strategy"] = {"name": "always_compete"}
        racing = run("baseline", seed, steps=40, raw=copy.deepcopy(raw))
        for nation in raw["nations"]:
            if nation["name"] == "Japan":
                nation["strategy"] = {"name": "always_cooperate"}
        coordinating = run("baseline", seed, steps=40, raw=raw)
        assert (nation_series(racing, "export_control", "Japan").sum()
                > nation_series(coordinating, "export_control", "Japan").sum())


def test_a_control_raises_the_price_and_the_targets_shortfall_cost_on_the_same_seed():
    halt = [ACCEDE, {"year": 2026.5, "name": "impose_export_control", "targets": ["Japan"],
                     "severity": 1.0}, {"year": 2027.5, "name": "lift_export_control"}]
    for seed in SEEDS:
        with_halt = run("baseline", seed, steps=8, events=halt, restrained=True)
        without = run("baseline", seed, steps=8, events=[ACCEDE], restrained=True)
        japan = nation_series(with_halt, "shortfall_cost_usd_bn", "Japan")
        active = (np.arange(1, 9) >= 2) & (np.arange(1, 9) < 6)  # steps ending 2026.5 .. 2027.25
        assert (japan[active] > 0).all() and (japan[~active] == 0).all()
        assert nation_series(without, "shortfall_cost_usd_bn", "Japan").sum() == 0
        lost = nation_series(with_halt, "export_revenue_lost_usd_bn", "China")
        assert (lost[active] > 0).all() and (lost[~active] == 0).all()
        step = 4
        assert (with_halt.recorder.model_column("ree_price_usd_per_kg")[step]
                > without.recorder.model_column("ree_price_usd_per_kg")[step])


def test_a_scheduled_control_hits_those_china_competes_with_only_while_active():
    for seed in SEEDS:
        model = LunarModel(scenario_from(restrain(raw_scenario("ree_export_control")),
                                         market__coercion_weight=0.0), rng=seed, steps=16)
        china = model.nation_index("China")
        for _ in range(16):
            model.step()
            out = model.last_outcome
            active = 2027.0 <= model.year < 2029.0  # imposed 2026.87, lifted 2028.87 (step ends)
            competed = ~model.last_actions[china] & (np.arange(len(model.names)) != china)
            assert (out.export_targets == (competed if active else False)).all()
            assert (out.shortfall_cost[~out.export_targets] == 0).all()


# --- diversification ---------------------------------------------------------------------------


def test_diversification_lowers_dependence_monotonically_while_targeted():
    """Japan under a standing control: its bloc builds refining outside China, and Japan's
    dependence never rises while the control lasts (no market growth to blur it). It falls
    slowly: the US refines its own use first, and only its surplus reaches Japan."""
    events = [ACCEDE, {"year": 2026.0, "name": "impose_export_control", "targets": ["Japan"]}]
    raw = raw_scenario("baseline")
    raw["market"]["projects"] = []
    model = run("baseline", 0, steps=40, raw=raw, events=events, restrained=True,
                market__initial_threat=0.0, market__demand_growth_per_year=0.0,
                market__supply_growth_per_year=0.0)
    targeted = nation_series(model, "export_control", "Japan").astype(bool)
    assert targeted.all()
    dependence = model.recorder.nation_table()["import_dependence"][1:, model.nation_index("Japan")]
    assert (np.diff(dependence) <= 1e-12).all()
    assert dependence[-1] < dependence[0]
    assert model.recorder.model_column("leverage_index")[-1] < 0.92


def small_market(steps_per_year: int = 4):
    """China (0, the holder), the US (1, all the bloc's mines) and Japan (2, no mines) in one
    bloc with the holder left out; the rest of the world last. Returns world, state, econ."""
    world, state, *_, econ = random_world_state(5, 3, 2)
    world = dataclasses.replace(
        world, steps_per_year=steps_per_year, leverage_holder=0, ree_rest_ore_to_holder=0.0,
        ree_demand_t_per_yr=np.array([50000.0, 3000.0, 6000.0, 5000.0]),
        ree_mining_t_per_yr=np.array([50000.0, 8000.0, 0.0, 6000.0]),
        ree_refining_t_per_yr=np.array([0.0, 1000.0, 0.0, 4000.0]))
    state.ree_demand_factor = state.ree_supply_factor = 1.0
    state.ree_refining_built_t_per_yr = np.zeros(4)
    state.ree_threat = np.zeros(3)
    econ.self_reliance_goal, econ.ally_threat = 0.4, 0.5
    econ.refining_lead_time_years, econ.threat_half_life_years = 5.0, 5.0
    return world, state, econ


BLOC = np.array([[True, False, False], [False, True, True], [False, True, True]])


def test_a_threatened_bloc_builds_where_its_ore_is_at_the_lead_time_rate():
    world, state, econ = small_market()
    japan_hit = np.array([False, False, True])
    built, threat = diversify(world, state, japan_hit, BLOC, econ)
    assert threat.tolist() == [0.0, 0.5, 1.0]  # the target, and its ally at ally_threat
    wanted = 0.4 * (0.5 * 3000.0 + 1.0 * 6000.0)  # the bloc's use, weighed by threat
    rate = 1 - np.exp(-0.25 / 5.0)
    np.testing.assert_allclose(built, [0.0, (wanted - 1000.0) * rate, 0.0, 0.0])  # the US mines


def test_refining_already_there_counts_against_the_gap():
    world, state, econ = small_market()
    world = dataclasses.replace(world, ree_refining_t_per_yr=np.array([0.0, 5000.0, 0.0, 4000.0]))
    built, _ = diversify(world, state, np.array([False, True, True]), BLOC, econ)
    assert (built == 0).all()  # 5,000 t/yr exceed 40 % of the bloc's 9,000 t


def test_the_holder_builds_nothing_and_its_ore_builds_nothing_for_others():
    world, state, econ = small_market()
    bloc = np.ones((3, 3), dtype=bool)  # the holder in the bloc too
    world = dataclasses.replace(world, ree_mining_t_per_yr=np.array([50000.0, 0.0, 0.0, 6000.0]))
    built, threat = diversify(world, state, np.array([False, True, True]), bloc, econ)
    assert built[0] == 0 and threat[0] == 0
    # without mines in the bloc, members build by their use: Japan twice the US
    assert built[2] == pytest.approx(2 * (built[1] + 1000.0 * (1 - np.exp(-0.25 / 5.0))), rel=1e-9)


@pytest.mark.parametrize("steps_per_year", [1, 4, 12])
def test_threat_halves_in_its_half_life_whatever_the_step(steps_per_year):
    world, state, econ = small_market(steps_per_year)
    state.ree_threat = np.array([0.0, 1.0, 1.0])
    none = np.zeros(3, dtype=bool)
    for _ in range(5 * steps_per_year):  # five years, the half-life
        state.ree_refining_built_t_per_yr, state.ree_threat = diversify(world, state, none, BLOC, econ)
    np.testing.assert_allclose(state.ree_threat, [0.0, 0.5, 0.5], rtol=1e-12)


def test_no_holder_no_threat_and_nothing_built():
    world, state, econ = small_market()
    world = dataclasses.replace(world, leverage_holder=None)
    state.ree_threat = np.ones(3)
    built, threat = diversify(world, state, np.array([False, True, True]), BLOC, econ)
    assert (built == 0).all() and (threat == 0).all()


# --- the lunar link ----------------------------------------------------------------------------


def test_with_todays_return_cost_no_rare_earths_reach_earth():
    for seed in SEEDS:
        model = run("baseline", seed)
        assert model.recorder.model_column("ree_delivered_step_t").sum() == 0
        assert model.state.ree_mined_t.sum() == 0  # and nobody works a KREEP site for nothing
        assert np.nanmax(model.recorder.model_column("ree_break_even_usd_per_kg")) < 0


def test_shipping_switches_on_just_below_the_break_even_return_cost():
    """The break-even return cost read from a run where nothing ships is where shipping starts:
    a cent above it nothing reaches Earth, a cent below it some does."""
    raw = raw_scenario("lunar_supply")
    raw["events"] = [ACCEDE, {"year": 2026.0, "name": "transport_cost", "capacity_cost_factor": 0.2}]
    probe = run("lunar_supply", 1, steps=24, raw=raw)
    break_even = float(np.nanmax(probe.recorder.model_column("ree_break_even_usd_per_kg")[:-1]))
    assert probe.recorder.model_column("ree_delivered_step_t").sum() == 0  # $1 M/kg: nothing ships
    assert break_even > 0
    above = run("lunar_supply", 1, steps=24, raw=raw,
                economics__ree_return_cost_usd_per_kg=break_even + 0.01)
    below = run("lunar_supply", 1, steps=24, raw=raw,
                economics__ree_return_cost_usd_per_kg=break_even - 0.01)
    assert above.recorder.model_column("ree_delivered_step_t").sum() == 0
    assert below.recorder.model_column("ree_delivered_step_t").sum() > 0


def test_lunar_supply_arrives_where_regolith_is_worked_cheaply():
    for seed in SEEDS:
        cheap, supply = run("cheap_transport", seed), run("lunar_supply", seed)
        assert cheap.recorder.model_column("ree_delivered_step_t").sum() == 0
        assert supply.recorder.model_column("ree_delivered_step_t").sum() > 0


# --- mines that answer to price ----------------------------------------------------------------


def test_mines_open_outside_the_holder_while_the_price_is_above_the_reference():
    """Nothing opens at the reference price; at twice it with ε = 1 each economy outside the
    holder aims at doubling its ore and closes 1 − e^(−dt/L) of the gap a step; the holder
    opens none; mines stay open when the price falls."""
    from sim.economy.rare_earths import open_mines

    world, state, econ = small_market()
    state.ree_mining_built_t_per_yr = np.zeros(4)
    econ.ree_price_usd_per_kg, econ.mine_supply_elasticity, econ.mine_lead_time_years = 60.0, 1.0, 5.0
    state.ree_price_usd_per_kg = 60.0
    assert (open_mines(world, state, econ) == 0).all()
    state.ree_price_usd_per_kg = 120.0
    built = open_mines(world, state, econ)
    np.testing.assert_allclose(built, world.ree_mining_t_per_yr * [0, 1, 1, 1]
                               * -np.expm1(-0.25 / 5.0), rtol=1e-12)
    state.ree_mining_built_t_per_yr, state.ree_price_usd_per_kg = built, 30.0
    np.testing.assert_array_equal(open_mines(world, state, econ), built)
    econ.mine_supply_elasticity = 0.0
    state.ree_price_usd_per_kg = 120.0
    np.testing.assert_array_equal(open_mines(world, state, econ), built)


def test_mines_that_answer_to_price_lower_it_and_feed_the_holder_where_refining_is_short():
    """On the same seeds, where mines outside China answer to the price (which rises over the
    run) more ore is mined outside it and the price ends lower; and since refining outside
    China is what is short at the defaults, the extra ore goes to China's refineries (as
    Mountain Pass's did until 2023): its share of refining ends higher, not lower."""
    for seed in SEEDS:
        fixed = run("baseline", seed, market__mine_supply_elasticity=0.0)
        answering = run("baseline", seed, market__mine_supply_elasticity=1.0)
        assert answering.state.ree_mining_built_t_per_yr.sum() > 0
        assert fixed.state.ree_mining_built_t_per_yr.sum() == 0
        assert answering.state.ree_price_usd_per_kg < fixed.state.ree_price_usd_per_kg
        assert answering.state.leverage_index > fixed.state.leverage_index
