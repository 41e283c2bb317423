"""The ``lunarsim`` command line. A user's mistake prints one line and exits with code 2."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import signal
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from sim.base.errors import RunFailed, UserError

HELP = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings=HELP,
    help="Simulate competition and cooperation over lunar water ice and rare earths.",
)
scenarios_app = typer.Typer(no_args_is_help=True, context_settings=HELP,
                            help="List, show, validate and describe scenario files.")
app.add_typer(scenarios_app, name="scenarios")
explore_app = typer.Typer(no_args_is_help=True, context_settings=HELP,
                          help="How sure are we? Sensitivity analysis, scenario discovery and "
                               "the stage game.")
app.add_typer(explore_app, name="explore")


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

out_console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
SCHEMA_MARK = "JSON Schema of lunarsim scenario files"  # marks the file as lunarsim's


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


@app.command()
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
    from sim.scenario.schema import MAX_HORIZON_YEARS

    overrides = tuple(set_ or ())
    source = find_scenario(scenario)
    spec = load_scenario(source, overrides)
    longest = spec.time.steps_per_year * MAX_HORIZON_YEARS
    if steps is not None and steps > longest:
        per_year = spec.time.steps_per_year
        raise UserError(f"--steps {steps}: at most {longest} ({MAX_HORIZON_YEARS} years at "
                        f"{per_year} step{'s' if per_year > 1 else ''} a year, the longest "
                        "horizon)")
    folder = out or Path("results") / default_run_folder(spec, seed, steps, bool(overrides))
    total = spec.steps if steps is None else steps
    with run_folder(folder, out_label(folder, out is not None)) as stage:  # a bad --out costs no run
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
        _notes(f"{steps} steps ran past the scenario's horizon of {spec.steps} (to {end:g}); "
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


@app.command()
@user_errors
def batch(
    experiment: Annotated[str, typer.Argument(help="experiment file, or a name in scenarios/experiments")],
    replicates: Annotated[int | None, typer.Option(min=1, help="override the file's replicates")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="processes (default: all cores)")] = None,
    backend: Annotated[str, typer.Option(help="serial, processes or dask")] = "processes",
    scheduler: Annotated[str | None, typer.Option(help="join a Dask cluster: tcp://HOST:PORT")] = None,
    resume: Annotated[bool, typer.Option(help="finish an interrupted batch")] = False,
    force: Annotated[bool, typer.Option(help="discard earlier results in the folder")] = False,
    out: Annotated[Path | None, typer.Option(help="results folder (default results/NAME)")] = None,
    series: Annotated[str, typer.Option(help="per-step series to keep: all, model or none")] = "all",
) -> None:
    """Run an experiment's runs (scenarios x design points x seeded replicates) into a
    resumable results folder."""
    from sim.experiment import run_experiment

    _check_backend(backend)
    if series not in ("all", "model", "none"):
        raise UserError(f"--series: expected all, model or none (got {series!r})")
    outcome = _with_progress("runs", lambda progress: run_experiment(
        experiment, replicates=replicates, workers=workers, backend=backend, scheduler=scheduler,
        resume=resume, force=force, out=out, series=series, progress=progress))
    _report_batch(outcome)
    _exit_if_failed(outcome.failed, outcome.folder)


def _report_batch(outcome: Any) -> None:
    _notes(*outcome.notes)
    say(f"{outcome.done} of {outcome.total} runs done ({outcome.ran} this time) in ",
        (str(outcome.folder), "bold"))


def _notes(*notes: str | None) -> None:
    """What a command recovered or left out (a stale lock, damaged chunks, runs not finished),
    one line each on stderr, after the command has succeeded."""
    for note in notes:
        if note:
            say(("note:", "yellow"), " ", note, err=True)


def _check_backend(backend: str) -> None:
    if backend not in ("serial", "processes", "dask"):
        raise UserError(f"--backend: unknown backend {backend!r} (known: serial, processes, dask)")


def _exit_if_failed(failed: int, folder: Path) -> None:
    """Failed runs are recorded, not fatal to the others; the command still says so, exit 1."""
    if failed:
        error(f"{failed} runs failed and are left out; their reasons and tracebacks are in "
              f"{folder / 'failures'}")
        raise typer.Exit(1)


@app.command(short_help="Compare cooperative and competitive rule sets: statistics, figures "
                         "and a report.")
@user_errors
def compare(
    target: Annotated[str | None, typer.Argument(
        help="experiment (file or name) to run and analyse, or a results folder to analyse; "
             "default: the coop_vs_compete experiment")] = None,
    reference: Annotated[str | None, typer.Option(help="scenario to compare against")] = None,
    replicates: Annotated[int | None, typer.Option(min=1, help="override the file's replicates")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="processes (default: all cores)")] = None,
    backend: Annotated[str | None, typer.Option(
        help="serial, processes or dask (default processes)")] = None,
    force: Annotated[bool, typer.Option(help="discard earlier results and run afresh")] = False,
    out: Annotated[Path | None, typer.Option(help="results folder (default results/NAME)")] = None,
    resamples: Annotated[int, typer.Option(min=100, max=100_000, help="bootstrap resamples")] = 4999,
    robustness: Annotated[int | None, typer.Option(
        min=0, max=1024, help="also run every scenario at this many points over all parameters' "
        "ranges, for the report's 'How sure are we?' (default 16; 0: none)")] = None,
) -> None:
    """Compare cooperative and competitive rule sets: run the experiment (finishing or reusing
    earlier runs), then write paired statistics, figures and a report into its folder."""
    from sim.base.lock import FolderLock
    from sim.experiment import ResultStore, load_experiment, run_experiment
    from sim.experiment.store import ANALYSIS_NAMES, analysis_files
    from sim.explore.robustness import POINTS, design, folder_for
    from sim.report.compare import analyse

    if reference is not None and not reference.strip():
        raise UserError("--reference: empty name")
    folder = _results_target(target)
    failed, notes = 0, ()
    if folder is not None:  # analyse what is there; the options that run a batch do not apply
        given = {"--replicates": replicates, "--workers": workers, "--backend": backend,
                 "--out": out, "--force": force or None, "--robustness": robustness}
        for option, value in given.items():
            if value is not None:
                raise UserError(f"{option}: does not apply to a results folder ({folder}); "
                                "name the experiment to run it")
        ResultStore(folder).manifest()  # a results folder, before anything is written there
    else:
        backend = backend or "processes"
        _check_backend(backend)
        experiment = load_experiment(target or "coop_vs_compete", replicates)
        if reference is not None and reference not in experiment.spec.scenarios:
            raise UserError(f"--reference: {reference!r} is not a scenario of {experiment.label} "
                            f"(scenarios: {', '.join(experiment.spec.scenarios)})")
        folder = out or Path("results") / experiment.spec.name
        store = ResultStore(folder)
        resume = store.exists() and not force
        series = store.manifest().get("series", "all") if resume else "all"
        if folder.is_dir():  # an analysis it may not write is refused before any run
            analysis_files(folder).check(ANALYSIS_NAMES)
        outcome = _with_progress("runs", lambda progress: run_experiment(
            experiment, workers=workers, backend=backend, resume=resume, force=force,
            out=out, series=series, progress=progress))
        failed, notes = outcome.failed, outcome.notes
        points = POINTS if robustness is None else robustness
        if points and not experiment.spec.parameters:  # a design of its own says it already
            study = folder_for(folder, "robustness")
            again = ResultStore(study).exists() and not force
            extra = _with_progress("robustness runs", lambda progress: run_experiment(
                design(experiment, points), workers=workers, backend=backend, resume=again,
                force=force, out=study, series="none", progress=progress))
            failed, notes = failed + extra.failed, (*notes, *extra.notes)
    status = err_console.status("statistics, figures and report") if err_console.is_terminal \
        else contextlib.nullcontext()
    with FolderLock(folder) as lock, status:
        analysis = analyse(folder, reference, resamples)
    _notes(*notes, lock.stale_note(), analysis.results.completeness())
    _print_comparison(analysis)
    _print_channels(analysis)
    say("report:  ", (str(analysis.report_html), "bold"), " (and report.md)")
    say(f"tables:  {folder}/comparison.csv, levels.csv, decomposition.csv")
    say(f"figures: {folder / 'figures'}")
    _exit_if_failed(failed, folder)


def _print_comparison(analysis: Any) -> None:
    """The key outcomes, a small table each, so that they read at 80 columns: numbers never
    wrap, and a long scenario name folds instead of being cut."""
    import pandas as pd

    from sim.report.report import _num

    results = analysis.results
    reference = results.label(analysis.reference)
    say((f"{results.name}: each scenario against {reference}, paired by seed", "bold"))
    comparison = analysis.comparison
    for _, group in comparison[comparison["key"]].groupby("outcome", sort=False):
        first = group.iloc[0]
        share = first["unit"].startswith("share")
        scale, unit, diff_unit = (100.0, "%", "pp") if share else (1.0, first["unit"], first["unit"])
        units = unit if unit == diff_unit else f"{unit}; differences in {diff_unit}"
        table = Table(title=Text(f"{first['label']} ({units}); {reference}: "
                                 f"{_num(first['reference_mean'] * scale)}"),
                      title_justify="left", box=None, pad_edge=False)
        table.add_column("scenario", overflow="fold", min_width=13)
        for col in ("mean", "difference", "95% CI", "better", "d_z"):
            table.add_column(col, justify="right", no_wrap=True)
        negligible = group["negligible"].astype(bool)
        if negligible.any():
            table.add_column("", no_wrap=True)
        for (_, r), small in zip(group.iterrows(), negligible, strict=True):
            cells = [results.label(r["scenario"]), _num(r["scenario_mean"] * scale),
                     _num(r["mean_difference"] * scale, sign=True),
                     f"[{_num(r['ci_low'] * scale, sign=True)}, {_num(r['ci_high'] * scale, sign=True)}]",
                     f"{r['share_better']:.0%}",
                     "—" if pd.isna(r["effect_size_dz"]) else f"{r['effect_size_dz']:+.2f}"]
            table.add_row(*(Text(c) for c in cells + (["negl." if small else ""]
                                                       if negligible.any() else [])))
        out_console.print()
        out_console.print(table)
    out_console.print(Text(
        "better: share of seeds on which the scenario did better than the reference; d_z: mean "
        "paired difference over its standard deviation; negl.: the whole interval lies within "
        "the smallest difference that matters (the report defines each)."))


def _print_channels(analysis: Any) -> None:
    """Why total welfare differs from the reference's, channel by channel."""
    from sim.analysis.decompose import channel_table
    from sim.report.report import _num

    table = channel_table(analysis.decomposition, analysis.results.label)
    if table.empty:
        return
    shown = Table(title=Text(f"Why welfare differs from {analysis.results.label(analysis.reference)}"
                             ": paired difference by channel, USD bn over the run"),
                  title_justify="left", box=None, pad_edge=False)
    for k, col in enumerate(table.columns):  # numbers and the words of names never break
        shown.add_column(Text(col), justify="left" if k == 0 else "right", overflow="fold",
                         min_width=14 if k == 0 else None,
                         width=None if k == 0 else max(9, *map(len, col.split())))
    for k, row in enumerate(table.itertuples(index=False)):
        total = k == len(table) - 1
        if total:
            shown.add_row()
        shown.add_row(Text(row[0]), *(Text(_num(v, sign=True)) for v in row[1:]),
                      style="bold" if total else None)
    out_console.print()
    out_console.print(shown)


