"""Where the most robust policy fails: the worlds in which the policy a robust decision study
(:mod:`sim.explore.robust`) finds most robust for the US, China or the world leaves that actor
short of its threshold, and the region of the uncertainties that holds most of them (scenario
discovery: Bryant & Lempert 2010; Lempert et al. 2006's "vulnerabilities").

In 60-odd dimensions, PRIM alone peels a sliver off nearly every one of them and reports a box
no reader can use. So the uncertainties are screened first (:func:`screen`: those distributed
differently where the policy fails, by a two-sample test, Bonferroni-corrected), and only the
significant edges of PRIM's box over them are put into words.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.results import Results
from sim.base.words import capitalised, listed, percent
from sim.explore.robust import LEADERS, METRICS, TOLERANCE, WORLD, performance
from sim.scenario import rules

FOLLOWED = (*LEADERS, WORLD)  # whose vulnerabilities are described


def choice(long: pd.DataFrame, label: str) -> str:
    """The most robust policy for a measure: first under the most ranked metrics; of those
    equally often first, the lowest 90th-percentile regret, then the highest mean."""
    rows = long[(long["label"] == label) & long["metric"].isin(list(METRICS))]
    ranks = rows.pivot(index="policy", columns="metric", values="rank")
    order = pd.DataFrame({"firsts": -(ranks == 1).sum(axis=1), "p90": ranks["regret_p90"],
                          "mean": ranks["mean"]}).sort_values(["firsts", "p90", "mean"])
    return str(order.index[0])


def vulnerabilities(results: Results, long: pd.DataFrame,
                    thresholds: dict[str, float] | None = None) -> tuple[list[str], pd.DataFrame]:
    """Where the most robust policy fails: for the US, China and the world, the worlds in which
    the policy :func:`choice` picks falls short of the actor's threshold, described by PRIM's
    box over the uncertainties (:func:`sim.explore.discover.discover_points`). Sentences, and
    the boxes (one row per restricted parameter, with the actor and the policy)."""
    from sim.explore.discover import discover_points
    from sim.explore.discover.figure import parameter_words

    table, measures = performance(results)
    complete = table.dropna()
    reference = results.reference()
    thresholds = thresholds or {}
    columns = {c: p for c, p in results.parameters.items() if c in results.runs.columns}
    x = results.runs.groupby("point")[list(columns)].first().loc[complete.index].reset_index()
    said, boxes = [], []
    for measure in measures:
        if measure.label not in FOLLOWED:
            continue
        policy = choice(long, measure.label)
        values = complete[(measure.key, policy)]
        absolute = measure.label in thresholds
        if policy == reference and not absolute:
            said.append(f"{capitalised(measure.label)}: the most robust policy is the reference, "
                        f"{results.label(policy)}, the yardstick of the thresholds: it cannot "
                        "fall short of itself (an absolute --threshold asks where it fails).")
            continue
        bar = thresholds[measure.label] if absolute else complete[(measure.key, reference)]
        fails = (values < bar - (TOLERANCE if absolute else measure.negligible)).to_numpy()
        against = (f"below {thresholds[measure.label]:g} {measure.unit}" if absolute
                   else f"worse off than under {results.label(reference)}")
        head = (f"{capitalised(measure.label)}: the most robust policy, {results.label(policy)}, leaves it "
                f"{against} in {int(fails.sum())} of {len(fails)} worlds")
        if fails.sum() < 2 or (~fails).sum() < 2:
            said.append(head + ": too few (or too many) to describe a region.")
            continue
        drivers = screen(x, fails, columns)
        if not drivers:
            said.append(head + "; no uncertainty is distributed differently in those worlds "
                        "than in the others (a Kolmogorov-Smirnov test for each, Bonferroni-"
                        "corrected): no region describes them.")
            continue
        found = discover_points(x, fails, parameters=drivers, condition=head)
        rows = found.boxes[found.boxes["restricted"] & found.boxes["significant"]] \
            if not found.boxes.empty else found.boxes
        if rows.empty:
            said.append(head + "; PRIM finds no region with a significant edge that holds most "
                        "of them.")
            continue
        first = rows.iloc[0]
        parts = [_box_words(row, parameter_words(row.parameter)[0] or row.parameter)
                 for row in rows.sort_values("qp").itertuples()]
        said.append(f"{head}. {capitalised(listed(parts))} in {percent(first['coverage'])} of those "
                    f"worlds; where that holds, it fails in {percent(first['density'])} of the "
                    f"worlds, against {percent(fails.mean())} of all (PRIM: coverage and "
                    "density).")
        boxes.append(rows.assign(actor=measure.label, policy=policy))
    return said, (pd.concat(boxes, ignore_index=True) if boxes else pd.DataFrame())


SCREENED = 4  # at most this many uncertainties go to PRIM


def screen(x: pd.DataFrame, fails: np.ndarray, columns: dict[str, str]) -> dict[str, str]:
    """The uncertainties distributed differently where a policy fails than where it does not:
    a two-sample Kolmogorov-Smirnov test for each (a chi-squared test of the strategy set, a
    category), kept below 0.05 after a Bonferroni correction for the number tested, at most
    :data:`SCREENED` of them, the most significant first. In 60-odd dimensions PRIM peels a
    sliver off every one of them; screening first keeps its box to what tells the worlds apart
    (Bryant & Lempert 2010 on interpretability)."""
    from scipy.stats import chi2_contingency, ks_2samp

    found = {}
    for column in columns:
        values = x[column].to_numpy(dtype=float)
        if columns[column] == rules.PARAMETER:
            table = pd.crosstab(values, fails)
            found[column] = chi2_contingency(table).pvalue if table.shape == (
                table.shape[0], 2) and table.shape[0] > 1 else 1.0
        else:
            found[column] = ks_2samp(values[fails], values[~fails]).pvalue
    kept = sorted((p, c) for c, p in found.items() if p < 0.05 / len(columns))
    return {c: columns[c] for _, c in kept[:SCREENED]}




def _box_words(row: Any, what: str) -> str:
    if row.parameter == rules.PARAMETER:  # codes: name the strategy sets inside the box
        inside = [code for k, code in enumerate(rules.CODES) if row.low <= k <= row.high]
        named = ["each nation its own rule" if c == "own" else rules.SETS[c][0] for c in inside]
        return f"the rules are {' or '.join(named)}"
    low_cut, high_cut = row.low > row.range_low, row.high < row.range_high
    if low_cut and high_cut:
        return f"{what} is {row.low:.3g} to {row.high:.3g}"
    return f"{what} is above {row.low:.3g}" if low_cut else f"{what} is below {row.high:.3g}"
