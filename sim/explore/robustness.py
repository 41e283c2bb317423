"""Does the comparison's answer survive other assumptions? A cheap design that runs with the main
job: a Latin hypercube of some points over every ranged parameter of
``sim/scenario/calibration.toml`` at once, each point run for every scenario on the same seeds
(one by default; so the differences are paired, and a point's numbers are the means over its
seeds). For each scenario it counts the points at which it beats the reference (in total
welfare, and in the US's and China's), is level with it, and is alone the best of all, and it
counts the points at which nothing is built at the pole (where many scenarios tie); the report
puts these beside the answer at the default values.

A few points say how general an answer is, not why: which parameters drive it is what a Morris
study (``lunarsim explore sensitivity``) measures, and the report shows its ranking when one
has been run for the experiment.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.results import Results
from sim.analysis.stats import PAIR_KEYS
from sim.base.arguments import whole_number
from sim.base.errors import UserError
from sim.base.shown import shown_path
from sim.experiment.spec import Experiment
from sim.explore.discover.paired import TIE
from sim.scenario import calibration

POINTS = 64  # about 15 s of runs for the default comparison on 2 cores (448 runs)
SEEDS = 1  # at every point: replicate 0 of the base experiment
FOLLOWED = ("United States", "China")


def folder_for(results_folder: Path, kind: str) -> Path:
    """Where an experiment's companion study lives: ``results/NAME-robustness``, ``-morris``."""
    return results_folder.with_name(f"{results_folder.name}-{kind}")


def design(base: Experiment, points: int = POINTS, seed: int | None = None,
           seeds: int = SEEDS) -> Experiment:
    """The base experiment's scenarios at ``points`` Latin hypercube points over every ranged
    parameter, on the base experiment's first ``seeds`` seeds at every point."""
    from scipy.stats import qmc

    from sim.explore.sensitivity import points as values

    points = whole_number(points, "points", low=1)
    seeds = whole_number(seeds, "seeds", low=1)
    params = calibration.ranged()
    seed = base.spec.master_seed if seed is None else seed
    unit = qmc.LatinHypercube(len(params), rng=np.random.default_rng(seed)).random(points)
    return base.with_design(f"{base.spec.name}-robustness", values(params, unit), seeds,
                            f"{base.spec.name} at {points} points over the ranges of every "
                            f"parameter, {seeds} seed{'s' if seeds > 1 else ''} each")


def seeds_of(results: Results) -> int:
    """How many seeds the study ran at each point."""
    return int(results.runs["replicate"].nunique())


