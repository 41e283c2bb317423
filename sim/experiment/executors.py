"""Executors: where runs are computed. One interface for all of them:

    with make_executor("processes", workers=2) as ex:
        for result in ex.map_unordered(run_chunk, chunks):
            ...

Results come back as they finish, never more than a few per worker in flight, so memory stays
flat however many chunks there are. An item whose worker dies comes back as :class:`Lost`; the
caller decides whether to try it again. Every backend gives the same numbers: a chunk's result
depends only on the chunk.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Literal

from sim.base.errors import UserError
from sim.base.io import deferred_interrupts

Backend = Literal["serial", "processes", "dask"]
IN_FLIGHT_PER_WORKER = 3
MAX_WORKERS_PER_CORE = 4  # local processes beyond this only add memory
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# multiprocessing's resource tracker, a process of its own, frees the pool's semaphores when this
# process is killed outright (kill -9) and warns that it did; the cleanup is all there is to do, so
# the warning would only print a stray traceback-like line under the user's prompt.
QUIET_TRACKER = "ignore:resource_tracker:UserWarning"


def _quiet_resource_tracker() -> None:
    """Start the tracker (if it is not running yet) with :data:`QUIET_TRACKER`: it takes its
    warning options from this interpreter's (``sys.warnoptions``) when it starts."""
    if QUIET_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(QUIET_TRACKER)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Lost:
    """An item whose worker died while it was in flight (killed, out of memory, a crash in C).

    ``alone`` says whether it alone can be blamed: it was the only item in flight. Otherwise it
    may be an innocent bystander of another item's crash, and deserves another try. (Dask's
    ``KilledWorker`` is no proof: the scheduler counts a death against every task assigned to
    the worker, queued ones included, so a run queued beside a crashing one can be blamed.)
    """

    item: Any
    reason: str
    alone: bool


class Executor:
    workers: int = 1
    name: str = "executor"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                      window: int | None = None) -> Iterator[Any]:
        """``fn(item)`` for each item, yielded as each finishes (or a :class:`Lost`), with at
        most ``window`` in flight (default a few per worker)."""
        raise NotImplementedError


