"""The report's answer: the question, the summary in words, the key table and how to read it,
who gains, and why welfare differs (the channels). Each is computed from the paired statistics
(``comparison.csv``) and the welfare decomposition."""

from __future__ import annotations

import pandas as pd

from sim.analysis.outcomes import name_holder
from sim.analysis.results import Results
from sim.report.text import num

QUESTION = (
    "Under which rules do nations end up better off over lunar water ice and rare earths: who "
    "gains, how often do operations collide, how fast are the best sites used, what happens to "
    "{holder_s} rare-earth leverage, and does cooperation pay? Each scenario is run on the same "
    "seeds; every difference below is paired seed by seed against the reference."
)


def key_table(comparison: pd.DataFrame, results: Results) -> pd.DataFrame:
    """The table readers see first: for each key outcome, the reference's mean, then each
    scenario's mean and its paired difference from the reference. Shares are shown in %. A
    difference whose whole interval lies within the outcome's smallest difference that matters
    is marked "negligible" (``sim.analysis.outcomes``)."""
    rows = []
    for _, group in comparison[comparison["key"]].groupby("outcome", sort=False):
        first = group.iloc[0]
        share = first["unit"].startswith("share")
        scale, unit, diff_unit = (100.0, "%", " pp") if share else (1.0, first["unit"], "")
        head = f"{first['label']} ({unit})"
        rows.append([head, f"{results.label(first['reference'])} (reference)",
                     num(first["reference_mean"] * scale), "", "", ""])
        for _, r in group.iterrows():
            rows.append(["", results.label(r["scenario"]), num(r["scenario_mean"] * scale),
                         f"{num(r['mean_difference'] * scale, sign=True)}{diff_unit} "
                         f"[{num(r['ci_low'] * scale, sign=True)}, {num(r['ci_high'] * scale, sign=True)}]"
                         + (" negligible" if r.get("negligible", False) else ""),
                         f"{r['share_better']:.0%}",
                         "—" if pd.isna(r["effect_size_dz"]) else f"{r['effect_size_dz']:+.2f}"])
    return pd.DataFrame(rows, columns=["outcome", "scenario", "mean", "difference [95% CI]",
                                       "seeds better", "effect d_z"])


def summary(comparison: pd.DataFrame, decomposition: pd.DataFrame | None, results: Results,
            reference: str) -> str:
    """The answer in words, computed from the paired statistics: which scenario does best and
    worst on total welfare (and how sure), through which channel, who gains and who loses
    there, and what happens to incidents, cooperation and the holder's leverage. Differences marked
    negligible are called so."""
    ref = results.label(reference)

    def rows(outcome: str) -> pd.DataFrame:
        return comparison[comparison["outcome"] == outcome]

    def said(r, unit: str, scale: float = 1.0) -> str:
        return (f"{num(r.mean_difference * scale, sign=True)}{unit} "
                f"[{num(r.ci_low * scale, sign=True)}, {num(r.ci_high * scale, sign=True)}]")

    parts = []
    welfare = rows("welfare_total_usd_bn")
    real = welfare[~welfare["negligible"].astype(bool)]
    better = real[real["ci_low"] > 0].sort_values("mean_difference", ascending=False)
    worse = real[real["ci_high"] < 0].sort_values("mean_difference")
    if not better.empty:
        b = better.iloc[0]
        parts.append(f"{results.label(b.scenario)} does best on total welfare: {said(b, ' bn')} "
                     f"over {ref}, better on {b.share_better:.0%} of the seeds.")
        if decomposition is not None and not decomposition.empty:
            ch = decomposition[(decomposition["scenario"] == b.scenario)
                               & (decomposition["channel"] != "total")]
            if not ch.empty:
                net = _net_output(ch)
                top = net.reindex(net["mean_difference"].abs().sort_values(ascending=False).index)
                named = "; ".join(f"{r['label'][0].lower()}{r['label'][1:]} "
                                  f"{num(r['mean_difference'], sign=True)} bn"
                                  for _, r in top.head(3).iterrows())
                parts.append(f"Its largest channels (see Why welfare differs; each is what it "
                             f"adds to the difference, + raising welfare): {named}; the "
                             "assumptions behind them decide how far the result carries.")
        nations = comparison[comparison["outcome"].str.startswith("welfare: ")
                             & (comparison["scenario"] == b.scenario)
                             & ~comparison["negligible"].astype(bool)]
        gain = [o.removeprefix("welfare: ") for o in nations[nations["ci_low"] > 0]["outcome"]]
        lose = [o.removeprefix("welfare: ") for o in nations[nations["ci_high"] < 0]["outcome"]]
        if gain or lose:
            parts.append("Under it " + "; ".join(x for x in (
                f"{', '.join(gain)} {'gains' if len(gain) == 1 else 'gain'}" if gain else "",
                f"{', '.join(lose)} {'loses' if len(lose) == 1 else 'lose'}" if lose else "")
                if x) + ".")
    else:
        parts.append(f"No scenario raises total welfare over {ref} by more than the smallest "
                     "difference that matters.")
    if not worse.empty:
        w = worse.iloc[0]
        parts.append(f"{results.label(w.scenario)} does worst: {said(w, ' bn')}.")
    small = welfare[welfare["negligible"].astype(bool)]
    if not small.empty:
        parts.append("Negligible on total welfare: "
                     + ", ".join(results.label(x) for x in small["scenario"]) + ".")
    unsure = real[(real["ci_low"] <= 0) & (real["ci_high"] >= 0)]
    if not unsure.empty:
        parts.append("Not established either way (the interval spans zero and differences that "
                     "matter): " + ", ".join(results.label(x) for x in unsure["scenario"]) + ".")
    incidents = rows("incidents")
    fewer = incidents[~incidents["negligible"].astype(bool) & (incidents["ci_high"] < 0)]
    if not fewer.empty:
        f = fewer.sort_values("mean_difference").iloc[0]
        parts.append(f"Incidents fall most under {results.label(f.scenario)} "
                     f"({said(f, '')} over the run).")
    coop = rows("cooperation_rate")
    more = coop[~coop["negligible"].astype(bool) & (coop["ci_low"] > 0)]
    if not more.empty:
        c = more.sort_values("mean_difference", ascending=False).iloc[0]
        parts.append(f"Cooperation rises most under {results.label(c.scenario)} "
                     f"({said(c, ' pp', 100.0)}).")
    leverage = rows("leverage_index")
    if not leverage.empty:
        moved = leverage[~leverage["negligible"].astype(bool)]
        same = bool((leverage[["mean_difference", "ci_low", "ci_high"]].abs() == 0).all().all())
        parts.append(name_holder("{Holder_s} rare-earth leverage at the end ", results.holder) + (
            "is the same in every scenario, seed by seed." if same else
            "differs between scenarios by no more than half a percentage point."
            if moved.empty else "moves most under "
            + f"{results.label(moved.loc[moved['mean_difference'].abs().idxmax(), 'scenario'])}."))
    return " ".join(parts)


