"""Where capacity goes (step 3) and growth (step 9), compiled: what survives the step, the
investment decision of :mod:`sim.economy.invest` (its module doc gives the rule) and where the
new plants go (:func:`sim.economy.step.locate` and :func:`~sim.economy.step.grow` prepare the
arrays and name the results)."""

from __future__ import annotations

import numba
import numpy as np

from sim.base.units import KG_PER_T, USD_PER_BN
from sim.economy.kernels.common import ratio

# the parameters, in this order: dt, capacity surviving a step's wear, propellant discount,
# propellant half-saturation (t/yr), infrastructure discount, capacity cost (USD per t/yr),
# discount rate a year, depreciation a year, ISRU share of the budget
(G_DT, G_SURVIVAL, G_PROPELLANT_DISCOUNT, G_PROPELLANT_HALF, G_INFRASTRUCTURE, G_CAPACITY_COST,
 G_RATE, G_DEPRECIATION, G_BUDGET_SHARE) = range(9)
G = 9


@numba.njit(cache=True, error_model="numpy")
def annuity(rate: float, years: float, survival: float) -> float:
    """:func:`sim.economy.invest.annuity` for one number of years."""
    q = survival / (1.0 + rate)
    if q == 1.0:
        return years
    return q * (1.0 - q ** years) / (1.0 - q)


@numba.njit(cache=True, error_model="numpy")
def unit_terms(grade, uptime, is_ice, recovery, propellant_value, ree_value, ice_cost, ree_cost):
    """Each site's product a t of regolith yields, what that earns and what working the t costs
    [S] (:func:`sim.economy.invest.unit_terms`): ``grade · recovery · uptime``, that times the
    value of a kg of the product (propellant at an ice site, rare-earth oxide at a KREEP one)
    times 1,000, and the site kind's operating cost; numpy's numbers, the products taken in
    the same order."""
    s_n = grade.shape[0]
    yield_t, value, cost = np.empty(s_n), np.empty(s_n), np.empty(s_n)
    for c in range(s_n):
        yield_t[c] = grade[c] * recovery * uptime[c]
        value[c] = yield_t[c] * (propellant_value if is_ice[c] else ree_value) * KG_PER_T
        cost[c] = ice_cost if is_ice[c] else ree_cost
    return yield_t, value, cost


@numba.njit(cache=True, error_model="numpy")
def _worked(mine: float, others: float, site: float) -> float:
    """Regolith a year a nation works at a site with capacity ``mine``, the others ``others``,
    at pro-rata shares where it is crowded."""
    return mine * min(1.0, ratio(site, mine + others))


@numba.njit(cache=True, error_model="numpy")
def grow(capacity, capital, lost, allocation, propellant_t, partner_share, factor,
         reserve_after, incident_loss, depreciation, budget, site_capacity, yield_t, unit_value,
         operating_cost, g):
    """Capacity [N], book value [N], investment [N], allocation [N, S] and the expected NPV of
    the new plants [N] after a step (money in USD bn)."""
    n, s_n = allocation.shape
    dt = g[G_DT]
    kept = np.empty(n)
    unit_cost = np.empty(n)
    own = np.empty((n, s_n))
    total = np.zeros(s_n)
    for i in range(n):
        left = (capacity[i] - lost[i]) * g[G_SURVIVAL]
        kept[i] = left if left > 0.0 else 0.0
        # cheaper with one's own lunar propellant (a saturating cut) and partners' shared
        # infrastructure at one's sites
        own_rate = propellant_t[i] / dt
        own_cut = g[G_PROPELLANT_DISCOUNT] * own_rate / (own_rate + g[G_PROPELLANT_HALF])
        unit_cost[i] = (g[G_CAPACITY_COST] * (1.0 - own_cut)
                        * (1.0 - g[G_INFRASTRUCTURE] * partner_share[i]))
        for c in range(s_n):
            own[i, c] = kept[i] * allocation[i, c]
            total[c] += own[i, c]
    value_factor = np.empty(s_n)  # the annuity over each site's remaining life
    for c in range(s_n):
        life = ratio(reserve_after[c], yield_t[c] * site_capacity[c]) if yield_t[c] > 0.0 else 0.0
        value_factor[c] = annuity(g[G_RATE], life, 1.0 - g[G_DEPRECIATION])

    new_capacity = np.empty(n)
    new_capital = np.empty(n)
    spent = np.empty(n)
    npv = np.empty(n)
    new_allocation = np.empty((n, s_n))
    wanted = np.empty(s_n)
    value = np.empty(s_n)
    for i in range(n):
        cost = unit_cost[i]
        spend = 0.0
        for c in range(s_n):
            others = total[c] - own[i, c]
            site = site_capacity[c]
            value[c] = (unit_value[c] * factor[i, c] - operating_cost[c]) * value_factor[c]
            worth = (value[c] if value[c] > 0.0 else 0.0) / cost
            target = 0.0
            if worth > 1.0:  # up to D* = sqrt(K O w) - O when crowded; at least what fills it
                target = max(np.sqrt(site * others * worth) - others, site - others)
            want = target - own[i, c]
            wanted[c] = want if want > 0.0 else 0.0
            spend += wanted[c] * cost
        scale = min(1.0, ratio(budget[i] * g[G_BUDGET_SHARE] * dt * USD_PER_BN, spend))
        paid, gained, placed_sum = 0.0, 0.0, 0.0
        for c in range(s_n):
            added = wanted[c] * scale
            others = total[c] - own[i, c]
            gain = (_worked(own[i, c] + added, others, site_capacity[c])
                    - _worked(own[i, c], others, site_capacity[c]))
            gained += gain * value[c] - added * cost
            paid += added * cost
            new_allocation[i, c] = own[i, c] + added  # placed, t/yr; shares below
            placed_sum += new_allocation[i, c]
        new_capacity[i] = placed_sum
        for c in range(s_n):
            new_allocation[i, c] = (ratio(new_allocation[i, c], placed_sum) if placed_sum > 0.0
                                    else allocation[i, c])
        spent[i] = paid / USD_PER_BN
        npv[i] = gained / USD_PER_BN
        book = capital[i] - incident_loss[i] - depreciation[i] + spent[i]
        new_capital[i] = book if book > 0.0 else 0.0
    return new_capacity, new_capital, spent, new_allocation, npv


@numba.njit(cache=True, error_model="numpy")
def locate(margin, reserve, initial_reserve, site_step_capacity, site_load, exposure,
           allocation, interference, focus, rate):
    """Step 3, :func:`sim.economy.step.locate`: each nation's share of capacity at each site
    [N, S] from the unit margins [S] and the state."""
    n, s_n = allocation.shape
    site_value = np.empty(s_n)  # margin x share of reserve left x crowding seen last step
    for c in range(s_n):
        crowding = 1.0  # where nobody worked
        if site_load[c] > 0.0:
            crowding = min(1.0, ratio(site_step_capacity[c], site_load[c]))
        site_value[c] = max(margin[c], 0.0) * ratio(reserve[c], initial_reserve[c]) * crowding
    out = np.empty((n, s_n))
    for i in range(n):
        total, placed = 0.0, 0.0
        for c in range(s_n):
            expected = site_value[c] * (1.0 - interference * exposure[i, c])
            out[i, c] = expected ** focus if expected > 0.0 else 0.0
            total += out[i, c]
            placed += allocation[i, c]
        for c in range(s_n):
            target = ratio(out[i, c], total)
            out[i, c] = (allocation[i, c] + rate * (target - allocation[i, c]) if placed > 0.0
                         else target)
    return out
