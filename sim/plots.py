"""Figures. One style everywhere: the Okabe-Ito colour-blind-safe palette, labelled axes with
units, and colours that mean the same thing in every figure (blocs here; regimes later)."""

from __future__ import annotations

from itertools import cycle
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only; no screen is needed
import matplotlib.pyplot as plt  # noqa: E402

if TYPE_CHECKING:
    from sim.runner import RunResult

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour deficiency.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
BLOC_COLOURS = {"artemis": "#0072B2", "ilrs": "#D55E00", "nonaligned": "#009E73"}
LINE_STYLES = ["-", "--", ":", "-."]

# Marks every PNG as lunarsim's (see sim.io.check_replaceable_file): the Software text chunk.
PNG_METADATA = {"Software": f"lunarsim (matplotlib {matplotlib.__version__})"}
STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "text.parse_math": False,  # names and labels are drawn literally: "$" is not mathtext
}


def bloc_colour(bloc: str, others: dict[str, str]) -> str:
    if bloc not in BLOC_COLOURS and bloc not in others:
        spare = [c for c in OKABE_ITO if c not in BLOC_COLOURS.values() and c not in others.values()]
        others[bloc] = spare[0] if spare else "#777777"
    return BLOC_COLOURS.get(bloc) or others[bloc]


def plot_run(result: RunResult, path: Path) -> Path:
    """Six panels of one run: welfare by nation, cooperation, propellant, incidents,
    best-site depletion and rare-earth leverage, against the calendar year."""
    m, nat = result.model_series, result.nation_series
    played = m[m["step"] > 0]
    spy = result.scenario.time.steps_per_year
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
        ax = axes[0, 0]
        extra: dict[str, str] = {}
        styles: dict[str, cycle] = {}
        for name, rows in nat.groupby("nation", observed=True, sort=False):
            bloc = rows["bloc"].iloc[0]
            style = next(styles.setdefault(bloc, cycle(LINE_STYLES)))
            ax.plot(rows["year"], rows["welfare_usd_bn"], style, color=bloc_colour(bloc, extra),
                    label=f"{name} ({bloc})", lw=1.4)
        ax.set(title="Cumulative welfare by nation", xlabel="year", ylabel="USD bn")
        ax.legend(fontsize=7, ncol=1, loc="upper left")

        ax = axes[0, 1]
        for col, label, colour in [
            ("cooperation_rate", "all pairs", "#000000"),
            ("cooperation_within_blocs", "within blocs", "#0072B2"),
            ("cooperation_across_blocs", "across blocs", "#D55E00"),
        ]:
            ax.plot(played["year"], played[col], color=colour, label=label, lw=1.4)
        ax.set(title="Cooperation (share of C actions)", xlabel="year", ylabel="share", ylim=(-0.02, 1.02))
        ax.legend(fontsize=8)

        ax = axes[0, 2]
        ax.plot(played["year"], played["propellant_step_t"] * spy, color="#009E73", lw=1.4)
        ax.set(title="Propellant made", xlabel="year", ylabel="t per year")

        ax = axes[1, 0]
        ax.plot(played["year"], played["incidents"].cumsum(), color="#D55E00", lw=1.4)
        ax.set(title="Incidents between operators", xlabel="year", ylabel="cumulative count")

        ax = axes[1, 1]
        ax.plot(m["year"], 100 * m["best_site_depletion"], color="#CC79A7", lw=1.4, label="best ice sites")
        ax.plot(m["year"], 100 * m["ice_depletion"], color="#56B4E9", lw=1.4, ls="--", label="all ice sites")
        ax.set(title="Reserves used", xlabel="year", ylabel="% of initial reserve")
        ax.legend(fontsize=8)

        ax = axes[1, 2]
        leverage = 100 * m["leverage_index"]
        ax.plot(m["year"], leverage, color="#E69F00", lw=1.4)
        ax.set(title="Rare-earth leverage (holder's share of refining)", xlabel="year",
               ylabel="% of refined world supply")
        _at_least(ax, leverage, span=5.0)  # hundredths of a point should not look like a collapse

        fig.suptitle(f"Scenario {result.scenario.name}, seed {result.seed}", fontsize=11)
        fig.savefig(path, metadata=PNG_METADATA)
        plt.close(fig)
    return path


def _at_least(ax, values, span: float) -> None:
    """Give the y axis at least ``span`` units around the data, so tiny changes look tiny."""
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < span:
        mid = 0.5 * (lo + hi)
        ax.set_ylim(mid - span / 2, mid + span / 2)
