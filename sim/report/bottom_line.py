"""The report's bottom line, actor by actor: for the US, China, each bloc's other members and
the world, the arrangement under which it is best off, by how much against the reference and on
how many seeds, and whether that is established against the runner-up (a paired interval that
excludes 0), else said to be not established. Every comparative word comes from a test on the
numbers it names (tested by changing the numbers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.results import Results
from sim.analysis.stats import PAIR_KEYS, mean_interval
from sim.explore.discover.paired import TIE
from sim.explore.robust import WORLD, actors
from sim.explore.robustness import each_point, seeds_of
from sim.report.text import num

WHO = {"United States": "The United States", "Artemis partners": "The Artemis partners",
       "ILRS partners": "The ILRS partners", "non-aligned nations": "The non-aligned nations",
       WORLD: "The world as a whole"}
PLURAL = {"Artemis partners", "ILRS partners", "non-aligned nations"}


def why_negative(levels: pd.DataFrame) -> str:
    """Why total welfare is negative, where it is negative in every scenario while lunar
    welfare is positive in every one: the terrestrial rare-earth costs, paid in all of them."""
    mean = levels.set_index(["outcome", "scenario"])["mean"]
    try:
        total, lunar = mean["welfare_total_usd_bn"], mean["welfare_lunar_total_usd_bn"]
    except KeyError:
        return ""
    if (total < 0).all() and (lunar > 0).all():
        return ("Total welfare is negative in every scenario while lunar welfare is positive in "
                "every one: the terrestrial rare-earth costs, paid under every arrangement, "
                "outweigh what is made on the Moon. What the arrangements decide is the "
                "difference, below.")
    return ""


def actor_welfare(results: Results) -> pd.DataFrame:
    """Each actor's welfare per run (USD bn over the run): columns actor, indexed by run."""
    reference = results.reference()
    welfare = results.nations.pivot_table(index="run", columns="nation",
                                          values="welfare_usd_bn", aggfunc="sum")
    out = pd.DataFrame(index=welfare.index)
    for actor, members in actors(results.nations, reference).items():
        out[actor] = welfare[members].sum(axis=1, min_count=len(members))
    out[WORLD] = results.runs.set_index("run")["welfare_total_usd_bn"]
    return out


def sentence(actor: str, values: pd.DataFrame, reference: str, label, resamples: int = 4999,
             seed: int = 0, sampled: pd.DataFrame | None = None,
             each: str = "one seed each") -> str:
    """The bottom line for one actor from its welfare ``values`` (rows: the pairing keys; columns:
    scenarios, the reference among them), every scenario on the same seeds; ``sampled``, the
    actor's welfare at the robustness study's points (rows: points; ``each`` says what a point's
    number is, "one seed each"), adds at how many of them the best arrangement beats the
    reference."""
    means = values.mean()
    order = means.sort_values(ascending=False).index.tolist()
    if reference in order and np.isclose(means[order[0]], means[reference], **TIE):
        order.remove(reference)  # level with the reference at the top: nothing gains on it
        order.insert(0, reference)
    best, runner = order[0], order[1]
    seeds = len(values)
    who = WHO.get(actor, actor)
    is_ = "are" if actor in PLURAL else "is"

    def interval(a: str, b: str) -> tuple[float, float, float, int]:
        d = (values[a] - values[b]).to_numpy()
        low, high = mean_interval(d, 0.95, resamples, seed)
        return float(d.mean()), low, high, int((d > 0).sum())

    def said(m: float, low: float, high: float) -> str:
        return f"{num(m, sign=True)} bn [{num(low, sign=True)}, {num(high, sign=True)}]"

    if best == reference:
        m, low, high, wins = interval(reference, runner)
        text = (f"{who} {is_} best off under {label(reference)}, the reference: no arrangement "
                f"raises its welfare on average; the nearest, {label(runner)}, leaves it "
                f"{said(-m, -high, -low)}.")
    else:
        m, low, high, wins = interval(best, reference)
        where = ""
        if sampled is not None and {best, reference} <= set(sampled.columns) and len(sampled):
            tie = np.isclose(sampled[best], sampled[reference], **TIE)  # (nothing built there)
            beats = int(((sampled[best] > sampled[reference]) & ~tie).sum())
            level = int(tie.sum())
            where = (f" and at {beats} of {len(sampled)} sampled points ({each}"
                     + (f"; level at {level}" if level else "") + ")")
        text = (f"{who} {is_} best off under {label(best)}: {said(m, low, high)} over "
                f"{label(reference)}, better off on {wins} of {seeds} seeds{where}.")
        if runner != reference:
            m2, low2, high2, wins2 = interval(best, runner)
            verdict = ("established: the interval excludes 0" if low2 > 0 else
                       "not established: the interval includes 0")
            text += (f" Against the runner-up, {label(runner)}, {said(m2, low2, high2)}, "
                     f"better on {wins2} of {seeds} seeds: {verdict}.")
        else:
            text += (" The runner-up is the reference itself, so the interval above is the "
                     "comparison: " + ("established." if low > 0 else
                                        "not established (it includes 0)."))
    return text


def _wide(results: Results, welfare: pd.Series, keys: list[str]) -> pd.DataFrame:
    runs = results.runs.set_index("run")[["scenario", *keys]]
    return runs.assign(value=welfare).pivot_table(index=keys, columns="scenario",
                                                  values="value").dropna()


def bottom_line(results: Results, reference: str, resamples: int = 4999,
                robust: Results | None = None) -> list[str]:
    """One sentence per actor, the US and China first, the world last; with ``robust`` (the
    robustness study of the same experiment), at how many of its points each actor's best
    arrangement beats the reference."""
    welfare = actor_welfare(results)
    sampled = actor_welfare(robust) if robust is not None else None
    each = each_point(seeds_of(robust)) if robust is not None else ""
    out = []
    for actor in welfare.columns:
        wide = _wide(results, welfare[actor], PAIR_KEYS)
        if wide.shape[1] < 2 or reference not in wide.columns or wide.empty:
            continue
        points = (_wide(robust, sampled[actor], PAIR_KEYS).groupby(level="point").mean()
                  if sampled is not None and actor in sampled.columns else None)
        out.append(sentence(actor, wide[results.scenarios], reference, results.label,
                            resamples, sampled=points, each=each))
    return out


def leaders_cooperate(pairs: pd.DataFrame, scenario: str, reference: str, label) -> str:
    """How often the US and China played C toward each other (the share of steps, both ways,
    mean over runs) under ``scenario`` and under the reference: what carries a US-China
    arrangement's gains, said from the pair table."""
    both = pairs[pairs["nation"].isin(["United States", "China"])
                 & pairs["toward"].isin(["United States", "China"])
                 & (pairs["nation"] != pairs["toward"])]
    share = both.groupby("scenario")["cooperation"].mean()
    if scenario not in share.index or reference not in share.index or scenario == reference:
        return ""
    return (f"The United States and China play cooperatively toward each other in "
            f"{100 * share[scenario]:.0f} % of quarters under {label(scenario)}, against "
            f"{100 * share[reference]:.0f} % under {label(reference)}.")


def welfare_best(comparison: pd.DataFrame) -> str | None:
    """The scenario with the largest mean paired difference in total welfare (None without)."""
    rows = comparison[comparison["outcome"] == "welfare_total_usd_bn"]
    return None if rows.empty else str(rows.loc[rows["mean_difference"].idxmax(), "scenario"])
