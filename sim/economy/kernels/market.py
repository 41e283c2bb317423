"""Step 6, the rare-earth market and the arena's controls and answers, and step 9b, the
importers' diversification, compiled (section 7.6 of docs/ODD.md;
:mod:`sim.economy.rare_earths.market` and :mod:`~sim.economy.rare_earths.importers` prepare the
arrays and name the results)."""

from __future__ import annotations

import numba
import numpy as np

from sim.base.units import KG_PER_T, USD_PER_BN
from sim.economy.kernels.common import maximum, numpy_sum, ratio

# rows of the market's per-nation results [MK, N]
MK_SHORTFALL_T, MK_SHORTFALL_COST, MK_EXPORT_LOST, MK_PREMIUM, MK_DEPENDENCE = 0, 1, 2, 3, 4
MK_SALES_LOST, MK_RETALIATION_COST, MK_SEVERITY = 5, 6, 7
MK = 8
# rows of the market's flows [FL, N+1] (as :class:`sim.economy.rare_earths.market.Flows`)
FL_WANTED, FL_DEMAND, FL_REFINED, FL_BUILT, FL_LUNAR, FL_OWN, FL_NEED = 0, 1, 2, 3, 4, 5, 6
FL_FROM_HOLDER, FL_WITHHELD, FL_IMPORTS = 7, 8, 9
FL = 10
# the market's parameters, in this order: dt, reference price, price elasticity, shortfall cost
# multiple, refining premium (USD bn per t), retaliation cost multiple, control severity (of a
# restriction), export control active (0/1), its severity, magnet share
(MP_DT, MP_PRICE, MP_ELASTICITY, MP_SHORTFALL, MP_PREMIUM, MP_RETALIATION, MP_RESTRICTION,
 MP_CONTROL_ACTIVE, MP_CONTROL_SEVERITY, MP_MAGNET) = range(10)
MP = 10


@numba.njit(cache=True, error_model="numpy")
def holdings(mining, mining_built, refining, refining_built, supply_factor, h):
    """Each economy's mine output and refining capacity outside the holder ``h`` (-1: none),
    t/yr [N+1] (:func:`sim.economy.rare_earths.mines.mined` and
    :func:`sim.economy.rare_earths.market.capacity`): what it had at the start, grown with
    mine supply, plus what it built in the run."""
    e_n = mining.shape[0]
    mined, capacity = np.empty(e_n), np.empty(e_n)
    for e in range(e_n):
        mined[e] = mining[e] * supply_factor + mining_built[e]
        capacity[e] = refining[e] * supply_factor + refining_built[e]
    if h >= 0:
        capacity[h] = 0.0
    return mined, capacity


@numba.njit(cache=True, error_model="numpy")
def supply_side(demand, demand_factor, mining, mining_built, refining, refining_built,
                supply_factor, h, rest_to_holder):
    """:func:`sim.economy.rare_earths.market.supply_side`: (wanted, refined, built) [N+1] from
    each economy's demand, mines and refineries at the start ([N+1], the rest of the world
    last), the market's growth factors and what was built in the run, the holder ``h`` (-1:
    none) and the share of the rest of the world's ore shipped to it. numpy's numbers, to the
    last bit (tested)."""
    e_n = demand.shape[0]
    residual = e_n - 1 if h < 0 else h  # refines the ore nobody else does
    wanted = np.empty(e_n)
    for e in range(e_n):
        wanted[e] = demand[e] * demand_factor
    mined, cap = holdings(mining, mining_built, refining, refining_built, supply_factor, h)
    cap[residual] = 0.0
    feed = numpy_sum(mined) - mined[residual]  # ore the residual refiner does not mine itself
    if h >= 0:  # ore the rest of the world ships to the holder (Myanmar's, Nigeria's)
        feed -= rest_to_holder * mined[e_n - 1]
    use = ratio(feed, numpy_sum(cap))
    use = use if use < 1.0 else 1.0  # (min(1.0, use), as Python takes it)
    refined, built = np.empty(e_n), np.empty(e_n)
    for e in range(e_n):
        refined[e] = cap[e] * use
        # np.minimum: the first where smaller or NaN, else the second
        less = refining_built[e] < cap[e] or np.isnan(refining_built[e])
        built[e] = (refining_built[e] if less else cap[e]) * use
    rest = numpy_sum(mined) - numpy_sum(refined)
    refined[residual] = 0.0 if 0.0 > rest else rest  # >= its own mines, but for rounding
    return wanted, refined, built