def _results_target(target: str | None) -> Path | None:
    """``compare``'s target as a results folder: one with a manifest, or a path (not a bare
    name, which names an experiment even if a folder of that name is here)."""
    if target is None:
        return None
    path = Path(target)
    named_as_path = "/" in target or target in (".", "..")
    if path.is_dir() and ((path / "manifest.json").exists() or named_as_path):
        return path
    return None


@app.command()
@user_errors
def plot(
    results: Annotated[Path, typer.Argument(help="a results folder")],
    kind: Annotated[str, typer.Option(help="timeseries, differences, nations, cooperation, "
                                           "leverage, heatmap or channels")] = "timeseries",
    reference: Annotated[str | None, typer.Option(
        help="for differences, channels and heatmap (default: the one the last compare used)")] = None,
    outcome: Annotated[str, typer.Option(help="for heatmap: a column of the run table")] = "welfare_total_usd_bn",
    out: Annotated[Path | None, typer.Option(help="PNG file (default RESULTS/figures/KIND.png)")] = None,
) -> None:
    """Draw one figure from a results folder."""
    from sim.analysis import Results
    from sim.analysis.figures import FIGURES, png_bytes
    from sim.base.io import atomic_write_bytes, writing_to
    from sim.base.lock import FolderLock
    from sim.experiment import ResultStore
    from sim.experiment.store import analysis_files

    if kind not in FIGURES:
        raise UserError(f"--kind: unknown figure {kind!r} (known: {', '.join(FIGURES)})")
    name = f"figures/{kind}.png"
    if out is not None:
        _check_png_out(out, "--out")
    ResultStore(results).manifest()  # a results folder, before anything is written there
    with FolderLock(results) as lock:  # no batch may change what is being read
        data = Results(results)
        if out is None:
            analysis_files(data.folder).check([name])
        if reference is None and kind in ("differences", "channels", "heatmap"):
            chosen = analysis_files(data.folder).recorded("reference")  # the report's
            reference = chosen if chosen in data.scenarios else None
        options = {"differences": {"reference": reference}, "channels": {"reference": reference},
                   "heatmap": {"outcome": outcome, "reference": reference}}.get(kind, {})
        if kind == "cooperation" and data.pairs.empty:
            raise UserError(f"{results}: no pair table (made by an older lunarsim); run the "
                            "batch again")
        png = png_bytes(FIGURES[kind](data, **options))
        if out is None:
            analysis_files(data.folder).write({name: png})
        else:
            with writing_to(f"--out {out}"):
                atomic_write_bytes(out, png)
    _notes(lock.stale_note())
    say(f"wrote {out or data.folder / name}")


