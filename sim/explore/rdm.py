"""A robust decision study, end to end: the design of worlds (:func:`sim.explore.robust.design`),
its runs through the batch engine, the robustness metrics (:mod:`sim.explore.robust`) and where
the most robust policies fail (:mod:`sim.explore.vulnerabilities`), written beside the runs.
``lunarsim explore robust`` calls :func:`run_study`; docs/robust.md describes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.analysis.results import Results
from sim.base.errors import UserError
from sim.experiment.spec import Experiment
from sim.explore.robust import (
    WORLD,
    WORLDS,
    actors,
    analyse,
    check_thresholds,
    design,
    figure,
    performance,
    uncertainties,
    words,
)
from sim.explore.vulnerabilities import vulnerabilities
from sim.scenario import rules

FILES = ["robust.csv", "vulnerabilities.csv", "robust.txt", "figures/robust.png"]  # written


@dataclass(frozen=True)
class Study:
    folder: Any  # Path
    outcome: Any  # sim.experiment.BatchOutcome
    table: pd.DataFrame | None  # None until every run is done
    results: Results | None
    vulnerabilities: tuple[str, ...] = ()  # where the most robust policies fail, in words


def parse_thresholds(given: list[str] | None) -> dict[str, float]:
    """``--threshold "United States=-2.5"`` options as {actor: value}."""
    import math

    out: dict[str, float] = {}
    for text in given or []:
        actor, sep, value = text.rpartition("=")
        actor = actor.strip()
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not actor or not math.isfinite(number):
            raise UserError(f"--threshold {text!r}: expected ACTOR=NUMBER, e.g. "
                            "\"United States=-2.5\" (USD bn, a finite number)")
        out[actor] = number
    return out


def check_actors(base: Experiment, thresholds: dict[str, float] | None) -> None:
    """Refuse, before any run, a threshold for an actor the experiment does not have."""
    if thresholds:
        reference = base.spec.reference or base.spec.scenarios[0]
        nations = base.scenario(reference, {}).nations
        frame = pd.DataFrame({"nation": [n.name for n in nations],
                              "bloc": [n.bloc for n in nations], "scenario": reference})
        check_thresholds(thresholds, [*actors(frame, reference), WORLD], base.label)


def run_study(experiment: Any, *, worlds: int = WORLDS, seeds: int = 1, seed: int | None = None,
              sample_rules: bool = True, thresholds: dict[str, float] | None = None,
              search: Any = None, search_keep: int = 4, out: Any = None,
              progress: Any = None, **batch: Any) -> Study:
    """Design, run (through the batch engine) and analyse a robust decision study of an
    experiment's policies; writes ``robust.csv``, ``vulnerabilities.csv``, ``robust.txt`` and
    ``figures/robust.png`` into its folder. With ``search`` (a
    :class:`sim.explore.search.Search` over one policy's levers), its best design for each
    objective joins the candidates, and its Pareto set and convergence are written too.
    ``batch`` passes on to :func:`sim.experiment.run_experiment`."""
    from pathlib import Path

    from sim.analysis.figures import png_bytes
    from sim.base.lock import FolderLock
    from sim.experiment import load_experiment, run_experiment
    from sim.experiment.store import analysis_files

    base = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    files = list(FILES)
    if search is not None:
        from sim.explore.search import SEARCH_FILES, chosen, with_designs

        base = with_designs(base, search.policy, chosen(search, search_keep))
        files += SEARCH_FILES
    plan = design(base, worlds, seeds, seed, sample_rules)
    check_actors(base, thresholds)
    folder = Path(out) if out is not None else Path("results") / plan.spec.name
    if folder.is_dir():  # what it may not write is refused before any run, not after them
        analysis_files(folder).check(files)
    outcome = run_experiment(plan, out=out, series="none", progress=progress, **batch)
    if not outcome.complete:
        return Study(outcome.folder, outcome, None, None)
    with FolderLock(outcome.folder):
        results = Results(outcome.folder)
        long = analyse(results, thresholds)
        table, measures = performance(results)
        try:
            weak, boxes = vulnerabilities(results, long, thresholds)  # needs PRIM
        except UserError as err:  # the EMA Workbench (PRIM) is an optional extra
            weak, boxes = [f"Where the most robust policies fail is not described: {err}."], \
                pd.DataFrame()
        text = "\n".join([*words(long, results), "", *weak]) + "\n"
        written = dict(zip(FILES, (long.to_csv(index=False).encode(),
                                   boxes.to_csv(index=False).encode(), text.encode(),
                                   png_bytes(figure(results, table, measures))), strict=True))
        record: dict[str, Any] = {"robust": {
            "worlds": worlds, "seeds": seeds, "thresholds": thresholds or {},
            "uncertainties": [p.name for p in uncertainties()]
            + ([rules.PARAMETER] if sample_rules else []),
            "strategy_set_codes": list(rules.CODES)}}
        if search is not None:
            from sim.explore.search import convergence_figure

            written |= dict(zip(SEARCH_FILES, (
                search.pareto.to_csv(index=False).encode(),
                search.convergence.to_csv(index=False).encode(),
                png_bytes(convergence_figure(search))), strict=True))
            record["search"] = search.settings | {"keep": search_keep}
        analysis_files(outcome.folder).write(written, record)
    return Study(outcome.folder, outcome, long, results, tuple(weak))