@numba.njit(cache=True, error_model="numpy")
def _severity(compete, trade, h, named, has_named, mp, severity, retaliated):
    """The share of the holder's sales to each nation it withholds [N] (a restriction in the
    rare-earth arena ``trade``, or a scheduled control on the ``named`` targets or else on whom
    the holder races, the larger), and the share each nation withholds back [N]."""
    n = severity.shape[0]
    for j in range(n):
        severity[j] = 0.0
        retaliated[j] = 0.0
        if h < 0 or j == h:
            continue
        if not trade[h, j]:
            severity[j] = mp[MP_RESTRICTION]
        if not trade[j, h]:
            retaliated[j] = mp[MP_RESTRICTION]
        if mp[MP_CONTROL_ACTIVE] > 0.0:
            hit = named[j] if has_named else compete[h, j]
            if hit and mp[MP_CONTROL_SEVERITY] > severity[j]:
                severity[j] = mp[MP_CONTROL_SEVERITY]


@numba.njit(cache=True, error_model="numpy")
def _clear(severity, retaliated, lunar, wanted, refined, built, h, mp, fl, mk, pain):
    """:func:`sim.economy.rare_earths.market.clear_market` for one step: fills the flows ``fl``
    [FL, N+1], the per-nation results ``mk`` [MK, N] and ``pain`` [N, N]; returns (price,
    leverage, stocks, phi). ``lunar`` [N+1] is oxide delivered, t/yr."""
    e_n = wanted.shape[0]
    n = e_n - 1
    dt = mp[MP_DT]
    sum_wanted, sum_refined, sum_lunar = 0.0, 0.0, 0.0
    for e in range(e_n):
        sum_wanted += wanted[e]
        sum_refined += refined[e]
        sum_lunar += lunar[e]
    total = sum_refined + sum_lunar  # refined and lunar supply before any control
    pool, need_sum = 0.0, 0.0
    for e in range(e_n):
        available = refined[e] + lunar[e]
        demand = wanted[e] * ratio(total, sum_wanted) if sum_wanted > 0.0 else wanted[e]
        own = min(available, demand)
        fl[FL_WANTED, e] = wanted[e]
        fl[FL_DEMAND, e] = demand
        fl[FL_REFINED, e] = refined[e]
        fl[FL_BUILT, e] = built[e]
        fl[FL_LUNAR, e] = lunar[e]
        fl[FL_OWN, e] = own
        fl[FL_NEED, e] = demand - own
        pool += available - own
        need_sum += demand - own
    held = 0.0
    if h >= 0:
        held = refined[h] + lunar[h] - fl[FL_OWN, h]
    phi = ratio(held, pool)
    fill = min(1.0, ratio(pool, need_sum) + (1.0 if need_sum <= 0.0 else 0.0))
    bought_sum, withheld_sum = 0.0, 0.0
    for e in range(e_n):
        bought = fl[FL_NEED, e] * fill
        from_holder = bought * phi
        withheld = severity[e] * from_holder if e < n and e != h else 0.0
        fl[FL_FROM_HOLDER, e] = from_holder
        fl[FL_WITHHELD, e] = withheld
        fl[FL_IMPORTS, e] = bought - withheld
        bought_sum += bought
        withheld_sum += withheld
    supply = total - withheld_sum
    price = mp[MP_PRICE]
    if supply > 0.0 and sum_wanted > 0.0:
        price = mp[MP_PRICE] * ratio(sum_wanted, supply) ** (1.0 / mp[MP_ELASTICITY])
    leverage = ratio(refined[h], total) if h >= 0 else 0.0
    per_t = price * KG_PER_T / USD_PER_BN
    for i in range(n):
        shortfall = fl[FL_WITHHELD, i] * dt
        value = retaliated[i] * fl[FL_FROM_HOLDER, i] * dt * per_t
        mk[MK_SHORTFALL_T, i] = shortfall
        mk[MK_SHORTFALL_COST, i] = mp[MP_SHORTFALL] * shortfall * per_t
        mk[MK_EXPORT_LOST, i] = 0.0
        mk[MK_PREMIUM, i] = mp[MP_PREMIUM] * built[i] * dt
        mk[MK_DEPENDENCE, i] = 0.0 if i == h else ratio(fl[FL_FROM_HOLDER, i], fl[FL_DEMAND, i])
        mk[MK_SALES_LOST, i] = value
        mk[MK_RETALIATION_COST, i] = value
        mk[MK_SEVERITY, i] = severity[i]
        for j in range(n):
            pain[i, j] = 0.0
    if h >= 0:
        mk[MK_EXPORT_LOST, h] = withheld_sum * dt * per_t
        for j in range(n):  # retaliation hurts the holder; the holder's controls, the targets
            pain[j, h] = mp[MP_RETALIATION] * mk[MK_SALES_LOST, j]
            mk[MK_RETALIATION_COST, h] += pain[j, h]
            pain[h, j] += mk[MK_SHORTFALL_COST, j]
    return price, leverage, pool - bought_sum, phi


