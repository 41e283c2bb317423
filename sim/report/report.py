"""The comparison's report: one self-contained HTML page (figures embedded) and the same in
Markdown, with the question, the scenarios, the table, the figures, the assumptions with their
sources, and what is needed to reproduce the numbers."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.outcomes import UNNAMED_HOLDER, holder_names, name_holder
from sim.analysis.results import Results

QUESTION = (
    "Under which rules do nations end up better off over lunar water ice and rare earths: who "
    "gains, how often do operations collide, how fast are the best sites used, what happens to "
    "{holder_s} rare-earth leverage, and does cooperation pay? Each scenario is run on the same "
    "seeds; every difference below is paired seed by seed against the reference."
)
CALIBRATION = Path(__file__).resolve().parents[2] / "docs" / "calibration.md"


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
                     _num(first["reference_mean"] * scale), "", "", ""])
        for _, r in group.iterrows():
            rows.append(["", results.label(r["scenario"]), _num(r["scenario_mean"] * scale),
                         f"{_num(r['mean_difference'] * scale, sign=True)}{diff_unit} "
                         f"[{_num(r['ci_low'] * scale, sign=True)}, {_num(r['ci_high'] * scale, sign=True)}]"
                         + (" negligible" if r.get("negligible", False) else ""),
                         f"{r['share_better']:.0%}",
                         "—" if pd.isna(r["effect_size_dz"]) else f"{r['effect_size_dz']:+.2f}"])
    return pd.DataFrame(rows, columns=["outcome", "scenario", "mean", "difference [95% CI]",
                                       "seeds better", "effect d_z"])


CHANNELS_TEXT = (
    "Each scenario's paired difference in total welfare from {ref} (USD bn over the run, mean "
    "over seeds), split by channel; the channels add up to the total exactly "
    "(`decomposition.csv` has their 95% intervals). Output channels are valued at what the "
    "product earns: the potential output of all the regolith brought, less what crowding and "
    "others' priority left unworked and what exhausted sites could not give, plus synergy with "
    "partners, less interference from uncoordinated neighbours. Then the costs: operating, "
    "capital worn out and destroyed in incidents, entry; money that changes hands (benefit "
    "sharing, sanctions, compensation); rare-earth costs."
)


def _channels(decomposition: pd.DataFrame | None, results: Results, reference: str) -> pd.DataFrame:
    """The decomposition as a readers' table: channels as rows, scenarios as columns."""
    from sim.analysis.decompose import channel_table

    if decomposition is None or decomposition.empty:
        return pd.DataFrame()
    table = channel_table(decomposition, results.label)
    for column in table.columns[1:]:
        table[column] = [_num(v, sign=True) for v in table[column]]
    return table


LIMITATIONS = [
    "It explores consequences of stated assumptions; it does not forecast. Most parameters are "
    "assumptions or low-confidence estimates (marked in the Assumptions below), and the ones "
    "that matter most are the subject of the sensitivity analysis, not of this comparison.",
    "Sites are a short, stylised list of real south-pole regions and two KREEP terrains; reserves "
    "and throughputs are assumptions. Space is not modelled beyond which site a plant is at.",
    "Nations follow fixed decision rules (forward-looking for the US and China, followers for "
    "allies, reciprocity for India); they do not learn new rules, form new blocs or negotiate.",
    "Welfare is the net product of lunar extraction plus the rare-earth costs the model "
    "represents (shortfalls, forgone sales, the premium on refining built outside {holder}); it "
    "leaves out prestige, security, science and the terms-of-trade effect of rare-earth prices.",
    "Rare earths are one good (magnet oxides); demand counts magnets but not the oxide embedded "
    "in imported goods; refining outside {holder} is capped by ore mined outside it; no refinery is "
    "announced after 2030, so later paths follow the model's own mechanisms only. Nations do "
    "not anticipate {holder_s} export controls when they choose their lunar actions.",
    "Each difference is an average over the seeds shown; with few seeds the intervals are wide, "
    "and a difference marked negligible is small against a stated threshold, not zero.",
]


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
        return (f"{_num(r.mean_difference * scale, sign=True)}{unit} "
                f"[{_num(r.ci_low * scale, sign=True)}, {_num(r.ci_high * scale, sign=True)}]")

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
                top = ch.reindex(ch["mean_difference"].abs().sort_values(ascending=False).index)
                named = "; ".join(f"{r['label'][0].lower()}{r['label'][1:]} "
                                  f"{_num(r['mean_difference'], sign=True)} bn"
                                  for _, r in top.head(3).iterrows())
                parts.append(f"Its largest channels (see Why welfare differs): {named}; the "
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
        parts.append(name_holder("{Holder_s} rare-earth leverage at the end ", results.holder) + (
            "differs between scenarios by no more than half a percentage point."
            if moved.empty else "moves most under "
            + f"{results.label(moved.loc[moved['mean_difference'].abs().idxmax(), 'scenario'])}."))
    return " ".join(parts)


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
                f"{_num(r.mean_difference, sign=True)} [{_num(r.ci_low, sign=True)}, "
                f"{_num(r.ci_high, sign=True)}]")
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
            size = f"{_num(o.negligible * 100)} pp" if share else f"{_num(o.negligible)}{unit}"
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


