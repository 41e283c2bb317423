"""The main job's analysis: statistics, figures and report for a results folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis import figures as fig
from sim.analysis.decompose import decompose
from sim.analysis.outcomes import outcomes_for
from sim.analysis.results import Results
from sim.analysis.stats import compare, levels
from sim.base.arguments import whole_number
from sim.base.background import Background
from sim.base.errors import BadType, BadValue, UserError
from sim.experiment.store import analysis_files
from sim.explore import robustness
from sim.explore.game import StageGame
from sim.report import games as game_section
from sim.report import membership, rule_sets
from sim.report.render import Sure, render_reports


@dataclass(frozen=True)
class Analysis:
    results: Results
    reference: str
    comparison: pd.DataFrame
    levels: pd.DataFrame
    decomposition: pd.DataFrame
    figures: dict[str, Path]
    report_html: Path
    report_md: Path


def analyse(folder: Path, reference: str | None = None, resamples: int = 4999) -> Analysis:
    """Compare every scenario of a results folder with the reference; write ``comparison.csv``,
    ``levels.csv``, ``figures/*.png`` and ``report.html`` / ``report.md`` into the folder (each
    name suffixed ``-vs-REFERENCE`` for another reference than the experiment's own, so that
    the main analysis is never replaced).

    Everything is computed first; then the files are written only if each is absent or as
    lunarsim last wrote it (``analysis.json`` records them), so a file the user has edited or
    put there is never replaced, and a refusal leaves every file as it was.
    """
    if not isinstance(folder, str | Path):
        raise BadType(f"folder: expected a results folder's path, got {type(folder).__name__}")
    if reference is not None and not isinstance(reference, str):
        raise BadType(f"reference: expected a scenario's name, got {type(reference).__name__}")
    if reference is not None and not reference.strip():
        raise BadValue("reference: empty name")
    resamples = whole_number(resamples, "resamples", low=100, high=100_000)
    results = Results(folder)
    ref = results.reference(reference)
    if len(results.scenarios) < 2:
        raise UserError(f"{results.folder}: only {results.scenarios[0]!r} has finished runs; a "
                        "comparison needs two scenarios with runs")
    scenarios, seed, _ = game_section.section_scenarios(results)
    with Background(game_section.section_games, scenarios, seed, start=bool(scenarios)) as games:
        return _analyse(results, ref, resamples, games.result)


def _analyse(results: Results, ref: str, resamples: int,
             games: Callable[[], dict[str, list[StageGame]]]) -> Analysis:
    outcomes = outcomes_for(results.nations, results.holder)
    comparison = compare(results.runs, results.nations, outcomes, ref, resamples=resamples)
    level = levels(results.runs, results.nations, outcomes, resamples=resamples)

    decomposition = decompose(results.runs, ref, resamples=resamples)
    drawn = {"differences": lambda: fig.differences(results, ref),
             "nations": lambda: fig.nations(results)}
    if not decomposition.empty:
        drawn["channels"] = lambda: fig.channels(results, ref)
    if not results.series_model.empty:  # a batch run with --series none keeps no series
        drawn = {"timeseries": lambda: fig.timeseries(results)} | drawn
        if fig.rare_earths_differ(results):
            drawn["leverage"] = lambda: fig.leverage(results)
    if not results.pairs.empty:
        drawn["cooperation"] = lambda: fig.cooperation(results)
    if membership.chosen(results):
        drawn["membership"] = lambda: membership.figure(results)
    if len(fig.swept_numbers(results)) >= 2:
        drawn["heatmap"] = lambda: fig.heatmap(results, ref)
    pngs = {name: fig.png_bytes(draw()) for name, draw in drawn.items()}
    words, counts, drivers, headline = robustness.section(results.folder, results, ref,
                                                          comparison)
    game_words, games_table, game_figure = game_section.report_section(results, games())
    if game_figure is not None:
        pngs["games"] = fig.png_bytes(game_figure)
    rule_words, rules, link = rule_sets.section(results.folder, results, ref)
    sure = Sure(words, counts, drivers, game_words, games_table, headline, rule_words, rules,
                link)
    vs = results.suffix(ref)  # another reference than the experiment's: names of its own
    md, page = render_reports(results, comparison, level, pngs, ref, decomposition, sure,
                              membership.section(results), suffix=vs)
    files = {f"comparison{vs}.csv": comparison.to_csv(index=False).encode(),
             f"levels{vs}.csv": level.to_csv(index=False).encode(),
             f"decomposition{vs}.csv": decomposition.to_csv(index=False).encode(),
             **{f"figures/{name}{vs}.png": data for name, data in pngs.items()},
             f"report{vs}.md": md.encode(), f"report{vs}.html": page.encode()}
    analysis_files(results.folder).write(files, {} if vs else {"reference": ref})
    paths = {name: results.folder / "figures" / f"{name}{vs}.png" for name in pngs}
    return Analysis(results, ref, comparison, level, decomposition, paths,
                    results.folder / f"report{vs}.html", results.folder / f"report{vs}.md")
