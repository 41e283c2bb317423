"""Why a regime's welfare differs from the reference's: the paired difference of total welfare
split into the channels of ``sim.model.metrics.CHANNELS`` (output, crowding and racing, synergy,
interference, costs, capital, incidents, transfers and sanctions, entry cost, rare earths).

Each run records its welfare by channel, summed over nations and steps; the channels add up to
the run's welfare exactly. The mean paired difference is linear, so the channels' mean
differences add up to the mean welfare difference exactly too (tested).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sim.analysis.stats import mean_interval, paired
from sim.model.metrics import CHANNELS

TOTAL = "welfare_total_usd_bn"


def channel_column(name: str) -> str:
    return f"channel_{name}_usd_bn"


def decompose(runs: pd.DataFrame, reference: str, confidence: float = 0.95,
              resamples: int = 4999, seed: int = 0) -> pd.DataFrame:
    """One row per (scenario other than the reference, channel, then "total"): the mean paired
    difference from the reference (USD bn) with a bootstrap interval. Empty if the runs predate
    the channels."""
    names = [n for n in CHANNELS if channel_column(n) in runs.columns]
    if len(names) < len(CHANNELS):
        return pd.DataFrame()
    rows = []
    for scenario in [s for s in dict.fromkeys(runs["scenario"]) if s != reference]:
        for name, column, label in [*((n, channel_column(n), CHANNELS[n][0]) for n in names),
                                    ("total", TOTAL, "Total welfare")]:
            values = runs.set_index("run")[column]
            d = paired(runs, values, scenario, reference)["difference"].to_numpy()
            if d.size == 0:
                continue
            low, high = mean_interval(d, confidence, resamples, seed)
            rows.append({"scenario": scenario, "reference": reference, "channel": name,
                         "label": label, "pairs": d.size, "mean_difference": d.mean(),
                         "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def channel_table(decomposition: pd.DataFrame, label: Callable[[str], str]) -> pd.DataFrame:
    """Channels as rows (the total last), scenarios as columns: mean paired differences from
    the reference, USD bn. ``label`` names a scenario for readers."""
    if decomposition.empty:
        return pd.DataFrame()
    scenarios = list(dict.fromkeys(decomposition["scenario"]))
    rows = []
    for channel in [*CHANNELS, "total"]:
        part = decomposition[decomposition["channel"] == channel].set_index("scenario")
        if not part.empty:
            rows.append({"channel": part["label"].iloc[0]} | {
                label(s): part["mean_difference"].get(s, float("nan")) for s in scenarios})
    return pd.DataFrame(rows)
