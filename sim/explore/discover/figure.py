"""The discovery's figure: each analysed parameter's box against its sampled range, and the
design points of the two most significant, coloured by whether the condition holds."""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.explore.discover.boxes import Discovery

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# --- the figure --------------------------------------------------------------------------------

BOX_COLOURS = ["#0072B2", "#E69F00", "#CC79A7", "#009E73", "#56B4E9"]  # Okabe-Ito
HOLDS_COLOUR, FAILS_COLOUR = "#009E73", "#999999"
_UNIT_WORDS = [  # suffix of a field's name -> its unit in words (longest first)
    ("_usd_per_t_yr", "US dollars per tonne a year of capacity"),
    ("_usd_per_kg", "US dollars per kg"), ("_usd_per_t", "US dollars per tonne"),
    ("_usd_bn", "billion US dollars"), ("_t_per_yr", "tonnes a year"),
    ("_per_year", "per year"), ("_years", "years"), ("_t", "tonnes")]


def parameter_words(path: str) -> tuple[str, str]:
    """(what the parameter is, its unit in words): from ``sim/scenario/calibration.toml`` where it lists
    the parameter, else from the scenario schema's description and the field name's unit
    suffix; ("", "") where neither describes it. A number without a unit has unit "none"."""
    from pydantic import BaseModel

    from sim.scenario.calibration import find
    from sim.scenario.loader import split_path
    from sim.scenario.schema import Scenario

    listed = find(path)
    if listed is not None:
        unit = listed.unit.strip()
        return listed.label, "none" if unit in ("", "—", "-") else unit

    try:
        parts = split_path(path)
    except ValueError:
        return "", ""
    model: Any = Scenario
    description = ""
    skip = False
    for k, part in enumerate(parts):
        if skip:  # a list entry, by name or index
            skip = False
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return "", ""
        info = fields[part]
        annotation = info.annotation
        description = info.description or ""
        origin = getattr(annotation, "__origin__", None)
        if origin is list:
            annotation = annotation.__args__[0]
            skip = True
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif k < len(parts) - 1 and not skip:
            return "", ""
    if model is not Scenario and parts[-1] not in getattr(model, "model_fields", {}):
        return "", ""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "", ""  # a table, not a number
    written = re.search(r", ((?:USD |t |)(?:bn|t|kg|USD)?/\w+|years|degrees)$", description)
    if written:  # the schema's own words for a rate ("USD bn/yr") beat the name's suffix
        return description[: written.start()], written.group(1)
    name = parts[-1]
    unit = next((words for suffix, words in _UNIT_WORDS if name.endswith(suffix)), "none")
    return description, unit


