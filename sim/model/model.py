"""The step order: ``LunarModel``, a Mesa model that steps the parts :func:`sim.model.build.build`
makes of a validated scenario.

One step (a quarter by default; see docs/ODD.md for the equations):

1. events due by this step's date apply; in a regime whose members choose, the first step of
   each year reviews membership (:mod:`sim.model.membership`);
2. every nation decides C or D toward every other from the same snapshot (two phases, so the
   order of asking is irrelevant), in both arenas: at the pole, and in rare-earth trade with the
   holder (:mod:`sim.economy.rare_earths.arena`); trembles flip lunar actions by mistake; laws
   and the regime then stop the coordination a bar forbids (a barred C does not coordinate, and
   is no race);
3-8. :func:`sim.economy.step.resolve_step` locates, extracts, uses, clears the market, draws
   incidents and pays off, all at once over arrays;
9. nations invest where it pays, within their budgets; 10. trust and the strategies learn;
11. metrics are recorded.

Randomness: the one ``rng`` seeds the model; :func:`~sim.model.build.build` spawns from it the
independent streams of incidents, trembles and each nation's rule.

Events change the model through the small surface :class:`sim.rules.events.EventTarget` names:
``nation_index``, ``set_member``, ``set_bloc``, ``set_law``, and the economy's ``state`` and
``econ``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.base.arguments import whole_number
from sim.base.errors import BadType
from sim.economy.rare_earths.importers import rates as diversification_rates
from sim.economy.rare_earths.mines import price_answer
from sim.economy.state import Outcome, RegimeRules
from sim.economy.step import (
    Prepared,
    expected_utility,
    grow,
    prepare,
    resolve_step,
)
from sim.model.agents import Nation, Site
from sim.model.build import bloc_masks, build, rules_in_force
from sim.model.membership import Membership, worth_of_membership
from sim.model.metrics import Snapshot
from sim.model.recorder import Recorder
from sim.rules.events import Event
from sim.rules.regimes import Regime
from sim.rules.strategies import Observation, Strategy
from sim.rules.strategies.trade import EITHER, TRADE_ONLY, initial_standing
from sim.scenario import Scenario
from sim.scenario.loader import with_changes


class LunarModel(mesa.Model):
    """Nations competing or cooperating over lunar ice and rare earths under one scenario.

    ``LunarModel("baseline", rng=7)`` builds the model from a library name, a file path or a
    :class:`Scenario`; ``run()`` steps it to the horizon (or ``steps``). Keyword arguments
    change the scenario as Mesa's ``batch_run`` passes parameters: ``regime="multilateral"``
    (a regime with its defaults), and any field by its dotted path with ``__`` for each dot
    (``economics__synergy=0.2``, ``trust__across_bloc=0.1``). ``datacollector`` is a Mesa
    ``DataCollector`` of every step so far, model- and agent-level.
    """

    def __init__(self, scenario: Scenario | str | Path = "baseline",
                 rng: int | np.random.Generator | None = None, steps: int | None = None,
                 **changes: Any) -> None:
        scenario = with_changes(scenario, changes, "LunarModel")
        super().__init__(rng=_checked_rng(rng))
        self.spec = scenario  # not `self.scenario`: Mesa 3.5 reserves that name
        self.horizon = scenario.steps_to_run(steps)
        self.steps_per_year = scenario.time.steps_per_year
        parts = build(scenario, self.rng)
        n = len(parts.names)
        self._incident_rng, self._tremble_rng = parts.incident_rng, parts.tremble_rng
        self.names, self.blocs = parts.names, parts.blocs
        self.world, self.econ, self.state = parts.world, parts.econ, parts.state
        self.regime: Regime = parts.regime
        self.members, self.laws, self._law_bars = parts.members, parts.laws, parts.law_bars
        self._rules_by_members: dict[bytes, RegimeRules] = {}  # see _rules_for
        self.rules = self._current_rules()
        self.membership = Membership.of(self.regime.membership_chosen, n,
                                        self.steps_per_year, self.regime.notice_years)
        self.events: list[Event] = parts.events
        self.event_log: list[tuple[int, float, str]] = []
        self.tremble = parts.tremble
        self._budget_growth_per_step = parts.budget_growth_per_step
        self._bloc_masks()

        self.nation_list = [Nation(self, i, spec.name, spec.bloc, rule, spec.strategy.tremble)
                            for i, (spec, rule) in enumerate(zip(scenario.nations,
                                                                 parts.strategies, strict=True))]
        self.site_list = [
            Site(self, k, s.name, s.kind, s.lat, s.lon) for k, s in enumerate(scenario.sites)
        ]
        self.nations = self.agents_by_type[Nation]
        self.decision_order = list(self.nation_list)
        by_rule: dict[type, list[Nation]] = {}
        for nation in self.nation_list:
            by_rule.setdefault(type(nation.strategy), []).append(nation)
        self._rule_groups = [(rule, players, np.array([p.index for p in players]))
                             for rule, players in by_rule.items() if _decides_all(rule)]
        self._grouped = np.zeros(n, dtype=bool)
        for _, _, index in self._rule_groups:
            self._grouped[index] = True
        self._learners = [n for n in self.nation_list if type(n.strategy).learn is not Strategy.learn]
        # who acts in the rare-earth arena by contrite reciprocity alone, as every rule does
        # that does not weigh the arena itself: their rows are computed for all of them at once
        self._reciprocating = np.array([_reciprocates_only(n.strategy) for n in self.nation_list])
        self._linked = np.array([n.strategy.linked for n in self.nation_list], dtype=bool)
        self._arenas = np.array([n.strategy.arena for n in self.nation_list], dtype=bool)

        self.last_actions: np.ndarray | None = None  # chosen (after trembles), True = C
        self.last_trade: np.ndarray | None = None  # the rare-earth arena's, True = C
        self.standing = initial_standing(n)  # who is in good standing toward whom (reciprocity)
        self.recent_intended: list[np.ndarray] = []  # meant (before trembles), the last year
        self.last_coordination: np.ndarray | None = None  # C that took place (no legal bar)
        self._prepared: Prepared | None = None  # this state's inputs to the economics
        self._evaluated: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # see _evaluate_ahead
        self.cooperation_sum = np.zeros((n, n))  # C actions of i toward j, summed over steps
        self.last_outcome: Outcome | None = None
        self.last_investment = np.zeros(n)  # USD bn spent on new plants in the last step
        self.last_expected_npv = np.zeros(n)  # USD bn: what the nations expect of those plants
        self.recorder = Recorder(self.world)
        self.recorder.record(self.steps, self._snapshot())

    # --- the step ----------------------------------------------------------------------------

    @property
    def year(self) -> float:
        return self.spec.time.start_year + self.steps / self.steps_per_year

    def step(self) -> None:
        year = self.year  # Mesa has already counted this step: its end is `year`
        self._apply_events(until=year)
        self._review_membership()
        actions, trade = self.decide()
        outcome = resolve_step(self.world, self.state, actions, self.rules, self.econ,
                               self._incident_rng, trade=trade, prepared=self.prepared())
        self._apply(outcome, actions, trade)
        self.recorder.record(self.steps, self._snapshot())
        if self.steps >= self.horizon:
            self.running = False

    def observation(self) -> Observation:
        return Observation(
            step=self.steps,
            last_actions=self.last_actions,
            last_utility=None if self.last_outcome is None else self.last_outcome.utility,
            trust=self.state.trust,
            blocs=self.blocs,
            counterfactual=self.counterfactual,
            evaluate=self.evaluate,
            last_trade=self.last_trade,
            standing=self.standing,
        )

    def counterfactual(self, i: int, rows: np.ndarray) -> np.ndarray:
        """Nation i's utility this step for each of its alternative action rows ([B, N], or one
        row [N]) while the others repeat their last actions (cooperate before the first step),
        after the law and regime, with expected incident losses instead of a draw. One batched
        evaluation of the step's economics for all the rows."""
        rows = np.asarray(rows, dtype=bool)
        n = len(self.names)
        base = np.ones((n, n), dtype=bool) if self.last_actions is None else self.last_actions
        actions = np.repeat(base[None], len(np.atleast_2d(rows)), axis=0)
        actions[:, i] = np.atleast_2d(rows)
        utility = self.utilities(actions)[:, i]
        return utility if rows.ndim == 2 else float(utility[0])

    def evaluate(self, i: int, matrices: np.ndarray, trade: np.ndarray | None = None) -> np.ndarray:
        """Nation i's utility this step for each whole action matrix in ``matrices`` [B, N, N]
        (everyone's chosen actions; the law applies in the economics) with the rare-earth actions
        ``trade`` (the same shape; None: as at the last step), with expected incident losses
        instead of a draw. One batched evaluation of the step's economics, done already if the
        rule said beforehand what it would ask (see :meth:`_evaluate_ahead`)."""
        ahead = self._evaluated.get(i)
        if ahead is not None and _same(ahead[0], matrices) and _same(ahead[1], trade):
            return ahead[2].copy()
        return self.utilities(np.asarray(matrices), trade)[:, i]

    def utilities(self, matrices: np.ndarray, trade: np.ndarray | None = None) -> np.ndarray:
        """Every nation's utility [B, N] for each action matrix (and rare-earth action matrix;
        None: as at the last step), evaluated as :meth:`evaluate` evaluates one nation's (one
        call weighs a pair's game for both players)."""
        actions = np.array(matrices, dtype=bool)
        n = len(self.names)
        actions.reshape(-1, n * n)[:, :: n + 1] = True  # each matrix's diagonal
        if trade is None:
            trade = np.ones((n, n), dtype=bool) if self.last_trade is None else self.last_trade
        trade = np.asarray(trade, dtype=bool)
        if trade.shape != actions.shape:  # (a whole batch is read as it is, not copied)
            trade = np.broadcast_to(trade, actions.shape)
        return expected_utility(self.world, self.state, actions, self.rules, self.econ,
                                trade=trade, prepared=self.prepared())

    def prepared(self) -> Prepared:
        """What the step's economics reads of this state whatever the actions (where plants
        go, the market's supply side, each pair's incident risk, ...): computed once a step
        for the step and all the counterfactuals weighed before it, from the state as it is
        then (values, not views: a state changed in place afterwards is not seen until
        :meth:`state_changed` forgets it)."""
        if self._prepared is None:
            self._prepared = prepare(self.world, self.state, self.rules, self.econ)
        return self._prepared

    def state_changed(self) -> None:
        """Say that the state, the rules or the parameters changed (the step does at its
        start and end; code that changes them between steps calls this)."""
        self._prepared = None

    def _evaluate_ahead(self, obs: Observation) -> None:
        """Evaluate in one batched call the matrices every rule will ask ``evaluate`` for at
        this step (the US's and China's forward-looking rules: one call instead of two)."""
        asks = [(nation.index, *asked) for nation in self.nation_list
                if (asked := nation.strategy.evaluations(obs)) is not None]
        self._evaluated = {}
        if len(asks) < 2:
            return
        utility = self.utilities(np.concatenate([m for _, m, _ in asks]),
                                 np.concatenate([t for _, _, t in asks]))
        start = 0
        for i, m, t in asks:
            self._evaluated[i] = (m, t, utility[start:start + len(m), i])
            start += len(m)

    def decide(self) -> tuple[np.ndarray, np.ndarray]:
        """Phase one: every nation chooses from one snapshot, in both arenas; then noise (at the
        pole), then law and regime. Returns the lunar and the rare-earth actions."""
        self.state_changed()  # events and membership may have changed it
        obs = self.observation()
        self._evaluate_ahead(obs)
        intended = np.empty((len(self.names), len(self.names)), dtype=bool)
        for rule, players, index in self._rule_groups:  # those that decide for all at once
            rows = rule.decide_all([nation.strategy for nation in players], obs)
            intended[index] = rows
            for nation, row in zip(players, rows, strict=True):
                nation.intended = row
        trade = np.ones_like(intended)
        grouped, reciprocating = self._grouped.tolist(), self._reciprocating.tolist()
        for nation in self.decision_order:  # any order gives the same actions (tested)
            if not grouped[nation.index]:
                nation.decide(obs)
                intended[nation.index] = nation.intended
            if reciprocating[nation.index]:
                continue
            trade[nation.index] = nation.strategy.decide_trade(obs)
            answer = nation.strategy.answer_in_lunar(obs)
            if answer is not None:  # a linked rule answers a restriction at the pole
                intended[nation.index] &= ~answer
        if obs.standing is not None and self._reciprocating.any():  # (all C before the first)
            # Strategy.decide_trade and Strategy.answer_in_lunar for all of them at once, in
            # place (a linked one answers a restriction at the pole)
            from sim.economy.kernels.rules import reciprocate_rows  # (loaded with the step)

            reciprocate_rows(obs.standing[EITHER], obs.standing[TRADE_ONLY],
                             self._reciprocating, self._linked, self._arenas, trade, intended)
        self._evaluated = {}  # of this step's state only
        self.recent_intended = [*self.recent_intended, intended][-self.steps_per_year:]
        slips = self._tremble_rng.random(intended.shape) < self.tremble[:, None]
        actions = intended ^ slips  # chosen; a legal bar stops coordination in the economics
        n = len(self.names)
        actions.reshape(-1)[:: n + 1] = True  # the diagonals (both arrays are new, C-ordered)
        trade.reshape(-1)[:: n + 1] = True
        return actions, trade

    def _apply(self, outcome: Outcome, actions: np.ndarray, trade: np.ndarray) -> None:
        """Phase two: the outcome becomes the new state; trust and strategies learn."""
        from sim.economy.kernels.advance import advance  # (the compiler loads with the step)

        self.state_changed()
        s, econ = self.state, self.econ
        growth = grow(self.world, s, outcome, econ)
        s.capacity_t_per_yr, s.capital_usd_bn = growth.capacity_t_per_yr, growth.capital_usd_bn
        self.last_investment = growth.investment_usd_bn
        self.last_expected_npv = growth.expected_npv_usd_bn
        s.reserve_t = outcome.reserve_after_t
        s.allocation = growth.allocation
        s.exposure = outcome.exposure
        s.ree_price_usd_per_kg = outcome.ree_price_usd_per_kg
        s.import_dependence, s.leverage_index = outcome.import_dependence, outcome.leverage_index
        if s.forced_incidents.any():  # an event forced them for this step only
            s.forced_incidents = np.zeros_like(s.forced_incidents)
        # trust, the importers' refining (9b), mines (9c), the accounts, standing, in one call
        world, dt = self.world, self.world.dt
        h = -1 if world.leverage_holder is None else int(world.leverage_holder)
        (s.trust, s.ree_refining_built_t_per_yr, s.ree_threat, s.ree_mining_built_t_per_yr,
         s.site_load_t, s.budget_usd_bn, s.propellant_t, s.ree_mined_t, s.welfare_usd_bn,
         s.breach_record, self.standing, self.last_coordination) = advance(
            s.trust, actions, trade, outcome.incidents, econ.trust_learning_rate,
            econ.trust_incident_shock, h, self.same_bloc, self.off_diagonal,
            outcome.export_targets, s.ree_threat, world.ree_demand_t_per_yr, s.ree_demand_factor,
            world.ree_mining_t_per_yr, s.ree_mining_built_t_per_yr, world.ree_refining_t_per_yr,
            s.ree_refining_built_t_per_yr, s.ree_supply_factor, *diversification_rates(econ, dt),
            *price_answer(econ, outcome.ree_price_usd_per_kg, dt), outcome.demand_t,
            s.budget_usd_bn, self._budget_growth_per_step, s.propellant_t, outcome.propellant_t,
            s.ree_mined_t, outcome.ree_mined_t, s.welfare_usd_bn, outcome.welfare,
            s.breach_record, 0.5 ** dt, self.rules.detection, outcome.breaches, self.standing,
            self.rules.may_cooperate, self.cooperation_sum)  # (counts the coordination)
        s.ree_demand_factor *= (1.0 + econ.demand_growth_per_year) ** dt
        s.ree_supply_factor *= (1.0 + econ.supply_growth_per_year) ** dt
        self.last_actions, self.last_trade, self.last_outcome = actions, trade, outcome
        if self._learners:
            obs = self.observation()
            for nation in self._learners:
                nation.learn(obs)

    def run(self, progress: Callable[[int, int], None] | None = None) -> LunarModel:
        """Step to the horizon; ``progress(done, total)`` is called after each step."""
        if progress is not None and not callable(progress):
            raise BadType(f"progress: expected a function progress(done, total), got "
                          f"{type(progress).__name__}")
        while self.running and self.steps < self.horizon:
            self.step()
            if progress is not None:
                progress(self.steps, self.horizon)
        return self

    @property
    def datacollector(self) -> mesa.DataCollector:
        """Every step so far in a Mesa ``DataCollector``: model-level metrics (with run totals
        to date) and each nation's welfare, capacity and cooperation given and received, as
        ``get_model_vars_dataframe`` / ``get_agent_vars_dataframe`` and ``mesa.batch_run``
        read them (see :meth:`sim.model.recorder.Recorder.datacollector`)."""
        return self.recorder.datacollector([nation.unique_id for nation in self.nation_list])

    def pair_cooperation(self) -> np.ndarray:
        """Share of steps in which i played C toward j [N, N] (NaN on the diagonal)."""
        share = self.cooperation_sum / max(self.steps, 1)
        np.fill_diagonal(share, np.nan)
        return share

    def release(self) -> None:
        """Let this model be garbage-collected once its results are read.

        Mesa 3.3 keeps every model in a class-level counter of agent ids (``Agent._ids``), so a
        process running thousands of models grows without bound (mesa issue #3179, fixed in 3.4
        by PR #3180). Removing the agents and that entry frees the model on any Mesa 3.x.
        """
        self.remove_all_agents()
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self, None)

    # --- rules and events --------------------------------------------------------------------

    def nation_index(self, name: str) -> int:
        return self.names.index(name)

    def set_member(self, index: int, member: bool) -> None:
        """An event's what-if: nation ``index`` is in (or out) from now on, by the scenario's
        choice, not its own."""
        self.membership.bind(index)
        self._set_members(np.where(np.arange(len(self.names)) == index, member, self.members))

    def _set_members(self, members: np.ndarray) -> None:
        if not np.array_equal(members, self.members):
            self.members = members.copy()
            self.rules = self._current_rules()

    def _review_membership(self) -> None:
        """In a regime whose members choose: the year's review, or a notice taking effect."""
        ship = self.membership
        if not ship.chosen:
            return
        if ship.due(self.steps):
            actions = np.array(self.recent_intended)
            prepared = self.prepared()  # this state's, once for the whole review
            members, said = ship.review(self.steps, self.members, lambda expected: (
                worth_of_membership(self.world, self.state, actions, self.econ, expected,
                                    ship.free, self._rules_for, prepared)))
        else:
            said = [""] * len(self.names)
            members = ship.leave(self.steps, self.members, said)
        for i, words in enumerate(said):
            if words:
                self.event_log.append((self.steps, self.year, f"{self.names[i]} {words} "
                                       f"({self.regime.name}: worth {ship.gain[i]:+.3f} bn/yr "
                                       "at its last review)"))
        self._set_members(members)

    def set_bloc(self, index: int, bloc: str) -> None:
        self.blocs = self.blocs.copy()
        self.blocs[index] = bloc
        self.nation_list[index].bloc = bloc
        self._bloc_masks()
        self._rules_by_members = {}
        self.rules = self._current_rules()

    def _bloc_masks(self) -> None:
        self.off_diagonal, self.same_bloc, self.across_blocs = bloc_masks(self.blocs)

    def set_law(self, name: str, in_force: bool) -> None:
        self.laws[name] = in_force
        self._rules_by_members = {}
        self.rules = self._current_rules()

    def _current_rules(self) -> RegimeRules:
        return self._rules_for(self.members)

    def _rules_for(self, members: np.ndarray) -> RegimeRules:
        """The rules in force with ``members`` in the regime, under the blocs and laws as they
        are: kept for each membership until a bloc or a law changes (a yearly review weighs
        the same memberships year after year)."""
        key = np.asarray(members, dtype=bool).tobytes()
        rules = self._rules_by_members.get(key)
        if rules is None:
            rules = self._rules_by_members[key] = rules_in_force(
                self.regime, self.names, self.blocs, members, self.laws, self._law_bars)
        return rules

    def _apply_events(self, until: float) -> None:
        while self.events and self.events[0].year <= until:
            event = self.events.pop(0)
            self.event_log.append((self.steps, event.year, event.apply(self)))

    def _snapshot(self) -> Snapshot:
        return Snapshot(
            year=self.year,
            world=self.world,
            state=self.state,
            actions=self.last_coordination,
            outcome=self.last_outcome,
            same_bloc=self.same_bloc,
            across_blocs=self.across_blocs,
            off_diagonal=self.off_diagonal,
            members=self.members,
            membership_gain=self.membership.gain,
            membership_parts=self.membership.parts,
            blocs=self.blocs,
            investment=self.last_investment,
            econ=self.econ,
            expected_npv=self.last_expected_npv,
            elapsed_years=self.steps / self.steps_per_year,
        )


