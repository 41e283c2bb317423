"""The stage game, named: the 2×2 game a pair of nations plays at one step of a run.

At a given state the step's economics fixes what each of two nations gets for each of the four
action pairs (its action toward the other, the other's toward it), everyone else playing as in
the model's last step: a 2×2 game in utilities (USD bn this step, expected incident losses,
after law and regime, as the logit and forward-looking rules weigh them). This module derives
that game (:func:`stage_game`), names it (:func:`classify`), solves it (:func:`equilibria`,
with nashpy), follows it along a run (:func:`game_path`, :func:`games_at`), draws how its
class changes per regime (:func:`games_figure`) and says in one line why cooperation does or
does not pay (:func:`describe`, :func:`format_game`): the functions behind
``lunarsim explore game``.

Conventions. Rows are the first nation's (a's) action, columns the second's (b's), C first:
``A[i, j]`` is a's utility and ``B[i, j]`` b's when a plays i and b plays j. From each player's
own side, R = both C, S = I play C and the other D, T = I play D and the other C, P = both D.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # files only; no screen is needed
import matplotlib.pyplot as plt
import nashpy
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.base.errors import UserError
from sim.base.style import STYLE

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

# One colour per type (Okabe & Ito 2008, then Tol 2021): the same in every figure.
TYPE_COLOURS = {
    PD: "#D55E00",
    DEADLOCK: "#882255",
    HARMONY: "#009E73",
    STAG_HUNT: "#0072B2",
    COORDINATION: "#56B4E9",
    CHICKEN: "#E69F00",
    LEADER: "#CC79A7",
    HERO: "#999933",
    ANTI_COORDINATION: "#332288",
    REVERSED: "#F0E442",
    ALIKE: "#DDDDDD",
}
BOUNDARY_COLOUR = "#777777"  # payoffs tied between two types
BOUNDARY_LABEL = "boundary: payoffs tied between types"


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


# --- the game at a model's state ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StageGame:
    """The 2×2 game nations ``players`` play at one step of a run.

    ``A`` and ``B`` are the two players' utilities (USD bn this step, expected incident losses,
    after law and regime, less the relative-gains term: what the learning rules weigh), rows
    the first player's action (C, D), columns the second's. ``year`` is when the step begins
    (the game is played over ``[year, year + 1 / steps_per_year)``); ``step`` is the step's
    number as the model's recorder counts it (1 for the first). ``barred``: a law bars the
    pair's coordination, so that their C toward each other only forgoes racing.
    """

    year: float
    step: int
    players: tuple[str, str]
    A: np.ndarray
    B: np.ndarray
    kind: str
    types: tuple[str, str]
    orders: tuple[str, str]
    equilibria: tuple[Equilibrium, ...]
    barred: bool = False
    law: str | None = None
    note: str | None = None

    def payoffs(self) -> dict[str, float]:
        """The eight payoffs by name: ``a_CD`` is a's when a plays C and b plays D."""
        out = {}
        for who, M in (("a", self.A), ("b", self.B)):
            for i, j in itertools.product(range(2), range(2)):
                out[f"{who}_{ACTIONS[i]}{ACTIONS[j]}"] = float(M[i, j])
        return out


def _index(model, nation: str | int) -> int:
    if isinstance(nation, (int, np.integer)):
        if not 0 <= nation < len(model.names):
            raise UserError(f"no nation number {nation}: the scenario has {len(model.names)}")
        return int(nation)
    if nation not in model.names:
        raise UserError(f"no nation {nation!r} in the scenario (nations: "
                        f"{', '.join(model.names)})")
    return model.nation_index(nation)


def default_pair(names: Iterable[str]) -> tuple[str, str]:
    """The United States and China if the scenario has both, otherwise its first two nations."""
    names = tuple(names)
    if all(n in names for n in DEFAULT_PAIR):
        return DEFAULT_PAIR
    if len(names) < 2:
        raise UserError("a stage game needs two nations; the scenario has "
                        f"{len(names)}")
    return names[0], names[1]


def stage_game(model, a: str | int, b: str | int) -> StageGame:
    """The 2×2 game nations a and b play at the model's next step, from its current state.

    For each of the four action pairs (a's action toward b, b's toward a), everyone else acting
    as in the model's last step (cooperating before the first step, as
    :meth:`LunarModel.counterfactual` assumes), ``model.utilities`` gives both players' utilities:
    one batched call of the four matrices. The rare-earth holder's export policy is
    the one the step will set (recomputed here and put back). Events due at the start of the
    next step are not applied (that would change the model): :func:`game_path` and
    :func:`games_at` take the game inside the step, where they are. The model's course is not
    changed: the evaluation draws no random number.
    """
    return _stage_game(model, _index(model, a), _index(model, b), inside_step=False)


