"""Does the ranking hold if nations decide otherwise? The comparison under other strategy sets.

Which rule each nation follows is as uncertain as any parameter, and no range can hold it. The
main job runs its experiment again with every nation of every scenario following one rule of
:data:`sim.scenario.rules.SETS` (all forward-looking, all tit for tat, all myopic, none linking
the arenas), on the first seeds of the experiment (so the runs are paired with the main
comparison's and with each other). The report puts the ranking under each set beside the
ranking under the scenarios' own rules (:mod:`sim.report.rule_sets`).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd

from sim.analysis.outcomes import OUTCOMES
from sim.analysis.results import Results
from sim.analysis.stats import compare
from sim.experiment.spec import Experiment
from sim.explore.robustness import folder_for
from sim.scenario.rules import SETS, follow

SEEDS = 4


def folder(results_folder: Path, name: str) -> Path:
    return folder_for(results_folder, f"strategies-{name}")


def design(base: Experiment, name: str, seeds: int = SEEDS) -> Experiment:
    """The base experiment with every nation following strategy set ``name``, on its first
    ``seeds`` seeds."""
    words, _ = SETS[name]
    raws = copy.deepcopy(base.raw_scenarios)
    for raw in raws.values():
        follow(raw, name)
    spec = base.spec.model_copy(update={
        "name": f"{base.spec.name}-strategies-{name}",
        "replicates": min(seeds, base.spec.replicates),
        "description": f"{base.spec.name} with {words}"})
    return Experiment(spec, base.source, raws, base.scenario_files)


def ranking(results: Results, reference: str, resamples: int = 999) -> pd.DataFrame:
    """Per scenario: its mean paired difference from ``reference`` in total welfare with a 95 %
    interval (:func:`sim.analysis.stats.compare`), and its rank (1: highest total welfare, the
    reference included at 0)."""
    total = next(o for o in OUTCOMES if o.name == "welfare_total_usd_bn")
    paired = compare(results.runs, pd.DataFrame(), [total], reference, resamples=resamples)
    table = pd.concat([
        pd.DataFrame([{"scenario": reference, "mean": 0.0, "low": 0.0, "high": 0.0, "seeds": 0}]),
        pd.DataFrame({"scenario": paired["scenario"], "mean": paired["mean_difference"],
                      "low": paired["ci_low"], "high": paired["ci_high"],
                      "seeds": paired["pairs"]})], ignore_index=True)
    table["rank"] = table["mean"].rank(ascending=False, method="min").astype(int)
    return table
