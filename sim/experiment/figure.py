"""The figure of one run: six panels against the calendar year, drawn from the run's tables
(the model's series, one row per step; the nations' series, one row per step and nation)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from sim.base.style import LINE_STYLES, NATION_COLOURS, PNG_METADATA, STYLE, at_least, count_axis


def plot_run(model: pd.DataFrame, nations: pd.DataFrame, steps_per_year: int, title: str,
             path: Path) -> Path:
    """Write :func:`run_figure` to ``path``."""
    fig = run_figure(model, nations, steps_per_year, title)
    with plt.rc_context(STYLE):
        fig.savefig(path, metadata=PNG_METADATA)
    plt.close(fig)
    return path


def run_figure(model: pd.DataFrame, nations: pd.DataFrame, steps_per_year: int,
               title: str) -> Figure:
    """Six panels of one run: welfare by nation, cooperation, propellant, incidents,
    best-site depletion and rare-earth leverage, against the calendar year."""
    m, nat = model, nations
    played = m[m["step"] > 0]
    spy = steps_per_year
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
        at_least(ax, leverage, span=5.0)  # hundredths of a point should not look like a collapse

        fig.suptitle(title, fontsize=11)
    return fig
