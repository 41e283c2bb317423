"""A slow, obviously correct reference of one step's economics (steps 3-8).

Plain Python loops, one nation, one site and one pair at a time, written from the equations in
docs/ODD.md section 7, not from the vectorised code. ``tests/test_reference.py`` checks that
:func:`sim.economy.step.resolve_step` gives the same outcome on random states and action matrices,
and ``benchmarks/`` measures how much faster the vectorised function is. Never used in a run.
"""

from __future__ import annotations

import math

import numpy as np

from sim.base.units import KG_PER_T, USD_PER_BN
from sim.economy.state import EconParams, Outcome, RegimeRules, State, World


def _div(a: float, b: float) -> float:
    return a / b if b > 0 else 0.0


def _pair_contest(d: list[float], cap: float, compete, respects, rho: float, zone: float
                  ) -> tuple[list[float], list[list[float]]]:
    """One site shared by the pairwise contest (ODD 7.4), pair by pair with plain floats:
    pro-rata shares, each pair's pool split by racing weight, zones' returns, then the bounds
    (no one gives more than its pro-rata share or gets more than it brought). Returns what each
    works and what the settlement moved from j to i (t)."""
    n, load = len(d), sum(d)
    if load <= cap:
        return list(d), [[0.0] * n for _ in range(n)]
    y0 = [d[i] * cap / load for i in range(n)]
    flow = [[0.0] * n for _ in range(n)]  # flow[i][j]: net throughput from j to i
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            a_ij = y0[i] * _div(d[j], load - d[i])
            a_ji = y0[j] * _div(d[i], load - d[j])
            w_i = 1.0 + (rho * (1.0 - zone * respects(i, j)) if compete(i, j) else 0.0)
            w_j = 1.0 + (rho * (1.0 - zone * respects(j, i)) if compete(j, i) else 0.0)
            raced = 0.0  # equal weights (nobody races, or both alike) split the pool pro rata
            if w_i != w_j:
                raced = (a_ij + a_ji) * (_div(w_i * d[i], w_i * d[i] + w_j * d[j])
                                         - _div(d[i], d[i] + d[j]))
            kept_i = zone * respects(j, i) * (d[i] - y0[i]) * _div(d[j], load - d[i])
            kept_j = zone * respects(i, j) * (d[j] - y0[j]) * _div(d[i], load - d[j])
            flow[i][j] = raced + kept_i - kept_j
    gross = [[max(flow[i][j], 0.0) for j in range(n)] for i in range(n)]
    for j in range(n):  # what j gives, at most its pro-rata share
        given = sum(gross[i][j] for i in range(n))
        if given > y0[j]:
            for i in range(n):
                gross[i][j] *= y0[j] / given
    for i in range(n):  # what i gets, at most what it brought
        taken = sum(gross[i])
        if taken > d[i] - y0[i]:
            for j in range(n):
                gross[i][j] *= _div(d[i] - y0[i], taken)
    return [min(max(y0[i] + sum(gross[i]) - sum(gross[k][i] for k in range(n)), 0.0), d[i])
            for i in range(n)], gross


