"""The ``lunarsim`` command: the root of the command line, its commands registered from their
modules (:mod:`.run`, :mod:`.experiments`, :mod:`.explore`, :mod:`.scenarios`, :mod:`.page`),
and the entry point that turns usage mistakes and Ctrl-C into one line."""

from __future__ import annotations

import contextlib
import signal
import sys
import warnings
from typing import Annotated, Any

import typer

from sim.cli import console, experiments, explore, page, run, scenarios
from sim.cli.console import HELP, error, say

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings=HELP,
    help="Simulate competition and cooperation over lunar water ice and rare earths.",
)
app.add_typer(scenarios.app, name="scenarios")
app.add_typer(explore.app, name="explore")
app.command()(run.run)
app.command()(experiments.batch)
app.command(short_help="Compare cooperative and competitive rule sets: statistics, figures "
                       "and a report.")(experiments.compare)
app.command()(experiments.plot)
app.command(short_help="A two-page policy brief from a robust decision study.")(experiments.brief)
app.command("app", short_help="The interactive page: step scenarios side by side in a "
                              "browser")(page.app_command)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        say(f"lunarsim {version('lunarsim')}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="print the version and exit")] = False,
          ) -> None:
    """Simulate competition and cooperation over lunar water ice and rare earths."""


def _as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point. Usage mistakes (a missing argument, a bad option value) get one line too."""
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show "·" gets an escape
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    # A name with characters no font has: matplotlib warns once per glyph; the figure shows a
    # box, which is all a warning would say.
    warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
    for stop in (signal.SIGTERM, signal.SIGHUP):  # `timeout`, a batch scheduler, a closed
        signal.signal(stop, _as_interrupt)  # terminal: stop as cleanly as on Ctrl-C
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        say("interrupted", err=True)
        sys.exit(130)
    except Exception as err:
        if not (hasattr(err, "format_message") and hasattr(err, "exit_code")):
            raise  # not a usage error: a bug, which deserves its traceback
        ctx = getattr(err, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        if err.format_message().strip():  # a bare `lunarsim` has shown its help: nothing wrong
            error(f"{err.format_message()}{hint}")
        sys.exit(err.exit_code)
    if code == 130 and not console.interrupt_reported:  # Typer turns a Ctrl-C into a quiet exit 130
        say("interrupted", err=True)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
