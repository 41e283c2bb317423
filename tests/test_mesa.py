"""LunarModel as Mesa users expect it: built from a name with batch_run's keyword parameters,
a DataCollector that reads like one filled by collect(), and batch_run's last rows equal to
lunarsim's own run summary for the same seeds (on Mesa 3.3 and 3.5 alike)."""

from __future__ import annotations

import inspect
import warnings

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.base.errors import UserError
from sim.experiment.run import run_scenario
from sim.model.model import LunarModel
from sim.scenario import find_scenario, load_scenario


def test_a_model_is_built_from_a_name_a_path_or_a_scenario_with_changes():
    by_name = LunarModel("open_access", rng=3, economics__synergy=0.3, regime="multilateral")
    assert by_name.spec.economics.synergy == 0.3 and by_name.spec.regime.name == "multilateral"
    by_path = LunarModel(find_scenario("open_access"), rng=3, economics__synergy=0.3,
                         regime="multilateral")
    assert by_path.spec == by_name.spec
    changed = LunarModel(load_scenario("open_access"), rng=3, trust__across_bloc=0.1)
    assert changed.spec.trust.across_bloc == 0.1
    with pytest.raises(UserError, match=r"LunarModel\(economics__synergyy=...\).*unknown key"):
        LunarModel("baseline", economics__synergyy=0.1)


def test_a_hand_stepped_models_collector_reads_as_mesa_users_expect():
    model = LunarModel("baseline", rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "No model reporters have been defined" was one
        for _ in range(5):
            model.step()
        frame = model.datacollector.get_model_vars_dataframe()
        agents = model.datacollector.get_agent_vars_dataframe()
    assert len(frame) in (5, 6)  # Mesa 3.3: steps 1..5; Mesa 3.5: the initial state too
    final = model.recorder.model_table()
    assert frame["welfare_total_usd_bn"].iloc[-1] == final["welfare_total_usd_bn"][-1]
    assert frame["incidents_to_date"].iloc[-1] == final["incidents"].sum()
    assert sorted(agents.index.get_level_values("Step").unique())[-5:] == [1, 2, 3, 4, 5]
    last = agents.xs(5, level="Step")
    assert len(last) == len(model.names) and set(last.index) == {
        n.unique_id for n in model.nation_list}
    # every C given is a C received: the two means over nations agree at every step
    played = agents[agents.index.get_level_values("Step") > 0]
    by_step = played.groupby(level="Step")[["cooperation", "cooperation_received"]].mean()
    np.testing.assert_allclose(by_step["cooperation"], by_step["cooperation_received"])
    us = model.nation_index("United States")
    uid = model.nation_list[us].unique_id
    assert last.loc[uid, "welfare_usd_bn"] == model.recorder.nation_table()["welfare_usd_bn"][-1, us]


def test_batch_runs_last_rows_are_lunarsims_run_summary_for_the_same_seeds():
    params: dict = {"scenario": ["baseline", "open_access"], "economics__synergy": [0.1, 0.3]}
    seeds = [1, 2]
    extra = {}
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.4
        extra["rng"] = seeds
    else:  # Mesa 3.3: the seed is one more model parameter
        params["rng"] = seeds
    rows = pd.DataFrame(mesa.batch_run(LunarModel, params, number_processes=1,
                                       data_collection_period=-1, display_progress=False,
                                       max_steps=1000, **extra))
    assert len(rows) == 2 * 2 * 2 * 11  # a row per nation agent of each run
    runs = rows.drop_duplicates(["scenario", "economics__synergy", "rng"])
    assert len(runs) == 8
    for run in runs.itertuples():
        result = run_scenario(load_scenario(
            run.scenario, [f"economics.synergy={run.economics__synergy}"]), seed=run.rng)
        own = result.overall
        assert run.welfare_total_usd_bn == own["welfare_total_usd_bn"]
        assert run.incidents_to_date == own["incidents"]
        assert run.propellant_to_date_t == pytest.approx(own["propellant_t"], rel=1e-12)
        nations = rows[rows["RunId"] == run.RunId]["welfare_usd_bn"].to_numpy()
        np.testing.assert_array_equal(nations, result.nation_summary["welfare_usd_bn"])
