"""``lunarsim explore``: sensitivity analysis, the stage game and scenario discovery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sim.base.errors import UserError
from sim.cli.console import (
    HELP,
    check_backend,
    check_png_out,
    exit_if_failed,
    out_console,
    report_batch,
    results_target,
    say,
    say_notes,
    user_errors,
    with_progress,
)

# the options of a study that runs a design through the batch engine
DesignSeed = Annotated[int | None, typer.Option(
    min=0, help="design seed (default: the experiment's master seed)")]
Workers = Annotated[int | None, typer.Option(min=1, help="processes (default: all cores)")]
Backend = Annotated[str, typer.Option(help="serial, processes or dask")]
Scheduler = Annotated[str | None, typer.Option(help="join a Dask cluster: tcp://HOST:PORT")]
Resume = Annotated[bool, typer.Option(help="finish an interrupted study")]
Force = Annotated[bool, typer.Option(help="discard earlier results in the folder")]

app = typer.Typer(no_args_is_help=True, context_settings=HELP,
                  help="How sure are we? Sensitivity analysis, scenario discovery and the stage "
                       "game.")


@app.command("sensitivity", short_help="Which parameters the comparison depends on "
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
    seed: DesignSeed = None,
    workers: Workers = None,
    backend: Backend = "processes",
    scheduler: Scheduler = None,
    resume: Resume = False,
    force: Force = False,
    out: Annotated[Path | None, typer.Option(
        help="results folder (default results/EXPERIMENT-METHOD)")] = None,
) -> None:
    """Global sensitivity of each scenario's welfare, and of each paired difference from the
    reference, to the parameters' ranges (SALib: Morris screening, Sobol indices)."""
    from sim.explore.sensitivity import INTERVAL_NOTE, interval, ranking, run_study

    check_backend(backend)
    if method not in ("morris", "sobol"):
        raise UserError(f"--method: expected morris or sobol (got {method!r})")
    study = with_progress("runs", lambda progress: run_study(
        experiment, method=method, parameters=parameters, size=size, levels=levels,
        replicates=replicates, seed=seed, out=out, progress=progress, workers=workers,
        backend=backend, scheduler=scheduler, resume=resume, force=force))
    report_batch(study.outcome)
    if study.table is None:
        exit_if_failed(study.outcome.failed, study.folder)
        return
    by, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
    for output in dict.fromkeys(study.table.loc[study.table["headline"], "output"]):
        top = ranking(study.table, output, top=5)
        first = top.iloc[0]
        unit = first["unit"] if method == "morris" else "share of variance"
        table = Table(box=None, pad_edge=False)
        table.add_column("most influential parameters", overflow="fold")
        table.add_column("μ*" if method == "morris" else "ST", justify="right", no_wrap=True)
        table.add_column("95 % interval", justify="right", no_wrap=True)
        for row in top.itertuples():
            low, high = interval(getattr(row, by), getattr(row, conf), share=method == "sobol")
            table.add_row(Text(row.parameter_label), f"{getattr(row, by):.3g}",
                          f"[{low:.2g}, {high:.2g}]")
        out_console.print()
        out_console.print(Text(f"{first['label']} ({unit})"))  # as wide as it needs, not the table
        out_console.print(table)
        note = first.get("note")
        if isinstance(note, str) and note:  # e.g. equal base values at a small --size
            out_console.print(Text(f"note: {note}"))
    out_console.print(Text(INTERVAL_NOTE[method]))
    say(f"tables:  {study.folder / 'sensitivity.csv'}")
    say(f"figure:  {study.folder / 'figures' / 'sensitivity.png'}")


@app.command("robust", short_help="Which policy to choose when we do not know the world "
                                           "(robust decision making).")
