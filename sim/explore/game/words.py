"""The stage game in words: one plain-language line (:func:`describe`) and the payoff matrix as
text (:func:`format_game`), as ``lunarsim explore game`` prints them and the report quotes them."""

from __future__ import annotations

import numpy as np

from sim.explore.game.classes import (
    ACTIONS,
    ALIKE,
    ANTI_COORDINATION,
    CHICKEN,
    COORDINATION,
    DEADLOCK,
    HARMONY,
    HERO,
    LEADER,
    PD,
    REVERSED,
    STAG_HUNT,
    _rst_p,
)
from sim.explore.game.linked import format_linked
from sim.explore.game.stage import StageGame
from sim.rules.strategies.plans import Payoffs, basin_of_defection, cooperation_threshold

# --- words --------------------------------------------------------------------------------------

_BOTH = {
    PD: "each gains by racing whatever the other does, and both lose if both race",
    DEADLOCK: "each gains by racing whatever the other does, and both prefer mutual racing to "
    "mutual cooperation: no dilemma, cooperation does not pay",
    HARMONY: "cooperating pays each whatever the other does",
    REVERSED: "cooperating pays each whatever the other does, though both would gain if both "
    "raced",
    STAG_HUNT: "each does best to cooperate if the other does and to race if the other races; "
    "mutual cooperation pays most, racing is safer",
    COORDINATION: "each does best to do what the other does",
    CHICKEN: "each gains by racing a rival who cooperates, but does better to cooperate than to "
    "race a rival who races",
    LEADER: "each does best to do the opposite of the other, and most if it is the one who races",
    HERO: "each does best to do the opposite of the other, and most if the other is the one who "
    "races",
    ANTI_COORDINATION: "each does best to do the opposite of the other",
}
_ONE = {
    PD: "{me} gains by racing whatever {other} does, though both racing leaves it worse off than "
    "both cooperating",
    DEADLOCK: "{me} gains by racing whatever {other} does and prefers mutual racing to mutual "
    "cooperation",
    HARMONY: "cooperating pays {me} whatever {other} does",
    REVERSED: "cooperating pays {me} whatever {other} does, though it prefers mutual racing",
    STAG_HUNT: "{me} does best to cooperate if {other} does and to race if {other} races",
    COORDINATION: "{me} does best to do what {other} does",
    CHICKEN: "{me} does best to race if {other} cooperates and to cooperate if {other} races",
    LEADER: "{me} does best to do the opposite of {other}",
    HERO: "{me} does best to do the opposite of {other}",
    ANTI_COORDINATION: "{me} does best to do the opposite of {other}",
    ALIKE: "C and D pay {me} the same whatever {other} does",
}


def _article(kind: str) -> str:
    if kind in (DEADLOCK, HARMONY, CHICKEN):
        return kind
    if kind in (LEADER, HERO):
        return f"the {kind} game"
    if kind.startswith("boundary"):
        return "a game on the boundary between " + kind.removeprefix("boundary: ").replace(
            " / ", " and ")
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _the(name: str) -> str:
    """A nation's name as a sentence uses it: "the United States", "China"."""
    return f"the {name}" if name.startswith("United ") else name