_interrupt_reported = False


def _interrupted(message: str) -> NoReturn:
    """Say once why the command stopped on Ctrl-C, and stop with exit code 130."""
    global _interrupt_reported
    _interrupt_reported = True
    say(message, err=True)
    raise typer.Exit(130)


def _with_progress(unit: str, work: Callable[[Callable[[int, int], None]], Any]) -> Any:
    """Run ``work(progress)`` under a progress bar (done, rate, time left); Ctrl-C stops it
    cleanly, keeping what is finished."""
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
            _interrupted("interrupted: finished runs are kept; --resume completes the rest"
                         if done else "interrupted")


@explore_app.command("sensitivity", short_help="Which parameters the comparison depends on "
                                                "(SALib: Morris, Sobol).")
@user_errors
def explore_sensitivity(
    experiment: Annotated[str, typer.Argument(
        help="experiment file or name whose scenarios are compared")] = "coop_vs_compete",
    method: Annotated[str, typer.Option(help="morris (screen every parameter) or sobol")] = "morris",
    parameters: Annotated[list[str] | None, typer.Option(
        "--parameter", "-p", help="a parameter of sim/scenario/calibration.toml, or a pattern such as "
        "'market.*' (repeat; default: every ranged one for morris, those a morris study found "
        "to matter for sobol)")] = None,
    size: Annotated[int | None, typer.Option(
        min=1, help="morris trajectories (default 10) or sobol base points (default 64)")] = None,
    levels: Annotated[int, typer.Option(min=2, max=20, help="morris grid levels")] = 4,
    replicates: Annotated[int, typer.Option(min=1, help="seeded runs per design point")] = 1,
    seed: Annotated[int | None, typer.Option(min=0, help="design seed (default: the "
                                             "experiment's master seed)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="processes (default: all cores)")] = None,
    backend: Annotated[str, typer.Option(help="serial, processes or dask")] = "processes",
    scheduler: Annotated[str | None, typer.Option(help="join a Dask cluster: tcp://HOST:PORT")] = None,
    resume: Annotated[bool, typer.Option(help="finish an interrupted study")] = False,
    force: Annotated[bool, typer.Option(help="discard earlier results in the folder")] = False,
    out: Annotated[Path | None, typer.Option(
        help="results folder (default results/EXPERIMENT-METHOD)")] = None,
) -> None:
    """Global sensitivity of each scenario's welfare, and of each paired difference from the
    reference, to the parameters' ranges (SALib: Morris screening, Sobol indices)."""
    from sim.explore.sensitivity import ranking, run_study

    _check_backend(backend)
    if method not in ("morris", "sobol"):
        raise UserError(f"--method: expected morris or sobol (got {method!r})")
    study = _with_progress("runs", lambda progress: run_study(
        experiment, method=method, parameters=parameters, size=size, levels=levels,
        replicates=replicates, seed=seed, out=out, progress=progress, workers=workers,
        backend=backend, scheduler=scheduler, resume=resume, force=force))
    _report_batch(study.outcome)
    if study.table is None:
        _exit_if_failed(study.outcome.failed, study.folder)
        return
    by, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
    for output in dict.fromkeys(study.table.loc[study.table["headline"], "output"]):
        top = ranking(study.table, output, top=5)
        first = top.iloc[0]
        unit = first["unit"] if method == "morris" else "share of variance"
        table = Table(box=None, pad_edge=False)
        table.add_column("most influential parameters", overflow="fold")
        table.add_column("μ*" if method == "morris" else "ST", justify="right", no_wrap=True)
        table.add_column("± 95 %", justify="right", no_wrap=True)
        for row in top.itertuples():
            table.add_row(Text(row.parameter_label), f"{getattr(row, by):.3g}",
                          f"{getattr(row, conf):.2g}")
        out_console.print()
        out_console.print(Text(f"{first['label']} ({unit})"))  # as wide as it needs, not the table
        out_console.print(table)
    say(f"tables:  {study.folder / 'sensitivity.csv'}")
    say(f"figure:  {study.folder / 'figures' / 'sensitivity.png'}")


@explore_app.command("game", short_help="The US-China stage game at chosen years: class and "
                                         "Nash equilibria.")
@user_errors
def explore_game(
    scenarios: Annotated[list[str] | None, typer.Argument(
        help="scenario files or names (default: the six regimes of coop_vs_compete)")] = None,
    year: Annotated[list[float] | None, typer.Option(
        help="a year to show the game at (repeat; default: a fifth, three fifths and the end "
             "of the run)")] = None,
    pair: Annotated[tuple[str, str] | None, typer.Option(
        help="the two nations (default: United States and China)")] = None,
    seed: Annotated[int, typer.Option(min=0, help="the run's seed")] = 0,
    figure: Annotated[Path | None, typer.Option(
        help="also draw the game's class over each run into this PNG file")] = None,
) -> None:
    """The 2x2 game a pair of nations plays at a step, from the step's own economics: its
    payoffs, its class (prisoner's dilemma, stag hunt, chicken, harmony, deadlock, ...) and
    its Nash equilibria (nashpy), at chosen years of a run of each scenario."""
    from sim.base.io import atomic_write_bytes, writing_to
    from sim.experiment import load_experiment
    from sim.explore.game import format_game, game_path, games_at, games_figure
    from sim.scenario import load_scenario

    if figure is not None:
        _check_png_out(figure, "--figure")
    names = scenarios or load_experiment("coop_vs_compete").spec.scenarios
    a, b = pair if pair else (None, None)
    paths = {}
    shown = []  # every game first, so that a mistake in the last scenario prints nothing
    for name in names:
        scenario = load_scenario(name)
        start = scenario.time.start_year
        years = year or [round(start + k * scenario.time.horizon_years, 2) for k in (0.2, 0.6, 0.96)]
        shown.append((scenario, games_at(scenario, years, a, b, seed)))
        if figure is not None:
            paths[scenario.name] = game_path(scenario, a, b, seed)
    for scenario, games in shown:
        out_console.print()
        say((f"{scenario.name} ({scenario.regime.name}), seed {seed}", "bold"))
        for game in games:
            out_console.print(Text(format_game(game)), highlight=False)
    if figure is not None:
        from sim.analysis.figures import png_bytes

        with writing_to(f"--figure {figure}"):
            atomic_write_bytes(figure, png_bytes(games_figure(paths)))
        say(f"wrote {figure}")


@explore_app.command("discover", short_help="Where in parameter space a conclusion holds "
                                             "(PRIM, CART).")
@user_errors
def explore_discover(
    target: Annotated[str, typer.Argument(
        help="a results folder of an experiment with a sampled design, or the experiment's "
             "name (its folder results/NAME)")],
    where: Annotated[str, typer.Option(
        help="the conclusion, e.g. \"best(welfare_total_usd_bn) == multilateral\" or "
             "\"welfare[China][us_china_cooperation] > welfare[China][open_access]\"")],
    threshold: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="the box: the most coverage with at least this density "
                               "(default: the densest with coverage 0.5 or more)")] = None,
    boxes: Annotated[int, typer.Option(min=1, max=5, help="boxes to find, one after another")] = 1,
) -> None:
    """Scenario discovery: which region of the sampled parameters makes a conclusion hold (PRIM
    from the EMA Workbench, with coverage and density; a CART tree as a second view)."""
    from sim.analysis import Results
    from sim.analysis.figures import png_bytes
    from sim.base.lock import FolderLock
    from sim.experiment import ResultStore
    from sim.experiment.store import analysis_files
    from sim.explore.discover import discover, discovery_figure

    folder = _results_target(target) or Path("results") / target
    ResultStore(folder).manifest()  # a results folder, before anything is written there
    with FolderLock(folder) as lock:
        results = Results(folder)
        analysis_files(folder).check(DISCOVERY_FILES)
        try:
            found = discover(results, where, threshold=threshold, max_boxes=boxes)
        except UserError as err:  # a mistake in the condition is the option's
            said = str(err)
            raise UserError(f"--where: {said}" if said.startswith("condition") else said) from None
        text = found.summary() + "\n\nCART tree:\n" + found.cart + "\n"
        analysis_files(folder).write({
            "discovery.csv": found.boxes.to_csv(index=False).encode(),
            "discovery.txt": text.encode(),
            "figures/discovery.png": png_bytes(discovery_figure(found))})
    _notes(lock.stale_note())
    out_console.print(Text(found.summary()), highlight=False)
    say(f"tables:  {folder / 'discovery.csv'} (boxes), {folder / 'discovery.txt'} (with the tree)")
    say(f"figure:  {folder / 'figures' / 'discovery.png'}")


