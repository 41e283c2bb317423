"""The two-arena game of a pair: each side's four joint actions (at the pole, in rare-earth
trade), from the step's own economics, its pure equilibria, and the patience that sustains
cooperation in both arenas linked against each arena alone (Bernheim & Whinston 1990: the
pooled incentive constraint; docs/ODD.md, section 7.6)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from sim.rules.strategies.plans import Payoffs, cooperation_threshold

JOINT = ("CC", "CD", "DC", "DD")  # (lunar, rare-earth) action of one side, C = True


@dataclass(frozen=True, eq=False)
class LinkedGame:
    """The 4×4 game of ``players`` at one step: ``A[x, y]`` and ``B[x, y]`` the two players'
    utilities (USD bn this step) when the first plays joint action ``JOINT[x]`` toward the
    second and the second ``JOINT[y]`` toward the first; everyone else as at the last step.
    ``thresholds[k]``: player k's least discount factor a year at which grim cooperation in
    (lunar, rare earths, both linked) is an equilibrium, ∞ where none is."""

    players: tuple[str, str]
    A: np.ndarray
    B: np.ndarray
    equilibria: tuple[tuple[str, str], ...]
    thresholds: tuple[tuple[float, float, float], tuple[float, float, float]]

    @property
    def lent(self) -> tuple[str, ...]:
        """The players for whom linking lowers the patience cooperation at the pole needs: the
        rare-earth arena lends its punishment to the pole."""
        return tuple(name for name, (lunar, _, both) in zip(self.players, self.thresholds,
                                                             strict=True) if both < lunar)


def linked_game(model, i: int, j: int) -> LinkedGame:
    """Nations i's and j's 4×4 game at the model's next step: the 16 pairs of joint actions
    evaluated in one batched call (``model.utilities``), everyone else as at the last step."""
    n = len(model.names)
    base = np.ones((n, n), dtype=bool) if model.last_actions is None else model.last_actions
    trade0 = np.ones((n, n), dtype=bool) if model.last_trade is None else model.last_trade
    lunar = np.repeat(np.array(base, dtype=bool)[None], 16, axis=0)
    trade = np.repeat(np.array(trade0, dtype=bool)[None], 16, axis=0)
    for k, (x, y) in enumerate(itertools.product(range(4), repeat=2)):
        lunar[k, i, j], trade[k, i, j] = JOINT[x][0] == "C", JOINT[x][1] == "C"
        lunar[k, j, i], trade[k, j, i] = JOINT[y][0] == "C", JOINT[y][1] == "C"
    model.state_changed()  # evaluated for the state as it is now
    try:
        utility = np.asarray(model.utilities(lunar, trade), dtype=float)
    finally:
        model.state_changed()
    A, B = utility[:, i].reshape(4, 4), utility[:, j].reshape(4, 4)
    spy = model.steps_per_year
    return LinkedGame(players=(model.names[i], model.names[j]), A=A, B=B,
                      equilibria=pure_equilibria(A, B),
                      thresholds=(_thresholds(A, spy), _thresholds(B.T, spy)))


def pure_equilibria(A: np.ndarray, B: np.ndarray, tol: float = 1e-12) -> tuple[tuple[str, str], ...]:
    """The pure Nash equilibria of a bimatrix game, as pairs of joint actions."""
    scale = tol * max(1.0, float(np.abs(A).max()), float(np.abs(B).max()))
    return tuple((JOINT[x], JOINT[y]) for x, y in itertools.product(range(len(A)), repeat=2)
                 if A[x, y] >= A[:, y].max() - scale and B[x, y] >= B[x, :].max() - scale)


def _thresholds(M: np.ndarray, steps_per_year: int) -> tuple[float, float, float]:
    """A player's δ* a year (rows: its joint action, columns: the rival's) for cooperation at
    the pole alone (rare earths left in C), in rare earths alone (the pole left in C), and in
    both linked, where any deviation is punished by D in both: with R the payoff of (CC, CC),
    T the best deviation against CC, P the payoff of (DD, DD), δ* = (T − R)/(T − P)."""
    cc, cd, dc, dd = range(4)
    lunar = Payoffs(R=M[cc, cc], S=M[cc, dc], T=M[dc, cc], P=M[dc, dc])
    trade = Payoffs(R=M[cc, cc], S=M[cc, cd], T=M[cd, cc], P=M[cd, cd])
    both = Payoffs(R=M[cc, cc], S=M[cc, dd], T=M[[cd, dc, dd], cc].max(), P=M[dd, dd])
    return tuple(cooperation_threshold(g) ** steps_per_year for g in (lunar, trade, both))


def format_linked(game: LinkedGame) -> str:
    """The two-arena game in words: its pure equilibria and each player's δ* a year."""
    a, b = game.players
    eq = "; ".join(f"({x}, {y})" for x, y in game.equilibria) or "none in pure actions"

    def star(x: float) -> str:
        return "never" if not np.isfinite(x) else "< 0.001" if 0 < x < 0.001 else f"{x:.2g}"

    parts = [f"{name}: {star(both)} linked, against {star(lunar)} at the pole alone and "
             f"{star(trade)} in rare earths alone"
             for name, (lunar, trade, both) in zip(game.players, game.thresholds, strict=True)]
    lent = (f"; linking lowers what the pole needs for {' and '.join(game.lent)}"
            if game.lent else "")
    return (f"two arenas (each side's joint action: pole, rare earths; C or D): pure equilibria "
            f"{eq}. Patience a year that cooperation in both needs, any defection punished in "
            f"both (Bernheim & Whinston 1990) — " + "; ".join(parts) + lent + ".")
