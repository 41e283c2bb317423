"""Scheduled events change what they say, when they say."""

from __future__ import annotations

import pytest
from helpers import raw_scenario, scenario_from

from sim.base.errors import UserError
from sim.model.model import LunarModel
from sim.scenario.loader import validate


def model_with(events, name="baseline", **changes) -> LunarModel:
    return LunarModel(scenario_from(raw_scenario(name), events=events, **changes), rng=0, steps=12)


def test_budget_shock_multiplies_the_budget_at_its_date():
    model = model_with([{"year": 2026.75, "name": "budget_shock", "nation": "Japan", "factor": 0.5}])
    japan = model.nation_index("Japan")
    before = []
    for _ in range(4):
        before.append(model.state.budget_usd_bn[japan])
        model.step()
    assert before[2] / before[1] == pytest.approx(1.0)  # Japan's budget does not grow by default
    assert model.state.budget_usd_bn[japan] == pytest.approx(0.5 * before[0])
    assert [e for e in model.event_log if "budget" in e[2]] == [(3, 2026.75, "Japan budget x0.5")]


def test_transport_cost_cheapens_capacity_and_the_return_trip():
    model = model_with([{"year": 2026.25, "name": "transport_cost", "capacity_cost_factor": 0.25,
                         "ree_return_cost_usd_per_kg": 40.0}])
    base = model_with([])
    model.step()
    base.step()
    assert model.econ.capacity_cost_usd_per_t_yr == pytest.approx(0.25 * base.econ.capacity_cost_usd_per_t_yr)
    assert model.econ.ree_return_cost_usd_per_kg == 40.0
    assert model.state.capacity_t_per_yr.sum() == pytest.approx(4 * base.state.capacity_t_per_yr.sum())


def test_forced_incident_destroys_capacity_and_trust_whatever_the_odds():
    events = [{"year": 2028.0, "name": "forced_incident", "a": "United States", "b": "China"}]
    model = model_with(events, economics__incident_rate_per_year=0.0)
    calm = model_with([], economics__incident_rate_per_year=0.0)
    us, cn = model.nation_index("United States"), model.nation_index("China")
    for _ in range(8):
        model.step()
        calm.step()
    assert model.last_outcome.incidents[us, cn] and not calm.last_outcome.incidents.any()
    assert model.state.trust[us, cn] < calm.state.trust[us, cn]
    assert model.last_outcome.capacity_lost_t_per_yr[[us, cn]].min() > 0
    model.step()
    assert not model.last_outcome.incidents.any()  # once only


def test_withdrawal_and_accession_to_a_bloc():
    events = [{"year": 2026.25, "name": "withdraw", "nation": "Canada"},
              {"year": 2026.5, "name": "accede", "nation": "India", "bloc": "ilrs"}]
    model = model_with(events, name="rival_blocs")
    ca, india, cn = (model.nation_index(n) for n in ("Canada", "India", "China"))
    assert model.members[ca] and not model.members[india]
    model.step()
    assert not model.members[ca] and not model.rules.recognises_claims[ca].any()
    model.step()
    assert model.blocs[india] == "ilrs" and model.rules.recognises_claims[india, cn]
    assert model.recorder.nation_table()["bloc"][-1, india] == "ilrs"


@pytest.mark.parametrize("event, message", [
    ({"year": 2030, "name": "forced_incident", "a": "China", "b": "China"}, "two different nations"),
    ({"year": 2030, "name": "lift_law", "law": "moon_treaty"}, "unknown law 'moon_treaty'"),
    ({"year": 2030, "name": "impose_export_control", "targets": ["Narnia"]}, "unknown nation 'Narnia'"),
    ({"year": 2030, "name": "budget_shock", "nation": "Japan", "factor": -1}, "greater than or equal to 0"),
])
def test_bad_events_are_named(event, message):
    raw = raw_scenario("baseline") | {"events": [event]}
    with pytest.raises(UserError, match=message):
        validate(raw, "x.toml")
