"""Paired statistics: each scenario against a reference, seed by seed.

Runs are paired on (design point, replicate): replicate k ran with the same seed in every
scenario (common random numbers), so the difference of an outcome between two scenarios on the
same seed removes the noise they share. For each outcome and scenario: the mean paired
difference, a bootstrap confidence interval of that mean (SciPy, BCa), the share of seeds on
which the scenario is better, the paired effect size d_z = mean / sd of the differences
(Cohen 1988), and the Wilcoxon signed-rank p-value.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.outcomes import Outcome

PAIR_KEYS = ["point", "replicate"]


def paired(runs: pd.DataFrame, values: pd.Series, scenario: str, reference: str) -> pd.DataFrame:
    """The outcome of ``scenario`` and of ``reference`` on the same (point, replicate): columns
    point, replicate, scenario, reference and difference, a row per pair where both are
    defined, in the order of (point, replicate). Matched through a dictionary of the keys: the
    frame :func:`_paired_by_index` builds (tested), a few times faster (the report pairs a few
    hundred times)."""
    value = runs["run"].map(values)
    keys = list(zip(*(runs[k].tolist() for k in PAIR_KEYS), strict=True))
    names = runs["scenario"].to_numpy()
    mine, theirs = np.flatnonzero(names == scenario), np.flatnonzero(names == reference)
    partner = {keys[k]: k for k in theirs}
    if len(partner) < len(theirs) or len({keys[k] for k in mine}) < len(mine):
        return _paired_by_index(runs, values, scenario, reference)  # (a key twice: pandas says)
    a = np.array([k for k in mine if keys[k] in partner], dtype=np.int64)
    b = np.array([partner[keys[k]] for k in a], dtype=np.int64)
    va, vb = value.iloc[a].reset_index(drop=True), value.iloc[b].reset_index(drop=True)
    both = ~(va.isna() | vb.isna()).to_numpy()
    a, b, va, vb = a[both], b[both], va[both], vb[both]
    order = np.lexsort([runs[k].to_numpy()[a] for k in reversed(PAIR_KEYS)])
    frame = pd.DataFrame({k: runs[k].iloc[a[order]].reset_index(drop=True) for k in PAIR_KEYS}
                         | {"scenario": va.iloc[order].reset_index(drop=True),
                            "reference": vb.iloc[order].reset_index(drop=True)})
    return frame.assign(difference=frame["scenario"] - frame["reference"])


def _paired_by_index(runs: pd.DataFrame, values: pd.Series, scenario: str,
                     reference: str) -> pd.DataFrame:
    """:func:`paired` by pandas' own alignment on the (point, replicate) index."""
    frame = runs[["run", "scenario", *PAIR_KEYS]].assign(value=runs["run"].map(values))
    a = frame[frame["scenario"] == scenario].set_index(PAIR_KEYS)["value"]
    b = frame[frame["scenario"] == reference].set_index(PAIR_KEYS)["value"]
    both = pd.concat({"scenario": a, "reference": b}, axis=1, join="inner").dropna().sort_index()
    return both.assign(difference=both["scenario"] - both["reference"]).reset_index()


def mean_interval(x: np.ndarray, confidence: float, resamples: int, seed: int) -> tuple[float, float]:
    """Bootstrap (BCa) confidence interval of the mean of ``x``."""
    x = np.asarray(x, dtype=float)
    if x.size < 2 or np.ptp(x) == 0:
        m = float(x.mean()) if x.size else float("nan")
        return m, m
    with warnings.catch_warnings():  # it says so when it degenerates; the test below sees it
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        low, high = _bootstrap(x, confidence, resamples, seed, "BCa")
    if not (np.isfinite(low) and np.isfinite(high)):  # BCa degenerates on near-constant data
        low, high = _bootstrap(x, confidence, resamples, seed, "percentile")
    return float(low), float(high)


def _bootstrap(x: np.ndarray, confidence: float, resamples: int, seed: int,
               method: str) -> tuple[float, float]:
    name = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"
    res = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=resamples,
                          method=method, **{name: np.random.default_rng(seed)})
    return res.confidence_interval.low, res.confidence_interval.high


