"""Build, then step: a validated :class:`Scenario` turned into what :class:`LunarModel` steps.

:func:`build` is a function of the scenario and one random generator: the world's fixed arrays,
the state before the first step (with the rare-earth market where it stands before anyone acts),
the economic parameters, the regime with its first members and the laws, the scheduled events in
the order they fall, each nation's decision rule with its own random stream, and the streams of
incidents and trembles. It needs no Mesa model, so it is testable alone; the model takes the
parts and steps them (:mod:`sim.model.model`).

:func:`rules_in_force` and :func:`bloc_masks` are what the model recomputes when an event changes
a membership, a law or a bloc.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.base.errors import BadType
from sim.base.units import USD_PER_BN
from sim.economy.rare_earths import clear_market
from sim.economy.state import EconParams, RegimeRules, State, World
from sim.rules.events import EVENTS, Event, RefiningProject
from sim.rules.regimes import REGIMES, Polity, Regime
from sim.rules.strategies import STRATEGIES, Roster, Strategy
from sim.scenario import Scenario
from sim.scenario.schema import rest_of_world_demand, rest_of_world_refining


@dataclass
class Parts:
    """Everything a model steps, as the scenario sets it at the start."""

    names: tuple[str, ...]
    blocs: np.ndarray  # str [N] (object dtype)
    world: World
    econ: EconParams
    state: State
    regime: Regime
    members: np.ndarray  # bool [N]
    laws: dict[str, bool]  # law -> in force
    law_bars: dict[str, list[tuple[str, str]]]  # law -> pairs it bars from cooperating
    events: list[Event]  # in the order they fall
    strategies: list[Strategy]  # one per nation, each with its own random stream
    tremble: np.ndarray  # [N] probability that an action slips
    budget_growth_per_step: np.ndarray  # [N] budget multiplier each step
    incident_rng: np.random.Generator
    tremble_rng: np.random.Generator


def build(scenario: Scenario, rng: np.random.Generator) -> Parts:
    """The parts of a model of ``scenario``. Independent child streams of ``rng``
    (``Generator.spawn``) serve incidents, trembles and each nation's rule, so adding a draw to
    one never shifts the numbers of another, and replicate k of two scenarios shares its random
    numbers."""
    if not isinstance(scenario, Scenario):
        raise BadType(f"scenario: expected a Scenario, got {type(scenario).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise BadType(f"rng: expected a numpy Generator (np.random.default_rng(seed)), got "
                      f"{type(rng).__name__}")
    n = len(scenario.nations)
    incident_rng, tremble_rng, *nation_rngs = rng.spawn(2 + n)
    names = tuple(nation.name for nation in scenario.nations)
    blocs = np.array([nation.bloc for nation in scenario.nations], dtype=object)
    world = world_of(scenario)
    econ = EconParams.from_specs(scenario.economics, scenario.market, scenario.trust)
    state = initial_state(scenario, world, blocs, econ)
    regime: Regime = REGIMES.get(scenario.regime.name)(scenario.regime.params)
    roster = Roster(names, blocs.copy(), state.budget_usd_bn.copy(), scenario.time.steps_per_year,
                    world.leverage_holder)
    return Parts(
        names=names,
        blocs=blocs,
        world=world,
        econ=econ,
        state=state,
        regime=regime,
        members=regime.initial_members(names, blocs),
        laws={law.name: law.in_force for law in scenario.laws},
        law_bars={law.name: law.bars for law in scenario.laws},
        events=scheduled_events(scenario),
        strategies=[_rule(spec.strategy, i, roster, nation_rngs[i])
                    for i, spec in enumerate(scenario.nations)],
        tremble=np.array([spec.strategy.tremble for spec in scenario.nations]),
        budget_growth_per_step=np.array([(1.0 + spec.budget_growth_per_year) ** world.dt
                                         for spec in scenario.nations]),
        incident_rng=incident_rng,
        tremble_rng=tremble_rng,
    )


def _rule(spec, i: int, roster: Roster, rng: np.random.Generator) -> Strategy:
    """Nation i's decision rule, linking the two arenas if its spec says so."""
    rule = STRATEGIES.get(spec.name)(i, roster, spec.params, rng)
    rule.linked = spec.linked
    return rule


def scheduled_events(scenario: Scenario) -> list[Event]:
    """The scenario's events and its market's announced refining projects, by year (a stable
    sort: events of one year apply in the order the file gives them, projects last)."""
    events = [EVENTS.get(e.name)(e.params, e.year) for e in scenario.events]
    projects = [RefiningProject(RefiningProject.Params(nation=p.nation,
                                                       capacity_t_per_yr=p.capacity_t_per_yr),
                                p.year) for p in scenario.market.projects]
    return sorted(events + projects, key=lambda e: e.year)