@numba.njit(cache=True, error_model="numpy")
def market_step(compete, trade, shipped, h, named, has_named, wanted, refined, built, mp,
                 severity, retaliated, lunar, fl, mk, pain):
    """One step's market from the actions: the controls and answers, the lunar oxide delivered
    (``shipped`` [N], t of lunar rare-earth oxide this step), then :func:`_clear`."""
    n = shipped.shape[0]
    _severity(compete, trade, h, named, has_named, mp, severity, retaliated)
    for i in range(n):
        lunar[i] = mp[MP_MAGNET] * shipped[i] / mp[MP_DT]
    lunar[n] = 0.0
    severity[n] = 0.0
    return _clear(severity, retaliated, lunar, wanted, refined, built, h, mp, fl, mk, pain)


@numba.njit(cache=True, error_model="numpy")
def market(compete, trade, shipped, wanted, refined, built, h, named, has_named, mp):
    """The rare-earth market for a batch [B] of lunar actions ``compete`` and rare-earth
    actions ``trade`` [B, N, N] with ``shipped`` [B, N] t of lunar oxide this step: (flows
    [B, FL, N+1], per-nation results [B, MK, N], pain [B, N, N], and price, leverage, stocks,
    phi [B, 4])."""
    batch, n = compete.shape[0], compete.shape[1]
    fl = np.empty((batch, FL, n + 1))
    mk = np.empty((batch, MK, n))
    pain = np.empty((batch, n, n))
    scalars = np.empty((batch, 4))
    severity = np.empty(n + 1)
    retaliated = np.empty(n)
    lunar = np.empty(n + 1)
    for b in range(batch):
        scalars[b, 0], scalars[b, 1], scalars[b, 2], scalars[b, 3] = market_step(
            compete[b], trade[b], shipped[b], h, named, has_named, wanted, refined, built, mp,
            severity, retaliated, lunar, fl[b], mk[b], pain[b])
    return fl, mk, pain, scalars


@numba.njit(cache=True, error_model="numpy")
def market_flows(severity, lunar, wanted, refined, built, h, mp):
    """The market's flows [B, FL, N+1] and stocks, phi [B, 2] with the holder withholding
    ``severity`` [B, N+1] of its sales and ``lunar`` [B, N+1] t/yr of lunar oxide delivered."""
    batch, e_n = severity.shape
    n = e_n - 1
    fl = np.empty((batch, FL, e_n))
    mk = np.empty((MK, n))
    pain = np.empty((n, n))
    scalars = np.empty((batch, 2))
    retaliated = np.zeros(n)
    for b in range(batch):
        _, _, scalars[b, 0], scalars[b, 1] = _clear(severity[b], retaliated, lunar[b], wanted,
                                                    refined, built, h, mp, fl[b], mk, pain)
    return fl, scalars


@numba.njit(cache=True, error_model="numpy")
def diversify(h, same_bloc, targets, threat, demand, mines, capacity, built, decay, ally_threat,
              goal, lead):
    """Step 9b, :func:`sim.economy.rare_earths.importers.diversify` for a holder ``h``: the
    threat each nation feels [N] and the refining built [N+1] after this step's controls."""
    n = threat.shape[0]
    bloc = same_bloc.copy()  # the holder is in nobody's bloc here
    for i in range(n):
        bloc[h, i] = False
        bloc[i, h] = False
    felt = np.empty(n)
    for i in range(n):
        allied_hit = False
        for j in range(n):
            allied_hit = allied_hit or (bloc[i, j] and i != j and targets[j])
        felt[i] = max(threat[i] * decay, 1.0 if targets[i] else 0.0,
                      ally_threat if allied_hit else 0.0)
    felt[h] = 0.0
    out = built.copy()
    for i in range(n):  # the bloc's goal for its members' demand, built where the ore is
        bloc_mines, bloc_demand, goal_demand = 0.0, 0.0, 0.0
        for j in range(n):
            if bloc[i, j]:
                bloc_mines += mines[j]
                bloc_demand += demand[j]
                goal_demand += goal * felt[j] * demand[j]
        weight = ratio(mines[i], bloc_mines) if bloc_mines > 0.0 else ratio(demand[i], bloc_demand)
        gap = goal_demand * weight - capacity[i]
        if gap > 0.0:
            out[i] += gap * lead
    out[h] = 0.0
    return out, felt


@numba.njit(cache=True, error_model="numpy")
def best_margin(earned, cost):
    """``(earned - cost).max()`` over the rare-earth sites (``cost`` [K], what returning a kg
    costs to work; ``earned`` what it earns): numpy's numbers for up to eight sites
    (:func:`maximum`), NaN if any is (the recorder asks at every step,
    :func:`sim.economy.rare_earths.lunar.break_even_return_cost`)."""
    best = earned - cost[0]
    for k in range(1, cost.shape[0]):
        best = maximum(best, earned - cost[k])
    return best