def compare(runs: pd.DataFrame, nations: pd.DataFrame, outcomes: list[Outcome], reference: str,
            confidence: float = 0.95, resamples: int = 4999, seed: int = 0) -> pd.DataFrame:
    """One row per (outcome, scenario other than the reference): paired statistics."""
    rows = []
    scenarios = [s for s in dict.fromkeys(runs["scenario"]) if s != reference]
    for outcome in outcomes:
        values = outcome.values(runs, nations)
        for scenario in scenarios:
            pair = paired(runs, values, scenario, reference)
            d = pair["difference"].to_numpy()
            if d.size == 0:
                continue
            low, high = mean_interval(d, confidence, resamples, seed)
            better = d > 0 if outcome.higher_is_better else d < 0
            sd = d.std(ddof=1) if d.size > 1 else float("nan")
            rows.append({
                "outcome": outcome.name, "label": outcome.label, "unit": outcome.unit,
                "higher_is_better": outcome.higher_is_better, "key": outcome.key,
                "scenario": scenario, "reference": reference, "pairs": d.size,
                "reference_mean": pair["reference"].mean(), "scenario_mean": pair["scenario"].mean(),
                "mean_difference": d.mean(), "ci_low": low, "ci_high": high,
                # the whole interval inside the smallest difference that matters
                "negligible": bool(-outcome.negligible < low and high < outcome.negligible),
                "share_better": better.mean(),
                "effect_size_dz": _effect_size(d.mean(), sd),
                "p_value": _wilcoxon(d),
            })
    return pd.DataFrame(rows)


def _effect_size(mean: float, sd: float) -> float:
    """d_z = mean / sd of the paired differences; undefined (NaN) where the differences are the
    same on every seed but for rounding (sd within 1e-9 of the mean's size): a difference that
    does not vary has no scale to measure it by."""
    if not np.isfinite(sd) or sd <= 1e-9 * abs(mean) or sd == 0:
        return float("nan")
    return float(mean / sd)


def _wilcoxon(d: np.ndarray) -> float:
    if d.size < 2 or not np.any(d != 0):
        return float("nan")
    return float(stats.wilcoxon(d, zero_method="wilcox").pvalue)


def levels(runs: pd.DataFrame, nations: pd.DataFrame, outcomes: list[Outcome],
           confidence: float = 0.95, resamples: int = 4999, seed: int = 0) -> pd.DataFrame:
    """One row per (outcome, scenario): the mean over seeds with a bootstrap interval, plus the
    price of anarchy (see :func:`price_of_anarchy`)."""
    rows = []
    for outcome in [*outcomes, None]:
        values = (price_of_anarchy(runs) if outcome is None else outcome.values(runs, nations))
        for scenario, group in runs.groupby("scenario", sort=False):
            x = group["run"].map(values).dropna().to_numpy(dtype=float)
            if x.size == 0:
                continue
            low, high = mean_interval(x, confidence, resamples, seed)
            rows.append({"outcome": "price_of_anarchy" if outcome is None else outcome.name,
                         "label": "Price of anarchy" if outcome is None else outcome.label,
                         "scenario": scenario, "runs": x.size, "mean": x.mean(),
                         "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def price_of_anarchy(runs: pd.DataFrame) -> pd.Series:
    """Per run: the best total welfare any scenario reached on the same seed and design point,
    over this run's (Koutsoupias & Papadimitriou 1999, with "best achievable" read as the best
    scenario in the experiment). 1 is the best; defined only where both are positive."""
    welfare = runs.set_index("run")["welfare_total_usd_bn"]
    best = runs.groupby(PAIR_KEYS)["welfare_total_usd_bn"].transform("max")
    ratio = best.to_numpy() / welfare.loc[runs["run"]].to_numpy()
    ok = (best.to_numpy() > 0) & (welfare.loc[runs["run"]].to_numpy() > 0)
    return pd.Series(np.where(ok, ratio, np.nan), index=runs["run"].to_numpy())
