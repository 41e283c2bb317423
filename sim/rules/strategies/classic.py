"""Rules of the iterated prisoner's dilemma, applied toward each rival separately."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.base.registry import Params
from sim.rules.strategies.base import STRATEGIES, Observation, Roster, Strategy


@STRATEGIES.register
class AlwaysCooperate(Strategy):
    """Plays ``C`` toward everyone, always.

    Names: Cooperator (Axelrod, *The Evolution of Cooperation*, 1984).
    """

    name = "always_cooperate"
    classifier = {"memory_depth": 0, "stochastic": False, "observes": frozenset()}

    def decide(self, obs: Observation) -> np.ndarray:
        return self.cooperate_with_all()

    @classmethod
    def decide_all(cls, players: list[Strategy], obs: Observation) -> np.ndarray:
        return np.ones((len(players), players[0].n), dtype=bool)


@STRATEGIES.register
class AlwaysCompete(Strategy):
    """Plays ``D`` toward everyone, always.

    Names: Defector (Axelrod, *The Evolution of Cooperation*, 1984).
    """

    name = "always_compete"
    classifier = {"memory_depth": 0, "stochastic": False, "observes": frozenset()}

    def decide(self, obs: Observation) -> np.ndarray:
        return self.compete_with_all()

    @classmethod
    def decide_all(cls, players: list[Strategy], obs: Observation) -> np.ndarray:
        return np.zeros((len(players), players[0].n), dtype=bool)


@STRATEGIES.register
class TitForTat(Strategy):
    """``C`` at first, then toward each nation whatever that nation last played toward me.

    Names: Tit For Tat (Rapoport's entry, winner of Axelrod's first tournament; Axelrod 1980,
    J. Conflict Resolution 24(1), and *The Evolution of Cooperation*, 1984).
    """

    name = "tit_for_tat"
    classifier = {"memory_depth": 1, "stochastic": False, "observes": frozenset({"actions"})}

    def decide(self, obs: Observation) -> np.ndarray:
        received = self.received(obs)
        return self.cooperate_with_all() if received is None else received.copy()

    @classmethod
    def decide_all(cls, players: list[Strategy], obs: Observation) -> np.ndarray:
        if obs.last_actions is None:
            return np.ones((len(players), players[0].n), dtype=bool)
        return obs.last_actions[:, [p.me for p in players]].T.copy()


class _GenerosityParams(Params):
    generosity: float = Field(
        1.0 / 3.0, ge=0.0, le=1.0,
        description="probability of answering a D with C (1/3: Nowak & Sigmund's value for the "
        "standard payoffs 5, 3, 1, 0)",
    )


@STRATEGIES.register
class GenerousTitForTat(Strategy):
    """Tit for tat that forgives: after a rival's ``D`` it still plays ``C`` with probability
    ``generosity``. One uniform draw per rival per step: ``C`` if the rival played ``C`` or the
    draw is below ``generosity``.

    Names: Generous Tit For Tat (Nowak & Sigmund 1992, Nature 355: 250-253; Molander 1985,
    J. Conflict Resolution 29: 611-618).
    """

    name = "generous_tit_for_tat"
    classifier = {"memory_depth": 1, "stochastic": True, "observes": frozenset({"actions"})}
    Params = _GenerosityParams

    def decide(self, obs: Observation) -> np.ndarray:
        draws = self.rng.random(self.n)
        received = self.received(obs)
        if received is None:
            return self.cooperate_with_all()
        return received | (draws < self.params.generosity)


@STRATEGIES.register
class GrimTrigger(Strategy):
    """``C`` toward each nation until it plays ``D`` toward me once; then ``D`` toward it forever.

    Names: Grim Trigger (Friedman 1971, Rev. Econ. Stud. 38: 1-12); Grudger in Axelrod's library.
    """

    name = "grim_trigger"
    classifier = {"memory_depth": float("inf"), "stochastic": False, "observes": frozenset({"actions"})}

    def __init__(self, me: int, roster: Roster, params: Params, rng: np.random.Generator) -> None:
        super().__init__(me, roster, params, rng)
        self.betrayed = np.zeros(self.n, dtype=bool)

    def decide(self, obs: Observation) -> np.ndarray:
        return ~self.betrayed

    @classmethod
    def decide_all(cls, players: list[Strategy], obs: Observation) -> np.ndarray:
        return ~np.vstack([p.betrayed for p in players])  # type: ignore[attr-defined]

    def learn(self, obs: Observation) -> None:
        self.betrayed |= ~self.received(obs)


@STRATEGIES.register
class Pavlov(Strategy):
    """Win-stay, lose-shift: ``C`` at first; then toward each nation ``C`` if we both played the
    same action toward each other at the last step (CC or DD), ``D`` otherwise. Equivalently, it
    repeats its move after the reward R or temptation T and switches after S or P.

    Names: Pavlov, Win-Stay Lose-Shift (Nowak & Sigmund 1993, Nature 364: 56-58; Kraines &
    Kraines 1989, Theory and Decision 26: 47-79).
    """

    name = "pavlov"
    classifier = {"memory_depth": 1, "stochastic": False, "observes": frozenset({"actions"})}

    def decide(self, obs: Observation) -> np.ndarray:
        if obs.last_actions is None:
            return self.cooperate_with_all()
        return self.played(obs) == self.received(obs)

    @classmethod
    def decide_all(cls, players: list[Strategy], obs: Observation) -> np.ndarray:
        if obs.last_actions is None:
            return np.ones((len(players), players[0].n), dtype=bool)
        me = [p.me for p in players]
        return obs.last_actions[me, :] == obs.last_actions[:, me].T
