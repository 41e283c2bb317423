"""Figures. One style everywhere: the Okabe-Ito colour-blind-safe palette, labelled axes with
units, a colour for each nation of a run and a line style for each bloc."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only; no screen is needed
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

if TYPE_CHECKING:
    from sim.runner import RunResult

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour deficiency.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# One per nation: Okabe-Ito without its yellow (too pale for a thin line on white), then Tol's
# (2021) wine, olive and indigo and a grey: no two of the eleven alike (CIE76 distance >= 26).
NATION_COLOURS = [c for c in OKABE_ITO if c != "#F0E442"] + ["#882255", "#999933", "#332288",
                                                             "#999999"]
LINE_STYLES = ["-", "--", ":", "-."]  # one per bloc

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


def plot_run(result: RunResult, path: Path) -> Path:
    """Write :func:`run_figure` to ``path``."""
    fig = run_figure(result)
    with plt.rc_context(STYLE):
        fig.savefig(path, metadata=PNG_METADATA)
    plt.close(fig)
    return path


def run_figure(result: RunResult) -> Figure:
    """Six panels of one run: welfare by nation, cooperation, propellant, incidents,
    best-site depletion and rare-earth leverage, against the calendar year."""
    m, nat = result.model_series, result.nation_series
    played = m[m["step"] > 0]
    spy = result.scenario.time.steps_per_year
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 3, figsize=(13, 7.8), constrained_layout=True)
        ax = axes[0, 0]
        blocs = list(dict.fromkeys(nat["bloc"]))
        nations = sorted(nat.groupby("nation", observed=True, sort=False),  # bloc by bloc
                         key=lambda group: blocs.index(group[1]["bloc"].iloc[0]))
        for k, (name, rows) in enumerate(nations):
            bloc = rows["bloc"].iloc[0]
            style = LINE_STYLES[blocs.index(bloc) % len(LINE_STYLES)]
            ax.plot(rows["year"], rows["welfare_usd_bn"], style, lw=1.4,
                    color=NATION_COLOURS[k % len(NATION_COLOURS)], label=f"{name} ({bloc})")
        ax.set(title="Cumulative welfare by nation", xlabel="year", ylabel="USD bn")
        # below the figure, where it covers no line
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=8,
                   ncol=min(len(ax.get_lines()), 4),
                   title="Cumulative welfare by nation (line style: bloc)", title_fontsize=8)

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
        count_axis(ax)

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
    return fig


def count_axis(ax) -> None:
    """Whole-number ticks on the y axis of a count (no 2.5 incidents), which reaches 1 at least
    so that a run without any still shows 0 and 1."""
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(top=max(ax.get_ylim()[1], 1.0))


def _at_least(ax, values, span: float) -> None:
    """Give the y axis at least ``span`` units around the data, so tiny changes look tiny."""
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < span:
        mid = 0.5 * (lo + hi)
        ax.set_ylim(mid - span / 2, mid + span / 2)