REE_TEXT = (
    "Magnet rare-earth oxides (NdPr, Dy, Tb). {Holder_s} leverage is its share of refined world "
    "supply; dependence is the share of what the other nations use that {holder_s} refineries "
    "supply. {Holder} restricts exports to a nation when coercing a distrusted rival is worth more "
    "to it than the sales it forgoes and the refining outside {holder} it would provoke; trust "
    "follows play at the south pole, so the regimes act on rare earths through it. Mean over "
    "seeds{pooled}; in brackets the paired difference from {ref} with its 95% interval."
)


def rare_earth_section(comparison: pd.DataFrame, levels: pd.DataFrame, results: Results,
                       reference: str) -> dict[str, object]:
    """The rare-earth part of the report: a table of the outcomes that differ between
    scenarios, one line naming those that do not, shortfall costs and controls by nation, and
    the break-even return cost in words."""
    from sim.analysis.outcomes import REE_OUTCOMES

    others = [sc for sc in results.scenarios if sc != reference]
    rows, same = [], []
    for o in REE_OUTCOMES:
        words = name_holder(o.label[:2].lower() + o.label[2:], results.holder)  # mid-sentence:
        o = o.naming(results.holder)  # "{Holder_s} share" -> "China's share", "the holder's share"
        got = comparison[comparison["outcome"] == o.name]
        level = levels[levels["outcome"] == o.name].set_index("scenario")["mean"]
        if got.empty or reference not in level.index:
            continue
        complete = set(got["scenario"]) == set(others)  # a scenario without values (NaN) is no "same"
        share = o.unit.startswith("share")
        scale, unit, dunit = (100.0, "%", " pp") if share else (1.0, o.unit, "")
        tiny = 1e-9 * max(1.0, float(level.abs().max()))
        if complete and (got[["mean_difference", "ci_low", "ci_high"]].abs() <= tiny).all().all():
            same.append(f"{words} ({_num(level[reference] * scale)} {unit})")
            continue
        row = {"outcome": f"{o.label} ({unit})",
               results.label(reference): _num(level[reference] * scale)}
        for sc in others:
            r = got[got["scenario"] == sc]
            if r.empty:
                continue
            r = r.iloc[0]
            row[results.label(sc)] = (
                f"{_num(r['scenario_mean'] * scale)} ({_num(r['mean_difference'] * scale, sign=True)}"
                f"{dunit} [{_num(r['ci_low'] * scale, sign=True)}, {_num(r['ci_high'] * scale, sign=True)}]"
                + (", negligible)" if r.get("negligible", False) else ")"))
        rows.append(row)
    same_line = ("The same in every scenario, on every seed: " + "; ".join(same) + "."
                 if same else "")
    n = results.nations
    by_nation = pd.DataFrame()
    if not n.empty and {"ree_shortfall_cost_usd_bn", "controlled_years"} <= set(n.columns):
        hit = n.groupby("nation")[["ree_shortfall_cost_usd_bn", "controlled_years"]].sum()
        hit = hit[(hit > 0).any(axis=1)].index
        if len(hit):
            n = n[n["nation"].isin(hit)].assign(scenario=n["run"].map(
                results.runs.set_index("run")["scenario"]))
            mean = n.groupby(["nation", "scenario"])[["ree_shortfall_cost_usd_bn",
                                                     "controlled_years", "control_episodes"]].mean()
            first = _first_control_years(results)
            by_nation = pd.DataFrame({
                results.label(sc): [
                    f"{_num(mean.loc[(nat, sc), 'ree_shortfall_cost_usd_bn'])} bn; "
                    f"{_num(mean.loc[(nat, sc), 'controlled_years'])} y in "
                    f"{_spells(mean.loc[(nat, sc), 'control_episodes'])}"
                    + (f", first {first[(nat, sc)]:.0f}" if (nat, sc) in first else "")
                    if (nat, sc) in mean.index else "—" for nat in hit]
                for sc in results.scenarios}, index=list(hit)).rename_axis("nation").reset_index()
    return {"table": pd.DataFrame(rows), "same": same_line, "nations": by_nation,
            "break_even": _break_even_text(levels, results), "by_point": _by_point(results),
            "path": _leverage_path(results, reference)}


