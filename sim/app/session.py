"""What the interactive page holds, without the page: the scenarios chosen, the parameters
moved, and the models stepped side by side on one seed.

Kept free of Solara so that it is tested like the rest of the package (tests/test_app.py);
``sim.app.page`` only draws it.
"""

from __future__ import annotations

import copy
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.base.errors import UserError
from sim.base.shown import shown_path
from sim.experiment.run import RunResult, check_finite, result_of
from sim.model.model import LunarModel
from sim.scenario import Scenario, calibration
from sim.scenario.calibration import Parameter
from sim.scenario.loader import find_scenario, library, resolve_raw, validate

# The parameters shown first, the rest being one click away: the ones the mechanisms of
# docs/ODD.md turn on (value of the ice, what partners and rivals do to each other's output,
# incidents, trust, rare-earth controls, mistakes).
KEY = ("economics.propellant_value_usd_per_kg", "economics.synergy", "economics.interference",
       "economics.incident_rate_per_year", "trust.across_bloc",
       "trust.pair.United States.China", "market.control_severity", "strategy.tremble")
SLIDER_STEPS = 200  # positions on each slider, spread over the range (on a log scale if `log`)


def choices(extra: list[Path] | tuple[Path, ...] = ()) -> dict[str, Path]:
    """The scenarios the page offers: the library's, then the user's files by their path."""
    return dict(library()) | {str(path): path for path in extra}


def shown_choices(offered: list[str]) -> dict[str, str]:
    """Each choice as the page shows it: a library scenario by the label the report gives it,
    a user's file by its file name (its path as given where two files share a name)."""
    from sim.analysis.results import scenario_styles

    files = [c for c in offered if c.endswith(".toml")]
    names = [Path(c).name for c in files]
    styles = scenario_styles([c for c in offered if c not in files])
    shown = {c: styles[c][0] for c in offered if c not in files}
    for choice, name in zip(files, names, strict=True):
        clash = names.count(name) > 1 or name in shown.values()
        relative = shown_path(choice)  # the path as given if nothing shorter tells them apart
        shown[choice] = name if not clash else relative if relative != name else choice
    return shown


@dataclass(frozen=True)
class Control:
    """One slider: a ranged parameter from sim/scenario/calibration.toml and the value the scenario
    gives it (a multiplier of 1 for relative ones, which scale each scenario's own values)."""

    parameter: Parameter
    default: float

    @property
    def name(self) -> str:
        return self.parameter.name

    def position(self, value: float) -> float:
        """Where ``value`` lies on the slider, from 0 to 1 (log scale where the range is)."""
        low, high = self.parameter.range  # type: ignore[misc]
        if self.parameter.log:
            low, high, value = np.log(low), np.log(high), np.log(max(value, 1e-300))
        return float(np.clip((value - low) / (high - low), 0.0, 1.0))

    def value(self, position: float) -> float:
        """The value at a slider position, rounded to 3 significant figures (so that a user
        can type it into ``lunarsim run --set`` and get the same run)."""
        exact = float(self.parameter.scale(np.array(position)))
        return float(f"{exact:.3g}")

    def text(self, value: float) -> str:
        """The value as the slider's label shows it: with its unit where that is one (USD,
        tonnes, years), a multiplier for relative parameters, a bare number for shares."""
        unit = self.parameter.unit.split(" (")[0]
        if self.parameter.relative:
            return f"× {value:.3g}"
        if unit.startswith("USD") or unit in ("1/yr", "t/yr", "years"):
            return f"{value:,.3g} {unit}"
        return f"{value:.3g}"


def controls(raws: list[dict[str, Any]], specs: list[Scenario]) -> list[Control]:
    """A slider for every ranged parameter that acts in at least one of the scenarios, its
    default taken from the first it acts in, the key ones first."""
    found = []
    for p in calibration.ranged():
        acting = [(raw, spec) for raw, spec in zip(raws, specs, strict=True)
                  if p.apply(copy.deepcopy(raw), p.range[0])]  # type: ignore[index]
        if not acting:
            continue
        raw, spec = acting[0]
        default = 1.0 if p.relative else p.value_in(spec.model_dump(mode="json"))
        if default is None:
            default = p.value_in(raw)
        if default is None:
            default = p.schema_default()
        if default is None:
            continue
        found.append(Control(p, float(default)))
    return sorted(found, key=lambda c: (c.name not in KEY, KEY.index(c.name) if c.name in KEY else 0))


