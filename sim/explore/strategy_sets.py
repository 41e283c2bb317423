"""Does the ranking hold if nations decide otherwise? The comparison under other strategy sets.

Which rule each nation follows is as uncertain as any parameter, and no range can hold it. The
main job runs its experiment again with every nation of every scenario following one rule:

* ``forward_looking``: weighs plans over a shadow of the future (the US's and China's rule in
  the baseline, for everyone);
* ``tit_for_tat``: reciprocity without looking ahead (Axelrod 1984);
* ``myopic``: the forward-looking rule with no weight on the future (δ = 0): a best response
  to this step, against what it believes of each rival;
* ``unlinked``: every nation keeps its own rule, but none links the lunar and rare-earth
  arenas (China does at the defaults: docs/ODD.md, section 7.6);

each nation keeping its tremble and (but in ``unlinked``) whether it links the arenas, on the
first seeds of the experiment (so the runs are paired with the main comparison's and with each
other). The report puts the ranking under each set beside the ranking under the scenarios' own
rules (:mod:`sim.report.rule_sets`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.outcomes import OUTCOMES
from sim.analysis.results import Results
from sim.analysis.stats import compare
from sim.experiment.spec import Experiment
from sim.explore.robustness import folder_for

SEEDS = 4
# name -> (in words, the rule everyone follows; None: each its own, none linking the arenas)
SETS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "forward_looking": ("all forward-looking", {"name": "forward_looking"}),
    "tit_for_tat": ("all tit for tat", {"name": "tit_for_tat"}),
    "myopic": ("all myopic", {"name": "forward_looking", "discount_per_year": 0.0}),
    "unlinked": ("none linking the arenas", None),
}


def folder(results_folder: Path, name: str) -> Path:
    return folder_for(results_folder, f"strategies-{name}")


def design(base: Experiment, name: str, seeds: int = SEEDS) -> Experiment:
    """The base experiment with every nation following strategy set ``name``, on its first
    ``seeds`` seeds."""
    words, rule = SETS[name]
    raws = copy.deepcopy(base.raw_scenarios)
    for raw in raws.values():
        for nation in raw.get("nations", []):
            old = nation.get("strategy")
            old = dict(old) if isinstance(old, dict) else {} if old is None else {"name": old}
            if rule is None:
                if old:
                    nation["strategy"] = old | {"linked": False}
                continue
            kept = {k: old[k] for k in ("tremble", "linked") if k in old}
            nation["strategy"] = dict(rule) | kept
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
