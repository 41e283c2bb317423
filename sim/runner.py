"""One run of one scenario: the model stepped to its horizon, its series as tables, and the
folder it writes (series, summary, manifest, figure), written whole or not at all."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.io import atomic_write_json, atomic_write_parquet, sha256_file, staged_dir
from sim.metrics import MODEL_METRICS, NATION_METRICS
from sim.model import LunarModel
from sim.scenario import Scenario, content_hash

PACKAGES = ("lunarsim", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "matplotlib")


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    steps: int
    model_series: pd.DataFrame  # one row per step (0 = the initial state)
    nation_series: pd.DataFrame  # one row per step and nation
    pairs: pd.DataFrame  # one row per ordered pair: share of steps i played C toward j
    events: list[tuple[int, float, str]] = field(default_factory=list)

    @property
    def nation_summary(self) -> pd.DataFrame:
        return summarise_nations(self.nation_series)

    @property
    def overall(self) -> dict[str, float]:
        return summarise_model(self.model_series)


def run_scenario(
    scenario: Scenario,
    seed: int,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    model = LunarModel(scenario, rng=seed, steps=steps).run(progress)
    model_series, nation_series = series_frames(model)
    pairs = pair_frame(model.names, model.pair_cooperation())
    model.release()  # batches run thousands of models in one process
    return RunResult(scenario, seed, model.horizon, model_series, nation_series, pairs,
                     model.event_log)


def pair_frame(names: tuple[str, ...], share: np.ndarray) -> pd.DataFrame:
    """Who cooperated with whom: one row per ordered pair of distinct nations."""
    i, j = np.nonzero(~np.eye(len(names), dtype=bool))
    return pd.DataFrame({"nation": np.array(names)[i], "toward": np.array(names)[j],
                         "cooperation": share[i, j]})


def series_frames(model: LunarModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The recorder's arrays as two tidy tables: model level, and nation level (long form)."""
    table = model.recorder.model_table()
    steps = table.pop("step")
    years = model.spec.time.start_year + steps / model.steps_per_year
    model_df = pd.DataFrame({"step": steps, "year": years} | table)
    nations = model.recorder.nation_table()
    n = len(model.names)
    nation_df = pd.DataFrame(
        {
            "step": np.repeat(steps, n),
            "year": np.repeat(years, n),
            "nation": pd.Categorical(np.tile(model.names, len(steps)), categories=model.names),
            "bloc": nations.pop("bloc").reshape(-1).astype(str),
        }
        | {name: values.reshape(-1).astype(float) for name, values in nations.items()}
    )
    return model_df, nation_df


def summarise_nations(nation_df: pd.DataFrame) -> pd.DataFrame:
    """Per nation: final welfare, propellant and capacity; mean cooperation; incidents."""
    played = nation_df[nation_df["step"] > 0]
    last = nation_df[nation_df["step"] == nation_df["step"].max()].set_index("nation")
    grouped = played.groupby("nation", observed=True)
    return pd.DataFrame(
        {
            "bloc": last["bloc"],
            "welfare_usd_bn": last["welfare"],
            "propellant_t": last["propellant"],
            "capacity_t_per_yr": last["capacity"],
            "cooperation_rate": grouped["cooperation"].mean(),
            "incidents": grouped["nation_incidents"].sum(),
        }
    ).reset_index()


def summarise_model(model_df: pd.DataFrame) -> dict[str, float]:
    played = model_df[model_df["step"] > 0]
    last = model_df.iloc[-1]
    return {
        "welfare_total_usd_bn": float(last["welfare_total"]),
        "propellant_t": float(played["propellant_step"].sum()),
        "ree_delivered_t": float(played["ree_delivered_step"].sum()),
        "incidents": float(played["incidents"].sum()),
        "cooperation_rate": float(played["cooperation_rate"].mean()),
        "best_site_depletion": float(last["best_site_depletion"]),
        "ree_price_usd_per_kg": float(last["ree_price"]),
        "leverage_index": float(last["leverage_index"]),
        "gini_welfare": float(last["gini_welfare"]),
    }


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_run(result: RunResult, out: Path, *, source: Path | None = None,
              overrides: tuple[str, ...] = (), figure: bool = True) -> Path:
    """Write a run's folder at ``out`` atomically: it appears complete, or not at all."""
    with staged_dir(out) as stage:
        atomic_write_parquet(stage / "series_model.parquet", result.model_series)
        atomic_write_parquet(stage / "series_nations.parquet", result.nation_series)
        atomic_write_parquet(stage / "summary_nations.parquet", result.nation_summary)
        result.nation_summary.to_csv(stage / "summary_nations.csv", index=False)
        atomic_write_parquet(stage / "pairs.parquet", result.pairs)
        if figure:
            from sim.plots import plot_run  # matplotlib is imported only when drawing

            plot_run(result, stage / "run.png")
        manifest = {
            "kind": "run",
            "scenario": result.scenario.name,
            "scenario_file": None if source is None else str(source),
            "scenario_sha256": content_hash(result.scenario),
            "overrides": list(overrides),
            "seed": result.seed,
            "steps": result.steps,
            "summary": result.overall,
            "events": [{"step": s, "year": y, "what": w} for s, y, w in result.events],
            "units": {m.name: m.unit for m in (*MODEL_METRICS.values(), *NATION_METRICS.values())},
            "versions": versions(),
            "command": sys.argv,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {p.name: sha256_file(p) for p in sorted(stage.iterdir())},
        }
        atomic_write_json(stage / "manifest.json", manifest)
    return out
