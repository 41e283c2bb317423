"""From an experiment to a list of runs: design points, seeds, and the order of runs.

Seeds: the master seed's ``SeedSequence`` spawns two children, one for the replicates and one
for sampling the design. The replicate child spawns one seed per replicate, all drawn before any
work is handed out. Replicate k uses the same seed in every scenario and design point (common
random numbers), so comparisons between them are paired; adding replicates keeps the first ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.experiment.spec import ExperimentSpec


@dataclass(frozen=True)
class RunTask:
    """One run: which scenario at which design point, which replicate, which seed."""

    run: int
    scenario: str
    point: int
    replicate: int
    seed: int


def replicate_seeds(master_seed: int, replicates: int) -> list[int]:
    """One 63-bit seed per replicate, from the master seed."""
    replicate_root, _ = np.random.SeedSequence(master_seed).spawn(2)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
            for child in replicate_root.spawn(replicates)]


def design_points(spec: ExperimentSpec) -> list[dict[str, Any]]:
    """Every design point as ``{dotted path: value}``; one empty point if there is no design."""
    if spec.design:
        return [dict(point) for point in spec.design]
    swept = [dict(zip(spec.sweep, values, strict=True))
             for values in itertools.product(*spec.sweep.values())] if spec.sweep else [{}]
    sampled = _sample(spec) if spec.sample else [{}]
    return [a | b for a in swept for b in sampled]


def _sample(spec: ExperimentSpec) -> list[dict[str, Any]]:
    from scipy.stats import qmc  # only the parent samples a design; workers need not import SciPy

    sample = spec.sample
    assert sample is not None
    _, design_root = np.random.SeedSequence(spec.master_seed).spawn(2)
    rng = np.random.default_rng(design_root)
    d = len(sample.ranges)
    engine = _engine(qmc.Sobol if sample.method == "sobol" else qmc.LatinHypercube, d, rng)
    unit = engine.random(sample.points)
    lows, highs = zip(*sample.ranges.values(), strict=True)
    scaled = qmc.scale(unit, lows, highs)
    return [{path: float(row[k]) for k, path in enumerate(sample.ranges)} for row in scaled]


def _engine(cls: type, d: int, rng: np.random.Generator):  # -> scipy.stats.qmc.QMCEngine
    try:  # SciPy >= 1.15 takes rng=
        return cls(d, rng=rng)
    except TypeError:
        return cls(d, seed=rng)


def plan(spec: ExperimentSpec, points: list[dict[str, Any]]) -> list[RunTask]:
    """All runs, numbered in a fixed order: scenario, then design point, then replicate."""
    seeds = replicate_seeds(spec.master_seed, spec.replicates)
    tasks = []
    for scenario, point, replicate in itertools.product(
        spec.scenarios, range(len(points)), range(spec.replicates)
    ):
        tasks.append(RunTask(len(tasks), scenario, point, replicate, seeds[replicate]))
    return tasks