DISCOVERY_FILES = ["discovery.csv", "discovery.txt", "figures/discovery.png"]


def _check_png_out(out: Path, option: str) -> None:
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


@app.command("app", short_help="The interactive page: step scenarios side by side in a browser")
@user_errors
def app_command(
    scenarios: Annotated[list[Path] | None, typer.Argument(
        help="scenario files to offer beside the library's (the first is shown first)")] = None,
    host: Annotated[str, typer.Option(help="address to serve on (127.0.0.1: this machine only)")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port (0: any free one)")] = 8765,
) -> None:
    """Serve the interactive page: choose a scenario and one to compare on the same seed, move
    the parameters over their calibrated ranges, step, and watch welfare, cooperation, the
    sites and the rare-earth market. Needs the app extra: pip install -e '.\\[app]'."""
    import importlib.util
    import os
    import socket
    import subprocess

    from sim.scenario import find_scenario, load_scenario

    if importlib.util.find_spec("solara") is None:
        raise UserError("the interactive page needs Solara, from the app extra: "
                        "pip install -e '.[app]'")
    files = [find_scenario(path) for path in scenarios or []]
    for path in files:
        load_scenario(path)  # a bad file is named now, not in the page
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
            port = probe.getsockname()[1]
    except (OSError, UnicodeError) as err:
        raise UserError(f"--host {host} --port {port}: cannot serve there "
                        f"({err.strerror or err})") from None
    env = os.environ | {"LUNARSIM_APP_SCENARIOS": json.dumps([str(p.resolve()) for p in files]),
                        # no reports to Solara's makers, no id file in the user's home
                        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
                        "SOLARA_TELEMETRY_SERVER_USER_ID": "lunarsim"}
    shown = f"[{host}]" if ":" in host else host
    say("the page: ", (f"http://{shown}:{port}", "bold"), " (Ctrl-C stops it)")
    command = [sys.executable, "-m", "solara", "run", "sim.app.page", "--host", host,
               "--port", str(port), "--production", "--no-open", "--no-check-version",
               "--log-level", "warning"]
    try:
        code = subprocess.run(command, env=env, check=False).returncode
    except KeyboardInterrupt:
        code = 0
    if code not in (0, -signal.SIGINT, 130):
        raise RunFailed(f"the page's server stopped with exit code {code}")


@scenarios_app.command("list")
@user_errors
def scenarios_list() -> None:
    """Every scenario in the library, with its one-line description."""
    from sim.scenario import library, load_scenario

    table = Table()
    table.add_column("name")
    table.add_column("regime")
    table.add_column("description")
    broken = []
    for name, path in library().items():
        try:
            spec = load_scenario(path)
        except UserError as err:  # one bad file does not hide the others
            broken.append(err)
            table.add_row(Text(name), Text("-"), Text("invalid: see below"))
            continue
        first = spec.description.strip().splitlines()[0] if spec.description.strip() else ""
        table.add_row(Text(name), Text(spec.regime.name), Text(first))
    out_console.print(table)
    for err in broken:
        error(err)
    if broken:
        raise typer.Exit(2)


@scenarios_app.command("show")
@user_errors
def scenarios_show(
    name: Annotated[str, typer.Argument(help="scenario file or library name")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="override: key.path=value")] = None,
) -> None:
    """The scenario as the model sees it: inheritance and overrides applied, defaults filled in."""
    from sim.scenario import content_hash, load_scenario

    spec = load_scenario(name, tuple(set_ or ()))
    payload = spec.model_dump(mode="json") | {"sha256": content_hash(spec)}
    out_console.print_json(json.dumps(payload))


