"""Forward-looking play over repeated-game plans: the closed forms against the plans played out,
the folk-theorem threshold and the basin of attraction of always-defect worked by hand, Bayes'
rule with trembles, and the laboratory's regularities on the model's two-player scenario."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.explore.game.patience import patience_sweep
from sim.rules.strategies import Observation, Roster
from sim.rules.strategies.match import PD, C, D, moves, play
from sim.rules.strategies.plans import (
    ForwardLooking,
    Payoffs,
    basin_of_defection,
    cooperation_threshold,
    plan_values,
)

GAME = Payoffs(R=PD["R"], S=PD["S"], T=PD["T"], P=PD["P"])


def _played_out(plan: str, rival: str, d: float, m0: bool, steps: int = 2000) -> float:
    """The discounted sum of my payoffs, the plan and the rival's type written as automata."""
    mine_before, theirs_before = m0, None
    total = 0.0
    for t in range(steps):
        mine = {"always_d": D, "always_c": C,
                "tit_for_tat": C if t == 0 else theirs_before}[plan]
        theirs = {"always_d": D, "always_c": C, "tit_for_tat": mine_before}[rival]
        pay = PD["R"] if mine and theirs else PD["S"] if mine else PD["T"] if theirs else PD["P"]
        total += d ** t * pay
        mine_before, theirs_before = mine, theirs
    return total


@pytest.mark.parametrize("m0", [C, D])
@pytest.mark.parametrize("d", [0.3, 0.8, 0.95])
def test_plan_values_are_the_plans_played_out(d, m0):
    values = plan_values(GAME, d, m0)
    for p, plan in enumerate(("always_d", "tit_for_tat", "always_c")):
        for t, rival in enumerate(("always_d", "tit_for_tat", "always_c")):
            assert values[p, t] == pytest.approx(_played_out(plan, rival, d, m0), rel=1e-9)


def test_threshold_and_basin_worked_by_hand():
    # Axelrod's payoffs: δ* = (5 − 3)/(5 − 1) = 1/2.
    assert cooperation_threshold(GAME) == 0.5
    # At d = 0.6: (P − S)(1 − d) = 0.4 and R − T + d(T − P) = −2 + 2.4 = 0.4: q* = 1/2.
    assert basin_of_defection(GAME, 0.6) == pytest.approx(0.5)
    # At d = 0.9: 0.1 / (−2 + 3.6 + 0.1) = 1/17.
    assert basin_of_defection(GAME, 0.9) == pytest.approx(1 / 17)
    # No belief makes cooperation pay where it is no equilibrium.
    assert basin_of_defection(GAME, 0.5) == basin_of_defection(GAME, 0.2) == 1.0
    # Harmony (R ≥ T): no patience needed; a deadlock (R ≤ P < T): none suffices.
    assert cooperation_threshold(Payoffs(R=4, S=2, T=3, P=1)) == 0.0
    assert cooperation_threshold(Payoffs(R=1, S=0, T=3, P=2)) == float("inf")


def _rule(**params) -> tuple[str, dict]:
    return ("forward_looking", params)


SURE = {"prior_conditional": 1.0}  # certain that its rival plays tit for tat


def test_sure_of_tit_for_tat_it_cooperates_exactly_above_the_folk_threshold():
    # d = 0.55 ≥ 1/2: R/(1 − d) = 6.67 beats T + dP/(1 − d) = 6.22.
    assert play_against(_rule(discount_per_year=0.55, **SURE), "tit_for_tat") == [C] * 6
    # d = 0.45: 5.45 < 5.82, so it defects; then, its D to be answered, tit for tat's C now
    # (the pair echoes: (S + dT)/(1 − d²) = 2.82) beats always-C's S + dR/(1 − d) = 2.45 and
    # always-D's P/(1 − d) = 1.82. It exploits tit for tat by alternating, as d < 2/3 allows
    # (Axelrod 1984: tit for tat is stable only for d ≥ (T − R)/(R − S)).
    assert play_against(_rule(discount_per_year=0.45, **SURE), "tit_for_tat") == [D, C] * 3
    # d = 0.2 < (P − S)/(T − P) = 1/4: even alternating does not beat mutual D.
    assert play_against(_rule(discount_per_year=0.2, **SURE), "tit_for_tat") == [D] * 6


