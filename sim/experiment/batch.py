"""Running an experiment: plan the runs, hand chunks to an executor, stream results to the
store, and say what happened. The Python API behind ``lunarsim batch``."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sim.errors import UserError
from sim.experiment.design import RunTask, design_points, plan
from sim.experiment.executors import Backend, make_executor
from sim.experiment.spec import Experiment, load_experiment
from sim.experiment.store import ResultStore
from sim.experiment.worker import Chunk, Series, run_chunk
from sim.io import sha256_file
from sim.runner import versions
from sim.scenario import content_hash

Progress = Callable[[int, int], None]  # (runs finished, runs to do in this session)


@dataclass(frozen=True)
class BatchOutcome:
    folder: Path
    total: int  # runs in the experiment
    done: int  # runs that succeeded, over all sessions
    failed: int  # runs whose latest attempt failed
    ran: int  # runs attempted in this session

    @property
    def complete(self) -> bool:
        return self.done == self.total


def run_experiment(
    experiment: str | Path | Experiment,
    *,
    replicates: int | None = None,
    workers: int | None = None,
    backend: Backend = "processes",
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    out: Path | None = None,
    series: Series = "all",
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> BatchOutcome:
    """Run (or resume) an experiment into ``out`` (default ``results/<name>``)."""
    if not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment, replicates)
    spec = experiment.spec
    points = design_points(spec)
    tasks = plan(spec, points)
    scenarios = {(name, p): experiment.scenario(name, points[p])
                 for name in spec.scenarios for p in range(len(points))}
    store = ResultStore(out or Path("results") / spec.name)
    manifest = _manifest(experiment, points, tasks, scenarios, backend, series)
    session = _prepare(store, manifest, resume=resume, force=force)

    succeeded, _ = store.committed()
    todo = [t for t in tasks if t.run not in succeeded]
    size = chunk_size or _auto_chunk(len(todo), workers or 1, backend)
    chunks = [Chunk(batch, {k: scenarios[k] for k in {(t.scenario, t.point) for t in batch}},
                    {t.point: points[t.point] for t in batch}, series)
              for batch in (todo[i:i + size] for i in range(0, len(todo), size))]

    manifest |= {"started_at": _now(), "status": "running", "backend": backend, "session": session}
    store.write_manifest(manifest)
    finished = 0
    status = "interrupted"
    try:
        with make_executor(backend, workers, scheduler) as executor:
            manifest["workers"] = executor.workers
            for result in executor.map_unordered(run_chunk, chunks):
                store.write_chunk(session, result)
                finished += len(result.tasks_done)
                if progress:
                    progress(finished, len(todo))
        status = "complete"
    finally:
        done, failed = store.committed()
        if status == "complete" and failed:
            status = "complete with failures"
        manifest |= {"finished_at": _now(), "status": status, "runs_done": len(done),
                     "runs_failed": len(failed)}
        store.write_manifest(manifest)
    return BatchOutcome(store.folder, len(tasks), len(done), len(failed), len(todo))


def _prepare(store: ResultStore, manifest: dict, *, resume: bool, force: bool) -> int:
    """Make the folder ready; return this session's number."""
    if store.exists() and force:
        store.reset()
    elif store.exists():
        if not resume:
            raise UserError(f"{store.folder}: results already exist; --resume finishes them, "
                            "--force starts afresh")
        previous = store.manifest()
        if previous.get("experiment_sha256") != manifest["experiment_sha256"]:
            raise UserError(f"{store.folder}: made by a different experiment or scenario version; "
                            "--force starts afresh, --out writes elsewhere")
        store.drop_uncommitted()
        return store.next_session()
    elif store.folder.exists() and any(store.folder.iterdir()) and not force:
        raise UserError(f"{store.folder}: exists and is not a results folder; choose another --out")
    store.folder.mkdir(parents=True, exist_ok=True)
    return 0


def _auto_chunk(runs: int, workers: int, backend: str) -> int:
    """Enough chunks to balance the workers to the end (about sixteen each), few enough that
    hand-out and file count stay small."""
    if backend == "serial":
        return max(1, min(100, runs // 20 or 1))
    return max(1, min(100, math.ceil(runs / (workers * 16))))


def _manifest(experiment: Experiment, points: list[dict], tasks: list[RunTask],
              scenarios: dict, backend: str, series: str) -> dict:
    spec = experiment.spec
    return {
        "kind": "experiment",
        "experiment": spec.name,
        "description": spec.description,
        "experiment_file": str(experiment.source) if experiment.source else None,
        "experiment_file_sha256": sha256_file(experiment.source) if experiment.source else None,
        "experiment_sha256": experiment.content_hash(series=series),
        "scenarios": {name: {"file": str(experiment.scenario_files[name]),
                             "sha256": content_hash(scenarios[(name, 0)]),
                             "description": scenarios[(name, 0)].description}
                      for name in spec.scenarios},
        "scenario_order": list(spec.scenarios),
        "reference": spec.reference,
        "master_seed": spec.master_seed,
        "replicates": spec.replicates,
        "seeds": sorted({t.replicate: t.seed for t in tasks}.items()),
        "parameters": spec.parameters,
        "design_points": points,
        "runs_total": len(tasks),
        "series": series,
        "versions": versions(),
        "git_commit": _git_commit(),
        "command": sys.argv,
    }


def _git_commit() -> str | None:
    repo = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
