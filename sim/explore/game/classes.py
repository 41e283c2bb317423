"""A 2×2 game's class and equilibria, from each player's four payoffs: the types a player can
see in its own R, S, T and P (:func:`player_type`), the game they make (:func:`classify`) and
its Nash equilibria (:func:`equilibria`, with nashpy). Rows are the first player's action,
columns the second's, C first (see :mod:`sim.explore.game`)."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import nashpy
import numpy as np

ACTIONS = ("C", "D")
DEFAULT_PAIR = ("United States", "China")

# Payoffs closer than this are ties: a share of the player's own spread of payoffs (so that a
# positive affine change of a player's payoffs changes nothing), or of their magnitude, for
# float noise in payoffs that are equal in the economics.
SPREAD_RTOL = 1e-9
MAGNITUDE_RTOL = 1e-12

# --- the types a player can see -------------------------------------------------------------

PD = "prisoner's dilemma"
DEADLOCK = "deadlock"
HARMONY = "harmony"
STAG_HUNT = "stag hunt"
COORDINATION = "coordination game"
CHICKEN = "chicken"
LEADER = "leader"
HERO = "hero"
ANTI_COORDINATION = "anti-coordination game"
REVERSED = "reversed dilemma"
ALIKE = "C and D alike"

def _strict_type(r: float, s: float, t: float, p: float) -> str:
    """The type of a strict order of one player's R, S, T, P (see :func:`classify`)."""
    c_against_c, c_against_d = r > t, s > p
    if not c_against_c and not c_against_d:  # D dominates
        return PD if r > p else DEADLOCK
    if c_against_c and c_against_d:  # C dominates
        return HARMONY if r > p else REVERSED
    if c_against_c:  # best to match the other's action
        return STAG_HUNT if r > t > p > s else COORDINATION
    if t > r > s > p:  # best to do the opposite of the other
        return CHICKEN
    if t > s > r > p:
        return LEADER
    if s > t > r > p:
        return HERO
    return ANTI_COORDINATION