def rules_in_force(regime: Regime, names: tuple[str, ...], blocs: np.ndarray,
                   members: np.ndarray, laws: dict[str, bool],
                   law_bars: dict[str, list[tuple[str, str]]]) -> RegimeRules:
    """The regime's rules for this membership, these blocs and the laws in force; the regime
    says between whom the laws it lifts are lifted."""
    n = len(names)
    barred, lifted = np.zeros((n, n), dtype=bool), np.zeros((n, n), dtype=bool)
    lifts = regime.lifted_laws()
    for law, in_force in laws.items():
        if in_force:
            bars = lifted if law in lifts else barred
            for a, b in law_bars[law]:
                i, j = names.index(a), names.index(b)
                bars[i, j] = bars[j, i] = True
    return regime.rules(Polity(names, blocs, members, barred, lifted & ~barred))


def bloc_masks(blocs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(off_diagonal, same_bloc, across_blocs) [N, N]: pairs of distinct nations, those in one
    bloc and those in different blocs."""
    n = len(blocs)
    off_diagonal = ~np.eye(n, dtype=bool)
    same_bloc = (blocs[:, None] == blocs[None, :]) & off_diagonal
    return off_diagonal, same_bloc, ~same_bloc & off_diagonal


def world_of(s: Scenario) -> World:
    """What does not change during a run: the sites, the nations' rare-earth economies and the
    clock. The best sites are the ``metrics.best_sites`` ice sites of highest grade times
    illumination (ties: the order of the file)."""
    sites = s.sites
    is_ice = np.array([site.kind == "ice" for site in sites])
    grade = np.array([site.grade for site in sites])
    uptime = np.array([site.illumination for site in sites])
    quality = np.where(is_ice, grade * uptime, -np.inf)
    best = np.zeros(len(sites), dtype=bool)
    ranked = np.argsort(-quality, kind="stable")[: min(s.metrics.best_sites, int(is_ice.sum()))]
    best[ranked] = True
    holder = s.market.leverage_holder
    return World(
        steps_per_year=s.time.steps_per_year,
        site_is_ice=is_ice,
        grade=grade,
        site_capacity_t_per_yr=np.array([site.capacity_t_per_yr for site in sites]),
        uptime=uptime,
        initial_reserve_t=np.array([site.reserve_t for site in sites]),
        best_sites=best,
        ree_demand_t_per_yr=np.array([n.ree_demand_t_per_yr for n in s.nations]
                                     + [rest_of_world_demand(s)]),
        ree_mining_t_per_yr=s.market.magnet_share * np.array(
            [n.ree_production_t_per_yr for n in s.nations]
            + [s.market.rest_of_world_production_t_per_yr]),
        ree_refining_t_per_yr=np.array([n.ree_refining_t_per_yr for n in s.nations]
                                       + [max(rest_of_world_refining(s), 0.0) if holder else 0.0]),
        leverage_holder=None if holder is None else [n.name for n in s.nations].index(holder),
        ree_rest_ore_to_holder=s.market.rest_of_world_ore_to_holder,
    )


def initial_state(s: Scenario, world: World, blocs: np.ndarray, econ: EconParams) -> State:
    """The state before the first step: the scenario's capacities, budgets, reserves and trust
    (bloc defaults, then the named pairs), plants in place at their cost, and the rare-earth
    market cleared as it stands before anyone acts."""
    n, k = len(s.nations), len(s.sites)
    names = [nation.name for nation in s.nations]
    same = blocs[:, None] == blocs[None, :]
    trust = np.where(same, s.trust.within_bloc, s.trust.across_bloc)
    for pair in s.trust.pairs:
        i, j = names.index(pair.a), names.index(pair.b)
        trust[i, j] = trust[j, i] = pair.value
    np.fill_diagonal(trust, 1.0)
    state = State(
        capacity_t_per_yr=np.array([nation.capacity_t_per_yr for nation in s.nations], float),
        budget_usd_bn=np.array([nation.budget_usd_bn for nation in s.nations], float),
        reserve_t=world.initial_reserve_t.astype(float).copy(),
        allocation=np.zeros((n, k)),
        site_load_t=np.zeros(k),
        exposure=np.zeros((n, k)),
        trust=trust.astype(float),
        ree_price_usd_per_kg=s.market.ree_price_usd_per_kg,
        ree_refining_built_t_per_yr=np.zeros(n + 1),  # the nations', then the rest of the world's
        ree_threat=np.full(n, s.market.initial_threat),
        ree_mining_built_t_per_yr=np.zeros(n + 1),  # the nations', then the rest of the world's
        import_dependence=np.zeros(n),
        leverage_index=0.0,
        export_control_active=s.market.export_controls,
        export_control_severity=s.market.control_severity,
        forced_incidents=np.zeros((n, n), dtype=bool),
        propellant_t=np.zeros(n),
        ree_mined_t=np.zeros(n),
        welfare_usd_bn=np.zeros(n),
        capital_usd_bn=np.array([nation.capacity_t_per_yr for nation in s.nations], float)
        * s.economics.capacity_cost_usd_per_t_yr / USD_PER_BN,  # plants in place, at cost
        breach_record=np.zeros(n),
    )
    market = clear_market(world, state, np.zeros((n, n), dtype=bool), np.zeros(n), econ)
    state.import_dependence, state.leverage_index = market.dependence, market.leverage
    return state
