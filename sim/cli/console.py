"""What every command shares: printing (user text literally, on one line), reporting a user's
mistake in one line with exit code 2, notes, progress bars, Ctrl-C, and the checks several
commands make of their options."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from sim.base.errors import RunFailed, UserError

HELP = {"help_option_names": ["-h", "--help"]}  # every command and group


def _flags_without_a_type() -> None:
    """Typer 0.29 with Click 8.5 shows ``<bool>`` beside every flag in the help (``--version``,
    ``--force``, ``--help`` itself), as if it took a value; a flag takes none, so its type
    column is left empty. Other options keep theirs."""
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "lunarsim", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> Any:
        return None if getattr(self, "is_flag", False) else shown(self, ctx)

    display_type_rich.lunarsim = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich


_flags_without_a_type()
out_console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def one_line(text: object) -> str:
    """``text`` on one line: newlines and other control characters shown as escapes, so that
    a name or path holding them cannot split a message."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def say(*parts: str | tuple[str, str], err: bool = False) -> None:
    """Print literally (user text is never read as Rich markup): plain strings, or
    ``(text, style)`` pairs for emphasis, on one line."""
    line = Text(no_wrap=False)
    for part in parts:
        text, style = (part, "") if isinstance(part, str) else part
        line.append(one_line(text), style=style)
    (err_console if err else out_console).print(line, highlight=False, soft_wrap=True)


def error(message: object) -> None:
    say(("error:", "bold red"), " ", str(message), err=True)


def user_errors(fn: F) -> F:
    """Report a user's mistake as ``error: <one line>`` on stderr with exit code 2; a failure of
    the machine (a full disk) or of a run (a non-finite outcome) in one line, exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as err:
            error(err)
            raise typer.Exit(2) from None
        except RunFailed as err:
            error(err)
            raise typer.Exit(1) from None
        except MemoryError:
            error("out of memory; try fewer workers, a smaller design or --series model")
            raise typer.Exit(1) from None
        except OSError as err:
            from sim.base.io import is_user_path_error

            where = f"{err.filename}: " if err.filename else ""
            if is_user_path_error(err):  # a path the user chose: read-only, too long, ...
                error(f"{where}{err.strerror or err}")
                raise typer.Exit(2) from None
            error(f"{where}{err.strerror or err}; nothing half-written was kept (a batch "
                  "resumes with --resume)")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def say_notes(*notes: str | None) -> None:
    """What a command recovered or left out (a stale lock, damaged chunks, runs not finished),
    one line each on stderr, after the command has succeeded."""
    for note in notes:
        if note:
            say(("note:", "yellow"), " ", note, err=True)


def report_batch(outcome: Any) -> None:
    say_notes(*outcome.notes)
    say(f"{outcome.done} of {outcome.total} runs done ({outcome.ran} this time) in ",
        (str(outcome.folder), "bold"))


def check_backend(backend: str) -> None:
    if backend not in ("serial", "processes", "dask"):
        raise UserError(f"--backend: unknown backend {backend!r} (known: serial, processes, dask)")


def exit_if_failed(failed: int, folder: Path) -> None:
    """Failed runs are recorded, not fatal to the others; the command still says so, exit 1."""
    if failed:
        error(f"{failed} runs failed and are left out; their reasons and tracebacks are in "
              f"{folder / 'failures'}")
        raise typer.Exit(1)


def results_target(target: str | None) -> Path | None:
    """``compare``'s target as a results folder: one with a manifest, or a path (not a bare
    name, which names an experiment even if a folder of that name is here)."""
    if target is None:
        return None
    path = Path(target)
    named_as_path = "/" in target or target in (".", "..")
    if path.is_dir() and ((path / "manifest.json").exists() or named_as_path):
        return path
    return None


def check_png_out(out: Path, option: str) -> None:
    """A PNG the user names: a .png file, outside lunarsim's folders, replacing only a figure
    lunarsim wrote; refused in one line before any work."""
    from sim.base.io import check_replaceable_file, inside_lunarsim_folder, lunarsim_png

    label = f"{option} {out}"
    if out.suffix.lower() != ".png":
        raise UserError(f"{label}: figures are written as PNG; name a .png file")
    holder = inside_lunarsim_folder(out)
    if holder is not None:
        raise UserError(f"{label}: inside lunarsim's folder {holder}; choose a file outside it")
    check_replaceable_file(out, lunarsim_png, label)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"{label}: cannot write there ({parent} is not a folder)")
    if not os.access(parent, os.W_OK):
        raise UserError(f"{label}: cannot write there ({parent} is not writable)")


interrupt_reported = False


def interrupted(message: str) -> NoReturn:
    """Say once why the command stopped on Ctrl-C, and stop with exit code 130."""
    global interrupt_reported
    interrupt_reported = True
    say(message, err=True)
    raise typer.Exit(130)


def say_if_compiling() -> None:
    """Before the first runs after an install or an upgrade, say why they wait: the step's
    kernels compile once (then load from the disk cache)."""
    from sim.economy.kernels import cold

    if cold():
        say("compiling the model's kernels: once after an install or an upgrade, about 30 s")


def with_progress(unit: str, work: Callable[[Callable[[int, int], None]], Any],
                  again: str = "--resume completes the rest") -> Any:
    """Run ``work(progress)`` under a progress bar (done, rate, time left); Ctrl-C stops it
    cleanly, keeping what is finished, and says how to finish (``again``)."""
    say_if_compiling()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(f"{{task.fields[rate]}} {unit}/s"), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True,
                  disable=not err_console.is_terminal) as bar:
        task = bar.add_task(unit, total=None, rate="-")
        start = time.perf_counter()
        said = [-1]  # the last tenth reported in a log (no terminal: no bar)

        def progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - start, 1e-9)
            bar.update(task, completed=done, total=total, rate=f"{rate:.1f}")
            tenth = 10 * done // max(total, 1)
            if not err_console.is_terminal and tenth > said[0]:  # a line per tenth done, on
                said[0] = tenth  # stdout: stderr keeps to the one line of an error
                say(f"{unit}: {done} of {total} done ({rate:.1f} {unit}/s)")

        try:
            return work(progress)
        except KeyboardInterrupt:
            bar.stop()
            done = bar.tasks[0].completed if bar.tasks else 0
            interrupted(f"interrupted: finished runs are kept; {again}" if done else
                        "interrupted")
