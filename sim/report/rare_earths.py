"""The report's section on rare earths: the outcomes that differ between scenarios and what
carries the difference, those that do not, the leverage path in words, each nation's welfare
by arena, shortfalls and controls by nation, results by swept parameter, and the break-even
return cost of lunar rare earths."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.outcomes import holder_names, name_holder
from sim.analysis.results import Results
from sim.report.text import num, value_text

REE_TEXT = (
    "Magnet rare-earth oxides (NdPr, Dy, Tb). {Holder_s} leverage is its share of refined world "
    "supply; dependence is the share of what the other nations use that {holder_s} refineries "
    "supply. Every nation acts in two arenas: at the south pole, and in rare-earth trade with "
    "{holder}, which may restrict its exports to a nation while the nation may retaliate by "
    "withholding exports of equal value. Each answers a defection against it (reciprocity, as "
    "trade law provides); a nation that links the arenas also answers a race at the pole with a "
    "restriction, and a restriction at the pole; a forward-looking nation restricts where, over "
    "its horizon, coercing a distrusted rival is worth more to it than the sales and the "
    "retaliation it costs. Play at the pole therefore reaches rare earths through linkage and "
    "through trust. Mean over seeds{pooled}; in brackets the paired difference from {ref} with "
    "its 95% interval."
)

# Why an outcome can be the same in every run, where that is the reason
SAME_WHY = {
    "ree_delivered_t": "at today's return cost no lunar rare earths pay their way to Earth, in "
                       "any scenario; see the break-even below",
}

WHY_DIFFERENT = (
    "What carries the difference: play at the pole. Controls fall on nations that defected "
    "against {holder} — for a nation that links the arenas, a race at the pole is a defection — "
    "and racing lowers the trust that makes coercion worth its cost; each control raises "
    "shortfall costs and the threat that builds refining outside {holder}, and each retaliation "
    "costs both sides. Fewest nation-years under control: {fewest}; most: {most}."
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
            why = f": {SAME_WHY[o.name]}" if o.name in SAME_WHY else ""
            same.append((f"{words} ({num(level[reference] * scale)} {unit}{why})",
                         o.name in SAME_WHY))
            continue
        row = {"outcome": f"{o.label} ({unit})",
               results.label(reference): num(level[reference] * scale)}
        for sc in others:
            r = got[got["scenario"] == sc]
            if r.empty:
                continue
            r = r.iloc[0]
            row[results.label(sc)] = (
                f"{num(r['scenario_mean'] * scale)} ({num(r['mean_difference'] * scale, sign=True)}"
                f"{dunit} [{num(r['ci_low'] * scale, sign=True)}, {num(r['ci_high'] * scale, sign=True)}]"
                + (", negligible)" if r.get("negligible", False) else ")"))
        rows.append(row)
    same_line = ("The same in every scenario, on every seed: " + "; ".join(w for w, _ in same)
                 + "." + ("" if all(known for _, known in same) else
                          " The lunar regimes reach the rare-earth market only through play (the "
                          "answers of nations that link the arenas, and trust), and here it takes "
                          "the same course in every scenario.") if same else "")
    n = results.nations
    by_nation = pd.DataFrame()
    if not n.empty and {"ree_shortfall_cost_usd_bn", "controlled_years"} <= set(n.columns):
        hit = n.groupby("nation")[["ree_shortfall_cost_usd_bn", "controlled_years"]].sum()
        hit = hit[(hit > 0).any(axis=1)].index
        if len(hit):
            n = n[n["nation"].isin(hit)].assign(scenario=n["run"].map(
                results.runs.set_index("run")["scenario"]))
            cols = ["ree_shortfall_cost_usd_bn", "controlled_years", "control_episodes",
                    *(["retaliation_years"] if "retaliation_years" in n.columns else [])]
            mean = n.groupby(["nation", "scenario"])[cols].mean()
            first = _first_control_years(results)
            by_nation = pd.DataFrame({
                results.label(sc): [
                    f"{num(mean.loc[(nat, sc), 'ree_shortfall_cost_usd_bn'])} bn; "
                    f"{num(mean.loc[(nat, sc), 'controlled_years'])} y in "
                    f"{_spells(mean.loc[(nat, sc), 'control_episodes'])}"
                    + (f", first {first[(nat, sc)]:.0f}" if (nat, sc) in first else "")
                    + _retaliating(mean, nat, sc)
                    if (nat, sc) in mean.index else "—" for nat in hit]
                for sc in results.scenarios}, index=list(hit)).rename_axis("nation").reset_index()
    return {"table": pd.DataFrame(rows), "same": same_line, "nations": by_nation,
            "break_even": _break_even_text(levels, results), "by_point": _by_point(results),
            "path": _leverage_path(results, reference), "why": _why_different(results),
            "arenas": _arenas(results)}


def _why_different(results: Results) -> str:
    """Which mechanism carries the rare-earth differences between scenarios, with the
    scenarios of fewest and most nation-years under control (mean over seeds); empty where
    controls do not differ."""
    n = results.nations
    if n.empty or "controlled_years" not in n.columns:
        return ""
    scenario = n["run"].map(results.runs.set_index("run")["scenario"])
    years = (n.groupby([scenario, "run"])["controlled_years"].sum().groupby(level=0).mean()
             .reindex(results.scenarios))
    if years.max() - years.min() < 0.5:
        return ""
    def named(which: float) -> str:
        return ", ".join(f"{results.label(sc)} ({num(v)})" for sc, v in years.items() if v == which)
    return WHY_DIFFERENT.format(fewest=named(years.min()), most=named(years.max()),
                                **holder_names(results.holder))


def _arenas(results: Results) -> pd.DataFrame:
    """Each nation's welfare over the run split between the arenas: lunar welfare and
    terrestrial rare-earth costs (shortfalls, sales forgone, retaliation, dearer refining), by
    scenario (mean over seeds), for the nations with any rare-earth cost."""
    n = results.nations
    need = {"welfare_lunar_usd_bn", "ree_costs_usd_bn"}
    if n.empty or not need <= set(n.columns):
        return pd.DataFrame()
    n = n.assign(scenario=n["run"].map(results.runs.set_index("run")["scenario"]))
    mean = n.groupby(["nation", "scenario"], sort=False)[sorted(need)].mean()
    hit = [nat for nat in dict.fromkeys(n["nation"])
           if (mean.loc[nat, "ree_costs_usd_bn"].abs() > 0.005).any()]
    return pd.DataFrame({
        results.label(sc): [f"{num(mean.loc[(nat, sc), 'welfare_lunar_usd_bn'], sign=True)} / "
                            f"{num(-mean.loc[(nat, sc), 'ree_costs_usd_bn'], sign=True)}"
                            if (nat, sc) in mean.index else "—" for nat in hit]
        for sc in results.scenarios}, index=hit).rename_axis("nation").reset_index()


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
    fall = lev.iloc[0] - lev.min()
    half = lev.index[lev <= lev.iloc[0] - fall / 2][0] if fall > 0 else lev.index[0]
    most = (f" (half of the fall by {int(np.floor(half))})"
            if fall > 0 and int(np.floor(half)) < int(np.floor(low_year)) else "")
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
            f"{lev.index[0]:.0f} to {100 * lev.min():.0f}% in {low_year:.0f}{most} as refineries "
            f"outside {h} come on stream ({num(by_year['refining_built_t_per_yr'].loc[low_year])} t/yr "
            f"of capacity built by then, announced projects included), and ends at {100 * lev.iloc[-1]:.0f}% "
            f"in {lev.index[-1]:.0f}, with {num(by_year['refining_built_t_per_yr'].iloc[-1])} t/yr built: "
            f"refineries outside {h} run only on ore mined outside it (less the ore shipped "
            f"to {h}{shipped}), and {h} refines all the rest. "
            f"{spells}. {H} restricts a nation that defected against it, for as long as it "
            "does (a nation that links the arenas counts a race at the pole), and where, looking "
            "ahead, coercing a distrusted rival is worth more than the sales and the retaliation "
            "it costs; each control raises the threat that builds refining outside "
            f"{h}.")


def _retaliating(mean: pd.DataFrame, nation: str, scenario: str) -> str:
    """"; retaliating N y" where the nation retaliated against the holder in the scenario."""
    years = mean.loc[(nation, scenario)].get("retaliation_years", 0.0)
    return f"; retaliating {num(years)} y" if years > 0 else ""


def _spells(mean: float) -> str:
    return f"{num(mean)} spell" + ("" if num(mean) == "1" else "s")


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
        head = ", ".join(f"{results.parameters[p].split('.')[-1]} = {value_text(v)}"
                         for p, v in zip(params, key, strict=True))
        table[head] = [
            (lambda r: f"{num(r['ree_shortfall_cost_usd_bn'])} bn short; "
                       f"{num(r['control_episodes'])} spells; leverage "
                       f"{num(100 * r['leverage_index'])}%; welfare {num(r['welfare_total_usd_bn'])} bn")(
                mean.loc[(sc, *key)]) if (sc, *key) in mean.index else "—"
            for sc in results.scenarios]
    return pd.DataFrame(table, index=[results.label(sc) for sc in results.scenarios]
                        ).rename_axis("scenario").reset_index()


def _break_even_text(levels: pd.DataFrame, results: Results) -> str:
    be = levels[levels["outcome"] == "ree_break_even_usd_per_kg"]
    if be.empty:
        return ""
    said: dict[str, list[str]] = {}  # the same words for several scenarios are said once
    for r in be.itertuples():
        words = (f"below ${num(r.mean)}/kg" if r.mean > 0 else
                 f"not even if the return were free (working KREEP regolith costs "
                 f"${num(-r.mean)} more per kg of oxide than its magnet oxides fetch)")
        said.setdefault(words, []).append(results.label(r.scenario))
    every = len(results.scenarios)
    parts = [f"{'every scenario' if len(who) == every > 1 else ', '.join(who)}: {words}"
             for words, who in said.items()]
    return ("Lunar rare earths would reach Earth if bringing a kg back cost less than the "
            "break-even return cost along each run's price path (best step, mean over seeds) — "
            "against about $1 million/kg to reach the surface today (NASA CLPS): "
            + "; ".join(parts) + ".")