def _net_output(channels: pd.DataFrame) -> pd.DataFrame:
    """The channels with the output that could be worked and what crowding left unworked
    taken together as the output worked: two large channels that cancel are quoted as their
    net effect."""
    parts = channels[channels["channel"].isin(["potential_output", "crowding"])]
    if len(parts) < 2:
        return channels
    worked = {"channel": "output_worked", "label": "Output worked (brought, less what crowding "
              "and racing left unworked)", "mean_difference": parts["mean_difference"].sum()}
    rest = channels[~channels["channel"].isin(["potential_output", "crowding"])]
    return pd.concat([pd.DataFrame([worked]), rest], ignore_index=True)


def who_gains(comparison: pd.DataFrame, results: Results) -> pd.DataFrame:
    """Each nation's paired welfare difference from the reference under each scenario (USD bn
    over the run, 95% interval), or "negligible" where the whole interval is within 0.01 bn."""
    rows = comparison[comparison["outcome"].str.startswith("welfare: ")]
    if rows.empty:
        return pd.DataFrame()
    table = {}
    for r in rows.itertuples():
        nation = r.outcome.removeprefix("welfare: ")
        cell = ("negligible" if r.negligible else
                f"{num(r.mean_difference, sign=True)} [{num(r.ci_low, sign=True)}, "
                f"{num(r.ci_high, sign=True)}]")
        table.setdefault(nation, {})[results.label(r.scenario)] = cell
    return pd.DataFrame.from_dict(table, orient="index").rename_axis("nation").reset_index()


def reading_guide(holder: str) -> str:
    """What every statistic in the results table means, and the smallest differences that
    matter, from the outcomes' own declarations (``holder`` named in their labels)."""
    from sim.analysis.outcomes import OUTCOMES

    shown = []
    for o in (o.naming(holder) for o in OUTCOMES):
        if o.key and o.negligible > 0:
            share = o.unit.startswith("share")
            unit = "" if o.unit in ("count", "index") else f" {o.unit}"
            size = f"{num(o.negligible * 100)} pp" if share else f"{num(o.negligible)}{unit}"
            shown.append(f"{o.label} {size}")
    return (
        "How to read the table: **mean** is over seeds; **difference** is the mean of the "
        "paired differences (the scenario's run less the reference's on the same seed), with a "
        "95% bootstrap interval (BCa, 4,999 resamples by default); **seeds better** is the share "
        "of seeds on which the scenario did better than the reference (in the outcome's better "
        "direction); **effect d_z** is the mean paired difference over its standard deviation "
        "(Cohen's d_z: about 0.2 small, 0.8 large). A difference is **negligible** when its whole "
        "interval lies within the smallest difference that matters: " + "; ".join(shown)
        + ". Many seeds can agree on a difference too small to matter. Sources' confidence in "
        "the assumptions: H high, M medium, L low (docs/calibration.md).")


