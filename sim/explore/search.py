"""Search for better designs of a regime: a many-objective evolutionary search over its levers.

The candidates of a robust decision study (:mod:`sim.explore.robust`) are the library's
arrangements as their files design them. Are there better designs? The search varies the
levers of one arrangement (by default the multilateral regime with the US and China in: its
seven ranged parameters of ``sim/scenario/calibration.toml``, ``regime.multilateral.*``: benefit
share, fine multiple, monitoring cost, escalation, liability share, entry fee, notice) and keeps
the designs no other design beats on every objective (the Pareto set), with the EMA Workbench's
``optimize`` and platypus's ε-NSGA-II (Deb et al. 2002; Kollat & Reed 2006; Kwakkel 2017).

Objectives, each over a small sample of worlds of the study's design (robust optimisation:
Hamarat et al. 2014; the worlds are the first points of a Latin hypercube over the
uncertainties, on the experiment's first seed): the mean welfare of the US, of China and of the
other nations together (higher is better), and the mean number of incidents (lower). The
ε-progress of the archive (how often the search still finds a design that is better by more
than the ε grid) is its convergence record (Hadka & Reed 2013).

Platypus draws from Python's ``random`` module. So that no randomness is shared with anything
else, and the same seed gives the same search, :func:`own_random` gives the search a generator
of its own, seeded from the study's seed, for its duration: the global one is never touched
(tested).
"""

from __future__ import annotations

import io
import random
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.base.errors import RunFailed, UserError

POLICY = "multilateral_inclusive"
NFE = 400  # designs evaluated
WORLDS = 6  # worlds each design is evaluated in
OBJECTIVES = {  # name -> (in words, maximise?)
    "welfare_us": ("the US's mean welfare", True),
    "welfare_china": ("China's mean welfare", True),
    "welfare_others": ("the other nations' mean welfare", True),
    "incidents": ("mean incidents", False),
}
# the grid the archive keeps one design per box of: 50 million USD and a tenth of an incident,
# finer than the differences the levers make (measured: a grid of 0.5 USD bn kept one design)
EPSILONS = {"welfare_us": 0.05, "welfare_china": 0.05, "welfare_others": 0.05, "incidents": 0.1}


@contextmanager
def own_random(seed: int) -> Iterator[random.Random]:
    """Platypus and the EMA Workbench's optimisation draw from a ``random.Random(seed)`` of their
    own while the block runs, instead of the interpreter's global generator."""
    import ema_workbench.em_framework.optimization  # noqa: F401  (their modules, loaded)

    rng = random.Random(seed)
    swapped = [module for name, module in list(sys.modules.items())
               if name.split(".")[0] in ("platypus", "ema_workbench")
               and getattr(module, "random", None) is random]
    for module in swapped:
        module.random = rng
    try:
        yield rng
    finally:
        for module in swapped:
            module.random = random


SEARCH_FILES = ["search.csv", "search_convergence.csv", "figures/search.png"]


@dataclass(frozen=True)
class Search:
    pareto: pd.DataFrame  # one row per design: the levers, then the objectives
    convergence: pd.DataFrame  # nfe, epsilon_progress
    levers: list[str]
    objectives: list[str]
    policy: str = ""  # the scenario whose levers were searched
    settings: dict = field(default_factory=dict)  # what the search was asked


