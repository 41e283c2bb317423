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
alike. The rule runs compiled, with the rest of step 9 (:mod:`sim.economy.kernels.growth`).
"""

from __future__ import annotations

import numpy as np

from sim.economy.state import EconParams, World


def annuity(rate_per_year: float, years: float | np.ndarray, survival_per_year: float = 1.0
            ) -> float | np.ndarray:
    """Present value of 1 a year for ``years`` years (end-of-year flows; infinite allowed), the
    flow of year k scaled by ``survival_per_year ** k``: ``sum_{k=1..T} (s / (1 + r))^k``. The
    compiled form the investment rule uses (:func:`sim.economy.kernels.growth.annuity`)."""
    from sim.economy.kernels.growth import annuity as compiled

    value = np.vectorize(compiled, otypes=[float])(rate_per_year, years, survival_per_year)
    return value if value.ndim else float(value)


def plant_npv(capacity_t_per_yr: float, unit_cost_usd_per_t_yr: float, margin_usd_per_yr: float,
              rate_per_year: float, years: float, survival_per_year: float = 1.0) -> float:
    """Net present value (USD) of a plant: its cost up front, its yearly margin after."""
    return (-capacity_t_per_yr * unit_cost_usd_per_t_yr
            + margin_usd_per_yr * annuity(rate_per_year, years, survival_per_year))


def ree_value_usd_per_kg(econ: EconParams, ree_price: float) -> float:
    """What a kg of lunar rare-earth oxide earns once on Earth: its magnet oxides at the price,
    less the return cost of the whole kg (0 when that does not pay: it is not shipped)."""
    return max(econ.magnet_share * ree_price - econ.ree_return_cost_usd_per_kg, 0.0)


def unit_terms(world: World, econ: EconParams, ree_price: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each site's yield (t of product a t of regolith worked: ``grade · recovery · uptime``),
    what a t of regolith's product earns there at ``ree_price`` (the yield times the value of a
    kg of it, :func:`ree_value_usd_per_kg` at a KREEP site, times 1,000; before the output
    factor) and what working the t costs (ice and KREEP plants differ), [S] each, in one
    compiled call (the step asks twice a step)."""
    from sim.economy.kernels.growth import unit_terms as compiled  # (loaded with the step)

    return compiled(world.grade, world.uptime, world.site_is_ice, econ.recovery_fraction,
                    econ.propellant_value_usd_per_kg, ree_value_usd_per_kg(econ, ree_price),
                    econ.operating_cost_usd_per_t, econ.ree_operating_cost_usd_per_t)


def unit_value_usd_per_t(world: World, econ: EconParams, ree_price: float) -> np.ndarray:
    """What a t of regolith's product earns at each site [S] (before the output factor)."""
    return unit_terms(world, econ, ree_price)[1]


def unit_margin_usd_per_t(world: World, econ: EconParams, ree_price: float) -> np.ndarray:
    """Value of working one t of regolith at each site, less its operating cost [S]."""
    _, value, cost = unit_terms(world, econ, ree_price)
    return value - cost
