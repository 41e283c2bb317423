"""The comparison's figures. Each function takes :class:`Results` and returns a matplotlib
``Figure``; :data:`FIGURES` names them for ``lunarsim plot --kind``. Scenarios keep their
colour and their name in words everywhere; axes carry units."""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from sim.analysis.outcomes import OUTCOMES, REE_OUTCOMES, name_holder  # noqa: E402
from sim.analysis.results import Results  # noqa: E402
from sim.analysis.stats import PAIR_KEYS, paired  # noqa: E402
from sim.base.columns import SUFFIX  # noqa: E402
from sim.base.errors import UserError  # noqa: E402
from sim.base.style import PNG_METADATA, STYLE, count_axis  # noqa: E402

# (column of series_model, title, unit, scale, transform) for the time-series panels
SERIES = [
    ("welfare_total_usd_bn", "Cumulative welfare, all nations", "USD bn", 1.0, None),
    ("cooperation_rate", "Cooperation", "share of actions that are C", 1.0, None),
    ("incidents", "Incidents so far", "count", 1.0, "cumsum"),
    ("propellant_step_t", "Propellant made", "t per year", None, None),
    ("best_site_depletion", "Best ice sites used", "% of initial reserve", 100.0, None),
    ("leverage_index", "{Holder_s} rare-earth leverage", "% of refined world supply", 100.0, None),
]


def _bands(results: Results, column: str, scale: float | None, transform: str | None) -> pd.DataFrame:
    """Median and quartiles over runs, per scenario and year."""
    if results.series_model.empty:
        raise UserError(f"{results.folder}: no per-step series to draw (the batch kept none: "
                        "--series none)")
    s = results.series_model[["run", "step", "year", column]].copy()
    s = s[s["step"] > 0]
    if transform == "cumsum":
        s[column] = s.groupby("run")[column].cumsum()
    if scale is None:  # a per-step flow, shown per year
        s[column] *= _steps_per_year(s)
    else:
        s[column] *= scale
    s["scenario"] = s["run"].map(results.runs.set_index("run")["scenario"])
    q = s.groupby(["scenario", "year"])[column].quantile([0.25, 0.5, 0.75]).unstack()
    return q.reset_index()


def _steps_per_year(s: pd.DataFrame) -> float:
    years = np.sort(s["year"].unique())
    return 1.0 / (years[1] - years[0]) if years.size > 1 else 1.0


def _band_panel(ax, results: Results, column: str, title: str, unit: str, scale, transform) -> None:
    title = name_holder(title, results.holder)
    q = _bands(results, column, scale, transform)
    for scenario in results.scenarios:
        rows = q[q["scenario"] == scenario]
        colour = results.colour(scenario)
        ax.fill_between(rows["year"], rows[0.25], rows[0.75], color=colour, alpha=0.18, lw=0)
        ax.plot(rows["year"], rows[0.5], color=colour, lw=1.6, label=results.label(scenario))
    medians = q.pivot(index="year", columns="scenario", values=0.5)
    if medians.shape[1] > 1 and np.allclose(medians.to_numpy(), medians.iloc[:, :1].to_numpy()):
        ax.text(0.02, 0.93, "all scenarios coincide", transform=ax.transAxes, fontsize=8,
                color="#444444")  # otherwise only the last colour drawn would show
    ax.set(title=title, xlabel="year", ylabel=unit)
    ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))  # calendar years, not 2026.25
    if unit == "count":
        count_axis(ax)