def test_an_equilibrium_is_necessary_but_not_sufficient():
    """At d = 0.6 cooperation is an equilibrium (δ* = 1/2) and the basin of always-D is 1/2:
    a player who believes tit for tat less likely than that defects at once."""
    assert play_against(_rule(discount_per_year=0.6, prior_conditional=0.45), "tit_for_tat")[0] == D
    assert play_against(_rule(discount_per_year=0.6, prior_conditional=0.55),
                        "tit_for_tat") == [C] * 6


def play_against(rule, opponent, rounds: int = 6) -> list[bool]:
    return moves(play([rule, opponent], rounds), 0, 1)


def test_against_always_d_it_defects():
    # Long memory: one observed D after its C convinces it; mutual D cannot tell always-D from
    # tit for tat, so nothing brings it back.
    assert play_against(_rule(memory_years=1e3), [D], rounds=10) == [C] + [D] * 9
    # Old evidence fades, so it probes now and then (at δ = 0.9 the basin of always-D is 1/17:
    # a little doubt makes a probe worth its sucker's payoff), the less the longer it remembers.
    competing = [play_against(_rule(memory_years=years), [D], rounds=200).count(D) / 200
                 for years in (1.0, 5.0, 20.0)]
    assert competing[0] < competing[1] < competing[2] and competing[2] > 0.9


def test_beliefs_follow_bayes_rule_with_trembles_and_fading_evidence():
    """log posterior = log prior + Σ_s fade^(age of s) · log likelihood_s (exponential
    forgetting, half-life ``memory_years``), normalised; likelihood 1 − ε where a type predicts
    the rival's move, ε where not."""
    eps, years = 0.1, 2.0
    fade = 0.5 ** (1 / years)  # one step a year
    rule = ForwardLooking(0, Roster(names=("a", "b"), blocs=np.array(["x", "y"]),
                                    budgets_usd_bn=np.ones(2)),
                          ForwardLooking.Params(noise=eps, prior_conditional=0.3,
                                                prior_always_cooperate=2 / 7, memory_years=years),
                          np.random.default_rng(0))
    evidence = np.zeros(3)  # always-D, tit for tat, always-C
    mine_before = C  # before the first step
    history = [(C, D), (D, D), (D, C), (C, C)]  # (what I played, what the rival answered)
    for mine, theirs in history:
        predicted = np.array([D, mine_before, C])
        evidence = fade * evidence + np.log(np.where(predicted == theirs, 1 - eps, eps))
        posterior = np.array([0.5, 0.3, 0.2]) * np.exp(evidence)
        rule.learn(Observation(step=1, last_actions=np.array([[True, mine], [theirs, True]]),
                               last_utility=None, trust=np.eye(2), blocs=np.array(["x", "y"])))
        mine_before = mine
        assert rule.beliefs()[1] == pytest.approx(posterior / posterior.sum(), rel=1e-12)


@pytest.mark.parametrize("linked", [False, True])
@pytest.mark.parametrize("me", [0, 2])
def test_each_arena_s_evidence_reads_that_arena_s_answers(linked, me):
    """Bayes' rule in the two arenas: an unlinked rule learns each rival's type at the pole from
    its lunar moves toward it (tit for tat answering my last lunar move) and in the rare-earth
    arena from its trade moves (answering my standing); a linked rule learns one type from
    both at once, a rival's C being C in both where the arena pairs us. Written out here."""
    n, eps, years = 4, 0.1, 3.0
    fade = 0.5 ** (1 / years)
    roster = Roster(names=tuple("abcd"), blocs=np.array(list("xyxy")), budgets_usd_bn=np.ones(n),
                    holder=2)
    rule = ForwardLooking(me, roster, ForwardLooking.Params(noise=eps, memory_years=years),
                          np.random.default_rng(0))
    rule.linked = linked  # (as the scenario sets it)
    arena = rule.arena.copy()
    assert arena.any() and not arena.all()
    right, wrong = np.log(1 - eps), np.log(eps)
    rng = np.random.default_rng(me + 10 * linked)
    lunar_ev, trade_ev = np.zeros((n, 3)), np.zeros((n, 3))
    mine = np.ones(n, dtype=bool)  # my lunar row before the first step
    seen = np.ones(n, dtype=bool)  # my standing when I decided (all good: no decide here)
    for _ in range(6):
        lunar, trade = rng.random((n, n)) < 0.5, rng.random((n, n)) < 0.5

        def learnt(evidence, answered, mine):
            hits = np.stack([~answered, mine == answered, answered], axis=1)
            return evidence * fade + np.where(hits, right, wrong)

        if linked:
            lunar_ev = learnt(lunar_ev, lunar[:, me] & (trade[:, me] | ~arena), seen)
        else:
            lunar_ev = learnt(lunar_ev, lunar[:, me], mine)
            trade_ev = learnt(trade_ev, trade[:, me], seen)
            mine = lunar[me].copy()
        rule.learn(Observation(step=1, last_actions=lunar, last_utility=None, trust=np.eye(n),
                               blocs=roster.blocs, last_trade=trade))
        assert np.array_equal(rule.evidence, lunar_ev)
        assert np.array_equal(rule.evidence_trade, trade_ev)


