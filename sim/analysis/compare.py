"""The main job's analysis: statistics, figures and report for a results folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis import figures as fig
from sim.analysis.outcomes import outcomes_for
from sim.analysis.report import write_reports
from sim.analysis.results import Results
from sim.analysis.stats import compare, levels
from sim.io import atomic_write_bytes


@dataclass(frozen=True)
class Analysis:
    results: Results
    reference: str
    comparison: pd.DataFrame
    levels: pd.DataFrame
    figures: dict[str, Path]
    report_html: Path
    report_md: Path


def analyse(folder: Path, reference: str | None = None, resamples: int = 4999) -> Analysis:
    """Compare every scenario of a results folder with the reference; write ``comparison.csv``,
    ``levels.csv``, ``figures/*.png`` and ``report.html`` / ``report.md`` into the folder."""
    results = Results(folder)
    ref = results.reference(reference)
    outcomes = outcomes_for(results.nations)
    comparison = compare(results.runs, results.nations, outcomes, ref, resamples=resamples)
    level = levels(results.runs, results.nations, outcomes, resamples=resamples)
    _write_csv(results.folder / "comparison.csv", comparison)
    _write_csv(results.folder / "levels.csv", level)

    drawn = {"timeseries": fig.timeseries(results), "differences": fig.differences(results, ref),
             "nations": fig.nations(results), "leverage": fig.leverage(results)}
    if not results.pairs.empty:
        drawn["cooperation"] = fig.cooperation(results)
    if len([p for p in results.parameters if p in results.runs.columns]) >= 2:
        drawn["heatmap"] = fig.heatmap(results)
    paths = {name: fig.save(figure, results.folder / "figures" / f"{name}.png")
             for name, figure in drawn.items()}
    html_path, md_path = write_reports(results, comparison, level, paths, ref)
    return Analysis(results, ref, comparison, level, paths, html_path, md_path)


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_bytes(path, frame.to_csv(index=False).encode())
