"""``lunarsim run``: one scenario, one seed, its folder and a summary at 80 columns."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from sim.cli.console import (
    err_console,
    one_line,
    out_console,
    say,
    say_if_compiling,
    say_notes,
    user_errors,
)


@user_errors
def run(
    scenario: Annotated[str, typer.Argument(help="scenario file, or the name of a library scenario")],
    steps: Annotated[int | None, typer.Option(min=1, help="steps to run (default: the horizon)")] = None,
    seed: Annotated[int, typer.Option(min=0, help="master seed; the same seed gives the same run")] = 0,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override: key.path=value")] = None,
    out: Annotated[Path | None, typer.Option(
        help="output folder (default results/run-NAME-seedS, plus a short hash of the scenario "
             "run when --set or --steps change it)")] = None,
    figure: Annotated[bool, typer.Option(help="draw the run's figure")] = True,
) -> None:
    """Run one scenario and write its series, summary, figure and manifest."""
    from sim.base.io import out_label
    from sim.experiment.run import fill_run_folder, run_folder, run_scenario
    from sim.scenario import find_scenario, load_scenario

    overrides = tuple(set_ or ())
    source = find_scenario(scenario)
    spec = load_scenario(source, overrides)
    steps = None if steps is None else spec.steps_to_run(steps, "--steps")
    folder = out or Path("results") / default_run_folder(spec, seed, steps, bool(overrides))
    total = spec.steps if steps is None else steps
    with run_folder(folder, out_label(folder, out is not None)) as stage:  # a bad --out costs no run
        say_if_compiling()
        with Progress(
            TextColumn(f"{spec.name} seed {seed}", markup=False), BarColumn(),
            MofNCompleteColumn(), TextColumn("steps"), TimeRemainingColumn(),
            console=err_console, transient=True,
            disable=not err_console.is_terminal,  # piped or logged: no bar, no stray blank line
        ) as bar:
            task = bar.add_task("run", total=total)
            result = run_scenario(spec, seed, steps,
                                  lambda done, _: bar.update(task, completed=done))
        fill_run_folder(result, stage, source=source, overrides=overrides, figure=figure)
    _print_summary(result)
    say("wrote ", (str(folder), "bold"))
    if steps is not None and steps > spec.steps:
        end = spec.time.start_year + steps / spec.time.steps_per_year
        say_notes(f"{steps} steps ran past the scenario's horizon of {spec.steps} (to {end:g}); "
               "its calibration may not hold that far")


def default_run_folder(spec: Any, seed: int, steps: int | None, changed: bool) -> str:
    """``run-NAME-seedS``; a run changed by ``--set`` or ``--steps`` adds a short hash of what
    it ran (the resolved scenario and the steps), so variants never replace each other."""
    name = f"run-{spec.name}-seed{seed}"
    if not changed and steps is None:
        return name
    import hashlib

    from sim.scenario import content_hash

    tag = hashlib.sha256(f"{content_hash(spec)}:{steps}".encode()).hexdigest()[:8]
    return f"{name}-{tag}"


def _print_summary(result: Any) -> None:
    """Each nation's outcomes, then the run's, readable at 80 columns (names fold at words)."""
    from sim.experiment.run import NATION_ROWS, headline, nation_rows

    table = Table(title=Text(f"{result.scenario.name}: {result.steps} steps, seed {result.seed} "
                             "(welfare in USD bn, propellant in t)"),
                  title_justify="left", box=None, pad_edge=False)
    table.add_column("nation", overflow="fold")
    table.add_column("bloc", overflow="fold")
    for heading, _, _ in NATION_ROWS:
        table.add_column(heading, justify="right", no_wrap=True)
    for nation, bloc, *numbers in nation_rows(result):
        table.add_row(Text(one_line(nation)), Text(bloc), *numbers)
    out_console.print(table)
    line = Text(" · ".join(f"{what} {value}" for what, value in headline(result)))
    line.highlight_regex(r"(?<=^total welfare )\S+", "bold")
    out_console.print(line, highlight=False)