def _tolerance(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    spread = float(values.max() - values.min())
    return max(SPREAD_RTOL * spread, MAGNITUDE_RTOL * float(np.abs(values).max()))


def _snap(values: np.ndarray) -> np.ndarray:
    """The values with near-ties (within :func:`_tolerance`) made exact ties."""
    values = np.asarray(values, dtype=float)
    out = values.copy()
    tol = _tolerance(values)
    order = np.argsort(values.ravel(), kind="stable")
    flat = out.ravel()
    anchor = flat[order[0]]
    for k in order[1:]:
        if flat[k] - anchor <= tol:
            flat[k] = anchor
        else:
            anchor = flat[k]
    return flat.reshape(values.shape)


def _rst_p(own: np.ndarray, row: bool) -> tuple[float, float, float, float]:
    """(R, S, T, P) of a player from its 2×2 matrix (rows: a's action; columns: b's)."""
    own = np.asarray(own, dtype=float)
    if row:
        return own[0, 0], own[0, 1], own[1, 0], own[1, 1]
    return own[0, 0], own[1, 0], own[0, 1], own[1, 1]


def ordering(r: float, s: float, t: float, p: float) -> str:
    """The player's order of its four payoffs, best first, e.g. ``"T>R>P>S"`` or ``"R>T=P>S"``
    (near-ties, as :func:`classify` counts them, shown as ``=``)."""
    values = _snap(np.array([r, s, t, p]))
    labels = "RSTP"
    ranked = sorted(range(4), key=lambda k: (-values[k], "RTSP".index(labels[k])))
    text = labels[ranked[0]]
    for before, k in itertools.pairwise(ranked):
        text += ("=" if values[k] == values[before] else ">") + labels[k]
    return text


def player_type(r: float, s: float, t: float, p: float) -> str:
    """The type one player sees, from its own R, S, T, P (see :func:`classify`)."""
    r, s, t, p = _snap(np.array([r, s, t, p]))
    if r == t and s == p:
        return ALIKE
    if len({r, s, t, p}) == 4:
        return _strict_type(r, s, t, p)
    if r > t == p > s:  # Skyrms' stag hunt allows T = P
        return STAG_HUNT
    # Ties elsewhere: the types of every strict order that breaks the ties.
    values = {"R": r, "S": s, "T": t, "P": p}
    types = set()
    for perm in itertools.permutations("RSTP"):
        rank = {k: -i for i, k in enumerate(perm)}  # perm is one strict order, best first
        if all(rank[x] > rank[y] for x in "RSTP" for y in "RSTP" if values[x] > values[y]):
            types.add(_strict_type(rank["R"], rank["S"], rank["T"], rank["P"]))
    if len(types) == 1:
        return types.pop()
    for family in ({STAG_HUNT, COORDINATION}, {CHICKEN, LEADER, HERO, ANTI_COORDINATION}):
        if types <= family:  # the tie only decides a variant: name the family
            return COORDINATION if STAG_HUNT in family else ANTI_COORDINATION
    return "boundary: " + " / ".join(sorted(types))


def player_types(A: np.ndarray, B: np.ndarray) -> tuple[str, str]:
    """The type each player sees: (the row player's, the column player's)."""
    A, B = _check(A), _check(B)
    return player_type(*_rst_p(A, row=True)), player_type(*_rst_p(B, row=False))


def classify(A: np.ndarray, B: np.ndarray, names: tuple[str, str] = ("row", "column")) -> str:
    """Name the 2×2 game (A: row player's payoffs, B: column player's; C first).

    Only each player's order of its own four payoffs counts (ordinal games, Rapoport & Guyer
    1966, "A taxonomy of 2×2 games", General Systems 11: 203-214), so a positive affine change
    of either player's payoffs never changes the class. Each player's order of R (both C),
    S (it plays C, the other D), T (it plays D, the other C) and P (both D) gives the type it
    sees, the patterns of the symmetric games named by Rapoport & Guyer (1966), Rapoport (1967)
    and Robinson & Goforth (2005, *The Topology of the 2×2 Games*):

    * prisoner's dilemma: T > R > P > S (D dominates, yet both C beats both D);
    * deadlock: D dominates and P ≥ R, canonically T > P > R > S (racing simply pays: no
      dilemma); the family also holds the orders in which mutual racing is the player's best;
    * harmony: C dominates (R > T, S > P) and R > P, canonically R best; the family also holds
      S > R (a rival who races pays for it, e.g. through a regime's fines or liability);
    * reversed dilemma: C dominates yet P > R (a prisoner's dilemma with C and D swapped);
    * stag hunt: R > T ≥ P > S (best to match the other; mutual C is the better equilibrium,
      racing the safer one); coordination game: the other orders in which the best reply is to
      match the other (R > T, P > S);
    * chicken: T > R > S > P; leader: T > S > R > P; hero: S > T > R > P (best to do the opposite
      of the other, Rapoport 1967); anti-coordination game: the other such orders (P > R);
    * C and D alike: R = T and S = P (the player's action changes nothing it gets);
    * boundary: other ties (payoffs equal within a relative 1e-9 of the player's spread): the
      types of the strict orders that break the ties, e.g. "boundary: prisoner's dilemma /
      stag hunt" for T = R > P > S; a tie that only decides between variants of one family
      (stag hunt or other coordination game; chicken, leader, hero or other anti-coordination
      game) gives the family's name.

    The game's class is the type both see when they see the same (symmetric ordinal structure);
    otherwise "asymmetric: X for <row>, Y for <column>" (Bruns 2015, "Names for games", Games
    6: 495-520, names every asymmetric game by its two symmetric patterns this way). A game in
    which a player's action changes nothing for it is "degenerate: ..." (both: "degenerate: C
    and D alike for both").
    """
    ta, tb = player_types(A, B)
    if ta == tb == ALIKE:
        return "degenerate: C and D alike for both"
    if ALIKE in (ta, tb):
        return f"degenerate: {ta} for {names[0]}, {tb} for {names[1]}"
    if ta == tb:
        return ta
    return f"asymmetric: {ta} for {names[0]}, {tb} for {names[1]}"


def _check(M: np.ndarray) -> np.ndarray:
    M = np.asarray(M, dtype=float)
    if M.shape != (2, 2):
        raise ValueError(f"a 2×2 payoff matrix is needed, not shape {M.shape}")
    if not np.isfinite(M).all():
        raise ValueError("payoffs must be finite")
    return M


# --- equilibria -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Equilibrium:
    """A Nash equilibrium, or a segment of them: the probability that each player plays C.

    ``p`` is the row player's probability of C and ``q`` the column player's, each as a range
    (low, high): equal ends for one equilibrium, unequal for a continuum of them (a degenerate
    game, where a player is indifferent), every mix in the range being an equilibrium.
    """

    p: tuple[float, float]
    q: tuple[float, float]

    @property
    def is_point(self) -> bool:
        return self.p[0] == self.p[1] and self.q[0] == self.q[1]

    @property
    def is_pure(self) -> bool:
        return self.is_point and self.p[0] in (0.0, 1.0) and self.q[0] in (0.0, 1.0)

    @property
    def kind(self) -> str:
        return "pure" if self.is_pure else "mixed" if self.is_point else "continuum"

    def __str__(self) -> str:
        if self.is_point and not self.is_pure:
            return f"mixed (P(C) = {_prob(self.p[0])}, {_prob(self.q[0])})"
        return f"({_strategy(self.p)}, {_strategy(self.q)})"


def _prob(x: float) -> str:
    return f"{x:.3g}"


def _strategy(r: tuple[float, float]) -> str:
    lo, hi = r
    if lo == hi:
        return "C" if lo == 1.0 else "D" if lo == 0.0 else f"C w.p. {_prob(lo)}"
    if (lo, hi) == (0.0, 1.0):
        return "any"
    return f"C w.p. {_prob(lo)}-{_prob(hi)}"


def _normalised(M: np.ndarray) -> np.ndarray:
    """The payoffs mapped to [0, 1] (a positive affine change: the same equilibria), ties
    snapped; a player with all payoffs tied gets all zeros."""
    M = _snap(_check(M))
    lo, hi = M.min(), M.max()
    return np.zeros_like(M) if hi == lo else (M - lo) / (hi - lo)


def _is_equilibrium(A: np.ndarray, B: np.ndarray, p: float, q: float, tol: float = 1e-9) -> bool:
    x, y = np.array([p, 1.0 - p]), np.array([q, 1.0 - q])
    row, col = A @ y, x @ B
    return bool(x @ row >= row.max() - tol and col @ y >= col.max() - tol)


def equilibria(A: np.ndarray, B: np.ndarray) -> list[Equilibrium]:
    """The Nash equilibria of the 2×2 game (A: row player's payoffs, B: column player's).

    Computed by nashpy's support enumeration on the payoffs mapped to [0, 1] (near-ties made
    exact, as :func:`classify` counts them). A degenerate game (nashpy warns of an even number of
    equilibria, or a player has tied payoffs) may hold continua of equilibria: then nashpy's
    vertex enumeration adds the extreme equilibria, and two extreme equilibria whose segment
    consists of equilibria are reported as that segment (e.g. "(any, D)"). nashpy's warnings
    and a failed vertex enumeration never escape. Ordered with pure equilibria first, C first.
    """
    An, Bn = _normalised(A), _normalised(B)
    game = nashpy.Game(An, Bn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = [(float(x[0]), float(y[0])) for x, y in game.support_enumeration()]
    degenerate = bool(caught) or len(set(An.ravel())) < 4 or len(set(Bn.ravel())) < 4
    if degenerate:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                shifted = nashpy.Game(An + 1.0, Bn + 1.0)  # positive: bounded polytopes
                found += [(float(x[0]), float(y[0])) for x, y in shifted.vertex_enumeration()]
        except Exception:  # noqa: BLE001, S110 - qhull may fail on a degenerate polytope:
            pass  # support enumeration's equilibria remain
    points = sorted({(_clean(p), _clean(q)) for p, q in found
                     if _is_equilibrium(An, Bn, _clean(p), _clean(q))})
    if (An[0] == An[1]).all() and (Bn[:, 0] == Bn[:, 1]).all():
        return [Equilibrium((0.0, 1.0), (0.0, 1.0))]  # no one's own action matters to it
    segments = []
    for (p1, q1), (p2, q2) in itertools.combinations(points, 2):
        if (p1 == p2 or q1 == q2) and _is_equilibrium(An, Bn, (p1 + p2) / 2, (q1 + q2) / 2):
            segments.append(Equilibrium((min(p1, p2), max(p1, p2)), (min(q1, q2), max(q1, q2))))
    segments = [s for s in segments if not any(t != s and _within(s, t) for t in segments)]
    result = segments + [Equilibrium((p, p), (q, q)) for p, q in points
                         if not any(_within(Equilibrium((p, p), (q, q)), s) for s in segments)]
    return sorted(result, key=lambda e: (not e.is_pure, e.kind, -e.p[1], -e.q[1]))


def _within(inner: Equilibrium, outer: Equilibrium) -> bool:
    return (outer.p[0] <= inner.p[0] <= inner.p[1] <= outer.p[1]
            and outer.q[0] <= inner.q[0] <= inner.q[1] <= outer.q[1])


def _clean(x: float) -> float:
    """A probability rounded to 12 decimals, in [0, 1], without -0."""
    return float(min(max(round(x, 12), 0.0), 1.0)) + 0.0
