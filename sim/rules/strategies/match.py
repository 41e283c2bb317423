"""Matches between rules on a plain prisoner's dilemma, outside the lunar model.

For checking a rule against its definition (as the Axelrod library does): each player is a
registered rule or a fixed sequence of moves (repeated as needed). A nation's utility is the sum
over its rivals of the stage-game payoff of the pair's actions. Rule k draws from
``default_rng(SeedSequence(seed).spawn(n)[k])``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.rules.strategies.base import STRATEGIES, Observation, Roster, Strategy

C, D = True, False
# Axelrod's tournament payoffs: reward, temptation, sucker's payoff, punishment.
PD = {"R": 3.0, "T": 5.0, "S": 0.0, "P": 1.0}

Player = str | tuple[str, Mapping[str, Any]] | Sequence[bool]


def stage_utility(actions: np.ndarray, payoffs: Mapping[str, float] = PD) -> np.ndarray:
    """Each player's summed stage payoff against all others, for an N x N action matrix."""
    mine, theirs = actions, actions.T
    table = np.where(mine, np.where(theirs, payoffs["R"], payoffs["S"]),
                     np.where(theirs, payoffs["T"], payoffs["P"]))
    np.fill_diagonal(table, 0.0)
    return table.sum(axis=1)


def play(players: Sequence[Player], rounds: int, seed: int = 0,
         blocs: Sequence[str] | None = None, budgets: Sequence[float] | None = None,
         payoffs: Mapping[str, float] = PD) -> np.ndarray:
    """Play ``rounds`` rounds; return the actions as a [rounds, N, N] bool array."""
    n = len(players)
    roster = Roster(
        names=tuple(f"p{k}" for k in range(n)),
        blocs=np.array(blocs if blocs is not None else [f"b{k}" for k in range(n)], dtype=object),
        budgets_usd_bn=np.array(budgets if budgets is not None else [1.0] * n, dtype=float),
    )
    streams = np.random.SeedSequence(seed).spawn(n)
    rules: list[Strategy | Sequence[bool]] = []
    for k, player in enumerate(players):
        if isinstance(player, str | tuple) and not _is_moves(player):
            name, params = (player, {}) if isinstance(player, str) else player
            cls = STRATEGIES.get(name)
            rules.append(cls(k, roster, cls.Params(**params), np.random.default_rng(streams[k])))
        else:
            rules.append(list(player))

    last: np.ndarray | None = None
    history = np.zeros((rounds, n, n), dtype=bool)

    def evaluate(i: int, matrices: np.ndarray, trade: np.ndarray | None = None) -> np.ndarray:
        # no rare-earth holder in a match: the rare-earth actions change nothing
        return np.array([stage_utility(np.asarray(m, dtype=bool), payoffs)[i] for m in matrices])

    def counterfactual(i: int, rows: np.ndarray) -> np.ndarray | float:
        values = []
        for row in np.atleast_2d(rows):
            belief = np.ones((n, n), dtype=bool) if last is None else last.copy()
            belief[i] = row
            values.append(stage_utility(belief, payoffs)[i])
        return np.array(values) if np.ndim(rows) == 2 else float(values[0])

    for t in range(rounds):
        obs = Observation(step=t, last_actions=last,
                          last_utility=None if last is None else stage_utility(last, payoffs),
                          trust=np.eye(n), blocs=roster.blocs, counterfactual=counterfactual,
                          evaluate=evaluate)
        actions = np.vstack([
            rule.decide(obs) if isinstance(rule, Strategy) else np.full(n, rule[t % len(rule)])
            for rule in rules
        ])
        np.fill_diagonal(actions, True)
        history[t] = actions
        last = actions
        after = Observation(step=t + 1, last_actions=last, last_utility=stage_utility(last, payoffs),
                            trust=np.eye(n), blocs=roster.blocs, counterfactual=counterfactual,
                          evaluate=evaluate)
        for rule in rules:
            if isinstance(rule, Strategy):
                rule.learn(after)
    return history


def _is_moves(player: object) -> bool:
    return isinstance(player, tuple) and all(isinstance(m, bool) for m in player)


def moves(history: np.ndarray, i: int, j: int) -> list[bool]:
    """What player i played toward j in each round."""
    return [bool(a) for a in history[:, i, j]]