def timeseries(results: Results) -> Figure:
    """Key outcomes over time: median over runs (line) and interquartile range (band)."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), constrained_layout=True)
        for ax, spec in zip(axes.flat, SERIES, strict=True):
            _band_panel(ax, results, *spec)
        _legend_below(fig, axes.flat[0])
        fig.suptitle(f"{results.name}: median and interquartile range over {_pooled(results)}",
                     fontsize=11)
    return fig


REE_SERIES = [
    ("leverage_index", "{Holder_s} rare-earth leverage", "% of refined world supply", 100.0, None),
    ("importer_dependence", "Importers' use met by {holder}", "% of what they use", 100.0, None),
    ("ree_price_usd_per_kg", "Magnet rare-earth oxide price", "USD per kg", 1.0, None),
    ("export_control_targets", "Nations under {holder_s} export controls", "count", 1.0, None),
]
# The smallest spread between scenarios worth a figure (as the outcomes' negligible differences)
REE_SPREAD = {"leverage_index": 0.005, "importer_dependence": 0.005,
              "ree_price_usd_per_kg": 0.5, "export_control_targets": 0.5}


def rare_earths_differ(results: Results) -> bool:
    """Whether any rare-earth series differs between scenarios, by more than a negligible
    amount, on some seed, design point and step (if not, the report says so in one line
    instead of drawing coinciding lines)."""
    columns = [c for c, *_ in REE_SERIES if c in results.series_model.columns]
    if results.series_model.empty or not columns:
        return False
    s = results.series_model[["run", "step", *columns]].copy()
    runs = results.runs.set_index("run")
    s["point"], s["replicate"] = s["run"].map(runs["point"]), s["run"].map(runs["replicate"])
    grouped = s.groupby(["point", "replicate", "step"])[columns]
    spread = grouped.max() - grouped.min()
    return bool((spread > pd.Series(REE_SPREAD)[columns]).to_numpy().any())


def leverage(results: Results) -> Figure:
    """The holder's rare-earth leverage, the importers' dependence, the price and the nations
    its controls hit, over time."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 2, figsize=(12, 8.4), constrained_layout=True)
        for ax, spec in zip(axes.flat, REE_SERIES, strict=True):
            _band_panel(ax, results, *spec)
        _legend_below(fig, axes[1, 0])
    return fig


def differences(results: Results, reference: str | None = None) -> Figure:
    """Distributions of the paired differences from the reference, one per seed and design
    point."""
    ref = results.reference(reference)
    others = [s for s in results.scenarios if s != ref]
    if not others:
        raise UserError(f"{results.folder}: only {ref!r} has finished runs; differences need "
                        "two scenarios with runs")
    key = [o.naming(results.holder) for o in OUTCOMES if o.key]
    with plt.rc_context(STYLE):
        rows = int(np.ceil(len(key) / 4))
        fig, axes = plt.subplots(rows, 4, figsize=(14, 3.25 * rows), constrained_layout=True,
                                 squeeze=False)
        for ax, outcome in zip(axes.flat, key, strict=False):
            values = outcome.values(results.runs, results.nations)
            share = outcome.unit.startswith("share")  # shares as percentage points, as in the table
            unit = "percentage points" if share else outcome.unit
            data = [paired(results.runs, values, s, ref)["difference"].to_numpy() * (100 if share else 1)
                    for s in others]
            data = [d[np.isfinite(d)] for d in data]  # undefined where nothing was brought
            if not any(d.size for d in data):
                ax.text(0.5, 0.5, "not defined in these runs", transform=ax.transAxes,
                        ha="center", va="center", color="#666666")
            positions = np.arange(len(others))
            parts = ax.boxplot(data, positions=positions, orientation="horizontal", widths=0.55,
                               patch_artist=True, showfliers=False,
                               medianprops={"color": "black", "lw": 1.8})  # seen on every box
            for patch, s in zip(parts["boxes"], others, strict=True):
                patch.set(facecolor=results.colour(s), alpha=0.45)
            jitter = np.random.default_rng(0)  # fixed: the same figure every time
            for k, d in enumerate(data):
                ax.scatter(d, k + jitter.uniform(-0.15, 0.15, d.size), s=7,
                           color=results.colour(others[k]), alpha=0.8, lw=0)
            ax.axvline(0, color="#444444", lw=0.8)
            count = outcome.unit == "count"
            _at_least(ax, 1.0 if count else outcome.negligible * (100 if share else 1) / 10)
            _plain_ticks(ax.xaxis, integer=count)
            ax.set_yticks(positions, [results.label(s) for s in others], fontsize=7.5)
            better = ("" if not outcome.judged else "\n(higher is better)"
                      if outcome.higher_is_better else "\n(lower is better)")
            ax.set(title=f"{outcome.label}{better}", xlabel=f"difference, {unit}")
        for ax in list(axes.flat)[len(key):]:
            ax.set_visible(False)
        per = "run (seed and design point)" if results.parameters else "seed"
        fig.suptitle(f"Paired differences from {results.label(ref)} over {_pooled(results)}, "
                     f"one point per {per}", fontsize=11)
    return fig