def optimise(function: Callable[..., dict[str, float]], levers: dict[str, tuple[float, float]],
             objectives: dict[str, bool], epsilons: list[float], nfe: int, seed: int) -> Search:
    """The Pareto set of ``function`` (levers as keyword arguments -> {objective: value}) over
    the ``levers``' ranges: ``objectives`` maps each to True where higher is better."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import ema_workbench as ema
            from ema_workbench.em_framework.optimization import EpsilonProgress
        except ImportError:
            raise UserError("the search needs the EMA Workbench: pip install -e \".[explore]\" "
                            "in the lunarsim folder") from None
    population = max(8, min(100, nfe // 10))
    model = ema.Model("search", function=function)
    model.levers = [ema.RealParameter(name, low, high) for name, (low, high) in levers.items()]
    model.outcomes = [ema.ScalarOutcome(name, kind=ema.ScalarOutcome.MAXIMIZE if up
                                        else ema.ScalarOutcome.MINIMIZE)
                      for name, up in objectives.items()]
    with own_random(seed), warnings.catch_warnings(), redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")  # (and the workbench's own progress bar is not shown)
        with ema.SequentialEvaluator(model) as evaluator:
            found, convergence = evaluator.optimize(  # a generation per tenth of the budget
                nfe=nfe, searchover="levers", epsilons=epsilons, population_size=population,
                convergence=[EpsilonProgress()], convergence_freq=max(1, nfe // 20))
    columns = [*levers, *objectives]
    pareto = found[columns].sort_values(list(objectives)[0]).reset_index(drop=True)
    return Search(pareto, convergence.reset_index(drop=True), list(levers), list(objectives))


def regime_levers() -> dict[str, tuple[float, float]]:
    """The multilateral regime's ranged parameters: the levers the search varies."""
    from sim.scenario import calibration

    return {p.name: p.range for p in calibration.ranged() if p.kind == "regime"}


def search_designs(base: Any, policy: str = POLICY, worlds: int = WORLDS, nfe: int = NFE,
                   seed: int | None = None, progress: Any = None, study_worlds: int = 500,
                   sample_rules: bool = True) -> Search:
    """The Pareto set of designs of ``policy`` (a scenario of the experiment ``base``) over the
    regime's levers, each evaluated in the first ``worlds`` worlds of the robust study's design
    (``study_worlds`` worlds, ``sample_rules``, ``seed``) on the experiment's first seed."""
    from sim.experiment.design import replicate_seeds
    from sim.experiment.run import run_scenario
    from sim.explore.robust import design

    if policy not in base.spec.scenarios:
        raise UserError(f"--search-policy: {policy!r} is not a scenario of {base.label} "
                        f"(scenarios: {', '.join(base.spec.scenarios)})")
    regime = base.scenario(policy, {}).regime.name
    if regime != "multilateral":
        raise UserError(f"--search-policy: {policy}'s regime is {regime}; the search varies the "
                        "multilateral regime's levers (regime.multilateral.*)")
    seed = base.spec.master_seed if seed is None else seed
    points = design(base, max(study_worlds, 2), 1, seed, sample_rules).spec.design[:worlds]
    run_seed = replicate_seeds(base.spec.master_seed, 1)[0]

    done = [0]

    def evaluate(**levers: float) -> dict[str, float]:
        done[0] += 1
        if progress is not None:  # (a search ends on a whole generation: it may pass nfe)
            progress(done[0], max(nfe, done[0]))
        try:
            return objectives(levers)
        except RunFailed:  # (its numbers overflowed): dominated by every design that runs
            return {name: (-1e12 if up else 1e12) for name, (_, up) in OBJECTIVES.items()}

    def objectives(levers: dict[str, float]) -> dict[str, float]:
        totals: dict[str, list[float]] = {name: [] for name in OBJECTIVES}
        for point in points:
            result = run_scenario(base.scenario(policy, point | levers), seed=run_seed)
            welfare = dict(zip(result.nation_summary["nation"],
                               result.nation_summary["welfare_usd_bn"], strict=True))
            us, china = welfare.get("United States", np.nan), welfare.get("China", np.nan)
            totals["welfare_us"].append(us)
            totals["welfare_china"].append(china)
            totals["welfare_others"].append(sum(welfare.values()) - us - china)
            totals["incidents"].append(float(result.overall["incidents"]))
        return {name: float(np.mean(values)) for name, values in totals.items()}

    found = optimise(evaluate, regime_levers(), {k: up for k, (_, up) in OBJECTIVES.items()},
                     [EPSILONS[k] for k in OBJECTIVES], nfe, seed)
    return replace(found, policy=policy, settings={"policy": policy, "worlds": worlds,
                                                   "nfe": nfe, "seed": seed})