@scenarios_app.command("validate")
def scenarios_validate(
    files: Annotated[list[str], typer.Argument(help="scenario files or library names")],
) -> None:
    """Check scenario files: one line for each valid file, one for each problem of an invalid
    one. Exit code 2 if any is invalid."""
    from sim.scenario import load_scenario

    failed = 0
    for ref in files:
        try:
            spec = load_scenario(ref)
        except UserError as err:
            failed += 1
            for line in err.problems or [str(err)]:  # every problem, one line each
                error(line)
        else:
            say(f"ok  {ref}: {spec.name}, {len(spec.nations)} nations, {len(spec.sites)} sites, "
                f"{spec.steps} steps, regime {spec.regime.name}")
    if failed:
        raise typer.Exit(2)


@scenarios_app.command("schema")
@user_errors
def scenarios_schema(
    out: Annotated[Path | None, typer.Option(help="write to this file instead of printing")] = None,
) -> None:
    """The JSON Schema of scenario files (for editors: Taplo / Even Better TOML)."""
    from sim.base.io import atomic_write_bytes, check_replaceable_file, writing_to
    from sim.scenario import Scenario

    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"} | Scenario.model_json_schema()
    text = json.dumps({"$comment": _schema_mark(schema)} | schema, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        check_replaceable_file(out, _is_schema, f"--out {out}")
        with writing_to(f"--out {out}"):
            atomic_write_bytes(out, text.encode())
        say(f"wrote {out}")


def _schema_mark(schema: dict[str, Any]) -> str:
    """The schema's ``$comment``: lunarsim's mark with the SHA-256 of the rest, so that a
    schema the user has extended is not replaced."""
    digest = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()
    return f"{SCHEMA_MARK} (sha256 {digest})"


def _is_schema(data: bytes) -> bool:
    """A scenario schema lunarsim wrote and nobody changed since."""
    try:
        schema = json.loads(data)
        comment = schema.pop("$comment")
    except (ValueError, AttributeError, KeyError, RecursionError):
        return False
    return isinstance(schema, dict) and comment == _schema_mark(schema)


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
    if code == 130 and not _interrupt_reported:  # Typer turns a Ctrl-C into a quiet exit 130
        say("interrupted", err=True)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
