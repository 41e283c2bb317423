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
from sim.rules.strategies.trade import EITHER, TRADE_ONLY

TYPES = ("always_d", "tit_for_tat", "always_c")  # the rival's reaction types, in this order
PLANS = ("always_d", "tit_for_tat", "always_c")  # my plans, in this order


class Payoffs(NamedTuple):
    """One player's four stage-game payoffs toward a rival: R (C, C), S (C, D), T (D, C),
    P (D, D), its own action first (numbers, or arrays over rivals)."""

    R: np.ndarray | float
    S: np.ndarray | float
    T: np.ndarray | float
    P: np.ndarray | float


def plan_values(game: Payoffs, d: float, m0: np.ndarray | bool, contrite: bool = False
                ) -> np.ndarray:
    """V[..., plan, type]: the discounted value, from this step on, of each of my plans against
    each reaction type of the rival, when the stage game stays as it is.

    ``m0`` is what I played toward the rival at the last step (a tit-for-tat rival answers it
    now). Plans: AD plays D for ever; TFT plays C now, then what the rival played the step
    before; AC plays C for ever. Types: AD, TFT (plays what I played the step before), AC.
    ``contrite``: the rival answers my standing instead (m0 False: I owe a punishment), and a
    punishment accepted is not answered back, so TFT after m0 = D is S now, then R for ever,
    instead of the echo. With k = d / (1 − d) and U(a, m0) this step's payoff when the rival
    answers my last move:

    ===========  ================  ====================================  ===============
    plan \\ type  always D          tit for tat                           always C
    ===========  ================  ====================================  ===============
    AD           P + kP            U(D, m0) + kP                         T + kT
    TFT          S + kP            R + kR if m0 = C; (S + dT)/(1 − d²)   R + kR
                                   if m0 = D (the pair echoes C/D)
    AC           S + kS            U(C, m0) + kR                         R + kR
    ===========  ================  ====================================  ===============
    """
    from sim.economy.kernels import plans as compiled  # the compiler loads with the first step

    arrays = [np.asarray(x, dtype=float) for x in game] + [np.asarray(m0, dtype=bool)]
    shape = np.broadcast_shapes(*(x.shape for x in arrays))
    flat = [np.ascontiguousarray(np.broadcast_to(x, shape)).reshape(-1) for x in arrays]
    return compiled.plan_values(*flat, float(d), bool(contrite)).reshape(shape + (3, 3))


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
    necessary for cooperation but not sufficient, as in the laboratory.

    Two arenas (docs/ODD.md, section 7.6). In the rare-earth arena, toward the rivals it pairs
    me with, it weighs the same three plans in that arena's stage game (what a restriction or a
    retaliation adds to the base) with beliefs from the rival's rare-earth moves; a rival of
    the tit-for-tat type is there taken to answer my standing (contrite reciprocity), so tit for
    tat after a defection I owed is S now, then R. Linked (``linked``), it weighs one plan per
    rival in the pooled game (the two arenas' payoffs summed; beliefs from the rival's moves in
    both) and plays it in both: the pooled incentive constraint of Bernheim & Whinston (1990).
    Costs one batched evaluation of at most 3(N − 1) + 1 + 3(N − 1) pairs of action matrices
    per decision.

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
        # faded log-likelihood of each type of each rival: at the pole (or in both arenas at
        # once, for a linked rule), and in the rare-earth arena (for a rule that does not link)
        self.evidence = np.zeros((self.n, len(TYPES)))
        self.evidence_trade = np.zeros((self.n, len(TYPES)))
        self._mine = np.ones(self.n, dtype=bool)  # what I played toward each rival last step
        self._seen = np.ones(self.n, dtype=bool)  # my standing toward each when I last decided
        self._asked: tuple | None = None  # (observation, matrices, trade, where) of evaluations()
        self._trade_row: np.ndarray | None = None  # decided with the lunar row
        self._beliefs: tuple = (None, None)  # (the evidence, the beliefs): see _posteriors
        # the log-likelihood of a move a type predicts, and of one it does not (a tremble)
        self._log_likelihood = tuple(float(x) for x in np.log(np.array([1.0 - p.noise,
                                                                        p.noise])))
        # which rivals' rare-earth moves an update reads: none, or every one (a linked rule's:
        # those its arena pairs it with)
        self._nowhere, self._everywhere = np.zeros(self.n, bool), np.ones(self.n, bool)

    def beliefs(self, arena: str = "lunar") -> np.ndarray:
        """[N, 3]: the posterior over each rival's type (always-D, tit for tat, always-C), from
        its moves at the pole (``"lunar"``; in both arenas for a linked rule) or in the
        rare-earth arena (``"trade"``)."""
        return self._posteriors()[1 if arena == "trade" else 0].copy()

    def _posteriors(self) -> np.ndarray:
        """[arena, N, 3]: :meth:`beliefs` at the pole and in the rare-earth arena, computed
        together once a step (learning replaces the evidence), each row as alone."""
        from sim.economy.kernels.plans import log_posteriors, normalised

        seen, known = self._beliefs
        if seen is None or seen[0] is not self.evidence or seen[1] is not self.evidence_trade:
            # exp(log prior + evidence - its row's largest), over its row's sum: numpy's exp
            # between two compiled calls that give numpy's numbers to the last bit
            known = normalised(np.exp(log_posteriors(self.log_prior, self.evidence,
                                                     self.evidence_trade)))
            self._beliefs = ((self.evidence, self.evidence_trade), known)
        return known

    def _matrices(self, obs: Observation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct pairs of action matrices (lunar, rare-earth) to evaluate, and where in
        [arena, j, my action, j's answer] each but the first goes: the base (everyone as last
        step, in both arenas) is evaluated once, with the matrices that change one rival's pair
        with me in one arena — at the pole toward every rival, in the rare-earth arena toward
        the rivals it pairs me with (the fourth for each rival, and all toward myself, are the
        base)."""
        from sim.economy.kernels.plans import plan_matrices

        n = self.n
        base = np.ones((n, n), dtype=bool) if obs.last_actions is None else obs.last_actions
        trade = np.ones((n, n), dtype=bool) if obs.last_trade is None else obs.last_trade
        return plan_matrices(np.ascontiguousarray(base), np.ascontiguousarray(trade), self.me,
                             self.arena)

    def evaluations(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        self._asked = (obs, *self._matrices(obs))  # payoffs() uses them at this step
        return self._asked[1], self._asked[2]

    def payoffs(self, obs: Observation, arena: str = "lunar") -> Payoffs:
        """The stage game toward each rival [N] (0 toward myself), from the step's economics:
        at the pole (``"lunar"``) or in the rare-earth arena (``"trade"``; 0 toward a rival
        the arena does not pair me with), everyone else acting as at the last step."""
        u = self._utility(obs)[1 if arena == "trade" else 0]
        return Payoffs(R=u[:, 1, 1], S=u[:, 1, 0], T=u[:, 0, 1], P=u[:, 0, 0])

    def _utility(self, obs: Observation) -> np.ndarray:
        """[arena, j, my action (D=0, C=1), j's]: the stage games. The rare-earth game as what
        its actions add to the base (the economics is additive between the arenas, but for the
        price of lunar rare earths, read from the last step): a linked rule's game is the sum
        of the two. Nothing is at stake toward a rival the arena does not pair me with."""
        from sim.economy.kernels.plans import stage_games

        return stage_games(*self._evaluated(obs), self.me, self.arena)

    def _evaluated(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        """My utility [B] for each pair of matrices I weigh at this step (the base first), and
        where each but the first goes in the stage games (:meth:`_matrices`)."""
        if obs.evaluate is None:
            raise RuntimeError(f"{self.name} needs an observation that can evaluate actions")
        asked = self._asked
        fresh = asked is not None and asked[0] is obs
        lunar, trade, differ = asked[1:] if fresh else self._matrices(obs)
        return np.asarray(obs.evaluate(self.me, lunar, trade), dtype=float), differ

    def expected_values(self, obs: Observation, arena: str = "lunar") -> np.ndarray:
        """[N, 3]: each plan's value (always-D, tit for tat, always-C) toward each rival,
        weighed by the beliefs over its type, at the pole (for a linked rule: in both arenas at
        once, the two arenas' payoffs summed toward the rivals both pair me with) or in the
        rare-earth arena."""
        values = self._plan_values(obs, self._owed(obs))
        return values[1] if arena == "trade" and not self.linked else values[0]

    def _plan_values(self, obs: Observation, owed: np.ndarray | None) -> np.ndarray:
        """[arena, N, plan]: :meth:`expected_values` at the pole (or pooled) and in the
        rare-earth arena, in one compiled call. At the pole a tit-for-tat rival answers my last
        move; in the rare-earth arena, and in both for a linked rule, my standing (contrite)."""
        from sim.economy.kernels.plans import rule_values

        return rule_values(self._utility(obs), self.arena, self.linked, self.discount,
                           *self._answered(obs, owed), *self._posteriors())

    def _answered(self, obs: Observation, owed: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """What a tit-for-tat rival answers at the pole (my last move; for a linked rule, my
        standing) and in the rare-earth arena (my standing; all C before the first step)."""
        owed = self.cooperate_with_all() if owed is None else owed
        played = self.played(obs)
        mine = owed if self.linked else self.cooperate_with_all() if played is None else played
        return np.ascontiguousarray(mine), owed

    def _owed(self, obs: Observation) -> np.ndarray | None:
        """Whether I am in good standing toward each rival, counting the arenas I weigh
        (:mod:`sim.rules.strategies.trade`): what a reciprocating rival answers now. In the
        rare-earth arena, and in both for a linked rule, nations answer by standing (a
        punishment that was owed is not answered), so a rival of the tit-for-tat type is
        expected to answer my standing, not my last move."""
        if obs.standing is None:
            return None
        return obs.standing[EITHER if self.linked else TRADE_ONLY][self.me].copy()

    def decide(self, obs: Observation) -> np.ndarray:
        from sim.economy.kernels.plans import plan_moves

        mine, self._seen = self._answered(obs, self._owed(obs))  # (_seen: for learn())
        # (a linked rule plays one plan toward each rival in both arenas)
        row, self._trade_row = plan_moves(*self._evaluated(obs), self.me, self.arena,
                                          self.linked, self.discount, mine, self._seen,
                                          *self._posteriors())
        return row

    def decide_trade(self, obs: Observation) -> np.ndarray:
        """The rare-earth row chosen with the lunar row (:meth:`decide`) — a plan weighed in the
        arena's own stage game and beliefs, or, for a linked rule, the one plan of both arenas —
        and, as every nation does, contrite reciprocity's answer to a rival in bad standing
        (:meth:`Strategy.decide_trade`): a restriction where either says so."""
        if self._trade_row is None:
            self.decide(obs)
        row, self._trade_row = self._trade_row, None
        return row & super().decide_trade(obs)

    def learn(self, obs: Observation) -> None:
        """Bayes' rule on what each rival played toward me, old evidence fading: at the pole
        (a tit-for-tat rival answers my last move there) and in the rare-earth arena, or, for a
        linked rule, in both arenas at once (a tit-for-tat rival answers my standing there)."""
        from sim.economy.kernels.plans import update_evidence

        if obs.last_actions is None:
            return
        n, me = self.n, self.me
        lunar = np.ascontiguousarray(obs.last_actions)
        trade = (np.ones((n, n), dtype=bool) if obs.last_trade is None
                 else np.ascontiguousarray(obs.last_trade))
        right, wrong, fade = *self._log_likelihood, self.fade
        if self.linked:  # both arenas' moves at once (where the arena pairs us)
            self.evidence = update_evidence(self.evidence, lunar, trade, me, True, self.arena,
                                            self._seen, fade, right, wrong)
            return
        self.evidence = update_evidence(self.evidence, lunar, trade, me, True, self._nowhere,
                                        self._mine, fade, right, wrong)
        self._mine = lunar[me, :].copy()
        self.evidence_trade = update_evidence(self.evidence_trade, lunar, trade, me, False,
                                              self._everywhere, self._seen, fade, right, wrong)