def _stage_game(model, i: int, j: int, inside_step: bool) -> StageGame:
    from sim.economy.rare_earths import holder_policy

    if i == j:
        raise UserError("a stage game needs two different nations")
    n = len(model.names)
    base = np.ones((n, n), dtype=bool) if model.last_actions is None else model.last_actions
    matrices = np.repeat(np.array(base, dtype=bool)[None], 4, axis=0)
    for k, (x, y) in enumerate(itertools.product((True, False), repeat=2)):
        matrices[k, i, j], matrices[k, j, i] = x, y  # k = 0: (C, C), 1: (C, D), 2: (D, C)...
    state = model.state
    policy = state.control_policy
    if not inside_step:  # what the step will set before the nations decide
        state.control_policy = holder_policy(model.world, state, model.econ)
    model._planned = None  # the allocation for this state (the step recomputes it too)
    try:
        utility = np.asarray(model.utilities(matrices), dtype=float)
        A, B = utility[:, i].reshape(2, 2), utility[:, j].reshape(2, 2)
    finally:
        state.control_policy = policy
        model._planned = None
    A.setflags(write=False)
    B.setflags(write=False)
    names = (model.names[i], model.names[j])
    spy = model.steps_per_year
    step = model.steps if inside_step else model.steps + 1
    year = model.spec.time.start_year + (step - 1) / spy
    barred = not bool(model.rules.may_cooperate[i, j])
    types = player_types(A, B)
    return StageGame(
        year=float(year), step=int(step), players=names, A=A, B=B,
        kind=classify(A, B, names), types=types,
        orders=(ordering(*_rst_p(A, True)), ordering(*_rst_p(B, False))),
        equilibria=tuple(equilibria(A, B)), barred=barred,
        law=_barring_law(model, names) if barred else None,
        note=_note(model, i, j, types, barred),
    )


def _barring_law(model, names: tuple[str, str]) -> str | None:
    lifted = model.regime.lifted_laws()
    for law in model.spec.laws:
        if model.laws.get(law.name) and law.name not in lifted and (
                any(set(pair) == set(names) for pair in law.bars)):
            return law.name
    return None


def _note(model, i: int, j: int, types: tuple[str, str], barred: bool) -> str | None:
    """Why nothing is at stake, for a game in which C and D are alike for both."""
    if types != (ALIKE, ALIKE):
        return None
    idle = [model.names[k] for k in (i, j) if model.state.capacity_t_per_yr[k] <= 0]
    if idle:
        return f"{' and '.join(idle)} {'has' if len(idle) == 1 else 'have'} no plants on the Moon yet"
    note = "racing wins neither of them anything at this step"
    return note if barred else note + ", and coordinating gains them nothing"


# --- along a run -------------------------------------------------------------------------------


def _scenario(scenario):
    if isinstance(scenario, str):
        from sim.scenario import load_scenario

        return load_scenario(scenario)
    return scenario


def _games(scenario, a, b, seed: int, wanted: set[int] | None, steps: int | None):
    """Step a model and yield the stage game of each wanted step (all if None), taken inside
    the step when the nations decide: after the step's events and the holder's policy."""
    from sim.model.model import LunarModel

    scenario = _scenario(scenario)
    model = LunarModel(scenario, rng=seed, steps=steps)
    if a is None and b is None:
        a, b = default_pair(model.names)
    elif a is None or b is None:
        raise UserError("name both nations of the pair, or neither (default: "
                        f"{' and '.join(default_pair(model.names))})")
    i, j = _index(model, a), _index(model, b)
    if i == j:
        raise UserError("a stage game needs two different nations")
    found: list[StageGame] = []
    decide = model.decide

    def deciding():
        if wanted is None or model.steps in wanted:
            found.append(_stage_game(model, i, j, inside_step=True))
        return decide()

    model.decide = deciding  # this model only: the hook evaluates, it changes nothing
    last = model.horizon if wanted is None else min(max(wanted), model.horizon)
    try:
        while model.running and model.steps < last:
            model.step()
            yield from found
            found.clear()
    finally:
        model.release()


def games_at(scenario, years: Iterable[float], a: str | int | None = None,
             b: str | int | None = None, seed: int = 0) -> list[StageGame]:
    """The stage games of a and b (default: the United States and China) at the steps under way
    at the given calendar years, in one run of ``scenario`` (a Scenario or a library name) with
    ``seed``: what ``lunarsim explore game`` prints."""
    scenario = _scenario(scenario)
    start, spy = scenario.time.start_year, scenario.time.steps_per_year
    steps = []
    for year in years:
        step = math.floor((float(year) - start) * spy + 1e-9) + 1
        if not 1 <= step <= scenario.steps:
            end = start + scenario.steps / spy
            raise UserError(f"year {year:g} is outside the run of {scenario.name} "
                            f"({start:g} to {end:g})")
        steps.append(step)
    if not steps:
        return []
    games = {g.step: g for g in _games(scenario, a, b, seed, set(steps), None)}
    return [games[step] for step in steps]