def chosen(search: Search, keep: int = 4) -> dict[str, dict[str, float]]:
    """The Pareto designs that join a robust study's candidates: first the best for each
    objective (its extreme on the Pareto set), named by it (a design best for two is listed
    once); then, up to ``keep`` designs (0: the whole Pareto set), the design farthest from
    those already chosen in the objectives (each scaled to its range on the set), named
    ``pareto1``, ``pareto2``, ...: a spread of the set's trade-offs."""
    pareto = search.pareto.reset_index(drop=True)
    if pareto.empty:
        return {}
    keep = len(pareto) if keep <= 0 else keep
    rows: dict[str, int] = {}
    for objective, (_, up) in OBJECTIVES.items():  # (an objective the set ties on: none)
        if objective in pareto.columns and len(rows) < keep and np.ptp(pareto[objective]) > 0:
            at = int(pareto[objective].idxmax() if up else pareto[objective].idxmin())
            if at not in rows.values():
                rows[objective.removeprefix("welfare_")] = at
    if not rows:  # the set ties on every objective: any of its designs stands for it
        rows["pareto1"] = 0
    scores = pareto[[o for o in OBJECTIVES if o in pareto.columns]].to_numpy(dtype=float)
    span = np.ptp(scores, axis=0)
    scaled = (scores - scores.min(axis=0)) / np.where(span > 0, span, 1.0)
    while len(rows) < min(keep, len(pareto)):
        taken = list(rows.values())
        gap = np.min(np.linalg.norm(scaled[:, None, :] - scaled[None, taken, :], axis=2), axis=1)
        gap[taken] = -1.0
        rows[f"pareto{len(rows) + 1}"] = int(np.argmax(gap))
    return {name: {k: float(pareto.at[at, k]) for k in search.levers}
            for name, at in rows.items()}


def with_designs(base: Any, policy: str, designs: dict[str, dict[str, float]]) -> Any:
    """The experiment ``base`` with each design of ``policy`` as a scenario of its own
    (``POLICY_best_for_X``), named ``NAME-search``."""
    import copy

    from sim.experiment.spec import Experiment
    from sim.scenario import calibration

    raws, files, names = dict(base.raw_scenarios), dict(base.scenario_files), []
    for key, levers in designs.items():
        name = f"{policy}_best_for_{key}"
        raws[name] = calibration.with_values(copy.deepcopy(base.raw_scenarios[policy]), levers)
        raws[name]["name"] = name
        files[name] = base.scenario_files[policy]
        names.append(name)
    spec = base.spec.model_copy(update={
        "name": f"{base.spec.name}-search", "scenarios": [*base.spec.scenarios, *names],
        "description": f"{base.spec.name} and designs of {policy} found by search"})
    return Experiment(spec, base.source, raws, files)


def convergence_words(convergence: pd.DataFrame) -> str:
    """Whether the search had settled: how much its ε-progress rose over the last fifth of the
    designs it evaluated."""
    if convergence.empty or len(convergence) < 3:
        return "its convergence was not recorded"
    nfe = convergence["nfe"].to_numpy()
    progress = convergence["epsilon_progress"].to_numpy()
    since = progress[nfe <= 0.8 * nfe[-1]][-1]  # the record before the last fifth began
    rise = int(progress[-1] - since)
    if rise == 0:
        return (f"it had settled: no better design was kept over the last fifth of the {nfe[-1]} "
                "designs evaluated")
    return (f"it had not settled: {rise} better design(s) were kept over the last fifth of the "
            f"{nfe[-1]} designs evaluated, so a longer search (--search) may find better ones")


def convergence_figure(search: Search):  # -> matplotlib Figure
    """The search's ε-progress against the designs evaluated: flat when it has converged."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.base.style import STYLE

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6, 3.2), constrained_layout=True)
        ax.plot(search.convergence["nfe"], search.convergence["epsilon_progress"], marker="o",
                ms=3)
        ax.set_xlabel("designs evaluated")
        ax.set_ylabel("ε-progress (improvements kept)")
        ax.set_title(f"Search convergence: {len(search.pareto)} designs on the Pareto set",
                     fontsize=10)
    return fig