def _leverage_path(results: Results, reference: str) -> str:
    """How the reference's leverage moves, in words: start, lowest point, end (median over
    seeds), and the refining outside the holder and control spells behind it."""
    series = results.series_model
    need = {"leverage_index", "refining_built_t_per_yr", "export_control_targets", "year", "run"}
    if series.empty or not need <= set(series.columns):
        return ""
    runs = results.runs.set_index("run")["scenario"]
    s = series[series["run"].map(runs) == reference]
    by_year = s.groupby("year")[["leverage_index", "refining_built_t_per_yr",
                                     "export_control_targets"]].median()
    if by_year.empty:
        return ""
    lev = by_year["leverage_index"]
    low_year = lev.idxmin()
    controlled = s[s["export_control_targets"] > 0]
    pooled = " (all design points pooled)" if results.parameters else ""
    n = holder_names(results.holder)
    h, H = n["holder"], n["Holder"]
    spells = (f"{n['Holder_s']} export controls hit someone in {controlled['year'].nunique()} of "
              f"{s['year'].nunique() - 1} steps on some seed{pooled}, the last ending in "
              f"{controlled['year'].max():.0f}" if not controlled.empty
              else f"{H} imposes no export control on any seed{pooled}")
    shipped = ", such as Myanmar's" if h == "China" else ""  # the calibration's example
    return (f"Why the leverage moves as it does ({results.label(reference)}, median over seeds): "
            f"{n['Holder_s']} share of refined supply goes from {100 * lev.iloc[0]:.0f}% in "
            f"{lev.index[0]:.0f} to {100 * lev.min():.0f}% in {low_year:.0f} as refineries "
            f"outside {h} come on stream ({_num(by_year['refining_built_t_per_yr'].loc[low_year])} t/yr "
            f"of capacity built by then, announced projects included), and ends at {100 * lev.iloc[-1]:.0f}% "
            f"in {lev.index[-1]:.0f}, with {_num(by_year['refining_built_t_per_yr'].iloc[-1])} t/yr built: "
            f"refineries outside {h} run only on ore mined outside it (less the ore shipped "
            f"to {h}{shipped}), and {h} refines all the rest. "
            f"{spells}. {H} restricts a nation only while it distrusts it enough and the "
            "refining a control would provoke costs it less than coercion is worth to it; "
            "trust rises with coordination at the south pole and lifts a control.")


def _spells(mean: float) -> str:
    return f"{_num(mean)} spell" + ("" if _num(mean) == "1" else "s")


def _first_control_years(results: Results) -> dict[tuple[str, str], float]:
    """(nation, scenario) -> median over the seeds with a control of the year it began."""
    s = results.series_nations  # empty when the batch kept no series (--series none)
    if s.empty or "export_control" not in s.columns:
        return {}
    hit = s[s["export_control"] > 0]
    if hit.empty:
        return {}
    years = np.sort(s["year"].unique())
    step = years[1] - years[0] if years.size > 1 else 0.0  # a step's "year" is its end
    first = (hit.groupby(["run", "nation"])["year"].min() - step).reset_index()
    first["scenario"] = first["run"].map(results.runs.set_index("run")["scenario"])
    return first.groupby(["nation", "scenario"])["year"].median().to_dict()


