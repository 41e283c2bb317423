"""The one home of every parameter's range and source (sim/scenario/calibration.toml): complete, inside
what the schema accepts, acting on the fields it names, and the source of docs/calibration.md."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from sim.rules.regimes import REGIMES
from sim.rules.strategies import STRATEGIES
from sim.scenario import calibration
from sim.scenario.loader import find_scenario, resolve_raw, validate
from sim.scenario.schema import EconomicsSpec, MarketSpec, TrustSpec

DOC = Path(__file__).resolve().parents[1] / "docs" / "calibration.md"
NUMBER = (float, float | None)


def raw(name: str) -> dict:
    return copy.deepcopy(resolve_raw(find_scenario(name)))


def test_the_calibration_page_is_written_from_the_registry():
    text = DOC.read_text()
    assert text.count("<!-- calibration: ") == 7
    assert calibration.write_tables(text) == text, (
        "docs/calibration.md disagrees with sim/scenario/calibration.toml: run "
        "python -m sim.scenario.calibration docs/calibration.md")


def test_every_number_a_scenario_can_set_in_its_sections_has_an_entry():
    names = {p.name for p in calibration.parameters()}
    sections = {"economics": EconomicsSpec, "market": MarketSpec, "trust": TrustSpec}
    for section, spec in sections.items():
        for field, info in spec.model_fields.items():
            if info.annotation in NUMBER:
                assert f"{section}.{field}" in names, f"{section}.{field} has no range or source"
    for strategy in STRATEGIES:
        for field, info in strategy.Params.model_fields.items():
            if info.annotation in NUMBER:
                assert f"strategy.{strategy.name}.{field}" in names
    for field, info in REGIMES.get("multilateral").Params.model_fields.items():
        if info.annotation in NUMBER:
            assert f"regime.multilateral.{field}" in names


@pytest.mark.parametrize("parameter", calibration.ranged(), ids=lambda p: p.name)
def test_both_ends_of_every_range_are_valid_where_the_parameter_acts(parameter):
    for value in parameter.range:
        table = raw(parameter.where)
        if parameter.kind == "strategy" and parameter.name != "strategy.tremble":
            for nation in table["nations"][:2]:  # give the rule to someone, as levers.py does
                nation["strategy"] = {"name": parameter.parts[1]}
        assert parameter.apply(table, value), f"{parameter.name} acts on nothing in {parameter.where}"
        validate(table, f"{parameter.name} = {value}")


def test_a_parameter_sets_the_fields_it_names_and_nothing_else():
    base = raw("baseline")
    us, cn = "United States", "China"
    table = calibration.with_values(base, {"trust.pair.United States.China": 0.25,
                                           "strategy.forward_looking.discount_per_year": 0.6,
                                           "nations.*.budget_usd_bn": 0.5,
                                           "sites.ice.grade": 2.0})
    nations = {n["name"]: n for n in table["nations"]}
    before = {n["name"]: n for n in base["nations"]}
    assert [p["value"] for p in table["trust"]["pairs"] if {p["a"], p["b"]} == {us, cn}] == [0.25]
    for name, nation in nations.items():
        playing = before[name]["strategy"]["name"] == "forward_looking"
        assert (nation["strategy"].get("discount_per_year") == 0.6) == playing
        assert nation["budget_usd_bn"] == pytest.approx(0.5 * before[name]["budget_usd_bn"])
    for site, old in zip(table["sites"], base["sites"], strict=True):
        assert site["grade"] == pytest.approx(old["grade"] * (2.0 if old["kind"] == "ice" else 1.0))
    assert calibration.with_values(base, {}) == base  # the scenario itself is left alone
    assert not calibration.get("regime.multilateral.benefit_share").apply(raw("baseline"), 0.2)


def test_a_log_range_is_sampled_evenly_in_orders_of_magnitude():
    p = calibration.get("economics.capacity_cost_usd_per_t_yr")
    assert p.log
    low, high = p.range
    np.testing.assert_allclose(p.scale([0.0, 0.5, 1.0]), [low, np.sqrt(low * high), high])
    q = calibration.get("economics.synergy")
    np.testing.assert_allclose(q.scale([0.25]), [q.range[0] + 0.25 * (q.range[1] - q.range[0])])


def test_a_bad_entry_is_refused():
    with pytest.raises(ValueError, match="low to high"):
        calibration.Parameter(name="economics.synergy", label="s", unit="", source="x", range=(0.4, 0.1))
    with pytest.raises(ValueError, match="positive"):
        calibration.Parameter(name="economics.synergy", label="s", unit="", source="x", range=(0, 1), log=True)


@pytest.mark.parametrize("scenario", ["baseline", "open_access", "multilateral",
                                      "us_china_cooperation", "ree_export_control"])
def test_points_drawn_from_all_ranges_at_once_are_valid_scenarios(scenario):
    """Sensitivity analysis samples every range together, so ranges must not clash through
    the schema's rules across fields (the holder's refining share against the ore it is
    shipped). Besides a Latin hypercube: every parameter at one end with all others at the
    other, which is where two ranges clash if they do."""
    from scipy.stats import qmc

    params = calibration.ranged()
    unit = qmc.LatinHypercube(len(params), rng=np.random.default_rng(7)).random(48)
    one_out = np.eye(len(params))
    unit = np.vstack([unit, np.zeros(len(params)), np.ones(len(params)), one_out, 1 - one_out])
    for row in unit:
        values = {p.name: float(p.scale(u)) for p, u in zip(params, row, strict=True)}
        validate(calibration.with_values(raw(scenario), values), f"{scenario} at {values}")
