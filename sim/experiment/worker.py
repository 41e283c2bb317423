"""What a worker does: run a chunk of runs and return their tables. A pure function of its
input, so the same chunk gives the same tables in any process, on any machine."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from sim.experiment.design import RunTask
from sim.runner import run_scenario
from sim.scenario import Scenario

Series = Literal["none", "model", "all"]


@dataclass(frozen=True)
class Chunk:
    """Runs handed out together; carries its validated scenarios, so workers need no files."""

    tasks: list[RunTask]
    scenarios: dict[tuple[str, int], Scenario]  # (scenario name, design point) -> scenario
    points: dict[int, dict[str, Any]]  # design point -> {dotted path: value}
    series: Series = "all"

    @property
    def first(self) -> int:
        return self.tasks[0].run


@dataclass
class ChunkResult:
    first: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    nations: list[pd.DataFrame] = field(default_factory=list)
    pairs: list[pd.DataFrame] = field(default_factory=list)
    series_model: list[pd.DataFrame] = field(default_factory=list)
    series_nations: list[pd.DataFrame] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def succeeded(self) -> list[int]:
        return [row["run"] for row in self.runs]

    @property
    def failed(self) -> list[int]:
        return [row["run"] for row in self.failures]

    @property
    def tasks_done(self) -> list[int]:
        return self.succeeded + self.failed

    def tables(self) -> dict[str, pd.DataFrame]:
        """The chunk's rows as tables (empty tables are left out)."""
        out = {}
        if self.runs:
            out["runs"] = pd.DataFrame(self.runs)
        for name in ("nations", "pairs", "series_model", "series_nations"):
            frames = getattr(self, name)
            if frames:
                out[name] = pd.concat(frames, ignore_index=True)
        if self.failures:
            out["failures"] = pd.DataFrame(self.failures)
        return out


def identity(task: RunTask, point: dict[str, Any]) -> dict[str, Any]:
    return {"run": task.run, "scenario": task.scenario, "point": task.point,
            "replicate": task.replicate, "seed": task.seed} | dict(point)


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Run every task of the chunk; a run that raises is recorded with its traceback."""
    result = ChunkResult(first=chunk.first)
    for task in chunk.tasks:
        point = chunk.points[task.point]
        ident = identity(task, point)
        try:
            run = run_scenario(chunk.scenarios[(task.scenario, task.point)], seed=task.seed)
        except Exception as err:  # a failed run is data: record it and go on
            result.failures.append(ident | {"error": f"{type(err).__name__}: {err}",
                                            "traceback": traceback.format_exc()})
            continue
        result.runs.append(ident | {"steps": run.steps} | run.overall)
        keys = {"run": task.run}
        result.nations.append(_with(run.nation_summary.astype({"nation": str}), keys))
        result.pairs.append(_with(run.pairs, keys))
        if chunk.series in ("model", "all"):
            result.series_model.append(_with(run.model_series, keys))
        if chunk.series == "all":
            result.series_nations.append(_with(run.nation_series.astype({"nation": str}), keys))
    return result


def _with(frame: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    return frame.assign(**columns)[[*columns, *frame.columns]]