@user_errors
def explore_robust(
    experiment: Annotated[str, typer.Argument(
        help="experiment file or name whose scenarios are the candidate policies")] = "coop_vs_compete",
    worlds: Annotated[int, typer.Option(
        min=2, help="worlds: a Latin hypercube over every uncertain parameter")] = 500,
    seeds: Annotated[int, typer.Option(min=1, help="seeded runs of each policy in each world")] = 1,
    sample_rules: Annotated[bool, typer.Option(
        "--sample-rules/--own-rules", help="also sample which rule the nations follow (their "
        "own, or all one strategy set), or keep each nation's own")] = True,
    threshold: Annotated[list[str] | None, typer.Option(
        help="an absolute satisficing threshold, ACTOR=USD bn (repeat; default: no worse off "
             "than under the reference policy in the same world)")] = None,
    search: Annotated[int, typer.Option(
        min=0, max=100_000, help="first search this many designs of --search-policy's levers "
             "(many-objective, EMA Workbench); its best design for each objective joins the "
             "candidates (0: no search)")] = 0,
    search_policy: Annotated[str, typer.Option(
        help="the scenario whose regime levers are searched")] = "multilateral_inclusive",
    search_worlds: Annotated[int, typer.Option(
        min=1, max=1000, help="worlds each searched design is run in")] = 4,
    search_keep: Annotated[int, typer.Option(
        min=0, max=1000, help="designs of the Pareto set that join the candidates: the best for "
             "each objective, then a spread of the rest (0: the whole set)")] = 4,
    seed: DesignSeed = None,
    workers: Workers = None,
    backend: Backend = "processes",
    scheduler: Scheduler = None,
    resume: Resume = False,
    force: Force = False,
    out: Annotated[Path | None, typer.Option(
        help="results folder (default results/EXPERIMENT-rdm; with --search, "
             "EXPERIMENT-search-rdm)")] = None,
) -> None:
    """Robust decision making: every policy (the experiment's scenarios) in many sampled worlds,
    ranked per actor by mean, 10th percentile, regret from the best policy in each world
    (maximum and 90th percentile) and satisficing (docs/robust.md)."""
    from sim.explore.rdm import check_actors, parse_thresholds, run_study
    from sim.explore.robust import METRICS, words

    check_backend(backend)
    thresholds = parse_thresholds(threshold)
    found = None
    if search:
        from sim.experiment import load_experiment
        from sim.explore.search import search_designs

        base = load_experiment(experiment)
        check_actors(base, thresholds)  # before the search's runs
        found = with_progress("designs", lambda progress: search_designs(
            base, search_policy, search_worlds, search, seed, progress, worlds, sample_rules))
        from sim.explore.search import convergence_words

        say(f"search: {len(found.pareto)} designs of {search_policy} on the Pareto set after "
            f"{search}; the best for each objective join the candidates"
            + (f", up to {search_keep} in all" if search_keep else ", then all the others")
            + f"; {convergence_words(found.convergence)}")
        experiment = base
    study = with_progress("runs", lambda progress: run_study(
        experiment, worlds=worlds, seeds=seeds, seed=seed, sample_rules=sample_rules,
        thresholds=thresholds, search=found, search_keep=search_keep, out=out,
        progress=progress, workers=workers, backend=backend, scheduler=scheduler, resume=resume,
        force=force))
    report_batch(study.outcome)
    if study.table is None:
        exit_if_failed(study.outcome.failed, study.folder)
        return
    long, results = study.table, study.results
    for label, rows in long.groupby("label", sort=False):
        first = rows.iloc[0]
        table = Table(box=None, pad_edge=False)
        table.add_column("policy", overflow="fold")
        shown = [m for m in (*METRICS, "gains")
                 if rows.loc[rows["metric"] == m, "value"].notna().any()]
        for metric in shown:
            table.add_column(_HEADS[metric], justify="right", no_wrap=True)
        for policy, part in rows.groupby("policy", sort=False):
            cells = []
            for metric in shown:
                row = part[part["metric"] == metric].iloc[0]
                cells.append(_robust_cell(row))
            table.add_row(Text(results.label(policy)), *cells)
        out_console.print()
        unit = "share of worlds" if first["unit"] == "share of worlds" else first["unit"]
        out_console.print(Text(f"{label} ({unit}; rank in brackets)"))
        out_console.print(table)
    out_console.print()
    out_console.print(Text(
        "P10: what a policy reaches in 90 % of worlds; regret: how far it falls short of the "
        "best policy in each world (maximum, 90th percentile); satisficing: the share of worlds "
        "meeting the threshold (default: no worse off than under the reference in the same "
        "world, which makes the reference the yardstick); gains: the share passing it. A "
        "difference smaller than a negligible one (0.1 USD bn of welfare) separates no ranks "
        "and counts as no worse off."))
    out_console.print()
    for sentence in words(long, results):
        out_console.print(Text(sentence), highlight=False)
    out_console.print()
    for sentence in study.vulnerabilities:
        out_console.print(Text(sentence), highlight=False)
    say(f"tables:  {study.folder / 'robust.csv'}, {study.folder / 'vulnerabilities.csv'} "
        f"(in words: {study.folder / 'robust.txt'})")
    say(f"figure:  {study.folder / 'figures' / 'robust.png'}")
    exit_if_failed(study.outcome.failed, study.folder)


_HEADS = {"mean": "mean", "p10": "P10", "regret_max": "max regret", "regret_p90": "P90 regret",
          "satisficing": "satisficing", "gains": "gains"}


def _robust_cell(row) -> str:
    import math

    if not math.isfinite(row["value"]):
        return "yardstick" if row["metric"] in ("satisficing", "gains") else "—"
    rank = "" if not math.isfinite(row["rank"]) else f" ({int(row['rank'])})"
    if row["metric"] in ("satisficing", "gains"):
        return f"{100 * row['value']:.0f} %{rank}"
    return f"{row['value']:.3g}{rank}"


@app.command("game", short_help="The US-China stage game at chosen years: class and "
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
        check_png_out(figure, "--figure")
    names = scenarios or load_experiment("coop_vs_compete").spec.scenarios
    a, b = pair if pair else (None, None)
    paths = {}
    shown = []  # every game first, so that a mistake in the last scenario prints nothing
    for name in names:
        scenario = load_scenario(name)
        start = scenario.time.start_year
        years = year or [round(start + k * scenario.time.horizon_years, 2) for k in (0.2, 0.6, 0.96)]
        try:
            shown.append((scenario, games_at(scenario, years, a, b, seed)))
        except UserError as err:  # a year of the option's
            said = str(err)
            raise UserError(f"--{said}" if said.startswith("year ") else said) from None
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


@app.command("discover", short_help="Where in parameter space a conclusion holds "
                                             "(PRIM, CART).")
@user_errors
def explore_discover(
    target: Annotated[str, typer.Argument(
        help="a results folder of an experiment with a sampled design, or the experiment's "
             "name (its folder results/NAME)")],
    where: Annotated[str, typer.Option(
        help=escape("the conclusion, e.g. \"best(welfare_total_usd_bn) == multilateral\" or "
                    "\"welfare[China][us_china_cooperation] > welfare[China][open_access]\""))],
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

    folder = results_target(target) or Path("results") / target
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
    say_notes(lock.stale_note())
    out_console.print(Text(found.summary()), highlight=False)
    say(f"tables:  {folder / 'discovery.csv'} (boxes), {folder / 'discovery.txt'} (with the tree)")
    say(f"figure:  {folder / 'figures' / 'discovery.png'}")


DISCOVERY_FILES = ["discovery.csv", "discovery.txt", "figures/discovery.png"]
