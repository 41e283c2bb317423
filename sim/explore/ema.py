"""lunarsim as an EMA Workbench model, for exploratory modelling in the workbench's own terms.

```python
from ema_workbench import perform_experiments
from sim.explore.ema import ema_model
model = ema_model(steps=40)
experiments, outcomes = perform_experiments(model, scenarios=50, policies=6)
```

- **Uncertainties**: every parameter of ``sim/scenario/calibration.toml`` with a range, except the
  regimes' own (which are levers), named as there (``economics.synergy``,
  ``nations.*.budget_usd_bn``). The workbench samples each range linearly, also those that
  ``lunarsim explore`` samples on a log scale.
- **Levers**: the rule set (``rule_set``: a scenario of the comparison, by default those of
  ``coop_vs_compete``) and the multilateral regime's parameters (acting where that is the
  regime).
- **Outcomes**: the run's total welfare, the US's and China's, incidents, the cooperation rate,
  China's rare-earth leverage at the end and best-site depletion, as ``lunarsim`` reports them.

Each experiment is one run on ``seed`` (common to all, so that experiments are paired); the
EMA Workbench is an optional extra (``pip install -e ".[explore]"``).
"""

from __future__ import annotations

import warnings
from typing import Any

from sim.base.arguments import whole_number
from sim.base.errors import BadType, BadValue, UserError
from sim.scenario import calibration

OUTCOMES = ("welfare_total_usd_bn", "welfare_usd_bn: United States", "welfare_usd_bn: China",
            "incidents", "cooperation_rate", "leverage_index", "best_site_depletion")


def outcomes(rule_set: str, values: dict[str, float], seed: int,
             steps: int | None = None) -> dict[str, float]:
    """One experiment: the scenario ``rule_set`` with ``values`` set, run on ``seed``."""
    from sim.experiment.run import run_scenario
    from sim.scenario.loader import find_scenario, resolve_raw, validate

    raw = calibration.with_values(resolve_raw(find_scenario(rule_set)),
                                  {name: float(value) for name, value in values.items()})
    result = run_scenario(validate(raw, f"{rule_set} (EMA experiment)"), seed=seed, steps=steps)
    welfare = dict(zip(result.nation_summary["nation"], result.nation_summary["welfare_usd_bn"],
                       strict=True))
    out = {name: float(result.overall[name]) for name in OUTCOMES if ":" not in name}
    for name in OUTCOMES:
        if ":" in name:
            out[name] = float(welfare.get(name.split(": ", 1)[1], float("nan")))
    return out


def ema_model(rule_sets: list[str] | None = None, seed: int = 0, steps: int | None = None,
              name: str = "lunarsim"):  # -> ema_workbench.Model
    """The workbench model (see the module's docstring); ``steps`` shortens every run. One rule
    set is a constant of every experiment; two or more are the lever ``rule_set``. A bad
    argument raises :class:`~sim.base.errors.BadType` (a TypeError) or
    :class:`~sim.base.errors.BadValue` (a ValueError) naming it, before the workbench runs."""
    from sim.scenario import load_scenario

    ema = _workbench()
    if rule_sets is None:
        from sim.experiment import load_experiment

        rule_sets = list(load_experiment("coop_vs_compete").spec.scenarios)
    if isinstance(rule_sets, str) or not isinstance(rule_sets, list | tuple) or not all(
            isinstance(r, str) for r in rule_sets):
        raise BadType(f"rule_sets: expected a list of scenario names, got {rule_sets!r:.60}")
    if not rule_sets:
        raise BadValue("rule_sets: name at least one scenario")
    seed = whole_number(seed, "seed", low=0)
    for rule_set in rule_sets:  # each scenario read once now: a bad name fails here, not in a run
        try:
            scenario = load_scenario(rule_set)
        except UserError as err:
            raise BadValue(f"rule_sets: {err}") from None
        scenario.steps_to_run(steps)
    rule_sets = list(dict.fromkeys(rule_sets))

    def run(rule_set: str = rule_sets[0], **values: float) -> dict[str, float]:
        return outcomes(rule_set, values, seed, steps)

    model = ema.Model(name, function=run)
    ranged = calibration.ranged()
    model.uncertainties = [ema.RealParameter(p.name, *p.range) for p in ranged
                           if p.kind != "regime"]
    choice = [ema.CategoricalParameter("rule_set", rule_sets)] if len(rule_sets) > 1 else []
    model.levers = choice + [ema.RealParameter(p.name, *p.range) for p in ranged
                             if p.kind == "regime"]
    model.outcomes = [ema.ScalarOutcome(o) for o in OUTCOMES]
    return model


def _workbench() -> Any:
    try:
        with warnings.catch_warnings():  # its import warns of optional parts it does not find
            warnings.simplefilter("ignore")
            import ema_workbench
    except ImportError:
        raise UserError("the EMA Workbench is not installed: pip install -e \".[explore]\" in "
                        "the lunarsim folder") from None
    return ema_workbench