CHANNELS_TEXT = (
    "Each scenario's paired difference in total welfare from {ref} (USD bn over the run, mean "
    "over seeds), split by channel; the channels add up to the total exactly "
    "(`decomposition.csv` has their 95% intervals). Each channel is what it adds to the "
    "difference: + raised welfare, − lowered it (\"Capital destroyed in incidents +2\" means "
    "2 bn less was destroyed). Output channels are valued at what the "
    "product earns: the potential output of all the regolith brought, less what crowding and "
    "others' priority left unworked and what exhausted sites could not give, plus synergy with "
    "partners, less interference from uncoordinated neighbours. Then the costs: operating, "
    "capital worn out and destroyed in incidents, entry; money that changes hands (benefit "
    "sharing, sanctions, compensation); rare-earth costs."
)


def channels_table(decomposition: pd.DataFrame | None, results: Results, reference: str) -> pd.DataFrame:
    """The decomposition as a readers' table: channels as rows, scenarios as columns."""
    from sim.analysis.decompose import channel_table

    if decomposition is None or decomposition.empty:
        return pd.DataFrame()
    table = channel_table(decomposition, results.label)
    for column in table.columns[1:]:
        table[column] = [num(v, sign=True) for v in table[column]]
    return table


def welfare_split(levels: pd.DataFrame, results: Results, reference: str) -> str:
    """Total welfare in its two parts, lunar welfare and terrestrial rare-earth costs, and
    discounted, for the reference (means over seeds); and whether the rare-earth costs differ
    between scenarios at all (a number the same everywhere is said to be so, with why)."""
    mean = levels.set_index(["outcome", "scenario"])["mean"]
    need = ("welfare_total_usd_bn", "welfare_lunar_total_usd_bn", "ree_costs_total_usd_bn",
            "welfare_discounted_total_usd_bn")
    if not all((o, reference) in mean.index for o in need):
        return ""
    total, lunar, ree, discounted = (mean[(o, reference)] for o in need)
    text = (f"Total welfare is lunar welfare less terrestrial rare-earth costs: under "
            f"{results.label(reference)} {num(total)} bn = {num(lunar)} bn on the Moon less "
            f"{num(ree)} bn of rare-earth costs (shortfalls under export controls, the holder's "
            f"forgone sales, retaliation, the premium on refining built outside it; mean over "
            f"seeds). "
            f"Discounted to the start at the social rate (2 % a year by default, OMB Circular "
            f"A-4, 2023), {num(discounted)} bn.")
    costs = levels[levels["outcome"] == "ree_costs_total_usd_bn"]["mean"]
    if len(costs) > 1 and float(costs.max() - costs.min()) <= 1e-9 * max(1.0, abs(float(ree))):
        text += (" The rare-earth costs are the same in every scenario: no lunar regime here "
                 "changes what the holder does, so the comparison below is decided on the Moon.")
    return text


# Why a channel can be zero in every scenario, where that is the reason
WHY_ZERO = {
    "exhausted_sites": "no site's reserve runs out within the run, in any scenario",
    "rare_earths": "the rare-earth costs are the same in every scenario (see the rare-earth "
                   "section)",
    "transfers": "what changes hands between nations nets out over all of them",
    "entry_cost": "no scenario here charges for membership",
}


def unchanged_channels(decomposition: pd.DataFrame | None) -> str:
    """One sentence naming the channels whose difference is zero for every scenario on every
    seed (each with its reason where it is known), so that a row of zeros is read, not guessed."""
    if decomposition is None or decomposition.empty:
        return ""
    rows = decomposition[decomposition["channel"] != "total"]
    spread = rows[["mean_difference", "ci_low", "ci_high"]].abs().max(axis=1)
    zero = spread.groupby(rows["channel"], sort=False).max()
    zero = [c for c in zero.index if zero[c] <= 1e-12]
    if not zero:
        return ""
    labels = dict(zip(rows["channel"], rows["label"], strict=False))
    parts = [f"{labels[c][0].lower()}{labels[c][1:]}"
             + (f" ({WHY_ZERO[c]})" if c in WHY_ZERO else "") for c in zero]
    return "Zero in every scenario, on every seed: " + "; ".join(parts) + "."
