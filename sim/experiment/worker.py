"""What a worker does: run a chunk of runs and return their tables. A pure function of its
input, so the same chunk gives the same tables in any process, on any machine."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.base.columns import parameter_column, parameter_value
from sim.base.io import atomic_write_parquet
from sim.experiment.design import RunTask
from sim.experiment.run import run_scenario
from sim.scenario import Scenario

Series = Literal["none", "model", "all"]


@dataclass(frozen=True)
class Chunk:
    """Runs handed out together; carries its validated scenarios, so workers need no files."""

    tasks: list[RunTask]
    scenarios: dict[tuple[str, int], Scenario]  # (scenario name, design point) -> scenario
    points: dict[int, dict[str, Any]]  # design point -> {dotted path: value}
    series: Series = "all"
    # (results folder, session): the worker writes the chunk's parts there itself and sends
    # back only their checksums, so the parent only commits (local backends; Dask's workers
    # may not see the folder)
    out: tuple[str, int] | None = None

    @property
    def first(self) -> int:
        return self.tasks[0].run

    def split(self) -> list[Chunk]:
        """One chunk per run (to find which run of a lost chunk kills its worker)."""
        return [replace(self, tasks=[t],
                        scenarios={(t.scenario, t.point): self.scenarios[(t.scenario, t.point)]},
                        points={t.point: self.points[t.point]}) for t in self.tasks]


@dataclass
class ChunkResult:
    """A chunk's rows, as column arrays per table (cheap to build, to send back and to write)."""

    first: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, dict[str, list[np.ndarray]]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    # once written (write_parts): table -> (SHA-256, (size, mtime_ns, inode)) of its part
    parts: dict[str, tuple[str, tuple[int, int, int]]] | None = None

    @property
    def succeeded(self) -> list[int]:
        return [row["run"] for row in self.runs]

    @property
    def failed(self) -> list[int]:
        return [row["run"] for row in self.failures]

    @property
    def tasks_done(self) -> list[int]:
        return self.succeeded + self.failed

    def add(self, table: str, task: RunTask, columns: dict[str, np.ndarray]) -> None:
        """A run's rows of a table, led by the run's identity (see :mod:`sim.base.columns`)."""
        rows = len(next(iter(columns.values())))
        ident = {"run": np.full(rows, task.run), "scenario": np.full(rows, task.scenario, object),
                 "point": np.full(rows, task.point), "seed": np.full(rows, task.seed)}
        parts = self.columns.setdefault(table, {})
        for key, values in (ident | columns).items():
            parts.setdefault(key, []).append(np.asarray(values))

    def tables(self) -> dict[str, pd.DataFrame]:
        """The chunk's rows as tables (empty tables are left out)."""
        out = {}
        if self.runs:
            out["runs"] = pd.DataFrame(self.runs)
        for table, parts in self.columns.items():
            out[table] = pd.DataFrame({k: np.concatenate(v) for k, v in parts.items()})
        if self.failures:
            out["failures"] = pd.DataFrame(self.failures)
        return out


def part_name(session: int, first: int) -> str:
    """A chunk's name: its parts' and its marker's file name without the suffix."""
    return f"s{session:03d}-c{first:07d}"


def write_parts(result: ChunkResult, folder: Path, session: int) -> ChunkResult:
    """Write each of the chunk's tables to its part file (atomically); the result keeps only
    the parts' checksums, and the rows are dropped (they are on disk)."""
    name = part_name(session, result.first)
    parts = {}
    for table, frame in result.tables().items():
        path = folder / table / f"{name}.parquet"
        digest = atomic_write_parquet(path, frame)
        st = path.stat()
        parts[table] = (digest, (st.st_size, st.st_mtime_ns, st.st_ino))
    return ChunkResult(result.first, runs=[{"run": r["run"]} for r in result.runs],
                       failures=[{"run": r["run"]} for r in result.failures], parts=parts)


def identity(task: RunTask, point: dict[str, Any]) -> dict[str, Any]:
    """A run's row in the runs and failures tables begins with who it is and where in the
    design (a parameter's column named and typed as :mod:`sim.base.columns` says)."""
    return {"run": task.run, "scenario": task.scenario, "point": task.point, "seed": task.seed,
            "replicate": task.replicate} | {parameter_column(path): parameter_value(value)
                                            for path, value in point.items()}


def lost_chunk(chunk: Chunk, reason: str) -> ChunkResult:
    """A chunk whose worker died running it, recorded as failed runs with the reason."""
    result = ChunkResult(first=chunk.first)
    for task in chunk.tasks:
        result.failures.append(identity(task, chunk.points[task.point]) | {
            "error": f"WorkerDied: {reason}", "traceback": ""})
    return result


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
        result.add("nations", task, run.nation_summary_columns())
        result.add("pairs", task, run.pair_columns())
        if chunk.series in ("model", "all"):
            result.add("series_model", task, run.model_columns)
        if chunk.series == "all":
            result.add("series_nations", task, run.nation_series_columns())
    if chunk.out is not None:
        folder, session = chunk.out
        return write_parts(result, Path(folder), session)
    return result