def nations(results: Results) -> Figure:
    """Each nation's cumulative welfare by scenario: mean over runs and the 5-95 % range, one
    panel per nation (each on its own scale: the powers' welfare would hide the others')."""
    table = results.nations.assign(
        scenario=results.nations["run"].map(results.runs.set_index("run")["scenario"]))
    order = results.nation_order
    stats = table.groupby(["nation", "scenario"])["welfare_usd_bn"].agg(
        mean="mean", low=lambda x: x.quantile(0.05), high=lambda x: x.quantile(0.95))
    cols = 4
    rows = int(np.ceil(len(order) / cols))
    y = np.arange(len(results.scenarios))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(14, 2.1 * rows + 1), squeeze=False,
                                 constrained_layout=True)
        for ax, nation in zip(axes.flat, order, strict=False):
            st = stats.loc[nation].reindex(results.scenarios)
            for k, scenario in enumerate(results.scenarios):
                ax.errorbar(st["mean"].iloc[k], y[k], xerr=[[st["mean"].iloc[k] - st["low"].iloc[k]],
                                                            [st["high"].iloc[k] - st["mean"].iloc[k]]],
                            fmt="o", ms=4, lw=1.2, color=results.colour(scenario),
                            label=results.label(scenario))
            ax.axvline(0, color="#444444", lw=0.6)
            first = ax.get_subplotspec().is_first_col()  # the scenarios named once per row
            ax.set_yticks(y, [results.label(s) for s in results.scenarios] if first else [],
                          fontsize=8)
            ax.set_ylim(-0.7, len(y) - 0.3)
            ax.invert_yaxis()
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.set(title=nation, xlabel="USD bn")
        for ax in list(axes.flat)[len(order):]:
            ax.set_visible(False)
        _legend_below(fig, axes.flat[0])
        fig.suptitle("Cumulative welfare by nation: mean (dot) and 5-95 % range over "
                     f"{_pooled(results)}", fontsize=11)
    return fig


def cooperation(results: Results) -> Figure:
    """Who cooperates with whom: share of steps in which the row nation played C toward the
    column nation, averaged over runs, one matrix per scenario."""
    pairs = results.pairs.assign(
        scenario=results.pairs["run"].map(results.runs.set_index("run")["scenario"]))
    order = results.nation_order
    n = len(results.scenarios)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.8 * rows + 0.6), squeeze=False,
                                 layout="compressed")  # square panels, titles kept inside
        image = None
        for ax, scenario in zip(axes.flat, results.scenarios, strict=False):
            m = (pairs[pairs["scenario"] == scenario]
                 .groupby(["nation", "toward"])["cooperation"].mean().unstack()
                 .reindex(index=order, columns=order))
            image = ax.imshow(m.to_numpy(dtype=float), vmin=0, vmax=1, cmap="cividis")
            ax.set_xticks(range(len(order)), [_short(o) for o in order], rotation=90, fontsize=7)
            ax.set_yticks(range(len(order)), [_short(o) for o in order], fontsize=7)
            ax.set(title=results.label(scenario), xlabel="toward", ylabel="from")
            ax.grid(False)
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        fig.colorbar(image, ax=axes, shrink=0.7, label="share of steps playing C")
        fig.suptitle("Cooperation: share of steps in which the nation of the row (from) played C "
                     f"toward the nation of the column,\nmean over {_pooled(results)}", fontsize=11)
    return fig


