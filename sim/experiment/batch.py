"""Running an experiment: plan the runs, hand chunks to an executor, stream results to the
store, and say what happened. The Python API behind ``lunarsim batch``."""

from __future__ import annotations

import functools
import math
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.base.arguments import whole_number
from sim.base.errors import BadType, BadValue, UserError
from sim.base.io import out_label, sha256_file
from sim.base.lock import LOCK_NAME, FolderLock
from sim.base.shown import shown_argv, shown_path
from sim.experiment.design import RunTask, design_points, plan
from sim.experiment.executors import Backend, Executor, Lost, make_executor
from sim.experiment.run import versions
from sim.experiment.spec import Experiment, load_experiment
from sim.experiment.store import ResultStore
from sim.experiment.worker import Chunk, ChunkResult, Series, lost_chunk, run_chunk
from sim.model.metrics import series_units
from sim.scenario import content_hash

Progress = Callable[[int, int], None]  # (runs finished, runs to do in this session)


@dataclass(frozen=True)
class BatchOutcome:
    folder: Path
    total: int  # runs in the experiment
    done: int  # runs that succeeded, over all sessions
    failed: int  # runs whose latest attempt failed
    ran: int  # runs attempted in this session
    notes: tuple[str, ...] = ()  # what was recovered: a stale lock, damaged chunks

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
    run: Callable[[Chunk], ChunkResult] = run_chunk,
) -> BatchOutcome:
    """Run (or resume) an experiment into ``out`` (default ``results/<name>``). A folder that
    holds the same experiment is always finished; ``resume`` only says so (the command line's
    ``--resume``, which ``force`` contradicts).

    Everything that can be checked is checked before anything is written; the folder is locked
    for the whole session. ``run`` computes a chunk in a worker (replaceable for testing a
    worker that dies).
    """
    _check_arguments(workers=workers, chunk_size=chunk_size, series=series, resume=resume,
                     force=force, out=out, scheduler=scheduler, progress=progress, run=run)
    if resume and force:
        raise UserError("--resume and --force: choose one (finish the results, or discard them)")
    if not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment, replicates)
    spec = experiment.spec
    points = design_points(spec)
    tasks = plan(spec, points)
    _check_combinations(experiment, points)
    store = ResultStore(out or Path("results") / spec.name)
    manifest = _manifest(experiment, points, tasks, backend, series)
    label = out_label(store.folder, out is not None)
    _check_folder(store, manifest, force=force, label=label)
    executor = make_executor(backend, workers, scheduler)  # a bad choice fails here, not later

    with FolderLock(store.folder, label) as lock:
        notes = [note for note in [lock.stale_note()] if note]
        _check_folder(store, manifest, force=force, label=label)  # again, locked
        with executor:
            session, damaged = _prepare(store, force=force)
            notes += [f"{store.folder}: chunk {name} was damaged ({problem}); its runs are run "
                      "again" for name, problem in damaged]
            succeeded, failed = store.committed()
            todo = [t for t in tasks if t.run not in succeeded]
            if not todo and not damaged:  # finished before: nothing to run, nothing to write
                return BatchOutcome(store.folder, len(tasks), len(succeeded), len(failed), 0,
                                    tuple(notes))
            size = chunk_size or _auto_chunk(len(todo), executor.workers, backend)
            # local workers write their chunks' parts themselves; Dask's may not see the folder
            out_parts = (str(store.folder), session) if backend != "dask" else None
            tail = executor.workers * size if chunk_size is None else 0
            chunks = _chunks(experiment, points, todo, size, series, out_parts, tail)
            manifest |= {"started_at": _now(), "status": "running", "backend": backend,
                         "session": session, "workers": executor.workers,
                         "chunks": store.chunk_names()}
            store.write_manifest(manifest)
            status = "interrupted"
            try:
                _execute(executor, run, chunks, store, session, lambda n: progress and progress(
                    n, len(todo)))
                status = "complete"
            finally:
                done, failed = store.committed()
                if status == "complete" and failed:
                    status = "complete with failures"
                manifest |= {"finished_at": _now(), "status": status, "runs_done": len(done),
                             "runs_failed": len(failed), "chunks": store.chunk_names()}
                store.write_manifest(manifest)
        store.clear_temporary()  # the workers are gone: nothing of theirs is half-written now
    return BatchOutcome(store.folder, len(tasks), len(done), len(failed), len(todo), tuple(notes))


