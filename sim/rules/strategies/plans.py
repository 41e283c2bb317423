"""Forward-looking play: repeated-game plans weighed against beliefs over the rival's type.

A forward-looking nation asks, toward each rival j, which of three plans is worth most over the
whole future: always compete (AD), conditional cooperation (tit for tat opening with C now:
TFT) or always cooperate (AC). It does not know how j reacts; it holds beliefs over three
reaction types of j — always D, tit for tat (answers my last move), always C — and updates them
by Bayes' rule from what j plays, allowing for trembles. The value of each plan against each
type has a closed form in the pair's stage game and the discount factor per step d, so the
folk-theorem threshold and Dal Bó & Fréchette's basin of attraction of always-defect come out
of play rather than being assumed (docs/ODD.md, section 7.1, derives the condition).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from pydantic import Field

from sim.base.registry import Params
from sim.rules.strategies.base import STRATEGIES, Observation, Roster, Strategy

TYPES = ("always_d", "tit_for_tat", "always_c")  # the rival's reaction types, in this order
PLANS = ("always_d", "tit_for_tat", "always_c")  # my plans, in this order


class Payoffs(NamedTuple):
    """One player's four stage-game payoffs toward a rival: R (C, C), S (C, D), T (D, C),
    P (D, D), its own action first (numbers, or arrays over rivals)."""

    R: np.ndarray | float
    S: np.ndarray | float
    T: np.ndarray | float
    P: np.ndarray | float


def plan_values(game: Payoffs, d: float, m0: np.ndarray | bool) -> np.ndarray:
    """V[..., plan, type]: the discounted value, from this step on, of each of my plans against
    each reaction type of the rival, when the stage game stays as it is.

    ``m0`` is what I played toward the rival at the last step (a tit-for-tat rival answers it
    now). Plans: AD plays D for ever; TFT plays C now, then what the rival played the step
    before; AC plays C for ever. Types: AD, TFT (plays what I played the step before), AC. With
    k = d / (1 − d) and U(a, m0) this step's payoff when the rival answers my last move:

    ===========  ================  ====================================  ===============
    plan \\ type  always D          tit for tat                           always C
    ===========  ================  ====================================  ===============
    AD           P + kP            U(D, m0) + kP                         T + kT
    TFT          S + kP            R + kR if m0 = C; (S + dT)/(1 − d²)   R + kR
                                   if m0 = D (the pair echoes C/D)
    AC           S + kS            U(C, m0) + kR                         R + kR
    ===========  ================  ====================================  ===============
    """
    R, S, T, P = (np.asarray(x, dtype=float) for x in game)
    m0 = np.asarray(m0, dtype=bool)
    k = d / (1.0 - d)
    now_d = np.where(m0, T, P)  # U(D, m0)
    now_c = np.where(m0, R, S)  # U(C, m0)
    echo = (S + d * T) / (1.0 - d * d)
    values = np.stack([
        np.stack([P + k * P, now_d + k * P, T + k * T], axis=-1),
        np.stack([S + k * P, np.where(m0, R + k * R, echo), R + k * R], axis=-1),
        np.stack([S + k * S, now_c + k * R, R + k * R], axis=-1),
    ], axis=-2)
    return values


def cooperation_threshold(game: Payoffs) -> float:
    """δ* = (T − R)/(T − P): the least discount factor per step at which tit for tat against
    a rival sure to play tit for tat beats always-D (the folk-theorem threshold of grim and
    tit-for-tat equilibria, Fudenberg & Maskin 1986); 0 where R ≥ T, and inf where T > R ≤ P
    (no patience makes cooperating pay)."""
    R, T, P = float(game.R), float(game.T), float(game.P)
    if R >= T:
        return 0.0
    if T <= P or R <= P:
        return float("inf")
    return (T - R) / (T - P)


def basin_of_defection(game: Payoffs, d: float) -> float:
    """The size of the basin of attraction of always-D (Dal Bó & Fréchette 2011, 2018): the
    least belief that the rival plays a conditional strategy (rather than always-D) at which
    conditional cooperation is a best response,

        q* = (P − S)(1 − d) / [(R − T + d(T − P)) + (P − S)(1 − d)],

    clipped to [0, 1]; 1 when cooperation is no equilibrium (d < δ*): no belief makes it pay.
    """
    R, S, T, P = (float(x) for x in game)
    against_ad = (P - S) * (1.0 - d)  # what the conditional plan loses to an always-D rival
    against_cond = R - T + d * (T - P)  # what it gains against a conditional one, × (1 − d)
    if against_cond <= 0:
        return 1.0
    return float(np.clip(against_ad / (against_cond + against_ad), 0.0, 1.0))


class _PlanParams(Params):
    discount_per_year: float = Field(
        0.9, ge=0.0, le=0.999,
        description="delta: weight of next year's utility against this year's (the shadow of "
        "the future); converted to the model's steps",
    )
    prior_conditional: float = Field(
        0.5, ge=0.0, le=1.0,
        description="belief before evidence that a rival plays tit for tat (answers C with C "
        "and D with D)",
    )
    prior_always_cooperate: float = Field(
        0.0, ge=0.0, le=1.0,
        description="of the rest of the prior, the share on a rival that cooperates whatever "
        "it is shown; the remainder is on always-compete",
    )
    noise: float = Field(
        0.05, gt=0.0, lt=0.5,
        description="chance it allows that a rival's move is a mistake, in Bayes' rule",
    )
    memory_years: float = Field(
        2.0, gt=0.0, le=1000,
        description="half-life of the evidence it has seen of a rival, years",
    )

    def prior(self) -> np.ndarray:
        conditional, rest = self.prior_conditional, 1.0 - self.prior_conditional
        return np.array([rest * (1.0 - self.prior_always_cooperate), conditional,
                         rest * self.prior_always_cooperate])


@STRATEGIES.register
class ForwardLooking(Strategy):
    """Chooses, toward each rival, the repeated-game plan worth most against what it believes
    of the rival's type: the shadow of the future.

    Beliefs. Over the rival's reaction types (always-D, tit for tat, always-C) it holds a
    posterior that starts at the prior (``prior_conditional`` on tit for tat; of the rest,
    the share ``prior_always_cooperate`` on always-C and the remainder on always-D) and is
    updated by Bayes' rule after each step from what j played toward it: a type that predicts
    j's move has likelihood 1 − ``noise``, one that does not ``noise`` (a tremble). Tit for
    tat predicts what I played toward j the step before (C before the first step). Old
    evidence fades: the log-likelihoods are discounted with half-life ``memory_years``
    (exponential forgetting), so a changed rival can be recognised.

    Plans. With U(a, b) its utility this step if it plays a toward j and j plays b toward it
    (the step's economics, everyone else as last step, expected incident losses), the stage
    game R = U(C, C), S = U(C, D), T = U(D, C), P = U(D, D) is taken to last; d is
    ``discount_per_year`` per step. It values always-D, tit for tat (C now) and always-C against
    each type in closed form (:func:`plan_values`), weighs them by its beliefs and plays the
    first move of the best plan: C unless always-D is worth strictly more than both others.

    Hence (docs/ODD.md, section 7.1): sure of a tit-for-tat rival that it has not crossed, it
    cooperates exactly when d ≥ (T − R)/(T − P) (:func:`cooperation_threshold`); unsure between
    always-D and tit for tat, it cooperates when its belief in tit for tat is at least the size
    of the basin of attraction of always-D (:func:`basin_of_defection`) — an equilibrium is
    necessary for cooperation but not sufficient, as in the laboratory. Costs one batched
    evaluation of 3(N − 1) + 1 action matrices per decision.

    Names: the shadow of the future (Axelrod 1984); the folk theorem (Fudenberg & Maskin 1986,
    Econometrica 54: 533-554); beliefs over strategies and the basin of attraction of
    always-defect (Dal Bó & Fréchette 2011, Am. Econ. Rev. 101: 411-429; 2018, J. Econ. Lit.
    56: 60-114); always-D, tit for tat and grim as the strategies people choose (Dal Bó &
    Fréchette 2019, Am. Econ. Rev. 109: 3929-3952); Bayesian learning of types with trembles
    (Kalai & Lehrer 1993, Econometrica 61: 1019-1045).
    """

    name = "forward_looking"
    classifier = {"memory_depth": float("inf"), "stochastic": False,
                  "observes": frozenset({"actions", "counterfactual"})}
    Params = _PlanParams

    def __init__(self, me: int, roster: Roster, params: Params, rng: np.random.Generator) -> None:
        super().__init__(me, roster, params, rng)
        p = self.params
        self.discount = p.discount_per_year ** (1.0 / roster.steps_per_year)
        self.fade = 0.5 ** (1.0 / (p.memory_years * roster.steps_per_year))
        with np.errstate(divide="ignore"):
            self.log_prior = np.log(p.prior())
        self.evidence = np.zeros((self.n, len(TYPES)))  # faded log-likelihood of each type
        self._mine = np.ones(self.n, dtype=bool)  # what I played toward each rival last step
        self._asked: tuple | None = None  # (observation, matrices, where) of evaluations()

    def beliefs(self) -> np.ndarray:
        """[N, 3]: the posterior over each rival's type (always-D, tit for tat, always-C)."""
        log_post = self.log_prior[None, :] + self.evidence
        log_post = log_post - log_post.max(axis=1, keepdims=True)
        weights = np.exp(log_post)
        return weights / weights.sum(axis=1, keepdims=True)

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
        self._asked = (obs, *self._matrices(obs))  # payoffs() uses them at this step
        return self._asked[1]

    def payoffs(self, obs: Observation) -> Payoffs:
        """The stage game toward each rival [N] (0 toward myself), from the step's economics."""
        if obs.evaluate is None:
            raise RuntimeError(f"{self.name} needs an observation that can evaluate actions")
        asked, self._asked = self._asked, None
        fresh = asked is not None and asked[0] is obs
        matrices, differ = asked[1:] if fresh else self._matrices(obs)
        evaluated = obs.evaluate(self.me, matrices)
        utility = np.full((self.n, 2, 2), evaluated[0])  # [j, my action (D=0, C=1), j's]
        utility[differ] = evaluated[1:]
        utility[self.me] = 0.0
        return Payoffs(R=utility[:, 1, 1], S=utility[:, 1, 0], T=utility[:, 0, 1],
                       P=utility[:, 0, 0])

    def expected_values(self, obs: Observation) -> np.ndarray:
        """[N, 3]: each plan's value (always-D, tit for tat, always-C) toward each rival,
        weighed by the beliefs over its type."""
        mine = self.played(obs)
        m0 = self.cooperate_with_all() if mine is None else mine
        values = plan_values(self.payoffs(obs), self.discount, m0)  # [N, plan, type]
        return np.einsum("npt,nt->np", values, self.beliefs())

    def decide(self, obs: Observation) -> np.ndarray:
        value = self.expected_values(obs)
        return value[:, 0] <= value[:, 1:].max(axis=1)

    def learn(self, obs: Observation) -> None:
        """Bayes' rule on what each rival played toward me, old evidence fading."""
        if obs.last_actions is None:
            return
        answered = obs.last_actions[:, self.me]
        predicted = np.stack([np.zeros(self.n, dtype=bool), self._mine,
                              np.ones(self.n, dtype=bool)], axis=1)
        eps = self.params.noise
        likelihood = np.where(predicted == answered[:, None], 1.0 - eps, eps)
        self.evidence = self.evidence * self.fade + np.log(likelihood)
        self._mine = obs.last_actions[self.me, :].copy()
