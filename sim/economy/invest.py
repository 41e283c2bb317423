"""Plant economics and the decision to invest (step 9): a nation adds extraction capacity at a
site while the discounted value of what the added capacity will work there exceeds its cost.

**Plant economics.** A plant of capacity ``C`` (t of regolith a year) costs ``c C`` up front and
earns, each year it runs, what it works times the unit margin (the product's value less the
operating cost per t). Its net present value at the discount rate ``r``, with end-of-year cash
flows over ``T`` years and a share ``s`` of the plant surviving each year, is

    NPV = -c C + margin * annuity(r, T, s),   annuity = sum_{k=1..T} (s / (1 + r))^k

— the cash-flow model of the published lunar propellant business case the tests reproduce
(Kornuta et al. 2019's LPI report: NPV = -I + (R - C) A(r, N); ``tests/test_invest.py``).

**The decision** (Gordon 1954; the commons as a Cournot game). At a site of throughput ``K``
where the others have capacity ``O`` and the nation ``D``, the site shares its throughput pro
rata when crowded, so one more t/yr of the nation's capacity works

    1 (the site has room: D + O < K),   K O / (D + O)^2 (crowded)

t a year. The nation adds capacity while that, times the margin (its own output factor there:
synergy and interference as last step) and the annuity over the site's remaining life, exceeds
the unit cost: up to ``D* = sqrt(K O m A / c) - O``, and at least to fill a site with room.
Each investor counts its own gain and not the crowding it imposes, so rivals build more than
the joint optimum and dissipate part of the rent, all of it as their number grows; a site with
one operator is filled to its throughput and no further. No margin, no investment. The budget
caps spending (``isru_budget_share`` of it a year): a larger wish is scaled down at every site
alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.base.units import KG_PER_T, USD_PER_BN
from sim.base.units import ratio as _ratio
from sim.economy.state import EconParams, Outcome, State, World


def annuity(rate_per_year: float, years: float | np.ndarray, survival_per_year: float = 1.0
            ) -> float | np.ndarray:
    """Present value of 1 a year for ``years`` years (end-of-year flows; infinite allowed), the
    flow of year k scaled by ``survival_per_year ** k``: ``sum_{k=1..T} (s / (1 + r))^k``."""
    q = survival_per_year / (1.0 + rate_per_year)
    years = np.asarray(years, dtype=float)
    if q == 1.0:
        return years if years.ndim else float(years)
    with np.errstate(over="ignore"):
        value = q * (1.0 - q ** years) / (1.0 - q)
    return value if value.ndim else float(value)


def plant_npv(capacity_t_per_yr: float, unit_cost_usd_per_t_yr: float, margin_usd_per_yr: float,
              rate_per_year: float, years: float, survival_per_year: float = 1.0) -> float:
    """Net present value (USD) of a plant: its cost up front, its yearly margin after."""
    return (-capacity_t_per_yr * unit_cost_usd_per_t_yr
            + margin_usd_per_yr * annuity(rate_per_year, years, survival_per_year))


@dataclass(frozen=True)
class Investment:
    """One step's investment decision [N] or [N, S]."""

    added_t_per_yr: np.ndarray  # [N, S] capacity added at each site
    spent_usd_bn: np.ndarray  # [N]
    expected_npv_usd_bn: np.ndarray  # [N]: what the nation expects the added plants to be worth


def ree_value_usd_per_kg(econ: EconParams, ree_price: float) -> float:
    """What a kg of lunar rare-earth oxide earns once on Earth: its magnet oxides at the price,
    less the return cost of the whole kg (0 when that does not pay: it is not shipped)."""
    return max(econ.magnet_share * ree_price - econ.ree_return_cost_usd_per_kg, 0.0)


def unit_value_usd_per_t(world: World, econ: EconParams, ree_price: float) -> np.ndarray:
    """What a t of regolith's product earns at each site [S] (before the output factor)."""
    per_kg = np.where(world.site_is_ice, econ.propellant_value_usd_per_kg,
                      ree_value_usd_per_kg(econ, ree_price))
    return world.grade * econ.recovery_fraction * world.uptime * per_kg * KG_PER_T


def operating_cost_usd_per_t(world: World, econ: EconParams) -> np.ndarray:
    """Cost of working one t of regolith at each site [S]: ice and KREEP plants differ."""
    return np.where(world.site_is_ice, econ.operating_cost_usd_per_t,
                    econ.ree_operating_cost_usd_per_t)


def unit_margin_usd_per_t(world: World, econ: EconParams, ree_price: float) -> np.ndarray:
    """Value of working one t of regolith at each site, less its operating cost [S]."""
    return unit_value_usd_per_t(world, econ, ree_price) - operating_cost_usd_per_t(world, econ)


def decide(world: World, state: State, outcome: Outcome, econ: EconParams,
           capacity_t_per_yr: np.ndarray, unit_cost_usd_per_t_yr: np.ndarray) -> Investment:
    """Capacity each nation adds at each site this step (see the module doc), from the state
    after the step: ``capacity_t_per_yr`` [N] is what survived it, ``unit_cost_usd_per_t_yr``
    [N] each nation's price of new capacity."""
    dt = world.dt
    own = capacity_t_per_yr[:, None] * outcome.allocation  # [N, S] t/yr where each works now
    others = own.sum(axis=0)[None, :] - own
    site = world.site_capacity_t_per_yr[None, :]
    margin = (unit_value_usd_per_t(world, econ, outcome.ree_price_usd_per_kg)[None, :]
              * outcome.output_factor - operating_cost_usd_per_t(world, econ)[None, :])
    yield_t = world.grade * econ.recovery_fraction * world.uptime
    life = _ratio(outcome.reserve_after_t, yield_t * world.site_capacity_t_per_yr)  # years
    life = np.where(yield_t > 0, life, 0.0)
    value = margin * annuity(econ.discount_rate_per_year, life, 1.0 - econ.depreciation_per_year)
    cost = unit_cost_usd_per_t_yr[:, None]
    worth = np.maximum(value, 0.0) / cost  # [N, S]: value of a t/yr worked, per USD of capacity
    # up to D* = sqrt(K O w) - O when crowded; at least what fills a site with room
    best = np.sqrt(site * others * worth) - others
    fill = site - others
    target = np.where(worth > 1.0, np.maximum(best, fill), 0.0)
    wanted = np.maximum(target - own, 0.0)
    spend = (wanted * cost).sum(axis=1)  # USD
    cap = state.budget_usd_bn * econ.isru_budget_share * dt * USD_PER_BN
    scale = np.minimum(1.0, _ratio(cap, spend))
    added = wanted * scale[:, None]
    gain = _marginal_worked(own, others, site, added)
    npv = (gain * value - added * cost).sum(axis=1)
    return Investment(added, (added * cost).sum(axis=1) / USD_PER_BN, npv / USD_PER_BN)


def _marginal_worked(own: np.ndarray, others: np.ndarray, site: np.ndarray,
                     added: np.ndarray) -> np.ndarray:
    """More regolith a year the nation works at each site with ``added`` capacity, the others'
    unchanged, at pro-rata shares of a crowded site."""
    def worked(mine: np.ndarray) -> np.ndarray:
        total = mine + others
        return mine * np.minimum(1.0, _ratio(site, total))

    return worked(own + added) - worked(own)