def _check_arguments(*, workers, chunk_size, series, resume, force, out, scheduler, progress,
                     run) -> None:
    """The Python API's arguments, checked as the command line checks its options."""
    for name, value in (("workers", workers), ("chunk_size", chunk_size)):
        if value is not None:
            whole_number(value, name, low=1)
    if series not in ("all", "model", "none"):
        raise BadValue(f"series: expected 'all', 'model' or 'none', got {series!r}")
    for name, value in (("resume", resume), ("force", force)):
        if not isinstance(value, bool):
            raise BadType(f"{name}: expected True or False, got {value!r}")
    if out is not None and not isinstance(out, str | Path):
        raise BadType(f"out: expected a folder's path, got {type(out).__name__}")
    if scheduler is not None and not isinstance(scheduler, str):
        raise BadType(f"scheduler: expected an address such as 'tcp://HOST:PORT', got "
                      f"{type(scheduler).__name__}")
    for name, value in (("progress", progress), ("run", run)):
        if value is not None and not callable(value):
            raise BadType(f"{name}: expected a function, got {type(value).__name__}")


def _check_combinations(experiment: Experiment, points: list[dict]) -> None:
    """Every design point is a valid scenario, before a run starts: values can clash (a
    regime's name and a strategy; the holder's refining share and the ore it is shipped).
    About 0.3 ms a scenario, so a minute for the largest design allowed."""
    for name in experiment.spec.scenarios:
        for point in points:
            experiment.scenario(name, point)


def _chunks(experiment: Experiment, points: list[dict], todo: list[RunTask], size: int,
            series: Series, out: tuple[str, int] | None = None, tail: int = 0) -> Iterator[Chunk]:
    """The runs to do in chunks of ``size``, each carrying its validated scenarios; built as
    the executor asks for them, so memory stays flat however large the design. The last
    ``tail`` runs go one by one, so that no worker is left with a whole chunk when the others
    have finished."""
    variant = functools.lru_cache(maxsize=64)(
        lambda name, p: experiment.scenario(name, points[p]))
    body = max(len(todo) - tail, 0)
    starts = [*range(0, body, size), *range(body, len(todo))]
    for i, end in zip(starts, [*starts[1:], len(todo)], strict=True):
        batch = todo[i:end]
        keys = sorted({(t.scenario, t.point) for t in batch})
        yield Chunk(batch, {k: variant(*k) for k in keys},
                    {t.point: points[t.point] for t in batch}, series, out)


def _execute(executor: Executor, run: Callable[[Chunk], ChunkResult], chunks: Iterable[Chunk],
             store: ResultStore, session: int, progress: Callable[[int], Any]) -> None:
    """Run the chunks, committing each as it finishes.

    A chunk whose worker died is split into single runs and tried again; a single run lost
    beside others is tried once more alone; one that kills its worker alone is recorded as a
    failed run with the reason. So a run is tried at most three times, and one bad run cannot
    stop the batch or take innocent runs down with it.
    """
    finished = 0
    batch, window = chunks, None
    retry: list[Chunk] = []  # single runs of a lost chunk
    suspects: list[Chunk] = []  # single runs lost beside others
    while True:
        for result in executor.map_unordered(run, batch, window=window):
            if isinstance(result, Lost):
                chunk = result.item
                if len(chunk.tasks) > 1:
                    retry += chunk.split()
                    continue
                if not result.alone:
                    suspects.append(chunk)
                    continue
                result = lost_chunk(chunk, result.reason)
            store.write_chunk(session, result)
            finished += len(result.tasks_done)
            progress(finished)
        if retry:
            batch, retry, window = retry, [], None
        elif suspects:  # one in flight, so a death can be blamed on the run that caused it
            batch, suspects, window = suspects, [], 1
        else:
            return


