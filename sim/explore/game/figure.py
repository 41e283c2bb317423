"""The class of the stage game over the years, one band per scenario (:func:`games_figure`)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")  # files only; no screen is needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from sim.base.errors import UserError  # noqa: E402
from sim.base.style import STYLE  # noqa: E402
from sim.explore.game.classes import (  # noqa: E402
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
)

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
