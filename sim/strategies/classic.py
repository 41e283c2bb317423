"""Memory-one rules of the iterated prisoner's dilemma, applied toward each rival separately."""

from __future__ import annotations

import numpy as np

from sim.strategies.base import STRATEGIES, Observation, Strategy


@STRATEGIES.register
class AlwaysCooperate(Strategy):
    """Plays ``C`` toward everyone, always.

    Names: Cooperator (Axelrod, *The Evolution of Cooperation*, 1984).
    """

    name = "always_cooperate"
    classifier = {"memory_depth": 0, "stochastic": False, "observes": frozenset()}

    def decide(self, obs: Observation) -> np.ndarray:
        return self.cooperate_with_all()


@STRATEGIES.register
class AlwaysCompete(Strategy):
    """Plays ``D`` toward everyone, always.

    Names: Defector (Axelrod, *The Evolution of Cooperation*, 1984).
    """

    name = "always_compete"
    classifier = {"memory_depth": 0, "stochastic": False, "observes": frozenset()}

    def decide(self, obs: Observation) -> np.ndarray:
        return self.compete_with_all()


@STRATEGIES.register
class TitForTat(Strategy):
    """``C`` at first, then toward each nation whatever that nation last played toward me.

    Names: Tit For Tat (Rapoport's entry, winner of Axelrod's first tournament; Axelrod 1980,
    J. Conflict Resolution 24(1), and *The Evolution of Cooperation*, 1984).
    """

    name = "tit_for_tat"
    classifier = {"memory_depth": 1, "stochastic": False, "observes": frozenset({"actions"})}

    def decide(self, obs: Observation) -> np.ndarray:
        if obs.last_actions is None:
            return self.cooperate_with_all()
        return obs.last_actions[:, self.me].copy()