def summarise(results: Results, reference: str) -> pd.DataFrame:
    """One row per scenario: at how many design points it beats the reference in total welfare
    and in each followed nation's welfare, at how many it is level with it (within
    :data:`TIE`), and at how many it is alone the best scenario or shares the best. With
    several seeds a point, a point's numbers are their means over the seeds every scenario ran
    there (a seed one scenario lacks is left out for all, so the comparison stays paired)."""
    runs = results.runs
    welfare = results.nations.pivot_table(index="run", columns="nation", values="welfare_usd_bn")
    values = runs.set_index("run")[["scenario", *PAIR_KEYS, "welfare_total_usd_bn"]]
    measures = {"welfare_total_usd_bn": "total welfare"}
    for nation in FOLLOWED:
        if nation in welfare.columns:
            values[nation] = welfare[nation]
            measures[nation] = f"{nation}'s welfare"
    wide = values.pivot_table(index=PAIR_KEYS, columns="scenario", values=list(measures))
    wide = wide.loc[wide["welfare_total_usd_bn"].dropna().index]  # the seeds every scenario ran

    def per_point(table: pd.DataFrame) -> pd.DataFrame:  # the seeds averaged
        return table.groupby(level="point").mean()

    total = per_point(wide["welfare_total_usd_bn"])
    # each point's best scenario, or those tied for it (equal as scenario discovery's best())
    at_top = pd.DataFrame(np.isclose(total, total.max(axis=1).to_numpy()[:, None], **TIE),
                          index=total.index, columns=total.columns)
    shared = at_top.sum(axis=1) > 1
    rows = []
    for scenario in results.scenarios:
        top = at_top[scenario] if scenario in at_top else pd.Series(False, index=at_top.index)
        row: dict[str, Any] = {"scenario": scenario, "points": len(total),
                               "best": int((top & ~shared).sum()),
                               "shares_best": int((top & shared).sum())}
        if scenario != reference:
            for measure in measures:
                both = per_point(wide[measure][[scenario, reference]])
                level = np.isclose(both[scenario], both[reference], **TIE)
                row[f"beats_reference: {measure}"] = int(
                    ((both[scenario] > both[reference]) & ~level).sum())
                row[f"level_with_reference: {measure}"] = int(level.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _active(results: Results) -> pd.Series:
    """Per design point, whether any nation builds a plant or produces anything at the pole in
    any scenario or seed there."""
    runs = results.runs
    return (runs[["investment_usd_bn", "gross_output_usd_bn"]].abs().max(axis=1) > 0).groupby(
        runs["point"]).any()


def idle_points(results: Results) -> int:
    """The design points at which no nation builds a plant or produces anything at the pole, in
    any scenario or seed: there the lunar rules have nothing to act on."""
    return int((~_active(results)).sum())


def idle_driver(results: Results) -> str:
    """The ranged parameter whose values best tell the idle points from the others, in words:
    its median at each, and the Mann-Whitney probability that an idle point's value exceeds an
    active one's. Said only where that probability is at least 0.25 from a half and the test
    holds at 5 % after a Bonferroni correction for every parameter tried (few points tell
    nothing); else ""."""
    from scipy.stats import mannwhitneyu

    active = _active(results)
    if active.all() or not active.any():
        return ""
    values = results.runs.drop_duplicates("point").set_index("point").loc[active.index]
    found = []
    for column, name in results.parameters.items():
        idle = values.loc[~active, column].dropna().astype(float)
        busy = values.loc[active, column].dropna().astype(float)
        if idle.empty or busy.empty:
            continue
        test = mannwhitneyu(idle, busy)
        above = test.statistic / (len(idle) * len(busy))
        found.append((test.pvalue, -abs(above - 0.5), name, above, idle.median(), busy.median()))
    clear = [f for f in found if f[0] < 0.05 / len(found) and -f[1] >= 0.25]
    if not clear:
        return ""
    p_value, _, name, above, idle, busy = min(clear)
    p = calibration.get(name)
    default = p.schema_default()
    about = [p.unit] if p.unit else []
    if isinstance(default, int | float) and not isinstance(default, bool):
        about.append(f"default {_figure(default)}")
    return (f"What tells those points from the others best is the {p.label}: the median is "
            f"{_figure(idle)} there and {_figure(busy)} at the other points"
            + (f" ({', '.join(about)})" if about else "")
            + f"; of all pairs of an idle and an active point, the idle one has the higher "
            f"value in {above * 100:.0f} % (Mann-Whitney p = {p_value:.1g}, "
            + ("the only parameter tried)." if len(found) == 1 else
               f"one of {len(found)} parameters tried)."))


def _figure(x: float) -> str:
    return f"{float(f'{x:.3g}'):,g}"


def sentences(table: pd.DataFrame, results: Results, reference: str,
              at_defaults: dict[str, tuple[float, float]], idle: int = 0,
              why_idle: str = "") -> list[str]:
    """The counts in words, beside the answer at the default values: ``at_defaults`` maps each
    scenario to the 95 % interval of its paired difference from the reference in total
    welfare there; ``idle``, the points at which nothing is built at the pole
    (:func:`idle_points`), and ``why_idle`` what sets them apart (:func:`idle_driver`)."""
    if table.empty:
        return []
    n = int(table["points"].iloc[0])
    ref = results.label(reference)
    out = []
    for fields in table.to_dict("records"):
        beats = fields.get("beats_reference: welfare_total_usd_bn")
        if fields["scenario"] == reference or beats is None or pd.isna(beats):
            continue
        beats = int(beats)
        level = int(fields.get("level_with_reference: welfare_total_usd_bn", 0) or 0)
        low, high = at_defaults.get(fields["scenario"], (float("nan"), float("nan")))
        name = results.label(fields["scenario"])
        if low > 0:
            text = f"{name} beats {ref} in total welfare at the defaults, and at {beats}"
        elif low == high == 0:  # (the same runs at the defaults)
            text = (f"{name} is level with {ref} in total welfare at the defaults; it is better "
                    f"at {beats}")
        elif high < 0:
            text = (f"{name} falls short of {ref} in total welfare at the defaults, and at "
                    f"{n - beats - level}")
        else:
            text = (f"{name} is not clearly better or worse than {ref} in total welfare at the "
                    f"defaults (its interval spans 0); it is better at {beats}")
        nations, levels = [], False
        for nation in FOLLOWED:
            if f"beats_reference: {nation}" in fields:
                even = int(fields.get(f"level_with_reference: {nation}", 0) or 0)
                levels |= even > 0
                nations.append(f"{_short(nation)} at {int(fields[f'beats_reference: {nation}'])}"
                               + (f", level at {even}" if even else ""))
        out.append(f"{text} of {n} sampled points"
                   + (f", level with it at {level}" if level else "")
                   + (f" (better off than under {ref}: {('; ' if levels else ', ').join(nations)})"
                      if nations else "") + ".")
    best = table.set_index("scenario")["best"]
    tied = n - int(best.sum())  # points whose best is shared
    ties = (f"at {tied} of them two or more scenarios share the best" if tied < n else
            "at its one point two or more scenarios share the best" if n == 1 else
            f"at all {n} two or more scenarios share the best")
    if best.max() == 0:
        out.append(f"No scenario is alone the best at any sampled point: {ties}.")
    else:
        top = best.idxmax()
        others = ", ".join(f"{results.label(s)} at {k}" for s, k in best.items() if k and s != top)
        out.append(f"The best scenario at a sampled point is {results.label(top)} at {best[top]} "
                   f"of {n} points" + (f"; {others}" if others else "")
                   + (f"; {ties}" if tied else "") + ".")
    if idle:
        where = ("At the one sampled point" if n == 1 else f"At every sampled point (all {n})"
                 if idle == n else f"At {idle} of the {n} points")
        out.append(f"{where} no nation builds a plant or produces anything at "
                   "the pole, under any scenario: the scenarios' lunar rules have nothing to act "
                   "on there, and they differ only through what they change off the Moon (a "
                   "regime's fees, the rare-earth arena). A scenario level with another is "
                   "counted as neither better nor worse." + (f" {why_idle}" if why_idle else ""))
    return out


def _failed_words(manifest: dict[str, Any], drawn: int, counted: int) -> str:
    """What the study's failed runs leave out, in words ("" if none failed)."""
    failed = int(manifest.get("runs_failed") or 0)
    if not failed:
        return ""
    left = (f", and the {drawn - counted} points where one ran none are left out: the counts "
            f"are of {counted} points" if drawn > counted else "")
    return (f" {failed} of its {manifest.get('runs_total')} runs failed (its failures table "
            f"says why); a point counts only the seeds every scenario ran there{left}.")


def _seeds_words(k: int) -> str:
    """How the study's seeds pair its runs, in words."""
    if k == 1:
        return "one seed shared by all scenarios at a point, so the differences are paired"
    return (f"the same {k} seeds for all scenarios at a point, so the differences are paired, "
            f"and a point's numbers are the means of its {k} runs")


def _chance_words(k: int) -> str:
    """What chance does to the counts, in words."""
    if k == 1:
        return ("With one seed a point, a count mixes what the parameters do with chance: a "
                "difference that is not clear at the defaults is won or lost at a point by "
                "chance as much as by the parameters.")
    return (f"With {k} seeds a point, chance still moves a count, if less than with one: a "
            "difference that is not clear at the defaults can be won or lost at a point by "
            "chance.")


def each_point(k: int) -> str:
    """What a point's number is, in words (after "at 12 of 64 sampled points")."""
    return "one seed each" if k == 1 else f"the mean of {k} seeds each"


def _short(nation: str) -> str:
    return {"United States": "the US"}.get(nation, nation)


def section(folder: Path, results: Results, reference: str,
            comparison: pd.DataFrame) -> tuple[list[str], pd.DataFrame, list[str], str]:
    """The report's "How sure are we?": paragraphs in words, a table of counts (empty when no
    robustness study of this experiment is there), the parameters that matter most (from a
    Morris study), and the sentence on the scenario that gains most at the defaults, for the
    summary ("" without a study)."""
    paragraphs: list[str] = []
    table = pd.DataFrame()
    headline = ""
    model = results.manifest.get("model_sha256")
    robust = finished(folder_for(folder, "robustness"), model, failures_ok=True)
    welfare = comparison[comparison["outcome"] == "welfare_total_usd_bn"]
    at_defaults = {r.scenario: (r.ci_low, r.ci_high) for r in welfare.itertuples()}
    if robust is not None and set(robust.scenarios) >= set(results.scenarios):
        counts = summarise(robust, reference)
        n = int(counts["points"].iloc[0])
        drawn = len(robust.manifest.get("design_points") or []) or n
        paragraphs.append(
            f"The answer above holds at the default values of the parameters. To see how far it "
            f"carries, every scenario was also run at {drawn} points drawn at once from the ranges "
            f"of all {len(calibration.ranged())} parameters with a range in docs/calibration.md (a "
            f"Latin hypercube; {_seeds_words(seeds_of(robust))}; "
            f"`{shown_path(robust.folder)}`). {_chance_words(seeds_of(robust))}"
            + _failed_words(robust.manifest, drawn, n))
        said = sentences(counts, results, reference, at_defaults, idle_points(robust),
                         idle_driver(robust))
        paragraphs += said
        table = _counts_table(counts, results, reference)
        if not welfare.empty:
            top = results.label(welfare.sort_values("mean_difference")["scenario"].iloc[-1])
            headline = next((x for x in said if x.startswith(f"{top} ")), "")
    else:
        paragraphs.append(
            "How far the answer carries beyond the default values has not been measured for this "
            f"experiment and this model code: `lunarsim compare` runs the scenarios at {POINTS} "
            "points over every parameter's range when it runs an experiment without a design of "
            "its own.")
    return paragraphs, table, _drivers(folder, results, reference), headline


def finished(folder: Path, model: str | None, failures_ok: bool = False) -> Results | None:
    """The results of a companion study, if it is there, finished (``failures_ok``: also if
    some of its runs failed), and made by the same model code as the comparison's (``model``:
    its ``model_sha256``)."""
    try:
        results = Results(folder)
        done = results.manifest.get("status") in (
            ("complete", "complete with failures") if failures_ok else ("complete",))
        same = model is not None and results.manifest.get("model_sha256") == model
        return results if done and same and not results.runs.empty else None
    except (UserError, OSError, ValueError, KeyError):  # absent, damaged, an older format:
        return None  # the section says it is missing


def _counts_table(counts: pd.DataFrame, results: Results, reference: str) -> pd.DataFrame:
    n = int(counts["points"].iloc[0])
    ref = results.label(reference)

    def measure(c: str) -> str:
        return c.split(': ', 1)[1].replace('welfare_total_usd_bn', 'total welfare')

    columns = {c: f"better than {ref}: {measure(c)}" for c in counts.columns
               if c.startswith("beats_reference")}
    level = "level_with_reference: welfare_total_usd_bn"
    if level in counts and counts[level].fillna(0).any():  # (shown where there are any)
        columns[level] = f"level with {ref}: total welfare"
    shown = counts.rename(columns=columns | {"best": "best of all",
                                             "shares_best": "shares the best"})
    shown["scenario"] = shown["scenario"].map(results.label)
    shares = "shares_best" in counts and counts["shares_best"].fillna(0).any()
    last = ["best of all"] + (["shares the best"] if shares else [])
    for column in [*columns.values(), *last]:
        shown[column] = shown[column].map(lambda k: "—" if pd.isna(k) else f"{int(k)} of {n}")
    return shown[["scenario", *columns.values(), *last]]


def _drivers(folder: Path, results: Results, reference: str) -> list[str]:
    """Which parameters the headline differences depend on most, from a Morris study: an
    introduction, then a line per difference."""
    path = folder_for(folder, "morris") / "sensitivity.csv"
    try:
        table = pd.read_csv(path)
        if finished(path.parent, results.manifest.get("model_sha256")) is None:
            return [f"The Morris screening in `{shown_path(path.parent)}` was made by other "
                    "model code (or "
                    "is unfinished); `lunarsim explore sensitivity --force` runs it again, and "
                    "this section then names the parameters that matter most."]
    except (OSError, ValueError):
        return ["Which parameters the differences depend on most is what a Morris screening "
                "measures: `lunarsim explore sensitivity` (about 10 minutes on 2 cores) writes it "
                f"to `{shown_path(path.parent)}`, and this section then names them."]
    heads = table[table["headline"].astype(bool)]
    parts = []
    for output, rows in heads.groupby("output", sort=False):
        top = rows.sort_values("mu_star", ascending=False).head(3)
        names = ", ".join(
            f"{r.parameter_label} ({r.mu_star:.2g} {r.unit}, 95 % interval "
            f"{max(0.0, r.mu_star - r.mu_star_conf):.2g} to {r.mu_star + r.mu_star_conf:.2g})"
            for r in top.itertuples())
        parts.append(f"{rows['label'].iloc[0]}: {names}")
    return ["Which parameters matter most, by a Morris screening of every ranged parameter (`"
            + shown_path(path.parent) + "`; μ*: the mean absolute change in the difference when a "
            "parameter moves across its range, with its 95 % bootstrap interval; where the "
            "intervals overlap the order is not established, and a spread σ above μ* means the "
            "effect depends on the other parameters):", *(f"{part}." for part in parts)]