def game_path(scenario, a: str | int | None = None, b: str | int | None = None, seed: int = 0,
              every: int = 1, steps: int | None = None) -> pd.DataFrame:
    """The stage game of a and b (default: the United States and China) at every ``every``-th
    step of one run of ``scenario`` (a Scenario or a library name) with ``seed``, to its horizon
    (or ``steps``): one row per step with its ``step``, ``year`` (when it begins), the pair,
    the eight payoffs (``a_CD``: a's utility, USD bn this step, when a plays C and b plays D),
    the class, each player's type and order of payoffs, the equilibria as text, and whether a
    law bars the pair's coordination. The run itself is the one ``lunarsim run`` makes.
    """
    if every < 1:
        raise UserError(f"every must be at least 1, not {every}")
    scenario = _scenario(scenario)
    horizon = scenario.steps if steps is None else int(steps)
    wanted = set(range(1, horizon + 1, every)) | {horizon}
    return _frame(scenario, seed, _games(scenario, a, b, seed, wanted, steps))


def _frame(scenario, seed: int, games: Iterable[StageGame]) -> pd.DataFrame:
    rows = [{
        "scenario": scenario.name, "regime": scenario.regime.name, "seed": seed,
        "step": g.step, "year": g.year, "a": g.players[0], "b": g.players[1],
        **g.payoffs(), "class": g.kind, "type_a": g.types[0], "type_b": g.types[1],
        "order_a": g.orders[0], "order_b": g.orders[1],
        "equilibria": "; ".join(str(e) for e in g.equilibria), "barred": g.barred,
    } for g in games]
    frame = pd.DataFrame(rows)
    frame.attrs["step_years"] = 1.0 / scenario.time.steps_per_year
    return frame


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
    return text + "."


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
    return "\n".join(lines)


# --- figure -------------------------------------------------------------------------------------


def _runs(values: list[str]) -> list[tuple[int, int, str]]:
    """(first index, last index + 1, value) of each run of equal consecutive values."""
    out, start = [], 0
    for k in range(1, len(values) + 1):
        if k == len(values) or values[k] != values[start]:
            out.append((start, k, values[start]))
            start = k
    return out


def _colour(kind: str) -> str:
    return TYPE_COLOURS.get(kind, BOUNDARY_COLOUR)


def games_figure(paths: Mapping[str, pd.DataFrame], labels: Mapping[str, str] | None = None,
                 title: str | None = None) -> Figure:
    """The class of the stage game over the years, one horizontal band per scenario (the
    frames of :func:`game_path`, keyed by scenario). The upper half of each band is the type
    the first nation sees, the lower half the second's: a band of one colour is a symmetric
    game, of two an asymmetric one. ``labels`` names the bands (default: the key and regime)."""
    if not paths:
        raise UserError("no stage-game paths to draw")
    keys = list(paths)
    first = paths[keys[0]]
    pair = (first["a"].iloc[0], first["b"].iloc[0])
    for key in keys:
        frame = paths[key]
        if frame.empty:
            raise UserError(f"{key}: no stage games to draw")
        if (frame["a"].iloc[0], frame["b"].iloc[0]) != pair:
            raise UserError(f"{key}: another pair of nations than {pair[0]}–{pair[1]}")
    seen: list[str] = []
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11, 1.6 + 0.62 * len(keys)), constrained_layout=True)
        for row, key in enumerate(keys):
            frame = paths[key].sort_values("year")
            years = frame["year"].to_numpy(float)
            ends = np.append(years[1:], years[-1] + _width(frame))
            y = len(keys) - 1 - row
            for half, column in ((0.0, "type_a"), (-0.4, "type_b")):
                kinds = frame[column].tolist()
                for lo, hi, kind in _runs(kinds):
                    ax.broken_barh([(years[lo], ends[hi - 1] - years[lo])], (y + half, 0.4),
                                   facecolors=_colour(kind), edgecolors="none")
                    kind = kind if kind in TYPE_COLOURS else BOUNDARY_LABEL
                    if kind not in seen:
                        seen.append(kind)
        names = [(labels or {}).get(key) or _label(key, paths[key]) for key in keys]
        ax.set_yticks(range(len(keys)), names[::-1])
        ax.set_ylim(-0.7, len(keys) - 0.3)
        ax.grid(False)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("year (the step that begins then)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        spans = [(f["year"].min(), f["year"].max() + _width(f)) for f in paths.values()]
        ax.set_xlim(min(lo for lo, _ in spans), max(hi for _, hi in spans))
        order = list(TYPE_COLOURS)
        seen.sort(key=lambda k: (order.index(k) if k in order else len(order), k))
        handles = [Patch(facecolor=_colour(k), label=k) for k in seen]
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5),
                   fontsize=8, title="type of stage game", title_fontsize=8)
        seeds = sorted({int(f["seed"].iloc[0]) for f in paths.values() if "seed" in f})
        seed = f", seed {', '.join(map(str, seeds))}" if seeds else ""
        ax.set_title(title or f"The stage game {pair[0]}–{pair[1]} over the run{seed}\nupper "
                     f"half of each band: the game {pair[0]} sees; lower half: {pair[1]}'s")
    return fig


