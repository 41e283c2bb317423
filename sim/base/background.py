"""One piece of work in a second process while this one goes on (both cores busy).

``compare``'s analysis computes the stage games of each scenario (a run of the model each) while
the parent computes the statistics and figures::

    with Background(game.section_games, scenarios, seed) as games:
        ...  # other work
        found = games.result()

The child is a fresh interpreter (``python -c``), not a fork of this one and not
``multiprocessing``, which would run the caller's script again in the child when the script has
no ``if __name__ == "__main__"`` guard. The work and its result travel pickled over its standard
input and output. The child ignores Ctrl-C, as batch workers do: the parent stops it on leaving
the block, whatever the reason. If the child cannot start, or ends without an answer, the work
is done here when its result is asked for: the result is the same either way, only later.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)  # the folder holding ``sim``


def _serve() -> None:
    """The child: read (fn, args) from standard input, write ("ok", result) or ("error",
    exception) to standard output. Anything the work prints goes to standard error."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent
    answer_to = sys.stdout.buffer
    sys.stdout = sys.stderr
    fn, args = pickle.loads(sys.stdin.buffer.read())  # all of it first: the parent writes on
    try:
        answer = ("ok", fn(*args))
    except Exception as err:  # noqa: BLE001 - handed to the parent, which raises it
        answer = ("error", err)
    try:
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as err:  # noqa: BLE001 - an answer that cannot be pickled
        data = pickle.dumps(("failed", repr(err)))
    answer_to.write(data)
    answer_to.flush()


class Background:
    """``fn(*args)`` in another process; :meth:`result` waits for it (see the module doc).
    ``fn`` must be importable by name (a module-level function) and its arguments picklable.
    With ``start=False`` no process starts: the work is done here when its result is asked for
    (for work too small to be worth one)."""

    def __init__(self, fn: Callable[..., Any], *args: Any, start: bool = True) -> None:
        self.fn, self.args, self.start = fn, args, start
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        if not self.start:
            return self
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        try:
            work = pickle.dumps((self.fn, self.args), protocol=pickle.HIGHEST_PROTOCOL)
            self._process = subprocess.Popen(
                [sys.executable, "-c", "from sim.base.background import _serve; _serve()"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            assert self._process.stdin is not None
            self._process.stdin.write(work)
            self._process.stdin.close()
        except (OSError, ValueError, pickle.PicklingError, AttributeError, TypeError):  # done here
            self._stop()
        return self

    def result(self) -> Any:
        """The work's result (an exception it raised is raised here)."""
        if self._process is None:
            return self.fn(*self.args)
        assert self._process.stdout is not None
        try:
            status, value = pickle.load(self._process.stdout)
        except Exception:  # noqa: BLE001 - it ended without an answer: do the work here
            status, value = "failed", None
        finally:
            self._stop()
        if status == "ok":
            return value
        if status == "error":
            raise value
        return self.fn(*self.args)

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()

    def __exit__(self, *exc: object) -> None:
        self._stop()
