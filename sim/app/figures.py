"""The interactive page's figures, drawn from a :class:`sim.app.session.Session` at its step.

Built as bare ``Figure`` objects (not pyplot's), so that a server drawing for many pages keeps
no figure alive once the page has shown it.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from sim.analysis.results import scenario_styles
from sim.app.session import Session, Side
from sim.base.style import NATION_COLOURS, STYLE, count_axis

SIDE_STYLES = ("-", "--")  # the first scenario solid, the one compared with it dashed
MOON_RADIUS_KM = 1737.4


def over_time(session: Session) -> Figure:
    """Welfare, cooperation, the rare-earth price and the holder's leverage, step by step, for
    each scenario (the second dashed), on one x axis of calendar years."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(10, 5.6), layout="constrained")
        axes = fig.subplots(2, 3)
        panels = [
            ("welfare_total_usd_bn", "Total welfare (cumulative)", "USD bn", 1.0, False),
            ("cooperation_rate", "Cooperation (share of C actions)", "share", 1.0, True),
            ("incidents", "Incidents (cumulative)", "count", 1.0, True),
            ("ree_price_usd_per_kg", "Rare-earth price", "USD/kg", 1.0, False),
            ("leverage_index", "Rare-earth leverage (holder's share)", "% of refining", 100.0, False),
            ("best_site_depletion", "Best ice sites used", "% of reserve", 100.0, False),
        ]
        for ax, (column, title, unit, scale, played_only) in zip(axes.flat, panels, strict=True):
            for k, side in enumerate(session.sides):
                m = side.result.model_columns
                first = 1 if played_only else 0
                values = m[column][first:] * scale
                if column == "incidents":
                    values = np.cumsum(values)
                ax.plot(m["year"][first:], values, SIDE_STYLES[k], color="#000000" if k == 0
                        else "#D55E00", lw=1.5, label=_label(side.name))
            ax.set(title=title, ylabel=unit)
            if column == "incidents":
                count_axis(ax)
            if column == "cooperation_rate":
                ax.set_ylim(-0.02, 1.02)
            ax.set_xlim(*_years(session))
        for ax in axes[1]:
            ax.set_xlabel("year")
        fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center",
                   ncol=2, fontsize=9)
    return fig


def _years(session: Session) -> tuple[float, float]:
    t = session.sides[0].model.spec.time
    return t.start_year, t.start_year + session.horizon / t.steps_per_year


def cooperation_matrix(side: Side) -> Figure:
    """Who cooperates with whom: the share of steps so far in which each nation (row) played C
    toward each other (column)."""
    share = side.result.pair_share
    names = [_short(n) for n in side.result.names]
    n = len(names)
    with matplotlib.rc_context(STYLE):
        size = 2.2 + 0.32 * n
        fig = Figure(figsize=(size + 1.2, size), layout="constrained")
        ax = fig.subplots()
        image = ax.imshow(share if side.model.steps else np.full_like(share, np.nan), vmin=0.0,
                          vmax=1.0, cmap="viridis")
        if not side.model.steps:
            ax.text(0.5, 0.5, "no step played yet", transform=ax.transAxes, ha="center")
        ax.set_xticks(range(n), names, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(n), names, fontsize=8)
        ax.grid(False)
        ax.set_xlabel("toward")
        ax.set_title(f"{_label(side.name)}: who cooperates with whom\n(share of steps with C)")
        fig.colorbar(image, ax=ax, shrink=0.8, label="share of steps")
    return fig


def _short(name: str) -> str:
    return {"United States": "US", "United Kingdom": "UK",
            "United Arab Emirates": "UAE"}.get(name, name)


def site_map(side: Side) -> Figure:
    """The south-pole ice sites on a polar stereographic map (km from the pole), each a pie of
    who works it (extraction capacity placed there this step, by nation) with the reserve left."""
    model = side.model
    sites = [s for s in model.spec.sites if s.kind == "ice"]
    index = [k for k, s in enumerate(model.spec.sites) if s.kind == "ice"]
    xy = np.array([_stereographic(s.lat, s.lon) for s in sites]).reshape(-1, 2)
    # allocation: each nation's share of its capacity at each site
    work_t = (model.state.capacity_t_per_yr[:, None] * model.state.allocation)[:, index]
    left = model.state.reserve_t[index] / np.maximum(model.world.initial_reserve_t[index], 1e-12)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(6.4, 5.6), layout="constrained")
        ax = fig.subplots()
        ax.set_aspect("equal")
        span = max(float(np.abs(xy).max()) if len(xy) else 1.0, 10.0) * 1.25
        radius = span * 0.09
        for ring_deg in (1, 2, 3, 4, 5, 6):
            r = np.hypot(*_stereographic(-90.0 + ring_deg, 0.0))
            if r < span:
                ax.add_patch(matplotlib.patches.Circle((0, 0), r, fill=False, lw=0.5,
                                                       color="#bbbbbb"))
                ax.annotate(f"{90 - ring_deg}°S", (r * 0.7071, -r * 0.7071), fontsize=7,
                            color="#888888", ha="left", va="top")
        ax.plot([0], [0], "+", color="#888888")
        used = set()
        for j, site in enumerate(sites):
            x, y = xy[j]
            work = work_t[:, j]
            ax.add_patch(matplotlib.patches.Circle((x, y), radius, fill=False, lw=0.8,
                                                   color="#555555"))
            if work.sum() > 0:
                ax.pie(work, colors=[NATION_COLOURS[i % len(NATION_COLOURS)]
                                     for i in range(len(work))],
                       center=(x, y), radius=radius * 0.95, frame=True,
                       wedgeprops={"linewidth": 0.3, "edgecolor": "white"})
                used.update(int(i) for i in np.nonzero(work)[0])
            ax.annotate(f"{site.name}\n{left[j]:.0%} left", (x, y - radius * 1.1), ha="center",
                        va="top", fontsize=7)
        ax.set(xlim=(-span, span), ylim=(-span, span), xlabel="km (0° longitude up)",
               ylabel="km", title=f"{_label(side.name)}: who works which ice site, "
                                 f"{model.year:g}")
        handles = [matplotlib.patches.Patch(color=NATION_COLOURS[i % len(NATION_COLOURS)],
                                            label=model.names[i]) for i in sorted(used)]
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
        else:
            ax.text(0.5, 0.02, "no site is worked yet", transform=ax.transAxes, ha="center",
                    fontsize=8, color="#555555")
    return fig


def _stereographic(lat: float, lon: float) -> tuple[float, float]:
    """Polar stereographic coordinates in km about the south pole (0° longitude up)."""
    r = 2 * MOON_RADIUS_KM * np.tan(np.radians(90.0 + lat) / 2)
    return float(r * np.sin(np.radians(lon))), float(r * np.cos(np.radians(lon)))


def _label(scenario: str) -> str:
    """A scenario as the report names it ("US-China cooperation", not its file's name)."""
    return scenario_styles([scenario])[scenario][0]
