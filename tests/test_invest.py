"""Plant economics and the investment decision (sim/economy/invest.py): a published lunar
propellant business case reproduced, and the commons result (rivals build beyond the joint
optimum and dissipate the rent, more as they are more) shown by the model itself."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import raw_scenario, scenario_from
from scipy.optimize import brentq

from sim.economy.invest import annuity, plant_npv
from sim.model import LunarModel

# Kornuta et al. 2018, "Commercial Lunar Propellant Architecture" (LPI contribution 2142, the
# report behind the 2019 REACH paper), pp. 106-109, as transcribed with page references in the
# public reproduction github.com/prnvh/lunar-icru (models/kornuta2019/original_inputs.json):
# a 30,000 kg plant at $100,000/kg (hardware and development) plus $35,000/kg delivered to the
# surface, $129 M a year of operations and spares, 10 years, 10 %, end-of-year cash flows.
PLANT_KG, HARDWARE_USD_PER_KG, DELIVERY_USD_PER_KG = 30_000, 100_000, 35_000
RECURRING_USD, RATE, YEARS = 129e6, 0.10, 10
# Table 14: customers (propellant sold at the lunar surface, t/yr, at USD/kg), reported NPV
# (USD M) and rate of return (%).
MOON, EML1, LEO = (100, 7_500), (280, 3_750), (1_260, 500)
TABLE_14 = {
    "Moon": ([MOON], -234, 9), "EML1": ([EML1], 1_609, 19), "LEO": ([LEO], -972, 4),
    "LEO + Moon": ([LEO, MOON], 3_639, 28), "EML1 + LEO": ([EML1, LEO], 5_481, 37),
    "Moon + EML1": ([MOON, EML1], 6_218, 40), "all": ([MOON, EML1, LEO], 10_092, 56),
}


def _npv(customers, rate: float = RATE) -> float:
    sold_t = sum(t for t, _ in customers)
    revenue = sum(t * 1e3 * price for t, price in customers)
    unit_cost = PLANT_KG * (HARDWARE_USD_PER_KG + DELIVERY_USD_PER_KG) / sold_t  # per t/yr
    return plant_npv(sold_t, unit_cost, revenue - RECURRING_USD, rate, YEARS)


def test_the_published_plant_costs_4_05_billion_up_front():
    assert PLANT_KG * (HARDWARE_USD_PER_KG + DELIVERY_USD_PER_KG) == 4.05e9  # "$4 billion"
    assert _npv([(1_000, 0.0)]) == pytest.approx(-4.05e9 - RECURRING_USD * 6.144567, rel=1e-6)


@pytest.mark.parametrize("case", list(TABLE_14))
def test_each_published_npv_and_rate_of_return_is_reproduced(case):
    customers, npv_musd, irr_percent = TABLE_14[case]
    assert _npv(customers) / 1e6 == pytest.approx(npv_musd, rel=1e-3)  # within 0.1 %
    irr = brentq(lambda r: _npv(customers, r), -0.5, 2.0)
    assert round(100 * irr) == irr_percent


def test_the_annuity_of_end_of_year_flows():
    assert annuity(0.10, 10) == pytest.approx(sum(1.1 ** -k for k in range(1, 11)), rel=1e-12)
    assert annuity(0.0, 7) == 7  # no discounting: the years
    assert annuity(0.05, np.inf, 0.9) == pytest.approx((0.9 / 1.05) / (1 - 0.9 / 1.05))


# --- the commons, in the model: N identical nations, one site ----------------------------------

SITE_T_PER_YR = 1_000.0


def _commons(n: int) -> LunarModel:
    """N identical nations that coordinate (pro-rata shares) at one ice site (one nation alone: a second without budget) with no decay, no
    incidents and a small budget each, so they build up together, step by step, until adding
    capacity no longer pays; 100 years."""
    raw = copy.deepcopy(raw_scenario("two_player_pd"))
    raw["time"] = {"start_year": 2030, "steps_per_year": 1, "horizon_years": 100}
    raw["economics"] |= {"isru_budget_share": 1.0, "synergy": 0.0, "interference": 0.0,
                         "depreciation_per_year": 0.0}
    raw["sites"][0] |= {"capacity_t_per_yr": SITE_T_PER_YR, "reserve_t": 1e12}
    nation = raw["nations"][0] | {"capacity_t_per_yr": 0.0, "budget_usd_bn": 4e-4,
                                  "strategy": "always_cooperate"}
    raw["nations"] = [nation | {"name": f"N{k}", "bloc": f"b{k}"} for k in range(n)]
    if n == 1:  # a scenario has two nations at least: the second one has no budget
        raw["nations"].append(nation | {"name": "Idle", "bloc": "idle", "budget_usd_bn": 0.0})
    raw["trust"] = {"within_bloc": 0.5, "across_bloc": 0.5}
    return LunarModel(scenario_from(raw), rng=0).run()


def test_rivals_build_beyond_the_joint_optimum_and_dissipate_the_rent_the_more_they_are():
    """Gordon (1954) as a Cournot game: one owner fills the site and no further; N symmetric
    investors each add capacity while their marginal pro-rata share pays, to
    T = w K (N - 1) / N in all (w: a t/yr's discounted margin over its cost), and the rent
    left, m K / N a year, falls toward zero as N grows."""
    model = _commons(1)
    econ, world = model.econ, model.world
    value = (world.grade * econ.recovery_fraction * world.uptime
             * econ.propellant_value_usd_per_kg * 1e3)[0]
    margin = value - econ.operating_cost_usd_per_t  # USD a year per t/yr worked
    horizon = model.state.reserve_t[0] / (value / econ.propellant_value_usd_per_kg / 1e3
                                          * SITE_T_PER_YR)
    worth = margin * annuity(econ.discount_rate_per_year, horizon) / econ.capacity_cost_usd_per_t_yr
    assert worth > 2  # the site pays: there is a rent to dissipate
    capacity, rent = [], []
    for n in (1, 2, 4, 8):
        model = model if n == 1 else _commons(n)
        total = model.state.capacity_t_per_yr.sum()
        capacity.append(total)
        rent.append(margin * min(total, SITE_T_PER_YR)  # a year's margin of what is worked,
                    - econ.discount_rate_per_year * econ.capacity_cost_usd_per_t_yr * total)
        expected = SITE_T_PER_YR if n == 1 else worth * SITE_T_PER_YR * (n - 1) / n
        assert total == pytest.approx(expected, rel=0.03), n  # the Nash capacity
    assert capacity == sorted(capacity) and rent == sorted(rent, reverse=True)
    assert rent[0] > 0.5 * margin * SITE_T_PER_YR  # one owner keeps most of the rent
    assert rent[-1] < rent[0] / 4  # eight rivals dissipate most of it


def test_no_margin_no_investment():
    raw = copy.deepcopy(raw_scenario("baseline"))
    raw.setdefault("economics", {})["operating_cost_usd_per_t"] = 10_000  # the top of its range: no site pays
    model = LunarModel(scenario_from(raw), rng=1, steps=40).run()
    assert model.state.capacity_t_per_yr.sum() == 0
    assert not model.recorder.history()["investment"].any()