def _one(kind: str, me: str, other: str, order: str) -> str:
    me, other = _the(me), _the(other)
    if kind.startswith("boundary"):
        between = kind.removeprefix("boundary: ").replace(" / ", " and ")
        return f"{_possessive(me)} payoffs tie ({order}), between {between}"
    return _ONE[kind].format(me=me, other=other) + f" ({kind} for it)"


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def describe(game: StageGame) -> str:
    """One plain-language line: which game the pair plays at that step, why, and its equilibria.

    e.g. "2030: United States–China play a prisoner's dilemma: each gains by racing whatever the
    other does, and both lose if both race; the only equilibrium is (D, D)."
    """
    a, b = game.players
    when = f"{game.year:g}"
    ta, tb = game.types
    if ta == tb == ALIKE:
        text = f"{when}: {a}–{b} play no game: C and D pay both the same whatever the other does"
        text += f" ({game.note})" if game.note else ""
    elif ta == tb:
        if ta in _BOTH:
            why = _BOTH[ta]
        elif game.orders[0] == game.orders[1]:
            why = f"each one's payoffs tie ({game.orders[0]})"
        else:
            why = f"their payoffs tie ({a}: {game.orders[0]}; {b}: {game.orders[1]})"
        text = f"{when}: {a}–{b} play {_article(ta)}: {why}"
    else:
        text = (f"{when}: {a}–{b} play an asymmetric game: {_one(ta, a, b, game.orders[0])}; "
                f"{_one(tb, b, a, game.orders[1])}")
    eqs = [str(e) for e in game.equilibria]
    if [e.p + e.q for e in game.equilibria] == [(0.0, 1.0, 0.0, 1.0)]:
        text += "; every pair of actions (or of mixes) is an equilibrium"
    elif len(eqs) == 1:
        text += f"; the only equilibrium is {eqs[0]}"
    elif eqs:
        text += f"; the equilibria are {', '.join(eqs[:-1])} and {eqs[-1]}"
    if game.barred:
        law = f"the law ({game.law})" if game.law else "a law"
        text += f". {law[0].upper()}{law[1:]} bars their coordination: a C between them only " \
                "forgoes racing"
    return text + "." + "".join(f" {x}." for x in conditions(game))


def conditions(game: StageGame) -> list[str]:
    """For each player whose rule weighs plans (forward_looking) and for whom the game is a
    prisoner's dilemma: the patience reciprocity needs (δ* = (T − R)/(T − P), a year) against
    its own, and the belief that the other reciprocates it needs at its patience (the basin of
    attraction of always-D, Dal Bó & Fréchette 2011) against its belief now (docs/ODD.md 7.1)."""
    out = []
    for k, (me, other) in enumerate((game.players, game.players[::-1])):
        if game.outlook[k] is None or game.types[k] != PD:
            continue
        delta, belief = game.outlook[k]
        payoffs = Payoffs(*_rst_p(game.A if k == 0 else game.B, row=k == 0))
        spy = game.steps_per_year
        star = cooperation_threshold(payoffs) ** spy
        basin = basin_of_defection(payoffs, delta ** (1.0 / spy))
        pays = delta >= star and belief >= basin
        whose = _possessive(_the(me))
        out.append(f"{whose[0].upper()}{whose[1:]} cooperation condition: patience δ* "
                   f"{_round(star)} a year (it has {delta:g}), and a belief that {_the(other)} "
                   f"reciprocates above the basin of always-D at that patience, q* "
                   f"{_round(basin)} (it believes {belief:.2g}): {'met' if pays else 'not met'}")
    return out


def _round(x: float) -> str:
    """``= x`` in two significant figures, ``< 0.001`` below that, ``= ∞`` for no bound."""
    return "< 0.001" if 0 < x < 0.001 else f"= {x:.2g}" if np.isfinite(x) else "= ∞"


def format_game(game: StageGame) -> str:
    """The game as text: the payoff matrix (USD m this step), each player's order of payoffs,
    the class, the equilibria and :func:`describe`'s line."""
    a, b = game.players
    cells = [[f"({game.A[i, j] * 1e3:,.3f}, {game.B[i, j] * 1e3:,.3f})" for j in range(2)]
             for i in range(2)]
    rows = [f"{a} {x}" for x in ACTIONS]
    cols = [f"{b} {x}" for x in ACTIONS]
    w0 = max(map(len, rows))
    w = max(max(len(c) for r in cells for c in r), *map(len, cols))
    lines = [
        (f"{game.year:g} (step {game.step}): {a} (rows) and {b} (columns); utility "
         f"({a}, {b}), USD m this step"),
        " " * w0 + "  " + "  ".join(c.rjust(w) for c in cols),
        *(rows[i].ljust(w0) + "  " + "  ".join(c.rjust(w) for c in cells[i]) for i in range(2)),
        f"order of payoffs: {a} {game.orders[0]}; {b} {game.orders[1]}",
        f"class: {game.kind}",
        "equilibria: " + ("; ".join(str(e) for e in game.equilibria) or "none found"),
        describe(game),
    ]
    if game.linked is not None:
        lines.append(format_linked(game.linked))
    return "\n".join(lines)
