"""lunarsim as an EMA Workbench model: the workbench's experiments give lunarsim's own numbers
for the same parameters and seed."""

from __future__ import annotations

import math
import warnings

import pytest

from sim.experiment.run import run_scenario
from sim.explore.ema import OUTCOMES, ema_model, outcomes
from sim.scenario import calibration
from sim.scenario.loader import find_scenario, resolve_raw, validate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    ema_workbench = pytest.importorskip("ema_workbench")


def test_the_model_declares_every_range_and_the_rule_sets():
    model = ema_model(["open_access", "multilateral"], steps=4)
    uncertainties = {u.name for u in model.uncertainties}
    levers = {lever.name for lever in model.levers}
    ranged = {p.name for p in calibration.ranged()}
    assert uncertainties | (levers - {"rule_set"}) == ranged and not uncertainties & levers
    assert {o.name for o in model.outcomes} == set(OUTCOMES)


def test_perform_experiments_gives_lunarsims_own_numbers():
    model = ema_model(["open_access", "us_china_cooperation"], seed=4, steps=6)
    scenarios = [ema_workbench.Scenario(f"s{k}", **{
        u.name: u.lower_bound + f * (u.upper_bound - u.lower_bound) for u in model.uncertainties})
        for k, f in enumerate((0.25, 0.75))]
    policies = [ema_workbench.Policy(rule, rule_set=rule, **{
        lever.name: lever.lower_bound for lever in model.levers if lever.name != "rule_set"})
        for rule in ("open_access", "us_china_cooperation")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiments, results = ema_workbench.perform_experiments(model, scenarios, policies)
    assert len(experiments) == 4
    for k, row in experiments.reset_index(drop=True).iterrows():
        values = {p.name: row[p.name] for p in calibration.ranged()}
        raw = resolve_raw(find_scenario(row["rule_set"]))
        for name, value in values.items():
            calibration.get(name).apply(raw, float(value))
        own = run_scenario(validate(raw, "test"), seed=4, steps=6)
        assert results["welfare_total_usd_bn"][k] == own.overall["welfare_total_usd_bn"]
        assert results["incidents"][k] == own.overall["incidents"]
        china = own.nation_summary.set_index("nation").loc["China", "welfare_usd_bn"]
        assert results["welfare_usd_bn: China"][k] == china
    assert not math.isnan(outcomes("open_access", {}, 0, 2)["welfare_usd_bn: United States"])