def swept_numbers(results: Results) -> list[str]:
    """The design's parameters that take numbers (a sweep may also list names)."""
    runs = results.runs
    return [p for p in results.parameters if p in runs.columns and _numeric(runs[p])]


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def heatmap(results: Results, reference: str | None = None,
            outcome: str = "welfare_total_usd_bn") -> Figure:
    """How each scenario differs from the reference over a two-parameter sweep: the mean paired
    difference of an outcome at each design point, one panel per scenario, 0 in white."""
    swept = swept_numbers(results)
    if len(swept) < 2:
        raise UserError(f"{results.folder}: a heatmap needs a sweep of two numeric parameters "
                        f"(this experiment varies {len(swept)})")
    if outcome not in results.runs.columns or not _numeric(results.runs[outcome]) \
            or outcome in ("run", "point", "replicate", "seed"):
        raise UserError(f"--outcome: {outcome!r} is not an outcome column of the run table")
    ref = results.reference(reference)
    others = [s for s in results.scenarios if s != ref]
    if not others:
        raise UserError(f"{results.folder}: only {ref!r} has finished runs; a heatmap of "
                        "differences needs two scenarios with runs")
    x, y = swept[:2]
    known = next((o for o in OUTCOMES + REE_OUTCOMES if o.name == outcome), None)
    if known is not None:
        label, unit = known.naming(results.holder).label, known.unit
    else:
        label, unit = outcome, _unit(results.runs[outcome])
    share = unit.startswith("share")  # shares as percentage points, as in the table
    scale, unit = (100.0, "percentage points") if share else (1.0, unit)
    design = results.runs.drop_duplicates("point").set_index("point")[[x, y]]
    values = results.runs.set_index("run")[outcome] * scale
    grids = {}
    for s in others:
        pair = paired(results.runs, values, s, ref).join(design, on="point")
        grids[s] = pair.pivot_table(index=y, columns=x, values="difference")
    per_cell = len(design) // (design[x].nunique() * design[y].nunique())
    seeds = results.runs["replicate"].nunique()
    over = (_count(seeds, "seed") if per_cell == 1 else
            f"{seeds * per_cell} runs ({_count(seeds, 'seed')} × "
            f"{_count(per_cell, 'design point')} of the same {results.parameters[x]} and "
            f"{results.parameters[y]})")
    # symmetric about 0, and no narrower than a difference that matters
    lim = max(max(np.nanmax(np.abs(g.to_numpy())) for g in grids.values()),
              known.negligible * scale if known else 0.0) or 1.0
    judged = known is not None and known.judged  # else the change is not called better
    better = "" if not judged else (" (higher is better)" if known.higher_is_better
                                    else " (lower is better)")
    cmap = plt.get_cmap("PuOr" if not judged else "RdBu" if known.higher_is_better
                        else "RdBu_r")  # blue: better
    decimals = max(0, 2 - int(np.floor(np.log10(lim))))  # three figures of the largest
    n = len(others)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, n, figsize=(4.6 * n + 1.4, 4.6), squeeze=False,
                                 constrained_layout=True)
        image = None
        for ax, (scenario, grid) in zip(axes.flat, grids.items(), strict=True):
            image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap=cmap,
                              vmin=-lim, vmax=lim)
            ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
            ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
            for (r, c), v in np.ndenumerate(grid.to_numpy()):  # the number, not only the colour
                if np.isfinite(v):
                    ax.text(c, r, _fixed(v, decimals), ha="center", va="center", fontsize=8,
                            color=_ink(cmap(image.norm(v))))
            ax.set(title=f"{results.label(scenario)} − {results.label(ref)}",
                   xlabel=parameter_label(results.parameters[x]),
                   ylabel=parameter_label(results.parameters[y]))
            ax.grid(False)
        fig.colorbar(image, ax=axes, shrink=0.85,
                     label=f"difference, {unit}{better}" if unit else f"difference{better}")
        fig.suptitle(f"{label}: mean paired difference from {results.label(ref)}\nat each design "
                     f"point, over {over}", fontsize=11)
    return fig


def _unit(column: pd.Series) -> str:
    """A run-table column's unit from its name's suffix (sim/base/columns.py); counts are integers."""
    for unit, suffix in sorted(SUFFIX.items(), key=lambda item: -len(item[1])):
        if column.name.endswith(suffix):
            return unit
    return "count" if pd.api.types.is_integer_dtype(column) else ""


def _ink(background) -> str:
    """Black or white, whichever reads better on ``background`` (RGBA)."""
    r, g, b = background[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def parameter_label(path: str) -> str:
    """A design parameter in words, with its path (as the experiment file names it)."""
    from sim.scenario.calibration import find

    found = find(path)
    return f"{found.label} ({path})" if found else path


def _short(name: str) -> str:
    return {"United States": "US", "United Kingdom": "UK", "United Arab Emirates": "UAE"}.get(name, name)


def _legend_below(fig: Figure, ax) -> None:
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 5), fontsize=9)


