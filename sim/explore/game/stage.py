"""The stage game at a model's state (:func:`stage_game`) and along a run (:func:`game_path`,
:func:`games_at`): the four action pairs of two nations evaluated by the step's economics."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.base.arguments import whole_number
from sim.base.errors import BadType, BadValue, UserError
from sim.explore.game.classes import (
    ACTIONS,
    ALIKE,
    Equilibrium,
    _rst_p,
    classify,
    equilibria,
    ordering,
    player_types,
)
from sim.explore.game.linked import LinkedGame, linked_game

DEFAULT_PAIR = ("United States", "China")

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
    steps_per_year: int = 4
    # each player's (discount factor a year, belief now that the other plays tit for tat), for a
    # player whose rule weighs plans against beliefs (forward_looking); None for the others
    outlook: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None)
    linked: LinkedGame | None = None  # the two-arena game, for a pair the rare-earth arena pairs

    def payoffs(self) -> dict[str, float]:
        """The eight payoffs by name: ``a_CD`` is a's when a plays C and b plays D."""
        out = {}
        for who, M in (("a", self.A), ("b", self.B)):
            for i, j in itertools.product(range(2), range(2)):
                out[f"{who}_{ACTIONS[i]}{ACTIONS[j]}"] = float(M[i, j])
        return out


def _index(model, nation: str | int) -> int:
    if isinstance(nation, bool) or not isinstance(nation, str | int | np.integer):
        raise BadType(f"nation: expected a name or a number, got {nation!r}")
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
    one batched call of the four matrices, the rare-earth actions as at the last step. Events due at the start of the
    next step are not applied (that would change the model): :func:`game_path` and
    :func:`games_at` take the game inside the step, where they are. The model's course is not
    changed: the evaluation draws no random number.
    """
    if not all(hasattr(model, a) for a in ("names", "state", "utilities")):
        raise BadType(f"model: expected a LunarModel, got {type(model).__name__}")
    return _stage_game(model, _index(model, a), _index(model, b), inside_step=False)


def _stage_game(model, i: int, j: int, inside_step: bool) -> StageGame:
    if i == j:
        raise UserError("a stage game needs two different nations")
    n = len(model.names)
    base = np.ones((n, n), dtype=bool) if model.last_actions is None else model.last_actions
    matrices = np.repeat(np.array(base, dtype=bool)[None], 4, axis=0)
    for k, (x, y) in enumerate(itertools.product((True, False), repeat=2)):
        matrices[k, i, j], matrices[k, j, i] = x, y  # k = 0: (C, C), 1: (C, D), 2: (D, C)...
    model.state_changed()  # evaluated for the state as it is now
    try:
        utility = np.asarray(model.utilities(matrices), dtype=float)
        A, B = utility[:, i].reshape(2, 2), utility[:, j].reshape(2, 2)
    finally:
        model.state_changed()
    A.setflags(write=False)
    B.setflags(write=False)
    holder = model.world.leverage_holder
    linked = linked_game(model, i, j) if holder in (i, j) else None
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
        note=_note(model, i, j, types, barred), steps_per_year=spy,
        outlook=(_outlook(model, i, j), _outlook(model, j, i)), linked=linked,
    )


def _outlook(model, i: int, j: int) -> tuple[float, float] | None:
    """Nation i's discount factor a year and its belief now that j plays tit for tat, if its
    rule weighs plans against beliefs over types."""
    rule = model.nation_list[i].strategy
    if not hasattr(rule, "beliefs") or not hasattr(rule.params, "discount_per_year"):
        return None
    return float(rule.params.discount_per_year), float(rule.beliefs()[j, 1])


def _barring_law(model, names: tuple[str, str]) -> str | None:
    """The law in force that bars the pair (one the regime does not lift first; a law the
    multilateral regime lifts still bars a pair that is not two members)."""
    lifted = model.regime.lifted_laws()
    barring = [law.name for law in model.spec.laws if model.laws.get(law.name)
               and any(set(pair) == set(names) for pair in law.bars)]
    return next((law for law in barring if law not in lifted), barring[0] if barring else None)


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
    from sim.scenario import Scenario, load_scenario

    if isinstance(scenario, str):
        return load_scenario(scenario)
    if not isinstance(scenario, Scenario):
        raise BadType(f"scenario: expected a Scenario or a library name, got "
                      f"{type(scenario).__name__}")
    return scenario


def _games(scenario, a, b, seed: int, wanted: set[int] | None, steps: int | None):
    """Step a model and yield the stage game of each wanted step (all if None), taken inside
    the step when the nations decide: after the step's events."""
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
    seed = whole_number(seed, "seed", low=0)
    if isinstance(years, str) or not isinstance(years, Iterable):
        raise BadType(f"years: expected a list of years, got {type(years).__name__}")
    start, spy = scenario.time.start_year, scenario.time.steps_per_year
    end = start + scenario.steps / spy
    last = start + (scenario.steps - 1) / spy  # when the last step begins
    steps = []
    for year in years:
        if isinstance(year, bool) or not isinstance(year, int | float | np.integer | np.floating):
            raise BadType(f"year {year!r}: expected a number")
        if not math.isfinite(year):
            raise BadValue(f"year {year}: expected a finite year")
        step = 0 if not start <= year < end else math.floor((year - start) * spy + 1e-9) + 1
        if not 1 <= step <= scenario.steps:
            raise BadValue(f"year {year:g} is outside the run of {scenario.name} (its steps begin "
                           f"from {start:g} to {last:g})")
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
    every = whole_number(every, "every", low=1)
    seed = whole_number(seed, "seed", low=0)
    scenario = _scenario(scenario)
    horizon = scenario.steps_to_run(steps)
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