def _check_folder(store: ResultStore, manifest: dict, *, force: bool,
                  label: str) -> None:
    """Refuse, before anything is written, a folder this batch may not write into: not a
    folder, someone else's, a damaged one it cannot repair, or results of another experiment.
    ``--force`` clears a folder that is lunarsim's by its layout, even with a damaged manifest.
    A folder of the same experiment is finished, ``--resume`` or not."""
    folder = store.folder
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{label}: exists and is not a folder")
    if not folder.is_dir():
        return
    ours = force and store.looks_like_ours()
    if not store.exists() and not ours:
        if store.looks_like_ours():
            raise UserError(store.missing_manifest())
        if [p for p in folder.iterdir() if p.name != LOCK_NAME]:
            raise UserError(f"{label}: exists and is not a lunarsim results folder; "
                            "choose another --out")
        return
    previous = None if ours else store.manifest(current=not force)  # damaged, foreign, older
    problem = store.layout_problem()
    if problem:
        raise UserError(f"{problem}; lunarsim will not read or delete it: move it away")
    if force:
        return
    # The same experiment's folder is finished, with or without --resume: running the batch
    # again after it completed (the README's order) does nothing and says so.
    if previous is not None and previous.get("experiment_sha256") != manifest["experiment_sha256"]:
        what = ("another version of the model's code" if previous.get("model_sha256")
                != manifest["model_sha256"] else "a different experiment or scenario version")
        raise UserError(f"{folder}: made by {what}; --force starts afresh, --out writes "
                        "elsewhere")


def _prepare(store: ResultStore, *, force: bool) -> tuple[int, list[tuple[str, str]]]:
    """Make the locked folder ready; return this session's number and the damaged chunks
    that were cleared away."""
    if force and (store.exists() or store.looks_like_ours()):
        store.reset()
    elif store.exists():
        damaged = store.repair()
        return store.next_session(), damaged
    return 0, []


def _auto_chunk(runs: int, workers: int, backend: str) -> int:
    """Enough chunks to balance the workers to the end (about sixteen each), few enough that
    hand-out and file count stay small."""
    if backend == "serial":
        return max(1, min(100, runs // 20 or 1))
    return max(1, min(100, math.ceil(runs / (workers * 16))))


def _manifest(experiment: Experiment, points: list[dict], tasks: list[RunTask],
              backend: str, series: str) -> dict:
    spec = experiment.spec
    scenarios = {(name, 0): experiment.scenario(name, points[0]) for name in spec.scenarios}
    return {
        "kind": "experiment",
        "experiment": spec.name,
        "description": spec.description,
        # paths as a reader is shown them (relative to the project or the working folder):
        # a results folder sent to a colleague shows no one's folders (sim.base.shown)
        "experiment_file": shown_path(experiment.source) if experiment.source else None,
        "experiment_file_sha256": sha256_file(experiment.source) if experiment.source else None,
        "experiment_sha256": experiment.content_hash(series=series, model=model_sha256()),
        "model_sha256": model_sha256(),
        "scenarios": {name: {"file": shown_path(experiment.scenario_files[name]),
                             "sha256": content_hash(scenarios[(name, 0)]),
                             "description": scenarios[(name, 0)].description,
                             "leverage_holder": scenarios[(name, 0)].market.leverage_holder}
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
        "units": series_units(),
        "versions": versions(),
        "git_commit": _git_commit(),
        "command": shown_argv(sys.argv),
    }


# The code that decides what a run computes: a results folder made by other code is never
# finished with this code's runs (its numbers would mix two models).
MODEL_CODE = ("base/columns.py", "base/registry.py", "base/units.py", "economy/*.py",
              "economy/kernels/*.py",
              "economy/rare_earths/*.py", "rules/*.py", "rules/strategies/*.py",
              "scenario/*.py", "scenario/calibration.toml", "model/*.py", "experiment/run.py",
              "experiment/design.py", "experiment/worker.py")


@functools.cache
def model_sha256() -> str:
    """SHA-256 of the model's source files (:data:`MODEL_CODE`), in a fixed order."""
    import hashlib

    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for pattern in MODEL_CODE:
        for path in sorted(package.glob(pattern)):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


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
