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


class _ForwardParams(Params):
    discount_per_year: float = Field(
        0.9, ge=0.0, le=0.999,
        description="delta: weight of next year's utility against this year's (the shadow of "
        "the future); converted to the model's steps",
    )
    prior_reciprocity: float = Field(
        0.8, ge=0.0, le=1.0,
        description="belief before evidence that a rival answers C with C and D with D",
    )
    prior_weight: float = Field(
        4.0, gt=0.0, le=1e6, description="how many observations that belief is worth"
    )
    memory_years: float = Field(
        2.0, gt=0.0, le=1000, description="half-life of what the rule has seen of a rival, years"
    )


@STRATEGIES.register
class ForwardLooking(Strategy):
    """Weighs tomorrow as well as today: the shadow of the future.

    For each rival j it estimates, from what it has seen, how j answers its actions: p_C, the
    chance that j plays C toward it the step after it played C toward j, and p_D the same after
    D (counts that fade with half-life ``memory_years``, starting from a prior of
    ``prior_reciprocity`` worth ``prior_weight`` observations). With U(a, b) its utility this
    step if it plays a toward j and j plays b toward it (the step's economics, everyone else as
    last step, expected incident losses), and b₀ what j played last, the value of keeping to a is

        V(a) = U(a, b₀) + δ/(1−δ) · [p_a U(a, C) + (1 − p_a) U(a, D)],

    δ the discount per step. It plays C toward j when V(C) ≥ V(D). Against a rival it believes
    plays tit for tat (p_C = 1, p_D = 0) in a prisoner's dilemma, it cooperates exactly when
    δ ≥ (T − R)/(T − P), the folk-theorem threshold; against one that never answers in kind it
    competes. Costs one batched evaluation of 3(N−1) + 1 action matrices per decision.

    Names: the shadow of the future (Axelrod 1984, ch. 1 and 7); conditional cooperation and the
    role of δ in sustaining cooperation (Dal Bó 2005, Am. Econ. Rev. 95: 1591-1604; Dal Bó &
    Fréchette 2011, Am. Econ. Rev. 101: 411-429; 2018, J. Econ. Lit. 56: 60-114); beliefs from
    observed frequencies, as in fictitious play (Brown 1951; Fudenberg & Levine 1998).
    """

    name = "forward_looking"
    classifier = {"memory_depth": float("inf"), "stochastic": False,
                  "observes": frozenset({"actions", "counterfactual"})}
    Params = _ForwardParams

    def __init__(self, me: int, roster: Roster, params: Params, rng: np.random.Generator) -> None:
        super().__init__(me, roster, params, rng)
        p = self.params
        self.discount = p.discount_per_year ** (1.0 / roster.steps_per_year)
        self.fade = 0.5 ** (1.0 / (p.memory_years * roster.steps_per_year))
        self.answers = np.zeros((self.n, 2, 2))  # [j, my action (D=0, C=1), j's answer]
        self._mine: np.ndarray | None = None  # what I played toward each rival last step
        self._asked: tuple | None = None  # (observation, matrices, where) of evaluations()

    def reciprocity(self) -> tuple[np.ndarray, np.ndarray]:
        """(p_C, p_D) per rival: how likely j is to play C after my C, and after my D."""
        p = self.params
        seen = self.answers.sum(axis=2)
        p_c = (self.answers[:, 1, 1] + p.prior_weight * p.prior_reciprocity) / (seen[:, 1] + p.prior_weight)
        p_d = (self.answers[:, 0, 1] + p.prior_weight * (1 - p.prior_reciprocity)) / (seen[:, 0] + p.prior_weight)
        return p_c, p_d

    def _matrices(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        """The distinct action matrices to evaluate, and where in [j, my action, j's answer]
        each but the first goes: the base (everyone as last step) is evaluated once, with the
        3(N-1) matrices that change one rival's pair with me (the fourth for each rival, and
        all four toward myself, are the base)."""
        me, n = self.me, self.n
        base = np.ones((n, n), dtype=bool) if obs.last_actions is None else obs.last_actions
        matrices = np.repeat(base[None], 4 * n, axis=0).reshape(n, 2, 2, n, n)
        for a in (0, 1):
            for b in (0, 1):
                matrices[np.arange(n), a, b, me, np.arange(n)] = bool(a)
                matrices[np.arange(n), a, b, np.arange(n), me] = bool(b)
        j, a, b = np.meshgrid(np.arange(n), [0, 1], [0, 1], indexing="ij")
        differ = (j != me) & ((a != base[me][j]) | (b != base[:, me][j]))
        return np.concatenate([base[None], matrices[differ]]), differ

    def evaluations(self, obs: Observation) -> np.ndarray:
        self._asked = (obs, *self._matrices(obs))  # values() uses them at this step
        return self._asked[1]

    def values(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        """(V(C), V(D)) toward each rival (0 toward myself)."""
        if obs.evaluate is None:
            raise RuntimeError(f"{self.name} needs an observation that can evaluate actions")
        me, n = self.me, self.n
        asked, self._asked = self._asked, None
        matrices, differ = asked[1:] if asked is not None and asked[0] is obs else self._matrices(obs)
        evaluated = obs.evaluate(me, matrices)
        utility = np.full((n, 2, 2), evaluated[0])
        utility[differ] = evaluated[1:]
        now = self.received(obs)
        now = np.ones(n, dtype=int) if now is None else now.astype(int)
        p_c, p_d = self.reciprocity()
        ahead = self.discount / (1.0 - self.discount)
        rows = np.arange(n)
        v_c = utility[rows, 1, now] + ahead * (p_c * utility[:, 1, 1] + (1 - p_c) * utility[:, 1, 0])
        v_d = utility[rows, 0, now] + ahead * (p_d * utility[:, 0, 1] + (1 - p_d) * utility[:, 0, 0])
        v_c[me] = v_d[me] = 0.0
        return v_c, v_d

    def decide(self, obs: Observation) -> np.ndarray:
        v_c, v_d = self.values(obs)
        return v_c >= v_d

    def learn(self, obs: Observation) -> None:
        """Count how each rival answered what I played the step before."""
        if obs.last_actions is None:
            return
        answered = obs.last_actions[:, self.me].astype(int)
        if self._mine is not None:
            self.answers *= self.fade
            self.answers[np.arange(self.n), self._mine, answered] += 1.0
        self._mine = obs.last_actions[self.me, :].astype(int)
