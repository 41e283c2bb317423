"""Each rule played against fixed opponents under a fixed seed, checked move by move against its
published definition (as the Axelrod library tests its strategies). For stochastic rules the
expected moves are derived here from the rule's definition and the same random draws."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rules.strategies import STRATEGIES, Strategy
from sim.rules.strategies.match import PD, C, D, moves, play

PATTERN = [C, C, D, C, D, D, C, C, C, D]
ALLC, ALLD, ALT = [C], [D], [C, D]


def against(rule, opponent, rounds=len(PATTERN), seed=0):
    return moves(play([rule, opponent], rounds, seed=seed), 0, 1)


def draws(seed: int, rounds: int, n: int = 2, player: int = 0) -> np.ndarray:
    """The uniforms player ``player`` draws, one vector of n per decision (the rules' contract)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(n)[player])
    return rng.random((rounds, n))


def test_always_cooperate_and_always_compete():
    assert against("always_cooperate", PATTERN) == [C] * 10
    assert against("always_compete", PATTERN) == [D] * 10


def test_tit_for_tat_copies_the_last_move():
    assert against("tit_for_tat", PATTERN) == [C] + PATTERN[:-1]
    assert against("tit_for_tat", ALLD, rounds=4) == [C, D, D, D]


def test_grim_trigger_never_forgives():
    assert against("grim_trigger", [C, C, D, C, C, C], rounds=6) == [C, C, C, D, D, D]
    assert against("grim_trigger", ALLC, rounds=5) == [C] * 5


def test_pavlov_wins_stays_and_loses_shifts():
    assert against("pavlov", ALLD, rounds=6) == [C, D, C, D, C, D]
    assert against("pavlov", ALLC, rounds=4) == [C, C, C, C]
    # after exploiting a cooperator (T: a win) it stays with D
    assert against("pavlov", [D, C, C, C, C], rounds=5) == [C, D, D, D, D]
    # two Pavlovs recover from one mistake in two rounds (Nowak & Sigmund 1993)
    history = play(["pavlov", [C, D, D, C, C, C]], 6)
    assert moves(history, 0, 1) == [C, C, D, C, C, C]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generous_tit_for_tat_forgives_with_its_probability(seed):
    g = 1 / 3
    got = against(("generous_tit_for_tat", {"generosity": g}), ALLD, rounds=30, seed=seed)
    u = draws(seed, 30)[:, 1]
    expected = [C] + [bool(u[t] < g) for t in range(1, 30)]
    assert got == expected
    assert against(("generous_tit_for_tat", {"generosity": 0.0}), PATTERN, seed=seed) == [C] + PATTERN[:-1]
    assert against(("generous_tit_for_tat", {"generosity": 1.0}), PATTERN, seed=seed) == [C] * 10


def test_reinforcement_follows_roth_erev():
    phi, eps, q0, rounds, seed = 0.1, 0.2, 1.0, 25, 4
    rule = ("reinforcement", {"forgetting": phi, "experimentation": eps, "initial_propensity": q0})
    got = against(rule, PATTERN, rounds=rounds, seed=seed)
    # the same rule written out from Erev & Roth (1998), toward the one rival
    u = draws(seed, rounds)[:, 1]
    q = np.array([q0, q0])
    lo, hi = np.inf, -np.inf
    expected = []
    for t in range(rounds):
        mine = bool(u[t] < q[0] / q.sum())
        expected.append(mine)
        theirs = PATTERN[t % len(PATTERN)]
        pay = PD["R"] if mine and theirs else PD["S"] if mine else PD["T"] if theirs else PD["P"]
        lo, hi = min(lo, pay), max(hi, pay)
        reward = 0.5 if hi == lo else (pay - lo) / (hi - lo)
        q = (1 - phi) * q + reward * (np.array([1 - eps, eps]) if mine else np.array([eps, 1 - eps]))
    assert got == expected


def test_reinforcement_learns_to_compete_against_a_defector():
    history = play([("reinforcement", {"experimentation": 0.0}), ALLD], 300, seed=1)
    assert np.mean(moves(history, 0, 1)[-100:]) < 0.1


@pytest.mark.parametrize("seed", [0, 5])
def test_logit_best_response_is_a_coin_at_zero_rationality(seed):
    got = against(("logit_best_response", {"rationality": 0.0}), PATTERN, seed=seed)
    assert got == [bool(x < 0.5) for x in draws(seed, 10)[:, 1]]


def test_logit_best_response_chooses_by_the_counterfactual_gain():
    lam, seed = 2.0, 3
    got = against(("logit_best_response", {"rationality": lam}), PATTERN, seed=seed)
    u = draws(seed, 10)[:, 1]
    expected = []
    mine = C  # its posture before the first round
    for t in range(10):
        theirs = PATTERN[t - 1] if t else C  # belief: the rival repeats its last move
        u_c, u_d = (PD["R"], PD["T"]) if theirs else (PD["S"], PD["P"])
        gain = (u_c - u_d) / abs(u_c - u_d)  # relative to the mean |gain| over its one rival
        mine = bool(u[t] < 1 / (1 + np.exp(-lam * gain)))
        expected.append(mine)
    assert got == expected
    # a very rational player defects in the dilemma, and cooperates where cooperation dominates
    assert against(("logit_best_response", {"rationality": 1e3}), PATTERN) == [D] * 10
    harmony = {"R": 4.0, "T": 3.0, "S": 2.0, "P": 1.0}
    history = play([("logit_best_response", {"rationality": 1e3}), PATTERN], 10, payoffs=harmony)
    assert moves(history, 0, 1) == [C] * 10


def test_bloc_follower_copies_its_leaders_posture():
    # leader (bloc a, largest budget) plays tit for tat; the outsider (bloc b) always competes
    history = play(["tit_for_tat", "bloc_follower", ALLD], 5, blocs=["a", "a", "b"],
                   budgets=[10.0, 1.0, 5.0])
    assert moves(history, 0, 2) == [C, D, D, D, D]
    assert moves(history, 1, 2) == [C, C, D, D, D]  # one step behind the leader
    assert moves(history, 1, 0) == [C, C, C, C, C]  # reciprocates the leader's C
    alone = play(["bloc_follower", PATTERN], 10)  # a leader of its own: tit for tat
    assert moves(alone, 0, 1) == [C] + PATTERN[:-1]


@pytest.mark.parametrize("rule", list(STRATEGIES), ids=STRATEGIES.names())
def test_metadata_is_complete_and_true(rule):
    assert set(rule.classifier) == {"memory_depth", "stochastic", "observes"}
    assert "Names:" in (rule.__doc__ or ""), f"{rule.name} does not cite its source"
    runs = {tuple(against(rule.name, ALT, rounds=20, seed=seed)) for seed in range(6)}
    assert (len(runs) > 1) == rule.classifier["stochastic"]


@pytest.mark.parametrize("rule", [name for name in STRATEGIES.names()
                                  if STRATEGIES.get(name).decide_all.__func__
                                  is not Strategy.decide_all.__func__])
def test_a_rule_deciding_for_all_its_players_at_once_decides_as_each_would(rule):
    """The array form a model uses at hundreds of nations gives every player's own decision,
    whatever the last actions, the blocs, the leaders and what each has learnt."""
    from sim.rules.strategies.base import Observation, Roster

    rng = np.random.default_rng(11)
    n = 9
    blocs = np.array(["a", "b", "c"] * 3, dtype=object)
    roster = Roster(tuple(f"N{i}" for i in range(n)), blocs, rng.uniform(1, 5, n), 4)
    cls = STRATEGIES.get(rule)
    players = [cls(i, roster, cls.Params(), np.random.default_rng(i)) for i in (0, 2, 3, 5, 8)]
    last = None
    for _ in range(6):
        obs = Observation(0, last, None, np.full((n, n), 0.5), blocs)
        together = cls.decide_all(players, obs)
        assert together.shape == (len(players), n) and together.dtype == bool
        for player, row in zip(players, together, strict=True):
            np.testing.assert_array_equal(row, player.decide(obs))
        last = rng.random((n, n)) < 0.6
        np.fill_diagonal(last, True)
        for player in players:
            player.learn(Observation(1, last, None, np.full((n, n), 0.5), blocs))
        # another group of the same players (what a rule keeps of a group is that group's)
        others = players[:1] + players[:0:-1]
        for player, row in zip(others, cls.decide_all(others, obs), strict=True):
            np.testing.assert_array_equal(row, player.decide(obs))


def test_a_subclass_that_changes_decide_alone_is_asked_one_by_one():
    """A user's variant of a rule that has an array form must not inherit it: the model would
    then play the parent's decisions for it."""
    from sim.model.model import _decides_all
    from sim.rules.strategies.classic import TitForTat

    class Contrarian(TitForTat):
        def decide(self, obs):
            return ~super().decide(obs)

    assert _decides_all(TitForTat) and not _decides_all(Contrarian)
    assert not _decides_all(STRATEGIES.get("reinforcement"))  # learns and draws: one by one