def _by_point(results: Results) -> pd.DataFrame:
    """With swept parameters: the rare-earth outcomes by scenario and parameter values (mean
    over seeds), since pooling a policy sweep would hide what the policy does."""
    params = [p for p in results.parameters if p in results.runs.columns]
    wanted = ["ree_shortfall_cost_usd_bn", "control_episodes", "leverage_index",
              "welfare_total_usd_bn"]
    if not params or not set(wanted) <= set(results.runs.columns):
        return pd.DataFrame()
    mean = results.runs.groupby(["scenario", *params], sort=False)[wanted].mean()
    points = list(dict.fromkeys(mean.index.droplevel(0)))
    table = {}
    for point in points:
        key = point if isinstance(point, tuple) else (point,)
        head = ", ".join(f"{results.parameters[p].split('.')[-1]} = {_value(v)}"
                         for p, v in zip(params, key, strict=True))
        table[head] = [
            (lambda r: f"{_num(r['ree_shortfall_cost_usd_bn'])} bn short; "
                       f"{_num(r['control_episodes'])} spells; leverage "
                       f"{_num(100 * r['leverage_index'])}%; welfare {_num(r['welfare_total_usd_bn'])} bn")(
                mean.loc[(sc, *key)]) if (sc, *key) in mean.index else "—"
            for sc in results.scenarios]
    return pd.DataFrame(table, index=[results.label(sc) for sc in results.scenarios]
                        ).rename_axis("scenario").reset_index()


def _value(v: object) -> str:
    return f"{v:g}" if isinstance(v, int | float) else str(v)


def _break_even_text(levels: pd.DataFrame, results: Results) -> str:
    be = levels[levels["outcome"] == "ree_break_even_usd_per_kg"]
    if be.empty:
        return ""
    said: dict[str, list[str]] = {}  # the same words for several scenarios are said once
    for r in be.itertuples():
        words = (f"below ${_num(r.mean)}/kg" if r.mean > 0 else
                 f"not even if the return were free (working KREEP regolith costs "
                 f"${_num(-r.mean)} more per kg of oxide than its magnet oxides fetch)")
        said.setdefault(words, []).append(results.label(r.scenario))
    every = len(results.scenarios)
    parts = [f"{'every scenario' if len(who) == every > 1 else ', '.join(who)}: {words}"
             for words, who in said.items()]
    return ("Lunar rare earths would reach Earth if bringing a kg back cost less than the "
            "break-even return cost along each run's price path (best step, mean over seeds) — "
            "against about $1 million/kg to reach the surface today (NASA CLPS): "
            + "; ".join(parts) + ".")


def _num(x: float, sign: bool = False) -> str:
    """Three significant figures, thousands separated; ``sign`` puts + before positives."""
    if pd.isna(x):
        return "—"
    plus = "+" if sign and x > 0 else ""
    if abs(x) < 1e-9:  # rounding noise of sums that cancel (transfers)
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{plus}{x:,.0f}"
    return f"{plus}{float(f'{x:.3g}'):g}"


def calibration_tables() -> list[tuple[str, pd.DataFrame]]:
    """The tables of docs/calibration.md, each under its heading."""
    if not CALIBRATION.is_file():
        return []
    out, heading, rows, caption = [], "", [], ""
    for line in CALIBRATION.read_text().splitlines() + [""]:
        if line.startswith("## "):
            heading, caption = line[3:].strip(), ""
        bold = re.match(r"^\*\*(.+?)\*\*", line)
        if bold:  # a table's own title inside a section ("**Refineries announced**")
            caption = bold.group(1)
        if re.match(r"^\|[\s\-:|]+\|$", line):  # the rule under a table's header
            continue
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            title = heading if not out or out[-1][0].split(": ")[0] != heading else (
                f"{heading}: {caption}" if caption else f"{heading} (continued)")
            out.append((title, pd.DataFrame(rows[1:], columns=rows[0])))
            rows = []
    return out


def reproduction(results: Results) -> dict[str, str]:
    m = results.manifest
    v = m.get("versions", {})
    return {
        "experiment": f"{m.get('experiment')} ({m.get('experiment_file')})",
        "experiment sha256": str(m.get("experiment_sha256")),
        "master seed": str(m.get("master_seed")),
        "replicates": str(m.get("replicates")),
        "runs": f"{len(results.runs)} of {m.get('runs_total')} analysed "
                f"({'complete' if len(results.runs) == m.get('runs_total') else 'incomplete'})",
        "git commit": str(m.get("git_commit")),
        "versions": ", ".join(f"{k} {val}" for k, val in v.items()),
        "command": " ".join(m.get("command", [])),
        "to reproduce": f"lunarsim batch {m.get('experiment_file')} --force, then "
                        f"lunarsim compare {results.folder}",
    }