def _same(asked: np.ndarray, given: np.ndarray | None) -> bool:
    return asked is given or (given is not None and asked.shape == np.shape(given)
                              and np.array_equal(asked, given))


def _checked_rng(rng: Any) -> Any:
    """``rng`` as Mesa takes it (None, a seed of 0 or more, a numpy ``Generator``,
    ``SeedSequence`` or ``BitGenerator``), or an error naming it."""
    if rng is None or isinstance(rng, np.random.Generator | np.random.SeedSequence
                                 | np.random.BitGenerator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise BadType(f"rng: expected a seed (a whole number, 0 or more), a numpy Generator or "
                      f"SeedSequence, or None; got {type(rng).__name__}")
    return whole_number(rng, "rng", low=0)


def _reciprocates_only(rule: Strategy) -> bool:
    """Whether the rule acts in the rare-earth arena, and answers there at the pole, as the
    base rule does (contrite reciprocity; see :meth:`Strategy.decide_trade`)."""
    kind = type(rule)
    return (kind.decide_trade is Strategy.decide_trade
            and kind.answer_in_lunar is Strategy.answer_in_lunar)


def _decides_all(rule: type[Strategy]) -> bool:
    """Whether a rule's array form (``decide_all``) stands for its ``decide``: it has one, from
    the same class (a subclass that changes ``decide`` alone decides one by one)."""
    def owner(name: str) -> type:
        return next(k for k in rule.__mro__ if name in vars(k))

    return owner("decide_all") is not Strategy and owner("decide_all") is owner("decide")