def test_two_forward_looking_nations_cooperate_by_patience_and_belief():
    """The two-player scenario, both forward-looking, trembling 2 % (Dal Bó & Fréchette 2018):
    cooperation is rare below δ*, rare above it while the basin of always-D exceeds the belief
    in tit for tat, and the rule where the basin is small."""
    sweep = patience_sweep("two_player_pd", deltas=(0.4, 0.6, 0.75, 0.8, 0.95), seeds=range(3))
    by_delta = sweep.groupby("delta").agg(mutual=("mutual", "mean"), basin=("basin", "first"),
                                          threshold=("threshold", "first"))
    threshold = by_delta["threshold"].iloc[0]
    prior = ForwardLooking.Params().prior_conditional
    below = by_delta[by_delta.index < threshold]
    unsure = by_delta[(by_delta.index > threshold) & (by_delta["basin"] > prior + 0.05)]
    sure = by_delta[by_delta["basin"] < prior - 0.05]
    assert len(below) and len(unsure) and len(sure)  # the chosen δ cover all three cases
    assert (below["mutual"] < 0.3).all() and (unsure["mutual"] < 0.3).all()
    assert (sure["mutual"] > 0.7).all()
    assert by_delta["mutual"].is_monotonic_increasing


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.floats(1e-3, 1e4),
       st.sampled_from(["none", "one", "two"]))
def test_the_compiled_posteriors_are_numpys_to_the_last_bit(seed, n, scale, impossible):
    """The posterior over each rival's type: its compiled parts around numpy's exp give, bit
    for bit, the numpy expression the rule defines (a prior that rules out types: -inf)."""
    from sim.economy.kernels.plans import log_posteriors, normalised

    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.ones(3))
    prior[: {"none": 0, "one": 1, "two": 2}[impossible]] = 0.0
    with np.errstate(divide="ignore"):
        log_prior = np.log(prior)
    evidence, evidence_trade = (rng.normal(0.0, scale, (n, 3)) for _ in range(2))
    evidence[0] = evidence[0, 0]  # ties for the largest
    log_post = log_prior + np.stack([evidence, evidence_trade])
    log_post = log_post - log_post.max(axis=2, keepdims=True)
    weights = np.exp(log_post)
    want = weights / weights.sum(axis=2, keepdims=True)
    got = normalised(np.exp(log_posteriors(log_prior, evidence, evidence_trade)))
    assert np.array_equal(got, want)
    assert np.allclose(got.sum(axis=2), 1.0)


def test_the_shifted_log_posteriors_are_numpys_to_the_sign_of_zero():
    """Before numpy's exp, the log-posteriors less their row's largest are numpy's bytes, a
    tie between +0 and -0 for the largest included."""
    import itertools

    from sim.economy.kernels.plans import log_posteriors

    zeros = [0.0, -0.0, -1.0]
    rows = np.array(list(itertools.product(zeros, repeat=3)))
    for log_prior in (np.array([0.0, -0.0, -0.0]), np.array([-0.0, -0.0, -0.0])):
        log_post = log_prior + np.stack([rows, rows[::-1].copy()])
        want = log_post - log_post.max(axis=2, keepdims=True)
        assert log_posteriors(log_prior, rows, rows[::-1].copy()).tobytes() == want.tobytes()