def resolve_step_reference(world: World, state: State, actions: np.ndarray, rules: RegimeRules,
                           econ: EconParams, rng: np.random.Generator | None,
                           trade: np.ndarray | None = None) -> Outcome:
    n, m = len(state.capacity_t_per_yr), len(state.reserve_t)
    trade = np.ones((n, n), dtype=bool) if trade is None else trade
    N, S = range(n), range(m)
    dt = 1.0 / world.steps_per_year
    ice = [bool(world.site_is_ice[s]) for s in S]

    def coop(i: int, j: int) -> bool:  # coordinates: chose C, and no law bars the pair
        return i != j and bool(actions[i, j]) and bool(rules.may_cooperate[i, j])

    def compete(i: int, j: int) -> bool:  # races: chose D (a legal bar alone is not racing)
        return i != j and not bool(actions[i, j])

    def hostile(i: int, j: int) -> bool:
        return i != j and not (coop(i, j) and coop(j, i))

    # 3. Locate
    price = state.ree_price_usd_per_kg
    opcost = [econ.operating_cost_usd_per_t if ice[s] else econ.ree_operating_cost_usd_per_t for s in S]
    yld = [world.grade[s] * econ.recovery_fraction * world.uptime[s] for s in S]
    margin = []
    for s in S:
        per_kg = (econ.propellant_value_usd_per_kg if ice[s]
                  else max(econ.magnet_share * price - econ.ree_return_cost_usd_per_kg, 0.0))
        margin.append(yld[s] * per_kg * KG_PER_T - opcost[s])
    rate = 1.0 - (1.0 - econ.relocation_per_year) ** dt
    alloc = np.zeros((n, m))
    for i in N:
        score = []
        for s in S:
            remaining = _div(state.reserve_t[s], world.initial_reserve_t[s])
            load = state.site_load_t[s]
            crowding = min(1.0, world.site_capacity_t_per_yr[s] * dt / load) if load > 0 else 1.0
            e = max(margin[s], 0.0) * remaining * crowding * (1.0 - econ.interference * state.exposure[i, s])
            e = max(e, 0.0)
            score.append(e ** econ.site_choice_focus if e > 0 else 0.0)
        total = sum(score)
        placed = sum(state.allocation[i]) > 0
        for s in S:
            target = _div(score[s], total)
            prev = state.allocation[i, s]
            alloc[i, s] = prev + rate * (target - prev) if placed else target

    # 4. Extract
    demand = np.array([[state.capacity_t_per_yr[i] * alloc[i, s] * dt for s in S] for i in N])
    worked, product = np.zeros((n, m)), np.zeros((n, m))
    exposure, partners = np.zeros((n, m)), np.zeros((n, m))
    unscaled, factors = np.zeros((n, m)), np.zeros((n, m))
    moved_t = np.zeros((n, n, m))  # t of site s's throughput the contest moved from j to i
    for s in S:
        load = sum(demand[j, s] for j in N)
        cap = world.site_capacity_t_per_yr[s] * dt
        shares, moved_t[:, :, s] = _pair_contest([demand[i, s] for i in N], cap, compete,
                                                 lambda i, j: bool(rules.recognises_claims[i, j]),
                                                 econ.race_advantage, econ.claim_exclusion)
        for i in N:
            worked[i, s] = shares[i]
            exposure[i, s] = _div(sum(demand[j, s] for j in N if hostile(i, j)), load)
            partners[i, s] = _div(sum(demand[j, s] for j in N if coop(i, j) and coop(j, i)), load)
            factor = max(0.0, 1.0 + econ.synergy * partners[i, s] - econ.interference * exposure[i, s])
            factors[i, s], unscaled[i, s] = factor, worked[i, s]
            product[i, s] = worked[i, s] * factor * yld[s]
        wanted = sum(product[i, s] for i in N)
        scale = min(1.0, state.reserve_t[s] / wanted) if wanted > 0 else 1.0
        for i in N:
            product[i, s] *= scale
            worked[i, s] *= scale
    reserve_after = np.array([max(state.reserve_t[s] - sum(product[i, s] for i in N), 0.0) for s in S])
    presence = np.array([[_div(demand[i, s], sum(demand[i])) for s in S] for i in N])

    # 5. Use
    propellant = np.array([sum(product[i, s] for s in S if ice[s]) for i in N])
    ree_mined = np.array([sum(product[i, s] for s in S if not ice[s]) for i in N])
    ree_net = max(econ.magnet_share * price - econ.ree_return_cost_usd_per_kg, 0.0)
    shipped = ree_mined.copy() if ree_net > 0 else np.zeros(n)

    # 6. Market (magnet oxides; economies 0..n-1 and the rest of the world, n)
    holder = world.leverage_holder
    targets, severity = np.zeros(n, dtype=bool), np.zeros(n)
    for i in N:
        if holder is None or i == holder:
            continue
        severity[i] = 0.0 if trade[holder][i] else econ.control_severity
        if state.export_control_active:
            named = state.export_control_targets
            hit = bool(named[i]) if named is not None else compete(holder, i)
            if hit:
                severity[i] = max(severity[i], state.export_control_severity)
        targets[i] = severity[i] > 0
    lunar = [econ.magnet_share * shipped[i] / dt for i in N] + [0.0]
    m = reference_market(world, state, econ, list(severity) + [0.0], lunar)
    new_price, leverage = econ.ree_price_usd_per_kg, m["leverage"]
    world_demand, supply = sum(m["wanted"]), m["supply"]
    if supply > 0 and world_demand > 0:
        new_price *= (world_demand / supply) ** (1.0 / econ.price_elasticity)
    per_t = new_price * KG_PER_T / USD_PER_BN
    shortfall = np.array([m["withheld"][i] * dt for i in N])
    lost = np.zeros(n)
    if holder is not None:
        lost[holder] = sum(m["withheld"]) * dt * per_t
    premium = np.array([econ.refining_cost_premium_usd_per_kg * KG_PER_T / USD_PER_BN
                        * m["built_output"][i] * dt for i in N])
    dependence = np.array([0.0 if i == holder else
                           _div(m["from_holder"][i], m["demand"][i]) for i in N])

    # 7. Incidents: one uniform per pair (the upper triangle of an N x N draw)
    def chance(i: int, j: int) -> float:
        coloc = sum(presence[i, s] * presence[j, s] for s in S)
        trust = 0.5 * (state.trust[i, j] + state.trust[j, i])
        hazard = (econ.incident_rate_per_year * dt * coloc * (1.0 if hostile(i, j) else 0.0)
                  * (1.0 - trust))
        return -math.expm1(-hazard)

    draws = rng.random((n, n)) if rng is not None else None
    incidents = np.zeros((n, n), dtype=bool)
    weight_ij = np.zeros((n, n))
    for i in N:
        for j in N:
            if i == j:
                continue
            if draws is None:  # expected losses instead of a draw
                weight_ij[i, j] = chance(i, j)
            else:
                a, b = min(i, j), max(i, j)
                incidents[i, j] = bool(draws[a, b] < chance(a, b)) or bool(state.forced_incidents[i, j])
                weight_ij[i, j] = 1.0 if incidents[i, j] else 0.0
    lost_cap = np.zeros(n)
    loss_share = np.zeros((n, n))  # share of i's loss caused by its incident with j
    for i in N:
        logs = [0.0] * n
        for j in N:
            if i == j or weight_ij[i, j] == 0:
                continue
            overlap = sum(presence[i, s] * (1.0 if demand[j, s] > 0 else 0.0) for s in S)
            if state.forced_incidents[i, j] and overlap <= 0:
                overlap = 1.0
            hit = econ.incident_damage * min(overlap, 1.0)
            logs[j] = weight_ij[i, j] * math.log1p(-hit) if hit < 1.0 else -math.inf
        kept = sum(logs)
        lost_cap[i] = state.capacity_t_per_yr[i] * -math.expm1(kept)
        wiped = [j for j in N if logs[j] == -math.inf]
        for j in N:  # a pair that wipes i out takes all the blame (shared if several)
            loss_share[i, j] = ((1.0 / len(wiped) if j in wiped else 0.0) if wiped
                                else logs[j] / kept if kept < 0 else 0.0)

    # 8. Payoffs
    prop_value = propellant * econ.propellant_value_usd_per_kg * KG_PER_T / USD_PER_BN
    ree_revenue = shipped * ree_net * KG_PER_T / USD_PER_BN
    op = np.array([sum(worked[i, s] * opcost[s] for s in S) / USD_PER_BN for i in N])
    survive = (1.0 - econ.depreciation_per_year) ** dt
    inc_loss, depreciation = np.zeros(n), np.zeros(n)
    for i in N:  # capital at book value: the destroyed share, then wear on what is left
        destroyed = _div(lost_cap[i], state.capacity_t_per_yr[i])
        inc_loss[i] = state.capital_usd_bn[i] * destroyed
        depreciation[i] = state.capital_usd_bn[i] * (1.0 - destroyed) * (1.0 - survive)
    value = prop_value + ree_revenue
    # Output by channel: each tonne of regolith's worth, USD bn, where its product earns.
    worth = [yld[s] * KG_PER_T / USD_PER_BN * (econ.propellant_value_usd_per_kg if ice[s] else
             ree_net) for s in S]
    potential = np.array([sum(demand[i, s] * worth[s] for s in S) for i in N])
    crowding = np.array([sum((demand[i, s] - unscaled[i, s]) * worth[s] for s in S) for i in N])
    exhaustion = np.array([sum((unscaled[i, s] - worked[i, s]) * worth[s] for s in S) for i in N])
    synergy = np.array([sum(worked[i, s] * econ.synergy * partners[i, s] * worth[s] for s in S)
                        for i in N])
    interference = np.array([sum(worked[i, s] * (1.0 + econ.synergy * partners[i, s] - factors[i, s])
                                 * worth[s] for s in S) for i in N])
    members = [i for i in N if rules.sharing_members[i]]
    transfers = np.zeros(n)
    if rules.benefit_share > 0 and members:
        pool = sum(rules.benefit_share * value[i] for i in members)
        for i in members:
            transfers[i] = pool / len(members) - rules.benefit_share * value[i]
    entry = np.array([rules.entry_cost_usd_bn_per_yr[i] * dt if rules.sharing_members[i] else 0.0 for i in N])
    sanctions, liability, breaches = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in N:  # i raced j and took from it: the expected fine, at most its output in all
        fine = {}
        for j in N:
            took = sum(moved_t[i, j, s] * worth[s] for s in S)
            if compete(i, j) and rules.monitored[i, j] and took > 0:
                fine[j] = (rules.detection * rules.fine_multiple
                           * (1.0 + rules.escalation * state.breach_record[i]) * took)
        due = sum(fine.values())
        scale = min(1.0, value[i] / due) if due > 0 else 1.0
        for j, f in fine.items():
            sanctions[i] -= f * scale
            sanctions[j] += f * scale
            breaches[i] += 1
    for i in N:
        for j in N:
            if compete(j, i) and not compete(i, j) and rules.liable[j, i]:  # j at fault toward i
                owed = rules.liability_share * inc_loss[i] * loss_share[i, j]
                liability[i] += owed
                liability[j] -= owed
    short_cost = econ.shortfall_cost_multiple * shortfall * per_t
    # Retaliation (section 7.6): j withholds from the holder the value of the holder's sales to
    # it at the control severity; it forgoes that value and the holder loses a multiple of it.
    answer, pain = np.zeros(n), np.zeros((n, n))
    for j in N:
        if holder is not None and j != holder and not trade[j][holder]:
            answer[j] = econ.control_severity * m["from_holder"][j] * dt * per_t
            pain[j, holder] = econ.retaliation_cost_multiple * answer[j]
    for j in N:
        if holder is not None and j != holder:
            pain[holder, j] += short_cost[j]
    retaliation = answer.copy()  # the retaliators' sales forgone, and the holder's cost
    if holder is not None:
        retaliation[holder] += sum(pain[j, holder] for j in N)
    welfare = (value - op - depreciation - inc_loss + transfers + sanctions + liability - entry
               - short_cost - lost - premium - retaliation)
    coercion = np.array([econ.coercion_weight * sum((1.0 - state.trust[i, j]) * pain[i, j]
                                                    for j in N) for i in N])
    utility = np.array([welfare[i] + coercion[i] - econ.relative_gains_weight *
                        (sum(max(welfare[j] - welfare[i], 0.0) for j in N if j != i) / (n - 1) if n > 1 else 0.0)
                        for i in N])
    return Outcome(
        allocation=alloc, demand_t=demand, worked_t=worked, product_t=product,
        reserve_after_t=reserve_after, exposure=exposure, output_factor=factors,
        partner_share=np.array([sum(presence[i, s] * partners[i, s] for s in S) for i in N]),
        propellant_t=propellant, ree_mined_t=ree_mined, ree_shipped_t=shipped,
        incidents=incidents, capacity_lost_t_per_yr=lost_cap,
        ree_price_usd_per_kg=float(new_price), leverage_index=float(leverage),
        export_targets=targets, ree_shortfall_t=shortfall, import_dependence=dependence,
        propellant_value=prop_value, ree_revenue=ree_revenue, gross_output=value,
        potential_output=potential, crowding_loss=crowding, exhaustion_loss=exhaustion,
        synergy_gain=synergy, interference_loss=interference, operating_cost=op,
        depreciation=depreciation, incident_loss=inc_loss, shortfall_cost=short_cost, export_revenue_lost=lost,
        diversification_cost=premium, retaliation_cost=retaliation, coercion_value=coercion,
        retaliators=answer > 0,
        transfers=transfers, sanctions=sanctions, liability=liability, breaches=breaches,
        entry_cost=entry, welfare=welfare, utility=utility,
    )