def discovery_figure(discovery: Discovery) -> Figure:
    """Each box's restricted parameters as bars on the sampled range (0 to 1: lowest to highest
    value sampled), labelled with their values; with two restrictions or more, the design
    points of the two most significant, coloured by whether the condition holds, and the box."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from sim.base.style import STYLE

    rows = discovery.boxes[discovery.boxes["restricted"]] if not discovery.boxes.empty else \
        discovery.boxes
    first = rows[rows["box"] == 1]
    scatter = len(first) >= 2
    n = max(len(rows), 1)
    height = max(2.8, 0.95 * n + 1.9, 4.6 if scatter else 0.0)
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(12.0 if scatter else 8.0, height), constrained_layout=True)
        if scatter:
            ax, sc = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1.0]})
        else:
            ax, sc = fig.subplots(1, 1), None
        _bars(ax, rows)
        if sc is not None:
            _scatter(sc, discovery, first, Rectangle)
        fig.suptitle(_title(discovery, int(fig.get_figwidth() * 12)), fontsize=10)
    return fig


def _title(discovery: Discovery, width: int) -> str:
    condition = textwrap.shorten(discovery.condition, 300, placeholder=" ...") \
        if discovery.condition else "the condition"
    n = len(discovery.points)
    lines = textwrap.wrap(f"Where \u201c{condition}\u201d holds (at "
                          f"{int(discovery.points['holds'].sum())} of {n} design points)", width)
    if discovery.boxes.empty or not discovery.boxes["restricted"].any():
        none = "PRIM found no box (the CART tree may still describe the region: see the text)"
        return "\n".join([*lines, none])
    for box, r in discovery.boxes.groupby("box", sort=True):
        s = r.iloc[0]
        lines.append(f"box {box}: coverage {s['coverage']:.2f}, density {s['density']:.2f} "
                     f"({int(s['holding'])} of the {int(s['points'])} points in it hold)")
    lines += textwrap.wrap("coverage: share of the points where it holds that are in the box; "
                           "density: share of the points in the box where it holds", width)
    return "\n".join(lines)


def _bars(ax, rows: pd.DataFrame) -> None:
    if rows.empty:
        ax.text(0.5, 0.5, "no range restricted", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    labels = []
    for k, row in enumerate(rows.itertuples()):
        y = -k
        span = row.range_high - row.range_low
        low = (row.low - row.range_low) / span
        high = (row.high - row.range_low) / span
        colour = BOX_COLOURS[(row.box - 1) % len(BOX_COLOURS)]
        ax.barh(y, 1.0, left=0.0, height=0.36, color="#DDDDDD", zorder=2)
        ax.barh(y, high - low, left=low, height=0.36, color=colour, zorder=3,
                label=f"box {row.box}" if k == 0 or row.box != rows.iloc[k - 1]["box"] else None)
        narrow = high - low < 0.15
        if row.low > row.range_low:  # label the ends the box restricts
            ax.text(low, y + 0.22, f"{row.low:.4g}", ha="right" if narrow else "left",
                    va="bottom", fontsize=8, color=colour, zorder=4)
        if row.high < row.range_high:
            ax.text(high, y + 0.22, f"{row.high:.4g}", ha="left" if narrow else "right",
                    va="bottom", fontsize=8, color=colour, zorder=4)
        ax.text(0.0, y - 0.22, f"{row.range_low:.4g}", ha="left", va="top", fontsize=7,
                color="#666666")
        ax.text(1.0, y - 0.22, f"{row.range_high:.4g}", ha="right", va="top", fontsize=7,
                color="#666666")
        significance = "" if row.significant else "\nnot significant"
        ax.text(1.03, y, f"quasi-p {row.qp:.2g}{significance}", ha="left", va="center", fontsize=8,
                color="#000000" if row.significant else "#999999", clip_on=False)
        description, unit = parameter_words(row.parameter)
        text = [row.parameter, *textwrap.wrap(description, 40)[:2], f"unit: {unit}"]
        labels.append("\n".join(text))
    ax.set_yticks([-k for k in range(len(rows))], labels, fontsize=7.5)
    ax.set_ylim(-len(rows) + 0.45, 0.6)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("share of the sampled range (0: lowest value sampled, 1: highest); "
                  "grey: sampled, coloured: the box")
    ax.grid(False, axis="y")
    if rows["box"].nunique() > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.18), ncol=rows["box"].nunique())


def _scatter(ax, discovery: Discovery, first: pd.DataFrame, rectangle) -> None:
    a, b = first.iloc[0], first.iloc[1]  # the two most significant (the table's order)
    column = {path: c for c, path in discovery.parameters.items()}
    x = discovery.points[column[a["parameter"]]].to_numpy(dtype=float)
    y = discovery.points[column[b["parameter"]]].to_numpy(dtype=float)
    held = discovery.points["holds"].to_numpy(dtype=bool)
    ax.scatter(x[~held], y[~held], marker="x", s=22, color=FAILS_COLOUR, linewidths=1.0,
               label=f"fails ({int((~held).sum())})", zorder=3)
    ax.scatter(x[held], y[held], marker="o", s=22, color=HOLDS_COLOUR, edgecolors="none",
               label=f"holds ({int(held.sum())})", zorder=3)
    ax.add_patch(rectangle((a["low"], b["low"]), a["high"] - a["low"], b["high"] - b["low"],
                           fill=False, edgecolor=BOX_COLOURS[0], linewidth=2.0, zorder=4,
                           label="box 1"))
    ax.set_xlabel(_axis_label(a["parameter"]))
    ax.set_ylabel(_axis_label(b["parameter"]))
    more = len(first) - 2
    ax.set_title("design points" + (f" (box 1 also restricts {more} other parameter"
                                    f"{'s' if more > 1 else ''})" if more > 0 else ""))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _axis_label(path: str) -> str:
    unit = parameter_words(path)[1]
    return path if unit in ("", "none") else f"{path}, {unit}"
