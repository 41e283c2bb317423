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

The package: the game's class and equilibria, a matter of four numbers per player
(:mod:`.classes`); the game at a model's state and along a run (:mod:`.stage`); the game in
words (:mod:`.words`) and its figure (:mod:`.figure`). The report's section on it is
:mod:`sim.report.games`.

Conventions. Rows are the first nation's (a's) action, columns the second's (b's), C first:
``A[i, j]`` is a's utility and ``B[i, j]`` b's when a plays i and b plays j. From each player's
own side, R = both C, S = I play C and the other D, T = I play D and the other C, P = both D.
"""

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
    Equilibrium,
    classify,
    equilibria,
    ordering,
    player_type,
    player_types,
)
from sim.explore.game.figure import TYPE_COLOURS, games_figure
from sim.explore.game.stage import (
    DEFAULT_PAIR,
    StageGame,
    default_pair,
    game_path,
    games_at,
    stage_game,
)
from sim.explore.game.words import describe, format_game

__all__ = ["ACTIONS", "ALIKE", "ANTI_COORDINATION", "CHICKEN", "COORDINATION", "DEADLOCK",
           "DEFAULT_PAIR", "HARMONY", "HERO", "LEADER", "PD", "REVERSED", "STAG_HUNT",
           "TYPE_COLOURS", "Equilibrium", "StageGame", "classify", "default_pair", "describe",
           "equilibria", "format_game", "game_path", "games_at", "games_figure", "ordering",
           "player_type", "player_types", "stage_game"]