def render_reports(results: Results, comparison: pd.DataFrame, levels: pd.DataFrame,
                   figures: dict[str, bytes], reference: str,
                   decomposition: pd.DataFrame | None = None,
                   sure: Sure | None = None) -> tuple[str, str]:
    """The report as Markdown (figures linked from ``figures/``) and as a self-contained HTML
    page (figures embedded)."""
    table = key_table(comparison, results)
    scenarios = pd.DataFrame({
        "scenario": [results.label(s) for s in results.scenarios],
        "file": [results.manifest.get("scenarios", {}).get(s, {}).get("file", "") for s in results.scenarios],
        "description": [results.manifest.get("scenarios", {}).get(s, {}).get("description", "")
                        for s in results.scenarios],
    })
    poa = levels[levels["outcome"] == "price_of_anarchy"]
    poa = pd.DataFrame({"scenario": poa["scenario"].map(results.label),
                        "price of anarchy [95% CI]": [f"{m:.2f} [{lo:.2f}, {hi:.2f}]" for m, lo, hi
                                                      in zip(poa["mean"], poa["ci_low"], poa["ci_high"], strict=True)]})
    poa_text = ("Price of anarchy: the best total welfare any scenario reached on the same seed, "
                "over this scenario's (1 is best).")
    if poa.empty:  # a ratio of welfare means nothing where welfare is not positive
        poa_text = ("Price of anarchy: not defined here, since total welfare is not positive in "
                    "every scenario on any seed (it is a ratio of positive welfares).")
    welfare = comparison[comparison["outcome"] == "welfare_total_usd_bn"]
    value = "; ".join(f"{results.label(r.scenario)} {_num(r.mean_difference, sign=True)} "
                      f"[{_num(r.ci_low, sign=True)}, {_num(r.ci_high, sign=True)}]"
                      for r in welfare.itertuples())
    value = (f"Value of cooperation (total welfare over {results.label(reference)} on the same "
             f"seeds, USD bn, 95% CI): {value}.")
    title = f"{results.name}: cooperative against competitive rule sets"
    names = holder_names(results.holder)
    limitations = [x.format(**names) for x in LIMITATIONS]
    intro = (f"{QUESTION.format(**names)} Reference: **{results.label(reference)}**. "
             f"{results.runs['replicate'].nunique()} seeds per scenario.")
    calibration = calibration_tables()
    repro = reproduction(results)

    answer = summary(comparison, decomposition, results, reference)
    if sure is not None and sure.headline:
        answer += f" How far that carries: {sure.headline.rstrip('.')} (see How sure are we?)."
    md = [f"# {title}", "", results.manifest.get("description", ""), "", intro, "",
          "## Summary", "", answer, "",
          "## Scenarios compared", "", scenarios.to_markdown(index=False), "",
          "## Results", "", table.to_markdown(index=False), "", reading_guide(results.holder), "", value, "",
          poa_text, "", *([poa.to_markdown(index=False), ""] if not poa.empty else []),
          "All outcomes, per-nation welfare included: `comparison.csv` and `levels.csv`.", ""]
    gains = who_gains(comparison, results)
    gains_text = (f"Each nation's welfare under each scenario less under {results.label(reference)} "
                  "on the same seed (USD bn over the run, mean and 95% interval; negligible: "
                  "the whole interval within ±0.01 bn; comparison.csv has every number).")
    if not gains.empty:
        md += ["## Who gains", "", gains_text, "", gains.to_markdown(index=False), ""]
    channels = _channels(decomposition, results, reference)
    if not channels.empty:
        md += ["## Why welfare differs", "", CHANNELS_TEXT.format(ref=results.label(reference)),
               "", channels.to_markdown(index=False), ""]
    sure = sure or Sure([], pd.DataFrame(), [], [], pd.DataFrame())
    if sure.words:
        md += ["## How sure are we?", ""] + [x + "\n" for x in sure.words]
        md += [sure.counts.to_markdown(index=False), ""] if not sure.counts.empty else []
        md += [x + "\n" for x in sure.drivers]
    if sure.game_words:
        md += ["### Why cooperation does or does not emerge: the stage game", "", GAME_TEXT, ""]
        md += [x + "\n" for x in sure.game_words]
        md += [sure.games.to_markdown(index=False), ""] if not sure.games.empty else []
    ree = rare_earth_section(comparison, levels, results, reference)
    ree_text = REE_TEXT.format(ref=results.label(reference), pooled=(
        " and over the design points of the swept parameters (separated in the table by swept "
        "parameter below)" if results.parameters else ""), **names)
    ree_heading = ("Rare earths and the holder's leverage" if results.holder == UNNAMED_HOLDER
                   else f"Rare earths and {names['holder_s']} leverage")
    by_point_text = ("By the swept parameters (mean over seeds: shortfall costs of all nations, "
                     f"control spells, {names['holder_s']} share of refining at the end, total "
                     "welfare):")
    by_nation_text = (f"Shortfall costs (USD bn over the run) and time under {names['holder_s']} "
                      "export controls, by nation (mean over seeds):")
    md += [f"## {ree_heading}", "", ree_text, ""]
    if not ree["table"].empty:
        md += [ree["table"].to_markdown(index=False), ""]
    md += [x + "\n" for x in (ree["path"], ree["same"], ree["break_even"]) if x]
    if not ree["by_point"].empty:
        md += [by_point_text, "", ree["by_point"].to_markdown(index=False), ""]
    if not ree["nations"].empty:
        md += [by_nation_text, "", ree["nations"].to_markdown(index=False), ""]
    md += ["## Figures", ""]
    pooled = {"runs": "the runs of every seed and design point", "run": "run (seed and design "
              "point)"} if results.parameters else {"runs": "the seeds", "run": "seed"}
    captions = {name: CAPTIONS.get(name, name).format(**pooled, **names) for name in figures}
    md += [f"![{name}](figures/{name}.png)\n\n*{captions[name]}*\n" for name in figures]
    md += ["", "## Assumptions", "", "Every default and its source, from `docs/calibration.md`.", ""]
    for heading, frame in calibration:
        md += [f"### {heading}", "", frame.to_markdown(index=False), ""]
    md += ["## Limitations", ""] + [f"- {x}" for x in limitations] + [""]
    md += ["## Reproduction", ""] + [f"- **{k}**: `{v}`" for k, v in repro.items()]

    page = [f"<h1>{html.escape(title)}</h1>",
            f"<p>{html.escape(results.manifest.get('description', ''))}</p>",
            f"<p>{html.escape(intro).replace('**', '')}</p>",
            "<h2>Summary</h2>", f"<p>{html.escape(answer)}</p>",
            "<h2>Scenarios compared</h2>", scenarios.to_html(index=False, border=0),
            "<h2>Results</h2>", table.to_html(index=False, border=0),
            f"<p>{_bold(html.escape(reading_guide(results.holder)))}</p>",
            f"<p>{html.escape(value)}</p>",
            f"<p>{html.escape(poa_text)}</p>",
            *([poa.to_html(index=False, border=0)] if not poa.empty else []),
            "<p>All outcomes, per-nation welfare included: <code>comparison.csv</code> and "
            "<code>levels.csv</code>.</p>"]
    if not gains.empty:
        page += ["<h2>Who gains</h2>", f"<p>{html.escape(gains_text)}</p>",
                 gains.to_html(index=False, border=0)]
    if not channels.empty:
        page += ["<h2>Why welfare differs</h2>",
                 f"<p>{_code(html.escape(CHANNELS_TEXT.format(ref=results.label(reference))))}</p>",
                 channels.to_html(index=False, border=0)]
    if sure.words:
        page += ["<h2>How sure are we?</h2>"]
        page += [f"<p>{_code(html.escape(x))}</p>" for x in sure.words]
        page += [sure.counts.to_html(index=False, border=0)] if not sure.counts.empty else []
        page += [f"<p>{_code(html.escape(x))}</p>" for x in sure.drivers]
    if sure.game_words:
        page += ["<h3>Why cooperation does or does not emerge: the stage game</h3>",
                 f"<p>{html.escape(GAME_TEXT)}</p>"]
        page += [f"<p>{html.escape(x)}</p>" for x in sure.game_words]
        page += [sure.games.to_html(index=False, border=0)] if not sure.games.empty else []
    page += [f"<h2>{html.escape(ree_heading)}</h2>", f"<p>{html.escape(ree_text)}</p>"]
    if not ree["table"].empty:
        page.append(ree["table"].to_html(index=False, border=0))
    page += [f"<p>{html.escape(x)}</p>" for x in (ree["path"], ree["same"], ree["break_even"]) if x]
    if not ree["by_point"].empty:
        page += [f"<p>{html.escape(by_point_text)}</p>",
                 ree["by_point"].to_html(index=False, border=0)]
    if not ree["nations"].empty:
        page += [f"<p>{html.escape(by_nation_text)}</p>",
                 ree["nations"].to_html(index=False, border=0)]
    page += ["<h2>Figures</h2>"]
    for name, png in figures.items():
        data = base64.b64encode(png).decode()
        page.append(f'<figure><img alt="{name}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(captions[name])}</figcaption></figure>")
    page += ["<h2>Assumptions</h2>", "<p>Every default and its source, from "
             "<code>docs/calibration.md</code>.</p>"]
    for heading, frame in calibration:
        page += [f"<h3>{_code(html.escape(heading))}</h3>", _code(frame.to_html(index=False, border=0))]
    page += ["<h2>Limitations</h2>", "<ul>"] + [f"<li>{html.escape(x)}</li>" for x in limitations] + [
        "</ul>"]
    page += ["<h2>Reproduction</h2>", "<dl>"] + [
        f"<dt>{html.escape(k)}</dt><dd><code>{html.escape(v)}</code></dd>" for k, v in repro.items()
    ] + ["</dl>"]
    return "\n".join(md) + "\n", _page(title, "\n".join(page))


@dataclass(frozen=True)
class Sure:
    """What the section "How sure are we?" shows: the robustness study in words and counts,
    the parameters that matter most, and the stage game under each scenario in words and a
    table."""

    words: list[str]
    counts: pd.DataFrame
    drivers: list[str]
    game_words: list[str]
    games: pd.DataFrame
    headline: str = ""  # how far the best gain at the defaults carries, for the summary


GAME_TEXT = (
    "At every step each pair of nations plays a one-shot game whose payoffs the step's own "
    "economics give: what each would earn this step if it coordinated (C) or raced (D) toward "
    "the other, everyone else acting as in the last step. Classed by the order of its payoffs "
    "(T: racing a cooperator, R: mutual cooperation, P: mutual racing, S: cooperating with a "
    "racer; Rapoport & Guyer 1966), with its Nash equilibria (nashpy), for the United States "
    "and China on the first seed. A prisoner's dilemma (T > R > P > S) is where reciprocity can "
    "make cooperation pay over time; in deadlock (T > P > R > S) nothing can, and in harmony "
    "cooperation pays at once.")

CAPTIONS = {  # {runs}: the seeds, or the seeds and design points pooled; {run}: one of them
    "timeseries": "Each scenario over time: median over {runs} (line) and the middle half of "
                  "them (band).",
    "differences": "Each scenario's paired difference from the reference, one point per {run}; "
                   "the box holds the middle half, the line is the median.",
    "nations": "Each nation's cumulative welfare under each scenario: mean over {runs} (dot) and "
               "5-95 % range.",
    "channels": "Why total welfare differs from the reference: the mean paired difference split "
                "into the channels that add up to it.",
    "cooperation": "Who cooperates with whom: the share of steps each nation (row) played C "
                   "toward each other (column), mean over {runs}.",
    "leverage": "{Holder_s} share of refined rare-earth supply, the importers' dependence on it and "
                "the price over time.",
    "heatmap": "Over the two swept parameters: each scenario's mean paired difference from the "
               "reference.",
    "games": "The stage game of the United States and China over a run of each scenario (first "
             "seed): the upper half of a band is the game the United States sees, the lower "
             "half China's.",
}


def _bold(escaped_html: str) -> str:
    """Markdown's **bold** as <strong> in HTML that is already escaped."""
    return re.sub(r"\*\*([^*<>]+)\*\*", r"<strong>\1</strong>", escaped_html)


def _code(escaped_html: str) -> str:
    """Markdown's `code` spans as <code> in HTML that is already escaped."""
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", escaped_html)


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }}
th, td {{ padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
img {{ max-width: 100%; }}
figure {{ margin: 1em 0 2em; }}
figcaption {{ color: #666; font-size: 0.85em; }}
code {{ font-size: 0.85em; }}
dt {{ font-weight: 600; margin-top: 0.4em; }}
</style></head><body>
{body}
</body></html>
"""