class SerialExecutor(Executor):
    """In this process, one chunk after another (for debugging and small experiments)."""

    name = "serial"

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                      window: int | None = None) -> Iterator[Any]:
        for item in items:
            yield fn(item)


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while helper processes that inherit it start (Dask's nannies): they
    keep ignoring it, and Ctrl-C reaches only this process. One pressed meanwhile is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _init_worker() -> None:
    """In each worker: leave Ctrl-C to the parent, and exit as soon as the parent is gone
    (``kill -9`` of a batch must not leave workers computing for no one)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True,
                         name="lunarsim-parent-watch").start()


def _ready() -> None:
    """A task that does nothing: submitted once per worker, it makes the pool start them."""


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])  # readable when the parent process has died
    os._exit(1)


class ProcessExecutor(Executor):
    """A pool of local processes, kept warm for the whole batch.

    Workers start from a fork server that has already imported the model (so each starts in
    milliseconds, unlike ``mesa.batch_run``'s fresh interpreters), ignore Ctrl-C, which the
    parent turns into a clean stop, and exit when the parent dies. A worker that dies (killed,
    out of memory) breaks the pool: the items in flight come back as :class:`Lost` and the pool
    is started again for the rest. As with any multiprocessing, a script that uses this
    executor must guard its entry point with ``if __name__ == "__main__":``.
    """

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None
        self._context: Any = None

    def __enter__(self) -> ProcessExecutor:
        # One BLAS thread per worker: the model's matrices are small, and two processes each
        # running two BLAS threads on two cores measured 25 % slower. Workers inherit this
        # environment when the fork server starts; this process's BLAS is already loaded.
        self._saved_env = {k: os.environ.get(k) for k in SINGLE_THREADED}
        os.environ.update(SINGLE_THREADED)
        _quiet_resource_tracker()
        methods = multiprocessing.get_all_start_methods()
        if "forkserver" in methods:
            self._context = multiprocessing.get_context("forkserver")
            self._context.set_forkserver_preload(["sim.base.ignore_interrupts",
                                                  "sim.experiment.worker",
                                                  "sim.experiment.warm"])
        else:
            self._context = multiprocessing.get_context("spawn")
        self._start()
        return self

    def _start(self) -> None:
        """Start the pool and all its workers now, with Ctrl-C held off: a worker interrupted
        while it starts would print a traceback from its half-read start-up data."""
        with deferred_interrupts():  # a worker cut off as it starts prints a traceback
            self._pool = ProcessPoolExecutor(self.workers, mp_context=self._context,
                                             initializer=_init_worker)
            for future in [self._pool.submit(_ready) for _ in range(self.workers)]:
                future.result()

    def _stop(self, now: bool) -> None:
        assert self._pool is not None
        if now:  # interrupted, failed or broken: do not wait for running chunks
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._stop(now=exc_type is not None)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _death(self) -> str:
        """How the pool's dead worker ended, as far as can be told."""
        codes = [p.exitcode for p in (getattr(self._pool, "_processes", None) or {}).values()]
        for code in codes:
            if code is not None and code < 0 and -code != signal.SIGTERM:
                return f"its worker process was killed by {signal.Signals(-code).name}"
            if code:
                return f"its worker process exited with code {code}"
        return "its worker process died"

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                      window: int | None = None) -> Iterator[Any]:
        assert self._pool is not None, "use the executor as a context manager"
        pending: dict[Future, Any] = {}
        items = iter(items)
        window = window or self.workers * IN_FLIGHT_PER_WORKER
        while True:
            while len(pending) < window:
                item = next(items, None)
                if item is None:
                    break
                try:
                    future = self._pool.submit(fn, item)
                except BrokenProcessPool as err:  # a worker died since the last wait
                    future = Future()
                    future.set_exception(err)
                pending[future] = item
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            lost = []
            for future in done:
                item = pending.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    lost.append(item)
                else:
                    yield future.result()
            if lost:  # a worker died: everything still in flight is lost with it
                lost += pending.values()
                pending.clear()
                reason = self._death()
                self._stop(now=True)
                self._start()
                for item in lost:
                    yield Lost(item, reason, alone=len(lost) == 1)


class DaskExecutor(Executor):
    """Dask ``distributed``: a ``LocalCluster`` by default, or an existing cluster's scheduler
    (``tcp://HOST:PORT``), so a sweep can grow past one machine without code changes. Workers
    need ``lunarsim`` installed; chunks carry their scenarios, so no files are needed there."""

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self.workers = workers or default_workers()
        self.scheduler = scheduler
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UserError("--backend dask: the 'distributed' package is not installed") from None
        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout="10s")
            except Exception as err:  # noqa: BLE001  (any failure here is about the address)
                reason = one_line_reason(err)
                raise UserError(f"--scheduler {self.scheduler}: cannot connect ({reason})") from None
            self.workers = max(1, sum(self._client.nthreads().values()))
        else:
            with _interrupts_ignored():  # Ctrl-C is the parent's to handle, not the nannies'
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, dashboard_address=None,
                                             silence_logs=logging.CRITICAL)
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                      window: int | None = None) -> Iterator[Any]:
        from distributed import KilledWorker, as_completed

        items = iter(items)
        window = window or self.workers * IN_FLIGHT_PER_WORKER
        submitted = {}
        for item in _take(items, window):
            submitted[self._client.submit(fn, item, pure=False)] = item
        if not submitted:
            return
        flow = as_completed(list(submitted))
        for future in flow:
            item = submitted.pop(future)
            try:
                result = future.result()
            except KilledWorker as err:  # Dask retried it on other workers and blames it
                reason = f"Dask workers died running it ({str(err).split('. ')[0]})"
                result = Lost(item, reason, alone=window == 1)
            future.release()
            nxt = next(items, None)
            if nxt is not None:
                new = self._client.submit(fn, nxt, pure=False)
                submitted[new] = nxt
                flow.add(new)
            yield result


def _take(items: Iterator[Any], n: int) -> list[Any]:
    out = []
    for _ in range(n):
        item = next(items, None)
        if item is None:
            break
        out.append(item)
    return out


def one_line_reason(err: Exception) -> str:
    """An exception as a short single line."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def make_executor(backend: Backend, workers: int | None = None,
                  scheduler: str | None = None) -> Executor:
    if scheduler is not None and not scheduler.strip():
        raise UserError("--scheduler: empty address (expected tcp://HOST:PORT)")
    if scheduler and backend != "dask":
        raise UserError("--scheduler: only with --backend dask")
    most = MAX_WORKERS_PER_CORE * default_workers()
    if workers is not None and workers > most and not scheduler:
        raise UserError(f"--workers {workers}: at most {most} on this machine "
                        f"({MAX_WORKERS_PER_CORE} per core; more only share the same cores)")
    if backend == "serial":
        return SerialExecutor()
    if backend == "processes":
        return ProcessExecutor(workers)
    if backend == "dask":
        return DaskExecutor(workers, scheduler)
    raise UserError(f"--backend: unknown backend {backend!r} (known: serial, processes, dask)")
