"""``lunarsim batch``, ``compare`` and ``plot``: experiments run into a results folder, the main
job's comparison and one figure drawn from a folder."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from sim.base.errors import UserError
from sim.cli.console import (
    check_backend,
    check_png_out,
    err_console,
    exit_if_failed,
    out_console,
    report_batch,
    results_target,
    say,
    say_notes,
    user_errors,
    with_progress,
)

# how an interrupted compare is finished (it has no --resume: it always finishes earlier runs)
AGAIN = "the same command again completes the rest"


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

    check_backend(backend)
    if series not in ("all", "model", "none"):
        raise UserError(f"--series: expected all, model or none (got {series!r})")
    outcome = with_progress("runs", lambda progress: run_experiment(
        experiment, replicates=replicates, workers=workers, backend=backend, scheduler=scheduler,
        resume=resume, force=force, out=out, series=series, progress=progress))
    report_batch(outcome)
    exit_if_failed(outcome.failed, outcome.folder)


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
        "ranges, and under three other strategy sets, for the report's 'How sure are we?' "
        "(default 64; 0: neither)")] = None,
    robustness_seeds: Annotated[int | None, typer.Option(
        min=1, max=100, help="seeds at each of those points, shared by every scenario there; a "
        "point's numbers are their means (default 1)")] = None,
) -> None:
    """Compare cooperative and competitive rule sets: run the experiment (finishing or reusing
    earlier runs), then write paired statistics, figures and a report into its folder."""
    from sim.base.lock import FolderLock
    from sim.experiment import ResultStore, load_experiment, run_experiment
    from sim.experiment.store import ANALYSIS_NAMES, analysis_files
    from sim.explore import strategy_sets
    from sim.explore.robustness import POINTS, SEEDS, design, folder_for
    from sim.report.compare import analyse

    if reference is not None and not reference.strip():
        raise UserError("--reference: empty name")
    folder = results_target(target)
    failed, notes = 0, ()
    if folder is not None:  # analyse what is there; the options that run a batch do not apply
        given = {"--replicates": replicates, "--workers": workers, "--backend": backend,
                 "--out": out, "--force": force or None, "--robustness": robustness,
                 "--robustness-seeds": robustness_seeds}
        for option, value in given.items():
            if value is not None:
                raise UserError(f"{option}: does not apply to a results folder ({folder}); "
                                "name the experiment to run it")
        ResultStore(folder).manifest()  # a results folder, before anything is written there
    else:
        backend = backend or "processes"
        check_backend(backend)
        points = POINTS if robustness is None else robustness
        if robustness_seeds is not None and not points:
            raise UserError("--robustness-seeds: does not apply with --robustness 0")
        experiment = load_experiment(target or "coop_vs_compete", replicates)
        if reference is not None:  # a name, or the label the report shows
            from sim.analysis.results import by_label

            reference = by_label(reference, list(experiment.spec.scenarios))
        if reference is not None and reference not in experiment.spec.scenarios:
            raise UserError(f"--reference: {reference!r} is not a scenario of {experiment.label} "
                            f"(scenarios: {', '.join(experiment.spec.scenarios)})")
        seeds = robustness_seeds or SEEDS
        if experiment.spec.parameters:  # a design of its own says how sure already
            for option, value in {"--robustness": robustness,
                                  "--robustness-seeds": robustness_seeds}.items():
                if value is not None:
                    raise UserError(f"{option}: does not apply to {experiment.label}, which has "
                                    "a design of its own")
        folder = out or Path("results") / experiment.spec.name
        if points and not force and not experiment.spec.parameters:
            _check_study_size(folder_for(folder, "robustness"), points, seeds)
        store = ResultStore(folder)
        resume = store.exists() and not force
        series = store.manifest().get("series", "all") if resume else "all"
        if folder.is_dir():  # an analysis it may not write is refused before any run
            analysis_files(folder).check(ANALYSIS_NAMES)
        outcome = with_progress("runs", lambda progress: run_experiment(
            experiment, workers=workers, backend=backend, resume=resume, force=force,
            out=out, series=series, progress=progress), AGAIN)
        failed, notes = outcome.failed, outcome.notes
        if points and not experiment.spec.parameters:  # a design of its own says it already
            study = folder_for(folder, "robustness")
            again = ResultStore(study).exists() and not force
            extra = with_progress("robustness runs", lambda progress: run_experiment(
                design(experiment, points, seeds=seeds), workers=workers,
                backend=backend, resume=again, force=force, out=study, series="none",
                progress=progress), AGAIN)
            failed, notes = failed + extra.failed, (*notes, *extra.notes)
            for name, (words, _) in strategy_sets.SETS.items():  # other rules: how sure, too
                study = strategy_sets.folder(folder, name)
                again = ResultStore(study).exists() and not force
                extra = with_progress(f"runs, {words}", lambda progress: run_experiment(
                    strategy_sets.design(experiment, name), workers=workers, backend=backend,
                    resume=again, force=force, out=study, series="none", progress=progress),
                    AGAIN)
                failed, notes = failed + extra.failed, (*notes, *extra.notes)
    status = err_console.status("statistics, figures and report") if err_console.is_terminal \
        else contextlib.nullcontext()
    with FolderLock(folder) as lock, status:
        analysis = analyse(folder, reference, resamples)
    say_notes(*notes, lock.stale_note(), analysis.results.completeness())
    _print_comparison(analysis)
    _print_channels(analysis)
    say("report:  ", (str(analysis.report_html), "bold"), " (and report.md)")
    say(f"tables:  {folder}/comparison.csv, levels.csv, decomposition.csv")
    say(f"figures: {folder / 'figures'}")
    exit_if_failed(failed, folder)


def _check_study_size(study: Path, points: int, seeds: int) -> None:
    """Refuse, before any run, to finish a robustness study of another size in ``study``
    (its runs could not be used): say what is there and how to use it or start afresh."""
    from sim.base.shown import shown_path
    from sim.experiment import ResultStore

    store = ResultStore(study)
    if not store.exists():
        return
    manifest = store.manifest()
    there = (len(manifest.get("design_points") or []), manifest.get("replicates"))
    if there != (points, seeds):
        p, k = there
        raise UserError(
            f"{shown_path(study)}: holds a robustness study of {p} points x {k} "
            f"seed{'s' if k != 1 else ''}, and this asks for {points} x {seeds}; "
            f"--robustness {p} --robustness-seeds {k} uses it, --force runs everything afresh, "
            "--out writes elsewhere")


def _print_comparison(analysis: Any) -> None:
    """The key outcomes, a small table each, so that they read at 80 columns: numbers never
    wrap, and a long scenario name folds instead of being cut."""
    import pandas as pd

    from sim.report.text import num as _num

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
    from sim.report.text import num as _num

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


@user_errors
def plot(
    results: Annotated[Path, typer.Argument(help="a results folder")],
    kind: Annotated[str, typer.Option(help="timeseries, differences, nations, cooperation, "
                                           "leverage, heatmap or channels")] = "timeseries",
    reference: Annotated[str | None, typer.Option(
        help="for differences, channels and heatmap (default: the one the last compare used)")] = None,
    outcome: Annotated[str, typer.Option(help="for heatmap: a column of the run table")] = "welfare_total_usd_bn",
    out: Annotated[Path | None, typer.Option(
        help="PNG file (default RESULTS/plots/KIND.png; the report's figures stay as compare "
             "drew them)")] = None,
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
    if out is not None:
        check_png_out(out, "--out")
    ResultStore(results).manifest()  # a results folder, before anything is written there
    with FolderLock(results) as lock:  # no batch may change what is being read
        data = Results(results)
        if reference is None and kind in ("differences", "channels", "heatmap"):
            chosen = analysis_files(data.folder).recorded("reference")  # the report's
            reference = chosen if chosen in data.scenarios else None
        elif reference is not None:
            reference = data.reference(reference)  # a name or a label
        vs = data.suffix(reference) if reference is not None else ""
        name = f"plots/{kind}{vs}.png"
        if out is None:
            analysis_files(data.folder).check([name])
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
    say_notes(lock.stale_note())
    say(f"wrote {out or data.folder / name}")


@user_errors
def brief(
    results: Annotated[Path, typer.Argument(
        help="the folder of a robust decision study (lunarsim explore robust)")] = Path(
            "results/coop_vs_compete-rdm"),
) -> None:
    """A two-page policy brief from a robust decision study: the recommendation per actor with
    its regret and satisficing numbers, where it fails, what would change it (brief.md and
    brief.html beside the study's runs)."""
    from sim.base.lock import FolderLock
    from sim.experiment import ResultStore
    from sim.experiment.store import analysis_files
    from sim.report.brief import FILES, make_brief

    ResultStore(results).manifest()  # a results folder, before anything is written there
    with FolderLock(results) as lock:
        analysis_files(results).check(FILES)
        made = make_brief(results)
        analysis_files(results).write({"brief.md": made.markdown.encode(),
                                       "brief.html": made.html.encode()})
    say_notes(lock.stale_note())
    say("brief:   ", (str(results / "brief.html"), "bold"), " (and brief.md)")
