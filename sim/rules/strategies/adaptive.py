"""Rules that learn from payoffs or reason about them."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.base.registry import Params
from sim.rules.strategies.base import STRATEGIES, Observation, Roster, Strategy


class _RothErevParams(Params):
    initial_propensity: float = Field(
        1.0, ge=1e-6, le=1e6, description="starting propensity of each action, in units of the best reward"
    )
    forgetting: float = Field(0.1, ge=0, le=1, description="share of propensity lost each step (phi)")
    experimentation: float = Field(
        0.2, ge=0, le=1, description="share of the reward that spills to the action not taken (epsilon)"
    )


@STRATEGIES.register
class Reinforcement(Strategy):
    """Roth-Erev reinforcement learning, toward each rival separately.

    Each rival j has a propensity for C and for D. After a step every propensity decays by
    ``forgetting``; the action played toward j gains ``(1 - experimentation) * R`` and the other
    ``experimentation * R``, where R is this step's utility rescaled to [0, 1] over the utilities
    this nation has seen so far (Roth-Erev needs non-negative rewards; R = 0.5 while they are all
    equal). It plays C toward j with probability q_C / (q_C + q_D).

    Names: Roth & Erev (1995), Games Econ. Behav. 8: 164-212; Erev & Roth (1998), Am. Econ.
    Rev. 88: 848-881 (the forgetting and experimentation parameters).
    """

    name = "reinforcement"
    classifier = {"memory_depth": float("inf"), "stochastic": True,
                  "observes": frozenset({"actions", "utility"})}
    Params = _RothErevParams

    def __init__(self, me: int, roster: Roster, params: Params, rng: np.random.Generator) -> None:
        super().__init__(me, roster, params, rng)
        self.propensity = np.full((self.n, 2), params.initial_propensity)  # columns: C, D
        self.lowest, self.highest = np.inf, -np.inf

    def probability_of_c(self) -> np.ndarray:
        return self.propensity[:, 0] / self.propensity.sum(axis=1)

    def decide(self, obs: Observation) -> np.ndarray:
        return self.rng.random(self.n) < self.probability_of_c()

    def learn(self, obs: Observation) -> None:
        u = float(obs.last_utility[self.me])
        self.lowest, self.highest = min(self.lowest, u), max(self.highest, u)
        span = self.highest - self.lowest
        reward = 0.5 if span <= 0 else (u - self.lowest) / span
        p = self.params
        played_c = self.played(obs)
        self.propensity *= 1.0 - p.forgetting
        self.propensity[:, 0] += reward * np.where(played_c, 1.0 - p.experimentation, p.experimentation)
        self.propensity[:, 1] += reward * np.where(played_c, p.experimentation, 1.0 - p.experimentation)
        np.maximum(self.propensity, 1e-12, out=self.propensity)  # never a 0/0 choice


class _LogitParams(Params):
    rationality: float = Field(
        3.0, ge=0, le=1e4,
        description="lambda: 0 chooses at random, large values best-respond; per unit of the "
        "gain relative to the mean absolute gain at stake across rivals",
    )


@STRATEGIES.register
class LogitBestResponse(Strategy):
    """Myopic quantal best response toward each rival.

    Believing the others will repeat their last actions, it evaluates the step's economics (with
    expected incident losses) for its current posture and for the posture with its action toward
    j flipped. With Δ_j = u(C toward j) − u(D toward j), divided by the mean |Δ| over its rivals
    (so that λ means the same in any scenario's units), it plays C toward j with probability
    1 / (1 + exp(−λ Δ_j)). At the first step its current posture is C toward all. Costs one
    evaluation of the step per nation per decision.

    Names: logit quantal response (McKelvey & Palfrey 1995, Games Econ. Behav. 10: 6-38);
    myopic best response dynamics (e.g. Kandori, Mailath & Rob 1993).
    """

    name = "logit_best_response"
    classifier = {"memory_depth": 1, "stochastic": True,
                  "observes": frozenset({"actions", "counterfactual"})}
    Params = _LogitParams

    def gains_from_cooperating(self, obs: Observation) -> np.ndarray:
        """Δ_j for every j (0 toward myself), relative to the mean |Δ| over the rivals."""
        if obs.counterfactual is None:
            raise RuntimeError(f"{self.name} needs an observation with counterfactuals")
        base = self.played(obs)
        base = self.cooperate_with_all() if base is None else base.copy()
        base[self.me] = True
        flips = np.repeat(base[None], self.n, axis=0)  # row j: my posture with j's action flipped
        flips[np.arange(self.n), np.arange(self.n)] ^= True
        flips[self.me, self.me] = True
        u = obs.counterfactual(self.me, np.vstack([base[None], flips]))
        u_base, u_flip = u[0], u[1:]
        delta = np.where(base, u_base - u_flip, u_flip - u_base)
        delta[self.me] = 0.0
        stakes = np.abs(delta).sum() / max(self.n - 1, 1)
        return delta / stakes if stakes > 0 else delta

    def decide(self, obs: Observation) -> np.ndarray:
        draws = self.rng.random(self.n)
        z = np.clip(self.params.rationality * self.gains_from_cooperating(obs), -700, 700)
        return draws < 1.0 / (1.0 + np.exp(-z))
