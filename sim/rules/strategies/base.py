"""The contract of a decision rule, in the manner of the Axelrod library.

A strategy belongs to one nation (``me``). Each step it returns one action toward every nation:
``True`` is ``C`` (coordinate: respect and share sites, deconflict, pool infrastructure) and
``False`` is ``D`` (compete: exclusive claims, racing for the best site). The entry toward itself
is ignored. A strategy reads only the :class:`Observation`, which is the same snapshot for every
nation, so decisions are simultaneous whatever order the nations are asked in.

Randomness: a stochastic rule draws from its own generator (``self.rng``), and draws exactly one
vector ``self.rng.random(n)`` per decision (entry j for the action toward j), so that a test can
replay its draws and check the rule against its definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypedDict

import numpy as np

from sim.base.registry import Params, Registry
from sim.economy.rare_earths.arena import partners
from sim.rules.strategies.trade import reciprocate


class Classifier(TypedDict):
    """What a rule is, so that experiments can select rules by property, not by hand-kept lists."""

    memory_depth: float  # steps of history used; float("inf") for the whole history
    stochastic: bool  # draws random numbers itself (trembles, applied by the model, do not count)
    observes: frozenset[str]  # subset of {"actions", "utility", "trust", "blocs", "counterfactual"}


@dataclass(frozen=True)
class Roster:
    """Who is playing: fixed facts a rule may use (names, blocs, initial budgets)."""

    names: tuple[str, ...]
    blocs: np.ndarray  # str [N]
    budgets_usd_bn: np.ndarray  # [N] at the start
    steps_per_year: int = 1  # a rule with yearly rates converts them to its steps
    holder: int | None = None  # the rare-earth holder, whose pairs make the rare-earth arena

    @property
    def n(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Observation:
    """What every nation sees when it decides at a step.

    ``last_actions[i, j]`` is True when nation i chose ``C`` toward j at the previous step (after
    its trembles): whether it raced is what a rival sees; a legal bar that stopped the pair
    coordinating is not hostility. None before the first step.
    ``last_utility`` is each nation's utility at the previous step (USD bn), None before the first.
    ``counterfactual(i, rows)`` is nation i's utility this step for each alternative row of
    actions in ``rows`` ([B, N]; a single row [N] gives a number) while the others repeat their
    last actions (cooperate, before the first step); the model evaluates the step's economics
    for all rows at once, with expected incident losses. None where no model is behind it.
    ``evaluate(i, matrices, trade=None)`` is nation i's utility this step for each whole action
    matrix in ``matrices`` ([B, N, N]: everyone's actions, as chosen) and rare-earth action
    matrix in ``trade`` (the same shape; None: as at the last step), evaluated the same way; it
    lets a rule weigh what a rival's answer would be worth. None where no model is behind it.
    ``last_trade[i, j]`` is True when i traded with j without restriction at the previous step
    (the rare-earth arena, :mod:`sim.economy.rare_earths.arena`); None before the first.
    ``standing`` [2, N, N] is who is in good standing toward whom, counting defections in the
    rare-earth arena only and in either arena (:mod:`sim.rules.strategies.trade`).
    """

    step: int
    last_actions: np.ndarray | None
    last_utility: np.ndarray | None
    trust: np.ndarray
    blocs: np.ndarray
    counterfactual: Callable[[int, np.ndarray], np.ndarray | float] | None = None
    evaluate: Callable[..., np.ndarray] | None = None
    last_trade: np.ndarray | None = None
    standing: np.ndarray | None = None


class Strategy:
    """Base class of a decision rule. Subclasses set ``name``, ``classifier``, maybe ``Params``,
    and implement :meth:`decide`; learning rules also override :meth:`learn`."""

    name: ClassVar[str]
    classifier: ClassVar[Classifier]

    class Params(Params):
        pass

    def __init__(self, me: int, roster: Roster, params: Params, rng: np.random.Generator) -> None:
        self.me = me
        self.n = roster.n
        self.roster = roster
        self.params = params
        self.rng = rng  # this nation's own stream: decisions never depend on the order of asking
        self.linked = False  # answers a rival's D in either arena in both (the scenario sets it)
        self.arena = partners(roster.n, roster.holder, me)  # rivals the rare-earth arena pairs me with

    def decide(self, obs: Observation) -> np.ndarray:
        """Return a bool array of length ``n``: True = ``C`` toward that nation."""
        raise NotImplementedError

    def decide_trade(self, obs: Observation) -> np.ndarray:
        """My rare-earth actions toward every nation (True = trade without restriction), after
        :meth:`decide` at the same step. Every nation answers in the arena by contrite
        reciprocity (:func:`~sim.rules.strategies.trade.reciprocate`), as trade law provides
        (China's Export Control Law 2020, Art. 48; US Trade Act 1974, s. 301): it restricts
        toward a rival in bad standing — one that restricted it or, if it is ``linked``, raced it
        at the pole, other than in answer to its own defection. A rule that weighs the arena
        itself (forward-looking) may restrict where this does not."""
        if obs.standing is None:
            return self.cooperate_with_all()
        return ~reciprocate(self.me, obs.standing, self.linked) | ~self.arena

    def answer_in_lunar(self, obs: Observation) -> np.ndarray | None:
        """For a ``linked`` rule that does not weigh both arenas itself: the rivals toward whom
        it plays D at the pole because they defected against it in either arena and are in bad
        standing (contrite reciprocity); None where it does not link."""
        if not self.linked or obs.standing is None:
            return None
        return reciprocate(self.me, obs.standing, linked=True) & self.arena

    def learn(self, obs: Observation) -> None:
        """Update internal state after the step's outcome (``obs`` is the new snapshot)."""

    @classmethod
    def decide_all(cls, players: list[Strategy], obs: Observation) -> np.ndarray | None:
        """What :meth:`decide` returns for each of ``players`` (all of this rule), as rows
        [k, N] computed in one array operation; None where the rule decides one by one (a
        rule with its own random draws or learning state keeps its per-nation ``decide``).
        At hundreds of nations the per-nation calls would cost more than the step."""
        return None

    def evaluations(self, obs: Observation) -> np.ndarray | None:
        """The action matrices [B, N, N] this rule will ask ``obs.evaluate`` for at this step,
        if it knows them before deciding: the model then evaluates every rule's in one batched
        call (the numbers are the same; the economics of a batch is computed matrix by matrix).
        """
        return None

    def cooperate_with_all(self) -> np.ndarray:
        return np.ones(self.n, dtype=bool)

    def compete_with_all(self) -> np.ndarray:
        return np.zeros(self.n, dtype=bool)

    def received(self, obs: Observation) -> np.ndarray | None:
        """What each nation played toward me at the last step (None before the first)."""
        return None if obs.last_actions is None else obs.last_actions[:, self.me]

    def played(self, obs: Observation) -> np.ndarray | None:
        """What I played toward each nation at the last step (None before the first)."""
        return None if obs.last_actions is None else obs.last_actions[self.me, :]


STRATEGIES: Registry[Strategy] = Registry("strategy")
