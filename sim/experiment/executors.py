"""Executors: where runs are computed. One interface for all of them:

    with make_executor("processes", workers=2) as ex:
        for result in ex.map_unordered(run_chunk, chunks):
            ...

Results come back as they finish, never more than a few per worker in flight, so memory stays
flat however many chunks there are. Every backend gives the same numbers: a chunk's result
depends only on the chunk.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Literal

from sim.errors import UserError

Backend = Literal["serial", "processes", "dask"]
IN_FLIGHT_PER_WORKER = 3
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Executor:
    workers: int = 1
    name: str = "executor"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        raise NotImplementedError


class SerialExecutor(Executor):
    """In this process, one chunk after another (for debugging and small experiments)."""

    name = "serial"

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            yield fn(item)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C for the pool


class ProcessExecutor(Executor):
    """A pool of local processes, kept warm for the whole batch.

    Workers start from a fork server that has already imported the model (so each starts in
    milliseconds, unlike ``mesa.batch_run``'s fresh interpreters) and ignore Ctrl-C, which the
    parent turns into a clean stop. As with any multiprocessing, a script that uses this
    executor must guard its entry point with ``if __name__ == "__main__":``.
    """

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        # One BLAS thread per worker: the model's matrices are small, and two processes each
        # running two BLAS threads on two cores measured 25 % slower. Workers inherit this
        # environment when the fork server starts; this process's BLAS is already loaded.
        self._saved_env = {k: os.environ.get(k) for k in SINGLE_THREADED}
        os.environ.update(SINGLE_THREADED)
        methods = multiprocessing.get_all_start_methods()
        if "forkserver" in methods:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["sim.experiment.worker"])
        else:
            ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_ignore_interrupts)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        assert self._pool is not None
        if exc_type is not None:  # interrupted or failed: do not wait for running chunks
            for process in list(getattr(self._pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        assert self._pool is not None, "use the executor as a context manager"
        pending: set[Future] = set()
        items = iter(items)
        window = self.workers * IN_FLIGHT_PER_WORKER
        while True:
            while len(pending) < window:
                item = next(items, None)
                if item is None:
                    break
                pending.add(self._pool.submit(fn, item))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()


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
            except OSError as err:
                raise UserError(f"--scheduler {self.scheduler}: cannot connect ({err})") from None
            self.workers = max(1, sum(self._client.nthreads().values()))
        else:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None)
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from distributed import as_completed

        items = iter(items)
        window = self.workers * IN_FLIGHT_PER_WORKER
        first = [self._client.submit(fn, item, pure=False) for item in _take(items, window)]
        if not first:
            return
        flow = as_completed(first)
        for future in flow:
            result = future.result()
            future.release()
            nxt = next(items, None)
            if nxt is not None:
                flow.add(self._client.submit(fn, nxt, pure=False))
            yield result


def _take(items: Iterator[Any], n: int) -> list[Any]:
    out = []
    for _ in range(n):
        item = next(items, None)
        if item is None:
            break
        out.append(item)
    return out


def make_executor(backend: Backend, workers: int | None = None,
                  scheduler: str | None = None) -> Executor:
    if scheduler and backend != "dask":
        raise UserError("--scheduler: only with --backend dask")
    if backend == "serial":
        return SerialExecutor()
    if backend == "processes":
        return ProcessExecutor(workers)
    if backend == "dask":
        return DaskExecutor(workers, scheduler)
    raise UserError(f"--backend: unknown backend {backend!r} (known: serial, processes, dask)")