def reference_market(world: World, state: State, econ: EconParams, severity: list[float],
                     lunar: list[float]) -> dict:
    """Section 7.6 one economy at a time (index n: the rest of the world): refined output, own
    use, the export pool, the holder's share of it, what controls withhold."""
    n1 = len(world.ree_demand_t_per_yr)
    E = range(n1)
    h = world.leverage_holder
    residual = n1 - 1 if h is None else h
    wanted = [world.ree_demand_t_per_yr[e] * state.ree_demand_factor for e in E]
    mined = [world.ree_mining_t_per_yr[e] * state.ree_supply_factor
             + state.ree_mining_built_t_per_yr[e] for e in E]
    cap = []
    for e in E:
        c = world.ree_refining_t_per_yr[e] * state.ree_supply_factor + state.ree_refining_built_t_per_yr[e]
        cap.append(0.0 if e in (h, residual) else c)
    feed = sum(mined) - mined[residual] - (world.ree_rest_ore_to_holder * mined[-1] if h is not None else 0.0)
    use = min(1.0, _div(feed, sum(cap)))
    refined = [cap[e] * use for e in E]
    refined[residual] = max(sum(mined) - sum(refined), 0.0)
    built = [0.0 if e in (h, residual) else
             min(state.ree_refining_built_t_per_yr[e], cap[e]) * use for e in E]
    total = sum(refined) + sum(lunar)
    demand = [w * total / sum(wanted) for w in wanted] if sum(wanted) > 0 else wanted
    own = [min(refined[e] + lunar[e], demand[e]) for e in E]
    surplus = [refined[e] + lunar[e] - own[e] for e in E]
    need = [demand[e] - own[e] for e in E]
    pool = sum(surplus)
    phi = _div(surplus[h], pool) if h is not None else 0.0
    fill = min(1.0, _div(pool, sum(need))) if sum(need) > 0 else 1.0
    from_holder = [need[e] * fill * phi for e in E]
    withheld = [(0.0 if e == h else severity[e]) * from_holder[e] for e in E]
    imports = [need[e] * fill - withheld[e] for e in E]
    return {"wanted": wanted, "demand": demand, "refined": refined, "built_output": built, "own": own,
            "imports": imports, "withheld": withheld, "from_holder": from_holder,
            "stocks": pool - sum(need) * fill, "supply": total - sum(withheld),
            "leverage": _div(refined[h], total) if h is not None else 0.0}