@dataclass
class Side:
    """One scenario as the page runs it: its model and the numbers to date."""

    source: Path
    model: LunarModel
    seed: int
    result: RunResult = field(init=False)

    def __post_init__(self) -> None:
        self.refresh()

    @property
    def name(self) -> str:
        return self.model.spec.name

    def refresh(self) -> None:
        self.result = result_of(self.model, self.seed)
        check_finite(self.result)


class Session:
    """The page's state: one or two scenarios on one seed, with the same parameters moved.

    ``Session(["baseline", "open_access"], seed=1, values={"economics.synergy": 0.3})``
    builds both models at step 0; ``step(k)`` advances both, never past their horizon.
    """

    def __init__(self, scenarios: list[str | Path], seed: int = 0,
                 values: dict[str, float] | None = None, extra: tuple[Path, ...] = ()) -> None:
        if not 1 <= len(scenarios) <= 2:
            raise UserError("choose one scenario, or two to compare")
        if seed < 0:
            raise UserError(f"seed {seed}: must be 0 or more")
        self.seed, self.values = int(seed), dict(values or {})
        offered = choices(extra)
        self.sources = [offered.get(str(s)) or find_scenario(s) for s in scenarios]
        raws = [resolve_raw(source) for source in self.sources]
        base_specs = [validate(raw, source) for raw, source in zip(raws, self.sources, strict=True)]
        self.controls = controls(raws, base_specs)
        known = {c.name for c in self.controls}
        unknown = sorted(set(self.values) - known)
        if unknown:
            raise UserError(f"{unknown[0]}: not a parameter of these scenarios")
        origins = {name: "the page's controls" for name in self.values}
        specs = base_specs if not self.values else [
            validate(calibration.with_values(raw, self.values), source, origins)
            for raw, source in zip(raws, self.sources, strict=True)]
        self.sides = [Side(source, LunarModel(spec, rng=self.seed), self.seed)
                      for source, spec in zip(self.sources, specs, strict=True)]

    @property
    def steps(self) -> int:
        return self.sides[0].model.steps

    @property
    def horizon(self) -> int:
        return max(side.model.horizon for side in self.sides)

    @property
    def done(self) -> bool:
        return all(side.model.steps >= side.model.horizon for side in self.sides)

    def step(self, count: int = 1) -> None:
        """Advance every scenario ``count`` steps (fewer at its horizon)."""
        for side in self.sides:
            model = side.model
            with np.errstate(all="ignore"):  # as in lunarsim run: check_finite reports it
                for _ in range(max(count, 0)):
                    if model.steps >= model.horizon:
                        break
                    model.step()
            side.refresh()

    def run(self) -> None:
        self.step(self.horizon)

    def command(self, side: int = 0) -> str | None:
        """The ``lunarsim run`` command that gives the numbers the page shows for a scenario at
        this step; None when a moved parameter has no one-field ``--set`` (a multiplier, a
        pair's trust, a parameter of every nation's strategy), and before the first step."""
        if not self.steps or any(not settable(calibration.get(name)) for name in self.values):
            return None
        source = self.sides[side].source
        name = source.stem if library().get(source.stem) == source else str(source)
        sets = "".join(f" --set {shlex.quote(f'{k}={v:g}')}" for k, v in sorted(self.values.items()))
        return f"lunarsim run {shlex.quote(name)} --seed {self.seed} --steps {self.steps}{sets}"


def settable(p: Parameter) -> bool:
    """Whether ``--set NAME=VALUE`` sets this parameter (a field of economics, market, trust)."""
    return p.kind in ("economics", "market") or (p.kind == "trust" and p.parts[1] != "pair")
