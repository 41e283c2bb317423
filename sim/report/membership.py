"""The report's section on membership: who is in a regime whose members choose, over time, and
why (what being in was worth to each nation at its reviews, and the part of that which weighed
most; :mod:`sim.model.membership`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.results import Results
from sim.base.words import listed
from sim.report.text import num

GAIN = "membership_gain_usd_bn_per_yr"
# the parts of what membership is worth, in words; "operations" is what the others leave
PARTS = {"sharing": "benefit sharing", "sanctions": "fines and compensation", "fee": "the fee",
         "standing": "standing beside rivals",
         "operations": "its operations (claims recognised, laws lifted between members)"}

TEXT = ("In a regime whose members choose, each nation weighs once a year, from the second year, "
        "its utility in the regime against out of it, everyone else as they are; it joins at "
        "once when being in is worth more, and leaves a year after notice when it is worth "
        "less (a founding member that does not find it worth it at the first review does not "
        "ratify). Per nation, mean over {runs}: the years it was a member, what being in was "
        "worth to it at the first review (USD bn a year; the part that weighed most in "
        "brackets) and on average over its reviews.")


def chosen(results: Results) -> list[str]:
    """The scenarios of a results folder whose members chose their membership."""
    s = results.series_nations
    if s.empty or GAIN not in s.columns:
        return []
    known = s.groupby("scenario")[GAIN].apply(lambda v: v.notna().any())
    return [name for name in results.scenarios if known.get(name, False)]


def _reviews(results: Results, scenario: str) -> pd.DataFrame:
    """Every review of ``scenario``: one row per run, review and nation that chose."""
    s = results.series_nations
    s = s[(s["scenario"] == scenario) & s[GAIN].notna()]
    s = s.sort_values(["run", "nation", "step"])
    fresh = s.groupby(["run", "nation"])[GAIN].diff().ne(0)  # a new review changes the number
    first = s.groupby(["run", "nation"])["step"].transform("min") == s["step"]
    s = s[fresh | first].copy()
    parts = [c for c in s.columns if c.startswith("membership_gain_") and c != GAIN]
    s["operations"] = s[GAIN] - s[parts].sum(axis=1)
    s = s.rename(columns={f"membership_gain_{k}_usd_bn_per_yr": k for k in PARTS})
    s["review"] = s.groupby(["run", "nation"]).cumcount()
    return s


def _why(row: pd.Series) -> str:
    """The part of what membership was worth that weighed most on the side it came out: the
    largest gain where being in was worth more, the largest cost where it was worth less."""
    side = 1.0 if row[GAIN] > 0 else -1.0
    part = max(PARTS, key=lambda k: side * row[k])
    return f"{PARTS[part]} {num(row[part], sign=True)}"


def section(results: Results) -> tuple[list[str], pd.DataFrame]:
    """Words (one paragraph per scenario whose members choose) and a table per nation (empty
    where no scenario's members choose)."""
    words, columns = [], {}
    for scenario in chosen(results):
        reviews = _reviews(results, scenario)
        if reviews.empty:
            continue
        label = results.label(scenario)
        n = results.nations[results.nations["scenario"] == scenario]
        years = (n.groupby("nation")["member_years"].mean() if "member_years" in n.columns
                 else pd.Series(dtype=float))
        first = reviews[reviews["review"] == 0].groupby("nation")[[GAIN, *PARTS]].mean()
        mean = reviews.groupby("nation")[GAIN].mean()
        s = results.series_nations
        s = s[s["scenario"] == scenario]
        last = s[s["step"] == s["step"].max()]
        at_end = last.groupby("run")["member"].sum()
        start = s[s["step"] == s["step"].min()].groupby("run")["member"].sum()
        runs = at_end.size
        kept = first[first[GAIN] > 0].index.tolist()
        left = first[first[GAIN] <= 0].index.tolist()
        text = f"{label}: of {start.mean():.0f} founding members invited, " + (
            f"none is a member at the end of any of the {runs} runs." if at_end.max() == 0 else
            f"{at_end.mean():.1f} are members at the end on average (from {int(at_end.min())} "
            f"to {int(at_end.max())} over {runs} runs).")
        if left:
            text += (" At the first review membership was worth less than staying out to "
                     + listed([f"{nation} ({num(first.loc[nation, GAIN], sign=True)}: "
                                f"{_why(first.loc[nation])})" for nation in left]) + ".")
        if kept:
            text += " It was worth more to " + listed(kept) + "."
        words.append(text)
        columns[label] = {
            nation: (f"{years.get(nation, np.nan):.1f} yr; first "
                     f"{num(first.loc[nation, GAIN], sign=True)} ({_why(first.loc[nation])}); "
                     f"mean {num(mean[nation], sign=True)}")
            for nation in first.index}
    if not columns:
        return [], pd.DataFrame()
    order = [x for x in results.nation_order if any(x in c for c in columns.values())]
    table = pd.DataFrame(columns).reindex(order)
    return words, table.rename_axis("nation").reset_index().fillna("")


def figure(results: Results) -> Figure | None:
    """Per scenario whose members choose: each nation's membership over time, as the share of
    runs in which it was a member in each year."""
    names = chosen(results)
    if not names:
        return None
    s = results.series_nations
    present = set(s["nation"])
    order = [x for x in results.nation_order if x in present]
    fig = Figure(figsize=(4.2 * len(names) + 1.2, 0.32 * len(order) + 1.6), layout="constrained")
    axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
    image = None
    for ax, scenario in zip(axes, names, strict=True):
        part = s[s["scenario"] == scenario].assign(y=lambda f: np.floor(f["year"]).astype(int))
        share = part.pivot_table(index="nation", columns="y", values="member", aggfunc="mean")
        share = share.reindex(order)
        image = ax.imshow(share.to_numpy(float), aspect="auto", cmap="Greens", vmin=0, vmax=1,
                          interpolation="nearest")
        ticks = np.arange(0, share.shape[1], 5)
        ax.set_xticks(ticks, [str(share.columns[k]) for k in ticks])
        ax.set_yticks(np.arange(len(order)), order)
        ax.set_title(results.label(scenario))
    fig.colorbar(image, ax=axes, label="share of runs a member", shrink=0.8)
    return fig


