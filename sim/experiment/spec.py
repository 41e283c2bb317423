"""Experiment files: which scenarios to compare, how many seeded replicates, and a parameter
design, validated as strictly as scenario files.

```toml
name = "coop_vs_compete"
scenarios = ["open_access", "artemis_accords"]
replicates = 20
master_seed = 2026
reference = "open_access"              # what comparisons are made against

[sweep]                                # full factorial over listed values
"economics.synergy" = [0.05, 0.1, 0.2]

[sample]                               # a sampled design over ranges
method = "lhs"                         # or "sobol"
points = 16
ranges = { "economics.interference" = [0.0, 0.4] }
```

With both a sweep and a sample, every sweep point is crossed with every sampled point. Instead
of both, ``[[design]]`` may list the design points themselves (``lunarsim explore`` writes
experiments so). A parameter is a dotted path to a scenario field, or the name of a parameter of
``sim/scenario/calibration.toml`` (``strategy.forward_looking.discount_per_year``,
``nations.*.budget_usd_bn``), which sets every field it stands for, or ``rules.strategy_set``: a
whole number that makes every nation follow one strategy set (0 each its own rule; see
``sim/scenario/rules.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.base.columns import parameter_column
from sim.base.errors import UserError
from sim.scenario import calibration, rules
from sim.scenario.loader import (
    describe,
    find_scenario,
    is_file,
    read_toml,
    resolve_raw,
    set_path,
    validate,
)
from sim.scenario.schema import MAX_NAME_LENGTH, SAFE_NAME, Scenario

MAX_DESIGN_POINTS = 100_000
MAX_RUNS = 1_000_000  # a plan this long takes a few hundred MB; split larger studies


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class SampleSpec(_Strict):
    method: Literal["lhs", "sobol"] = "lhs"
    points: int = Field(..., ge=1, le=1_000_000, description="number of sampled design points")
    ranges: dict[str, tuple[float, float]] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _sobol_points(self) -> SampleSpec:
        if self.method == "sobol" and self.points & (self.points - 1):
            raise ValueError(f"sobol needs a power of 2 points (got {self.points})")
        return self

    @field_validator("ranges", mode="before")
    @classmethod
    def _pairs(cls, ranges: Any) -> Any:
        """TOML writes a range as an array ``[low, high]``."""
        if isinstance(ranges, dict):
            return {k: tuple(v) if isinstance(v, list) else v for k, v in ranges.items()}
        return ranges

    @field_validator("ranges")
    @classmethod
    def _ordered(cls, ranges: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for path, (lo, hi) in ranges.items():
            if not lo < hi:
                raise ValueError(f"{path}: the range must run from low to high (got [{lo}, {hi}])")
        return ranges


class ExperimentSpec(_Strict):
    name: str = Field(..., pattern=SAFE_NAME, max_length=MAX_NAME_LENGTH,
                      description="also the results folder's name (results/NAME)")
    description: str = ""
    scenarios: list[str] = Field(..., min_length=1)
    replicates: int = Field(10, ge=1, le=1_000_000, description="seeded runs per design point")
    master_seed: int = Field(0, ge=0, description="expands into one seed per replicate")
    reference: str | None = Field(None, description="scenario the others are compared with")
    horizon_years: float | None = Field(None, gt=0, le=200, description="overrides every scenario's")
    sweep: dict[str, list[Any]] = Field(default_factory=dict)
    sample: SampleSpec | None = None
    design: list[dict[str, float]] = Field(default_factory=list, max_length=MAX_DESIGN_POINTS,
                                           description="the design points themselves")

    @field_validator("design")
    @classmethod
    def _same_parameters(cls, design: list[dict[str, float]]) -> list[dict[str, float]]:
        if design and any(point.keys() != design[0].keys() for point in design):
            raise ValueError("every design point must set the same parameters")
        return design

    @field_validator("sweep")
    @classmethod
    def _non_empty(cls, sweep: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, values in sweep.items():
            if not values:
                raise ValueError(f"{path}: empty list of values")
            seen = [json.dumps(v, sort_keys=True, default=str) for v in values]
            if len(set(seen)) < len(seen):
                raise ValueError(f"{path}: a value is listed twice (each would be run twice)")
        return sweep

    @field_validator("scenarios")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("a scenario is listed twice")
        return names

    @model_validator(mode="after")
    def _reference_listed(self) -> ExperimentSpec:
        if self.reference is not None and self.reference not in self.scenarios:
            raise ValueError(f"reference {self.reference!r} is not one of the scenarios")
        both = sorted(set(self.sample.ranges) & set(self.sweep)) if self.sample else []
        if both:
            raise ValueError(f"{', '.join(both)}: both swept and sampled; choose one")
        if self.design and (self.sweep or self.sample):
            raise ValueError("design lists its points: it takes no sweep or sample")
        columns = [parameter_column(p) for p in self.parameters]
        clash = sorted({c for c in columns if columns.count(c) > 1})
        if clash:
            raise ValueError(f"parameters {', '.join(clash)}: two paths name one column")
        points = len(self.design) or math.prod(len(v) for v in self.sweep.values()) * (
            self.sample.points if self.sample else 1)
        runs = points * len(self.scenarios) * self.replicates
        if points > MAX_DESIGN_POINTS or runs > MAX_RUNS:
            raise ValueError(f"the design has {points:,} points and {runs:,} runs; at most "
                             f"{MAX_DESIGN_POINTS:,} points and {MAX_RUNS:,} runs (split the "
                             "study into several experiments)")
        return self

    @property
    def parameters(self) -> list[str]:
        return [*self.sweep, *(self.sample.ranges if self.sample else {}),
                *(self.design[0] if self.design else {})]


def _tree_copy(raw: Any) -> Any:
    """A copy of a scenario's raw table (TOML's dicts and lists of immutable values) that may
    be changed without changing ``raw``: ``copy.deepcopy`` gives the same, about three times
    slower (a study builds each of its runs' scenarios twice, 100,000 of them in a Sobol one)."""
    if isinstance(raw, dict):
        return {key: _tree_copy(value) for key, value in raw.items()}
    if isinstance(raw, list):
        return [_tree_copy(value) for value in raw]
    return raw


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: its spec, its source file and each scenario's raw table."""

    spec: ExperimentSpec
    source: Path | None
    raw_scenarios: dict[str, dict[str, Any]]
    scenario_files: dict[str, Path]

    def scenario(self, name: str, point: dict[str, Any]) -> Scenario:
        """The scenario ``name`` at a design point (``{dotted path: value}``), validated."""
        raw = _tree_copy(self.raw_scenarios[name])
        origins = {}
        if self.spec.horizon_years is not None:
            set_path(raw, "time.horizon_years", self.spec.horizon_years, f"{self.label}: horizon_years")
            origins["time.horizon_years"] = f"{self.label}: horizon_years"
        for path, value in point.items():
            parameter = calibration.find(path)
            if path == rules.PARAMETER:  # which rule every nation follows
                rules.apply_code(raw, value, f"{self.label}: {_section(self.spec, path)}.{path}")
            elif parameter is None:
                set_path(raw, path, value, f"{self.label}: {path}")
            else:  # may act on nothing here (a strategy nobody plays, another regime)
                parameter.apply(raw, value)
            origins[path] = f"{self.label}: {_section(self.spec, path)}.{path}"
        return validate(raw, self.scenario_files[name], origins)

    @property
    def label(self) -> str:
        return str(self.source) if self.source else self.spec.name

    def with_design(self, name: str, points: list[dict[str, Any]], replicates: int,
                    description: str) -> Experiment:
        """This experiment's scenarios, seeds and horizon at the given design points, as an
        experiment of its own (what ``lunarsim explore`` and the robustness study run)."""
        spec = self.spec.model_dump() | {
            "name": name, "replicates": replicates, "sweep": {}, "sample": None,
            "design": points, "description": description}
        return Experiment(ExperimentSpec.model_validate(spec), self.source, self.raw_scenarios,
                          self.scenario_files)

    def content_hash(self, **extra: Any) -> str:
        """SHA-256 of the experiment, every scenario it uses and ``extra`` settings that change
        what is stored: equal content, equal hash."""
        payload = {"spec": self.spec.model_dump(mode="json"), "scenarios": self.raw_scenarios,
                   "extra": extra}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _section(spec: ExperimentSpec, path: str) -> str:
    return "sweep" if path in spec.sweep else "design" if spec.design else "sample.ranges"


def load_experiment(ref: str | Path, replicates: int | None = None) -> Experiment:
    """Read and validate an experiment file (a path, or a name in ``scenarios/experiments``).

    Every scenario must exist and every parameter path must name a field each scenario accepts,
    checked by setting it to each listed value (a sweep) or to the ends of its range (a sample).
    """
    path = find_experiment(ref)
    raw = read_toml(path)
    raw.setdefault("name", path.stem)
    if replicates is not None:
        raw["replicates"] = replicates
    try:
        spec = ExperimentSpec.model_validate(raw)
    except ValidationError as err:
        where, msg = describe(err, raw)
        origin = "--replicates" if replicates is not None and where == "replicates" else path
        raise UserError(f"{origin}: {where}: {msg}" if where else f"{origin}: {msg}") from None
    files, tables = {}, {}
    for k, name in enumerate(spec.scenarios):
        try:
            files[name] = find_scenario(name, base_dir=path.parent)
        except UserError:
            raise UserError(f"{path}: scenarios.{k}: unknown scenario {name!r}") from None
        tables[name] = resolve_raw(files[name])
    experiment = Experiment(spec, path, tables, files)
    for name in spec.scenarios:
        for probe in _probes(spec):
            experiment.scenario(name, probe)
    return experiment


def _probes(spec: ExperimentSpec) -> list[dict[str, Any]]:
    """Design points that exercise every listed value and both ends of every range."""
    probes: list[dict[str, Any]] = [{}]
    for path, values in spec.sweep.items():
        probes += [{path: v} for v in values]
    if spec.sample:
        for path, (lo, hi) in spec.sample.ranges.items():
            probes += [{path: lo}, {path: hi}]
    for path in spec.design[0] if spec.design else ():
        values = [point[path] for point in spec.design]
        probes += [{path: min(values)}, {path: max(values)}]
    return probes


def experiments_dir() -> Path:
    from sim.scenario.loader import library_dir

    return library_dir() / "experiments"


def find_experiment(ref: str | Path) -> Path:
    ref = str(ref)
    if ref.endswith(".toml") or "/" in ref:
        path = Path(ref)
        if not is_file(path):
            raise UserError(f"{path}: no such experiment file")
        return path
    candidate = experiments_dir() / f"{ref}.toml"
    if is_file(candidate):
        return candidate
    known = ", ".join(p.stem for p in sorted(experiments_dir().glob("*.toml"))) or "none"
    raise UserError(f"{ref}: no experiment file or library experiment of that name (library: {known})")