def _pooled(results: Results) -> str:
    """What a statistic over a scenario's runs pools: "5 seeds", or with a design "60 runs
    (5 seeds × 12 design points)"."""
    seeds = _count(results.runs["replicate"].nunique(), "seed")
    if not results.parameters:
        return seeds
    runs = len(results.runs[PAIR_KEYS].drop_duplicates())
    return f"{runs} runs ({seeds} × {_count(results.runs['point'].nunique(), 'design point')})"


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _at_least(ax, span: float) -> None:
    """Let the x axis reach at least ``span`` either side of 0 (a tenth of the smallest
    difference that matters, or one of a count), so that rounding noise does not fill the panel
    and a count has whole numbers to tick."""
    lo, hi = ax.get_xlim()
    if hi - lo < 2 * span:
        ax.set_xlim(min(lo, -span), max(hi, span))


def _plain_ticks(axis, integer: bool = False) -> None:
    """Ticks at round numbers, written out with the decimals they need: 2,000 rather than
    2e+03, 0.25 rather than 2.5e-01, and no offset above the axis."""
    axis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10], integer=integer))

    def label(value: float, _position) -> str:
        ticks = axis.get_majorticklocs()
        return _fixed(value, _decimals(np.diff(ticks).min() if len(ticks) > 1 else 1.0))

    axis.set_major_formatter(FuncFormatter(label))


def _decimals(step: float) -> int:
    """The decimals that write multiples of ``step`` exactly (2.5 needs one, 0.02 two)."""
    scaled = (step * 10**d for d in range(12))
    return next((d for d, v in enumerate(scaled) if abs(v - round(v)) < 1e-6 * v), 12)


def _fixed(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals, thousands separated, no "-0"."""
    return f"{round(value, decimals) + 0.0:,.{decimals}f}".replace("-", "\N{MINUS SIGN}")


def channels(results: Results, reference: str | None = None) -> Figure:
    """Why welfare differs: each scenario's mean paired difference from the reference, split
    into channels (stacked: gains to the right of 0, losses to the left), the total marked."""
    from sim.analysis.decompose import decompose
    from sim.model.metrics import CHANNELS

    ref = results.reference(reference)
    table = decompose(results.runs, ref, resamples=200)
    if table.empty:
        raise UserError(f"{results.folder}: its runs predate the welfare channels; run the "
                        "batch again (--force) to split welfare into channels")
    scenarios = list(dict.fromkeys(table["scenario"]))
    palette = plt.get_cmap("tab20").colors
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11, 1.1 * len(scenarios) + 2.6), constrained_layout=True)
        for k, scenario in enumerate(scenarios):
            part = table[table["scenario"] == scenario].set_index("channel")["mean_difference"]
            right = left = 0.0
            for c, name in enumerate(CHANNELS):
                value = float(part.get(name, 0.0))
                start = right if value >= 0 else left
                ax.barh(k, value, left=start, color=palette[c % len(palette)], height=0.6,
                        label=CHANNELS[name][0] if k == 0 else None)
                right, left = (right + value, left) if value >= 0 else (right, left + value)
            ax.plot(part["total"], k, "D", color="black", ms=7,
                    label="total welfare difference" if k == 0 else None)
        ax.axvline(0, color="#444444", lw=0.8)
        ax.set_yticks(range(len(scenarios)), [results.label(s) for s in scenarios])
        ax.invert_yaxis()
        ax.set(xlabel=f"difference from {results.label(ref)}, USD bn over the run; mean over "
                      f"{_pooled(results)}, paired", title="Why welfare differs: the paired "
                                                           "difference by channel")
        fig.legend(loc="outside lower center", ncol=3, fontsize=8)
    return fig


FIGURES: dict[str, Callable[..., Figure]] = {
    "timeseries": timeseries,
    "differences": differences,
    "nations": nations,
    "cooperation": cooperation,
    "leverage": leverage,
    "heatmap": heatmap,
    "channels": channels,
}


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG (marked as lunarsim's in its metadata), and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata=PNG_METADATA)
    plt.close(fig)
    return buffer.getvalue()