def _width(frame: pd.DataFrame) -> float:
    """Years one step lasts (the frame's note of it, or the shortest gap between its rows)."""
    if frame.attrs.get("step_years"):
        return float(frame.attrs["step_years"])
    years = np.sort(frame["year"].to_numpy(float))
    return float(np.diff(years).min()) if len(years) > 1 else 1.0


def _label(key: str, frame: pd.DataFrame) -> str:
    regime = frame["regime"].iloc[0] if "regime" in frame else None
    return key if regime in (None, key) else f"{key}\n({regime})"


# --- the report -------------------------------------------------------------------------------

def section_scenarios(results) -> tuple[dict, int, list[str]]:
    """What the report's stage-game section runs: (the scenarios, rebuilt, by name; the first
    replicate's seed; a note). No scenarios where they cannot be rebuilt exactly as they were
    run (a design varies them; a scenario file changed since, which the note says)."""
    from sim.experiment import load_experiment
    from sim.scenario import content_hash

    manifest = results.manifest
    if results.parameters or not manifest.get("experiment_file"):
        return {}, 0, []
    try:
        experiment = load_experiment(manifest["experiment_file"])
        built = {name: experiment.scenario(name, {}) for name in results.scenarios}
    except UserError:
        return {}, 0, []
    recorded = manifest.get("scenarios", {})
    if any(recorded.get(n, {}).get("sha256") != content_hash(s) for n, s in built.items()):
        return {}, 0, ["The stage game is not shown: a scenario file has changed since these runs."]
    first = next(iter(built.values()))
    if not set(DEFAULT_PAIR) <= {n.name for n in first.nations}:
        return {}, 0, []
    return built, int(manifest["seeds"][0][1]), []


def section_games(scenarios: dict, seed: int) -> dict[str, list[StageGame]]:
    """One run of each scenario on ``seed``: the stage game of the United States and China at
    every step (the section's slow part: ``compare`` computes it in a second process)."""
    return {name: list(_games(scenario, None, None, seed, None, None))
            for name, scenario in scenarios.items()}


def report_section(results, games: dict[str, list[StageGame]] | None = None
                   ) -> tuple[list[str], pd.DataFrame, Figure | None]:
    """The stage game of the United States and China under each scenario of a results folder,
    on the first replicate's seed: a paragraph per scenario (at the middle year shown), a table
    of the class at three years, and the class over the run as a figure. Empty where
    :func:`section_scenarios` finds nothing to run. ``games`` may pass in
    :func:`section_games`'s result for them."""
    built, seed, note = section_scenarios(results)
    if not built:
        return note, pd.DataFrame(), None
    if games is None:
        games = section_games(built, seed)
    first = next(iter(built.values()))
    start, span = first.time.start_year, first.time.horizon_years
    years = [round(start + k * span, 2) for k in (0.2, 0.6, 0.96)]  # 2031, 2041, 2050 in 25
    rows, words, paths = [], [], {}
    for name, scenario in built.items():  # one run each: every step's game
        paths[name] = _frame(scenario, seed, games[name])
        shown = [next(g for g in reversed(games[name]) if g.year <= year) for year in years]
        rows.append({"scenario": results.label(name)} | {
            f"{year:g}": f"{g.kind}: {', '.join(str(e) for e in g.equilibria)}"
            for year, g in zip(years, shown, strict=True)})
        words.append((results.label(name), describe(shown[len(shown) // 2])))
    alike: dict[str, list[str]] = {}  # scenarios whose game reads the same, said once
    for label, text in words:
        alike.setdefault(text, []).append(label)
    words = [f"{', '.join(labels)}: {text}" for text, labels in alike.items()]
    labels = {name: results.label(name) for name in paths}
    return words, pd.DataFrame(rows), games_figure(paths, labels)
