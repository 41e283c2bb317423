"""Steps 4-8 of one step, compiled: extraction, use, the market, incidents and payoffs, for one
action matrix or a batch of counterfactual ones (:func:`sim.economy.step.resolve_step` prepares
the arrays and names the results)."""

from __future__ import annotations

import numba
import numpy as np

from sim.base.units import USD_PER_BN
from sim.economy.kernels.common import ratio
from sim.economy.kernels.contest import contest
from sim.economy.kernels.market import (
    FL,
    MK,
    MK_EXPORT_LOST,
    MK_PREMIUM,
    MK_RETALIATION_COST,
    MK_SHORTFALL_COST,
    MP_CONTROL_ACTIVE,
    market_step,
)

# rows of the per-nation results [R, N] of :func:`resolve`
(R_PROPELLANT, R_REE_MINED, R_REE_SHIPPED, R_CAPACITY_LOST, R_PARTNER_SHARE, R_PROPELLANT_VALUE,
 R_REE_REVENUE, R_GROSS, R_POTENTIAL, R_CROWDING, R_EXHAUSTION, R_SYNERGY, R_INTERFERENCE,
 R_OPERATING, R_DEPRECIATION, R_INCIDENT_LOSS, R_TRANSFERS, R_SANCTIONS, R_LIABILITY, R_BREACHES,
 R_ENTRY, R_RETALIATION, R_COERCION, R_WELFARE, R_UTILITY) = range(25)
R = 25
# rows of the per-nation, per-site results [RS, N, S]
RS_WORKED, RS_PRODUCT, RS_EXPOSURE, RS_FACTOR = 0, 1, 2, 3
RS = 4
# the step's parameters, in this order: race advantage, claim exclusion, synergy, interference,
# incidents a step (rate x dt), incident damage, USD bn per t of propellant and of lunar
# rare-earth oxide shipped, capacity surviving a step's wear, benefit share, detection, fine
# multiple, escalation, liability share, coercion weight, relative-gains weight
(P_RHO, P_ZONE, P_SYNERGY, P_INTERFERENCE, P_HAZARD, P_DAMAGE, P_PROPELLANT, P_REE, P_SURVIVAL,
 P_BENEFIT, P_DETECTION, P_FINE, P_ESCALATION, P_LIABILITY, P_COERCION, P_RELATIVE) = range(16)
P = 16


@numba.njit(cache=True, error_model="numpy")
def exposure(demand, trust, forced, hazard_rate, damage):
    """What the step's economics reads that does not depend on the actions (the same for a
    step, its counterfactuals and a membership review's rule sets): each site's load [S], each
    nation's share of its regolith at each site [N, S], each pair's chance of an incident if it
    does not coordinate (colocation, distrust) and the log of the capacity an incident leaves
    (the share of i's work where j works) [N, N]. ``hazard_rate``: incidents a step at full
    colocation; ``damage``: the share of capacity at the shared sites an incident destroys."""
    n, s_n = demand.shape
    load = np.zeros(s_n)
    for i in range(n):
        for c in range(s_n):
            load[c] += demand[i, c]
    presence = np.empty((n, s_n))
    for i in range(n):
        total = 0.0
        for c in range(s_n):
            total += demand[i, c]
        for c in range(s_n):
            presence[i, c] = ratio(demand[i, c], total)
    # each pair's chance of an incident if it does not coordinate (colocation, distrust), and
    # the log of the capacity an incident leaves (the share of i's work where j works)
    hostile_chance = np.empty((n, n))
    incident_log = np.empty((n, n))
    presence_t = np.ascontiguousarray(presence.T)  # (the sums over sites run along rows of j)
    works_t = np.ascontiguousarray(demand.T) > 0.0
    colocation = np.empty(n)
    overlap = np.empty(n)
    last_loss, last_log = np.nan, 0.0  # (neighbours' losses repeat: one logarithm for a run)
    for i in range(n):
        colocation[:] = 0.0
        overlap[:] = 0.0
        for c in range(s_n):  # each pair's sums over sites, site by site as a pair's loop
            here = presence[i, c]
            for j in range(n):
                colocation[j] += here * presence_t[c, j]
                if works_t[c, j]:
                    overlap[j] += here
        for j in range(n):
            hostile_chance[i, j] = 0.0  # (apart, nothing to lose: skip the logarithms)
            incident_log[i, j] = 0.0
            if i != j and colocation[j] > 0.0:
                hazard = hazard_rate * colocation[j] * (1.0 - 0.5 * (trust[i, j] + trust[j, i]))
                hostile_chance[i, j] = -np.expm1(-hazard)
            if hostile_chance[i, j] > 0.0 or forced[i, j]:
                hit = overlap[j]
                if forced[i, j] and hit <= 0.0:  # a forced incident hits everywhere
                    hit = 1.0
                loss = -damage * min(hit, 1.0)
                if loss != last_loss:
                    last_loss, last_log = loss, np.log1p(loss)
                incident_log[i, j] = last_log
    return load, presence, hostile_chance, incident_log


@numba.njit(cache=True, error_model="numpy")
def resolve(actions, trade, demand, site_cap, yield_t, worth, op_cost, is_ice, reserve, capacity,
            capital, breach_record, trust, forced, load, presence, hostile_chance, incident_log,
            uniforms, draw, may, respects, monitored, liable, sharing, entry, wanted, refined,
            built, h, named, has_named, mp, p, detail, accounts, settled, settled_moved):
    """Steps 4-8 of :func:`sim.economy.step.resolve_step` for a batch of lunar ``actions`` and
    rare-earth actions ``trade`` [B, N, N] (True = C), the equations of docs/ODD.md section 7
    one nation, site and pair at a time. ``demand`` [N, S] is the regolith each nation brings
    (its allocation this step); ``uniforms`` [N, N] are the incident draws when ``draw`` (one
    matrix), else each pair's expected loss is charged; ``load``, ``presence``,
    ``hostile_chance`` and ``incident_log`` are what does not depend on the actions
    (:func:`exposure`). Returns (utility [B, N], per-nation results [B, R, N], the market's
    [B, MK, N], price and leverage [B, 2], reserves after [B, S], per-site results
    [B, RS, N, S] and incidents [B, N, N]). Without ``detail`` there are no per-site results,
    incidents or accounting of gross output (potential, crowding, exhaustion, synergy,
    interference), and without ``accounts`` either, the per-nation and market results are
    only the last matrix's ([1, ...]): a batch of counterfactuals needs only the utility.
    ``settled`` and ``settled_moved`` are :func:`contest`'s results for these actions if
    already known (under other rules that recognise the same claims), else empty [0, 0, 0]."""
    batch, n = actions.shape[0], actions.shape[1]
    s_n = demand.shape[1]

    compete = np.empty((batch, n, n), dtype=np.bool_)
    # a later matrix of a batch of counterfactuals with the first one's lunar actions (one
    # that changes only rare-earth actions) keeps the first one's whole lunar side: contest,
    # extraction, use, incidents and operating costs (the same inputs give the same numbers)
    lunar_same = np.zeros(batch, dtype=np.bool_)
    touched = np.zeros((batch, n), dtype=np.bool_)  # whose lunar actions, given or received, differ
    for b in range(batch):
        for i in range(n):
            for j in range(n):
                compete[b, i, j] = i != j and not actions[b, i, j]
                if b > 0 and i != j and actions[b, i, j] != actions[0, i, j]:
                    touched[b, i] = touched[b, j] = True
        lunar_same[b] = b > 0 and not detail
        for i in range(n):
            lunar_same[b] = lunar_same[b] and not touched[b, i]
    monitoring, liability = monitored.any(), liable.any()  # (else their loops add nothing)
    if settled.size > 0 or settled_moved.size > 0:  # (with the value moved, if monitoring)
        if (settled.shape != (batch, n, s_n) or (monitoring and settled_moved.shape
                                                  != (batch, n, n))):
            raise ValueError("a settlement of the contest for other actions or sites")
        worked_all, moved_all = settled, settled_moved
    else:
        worked_all, moved_all = contest(demand, site_cap, compete, respects, p[P_RHO], p[P_ZONE],
                                       worth, monitoring)

    # a batch of counterfactuals keeps only each matrix's utility (with ``accounts``, its
    # per-nation and market rows too): the other results are written over for each matrix (a
    # batch's full results would be new memory at every call, which costs more than the
    # arithmetic)
    utility = np.empty((batch, n))
    keep = detail or accounts
    out = np.zeros((batch if keep else 1, R, n))
    mk = np.empty((batch if keep else 1, MK, n))
    scalars = np.empty((batch, 2))
    reserve_after = np.empty((batch, s_n))
    per_site = np.empty((batch if detail else 0, RS, n, s_n))
    incidents = np.zeros((batch if detail else 0, n, n), dtype=np.bool_)

    mutual = np.empty((n, n), dtype=np.bool_)
    partners = np.empty((n, s_n))
    partner_load = np.empty(s_n)
    hostile_load = np.empty(s_n)
    factor = np.empty((n, s_n))
    product = np.empty((n, s_n))
    worked = np.empty((n, s_n))
    severity = np.zeros(n + 1)
    retaliated = np.empty(n)
    lunar = np.zeros(n + 1)
    fl = np.empty((FL, n + 1))
    pain = np.empty((n, n))
    pair_log = np.empty((n, n))
    share = np.empty((n, n))
    fines = np.empty((n, n))
    # the first matrix's: a nation whose partners are the same in a later matrix (a batch of
    # counterfactuals changes one or two pairs) has the same output factors and incident risks
    mutual0 = np.empty((n, n), dtype=np.bool_)
    partners0 = np.empty((n, s_n))
    factor0 = np.empty((n, s_n))
    share0 = np.empty((n, n))
    lost0 = np.empty(n)
    as_first = np.zeros(n, dtype=np.bool_)
    r0 = np.empty((R if batch > 1 else 0, n))  # its per-nation results
    shipped0 = np.empty(n)  # and its market's inputs and results
    m0 = np.empty((MK, n))
    pain0 = np.empty((n, n))

    for b in range(batch):
        r = out[b if keep else 0]
        if not keep and b > 0:
            r[:] = 0.0
        m = mk[b if keep else 0]
        comp = compete[b]
        own_lunar = not lunar_same[b]
        for i in range(n if own_lunar else 0):
            as_first[i] = b > 0 and not detail  # (a detailed batch records all of it)
            if as_first[i] and not touched[b, i]:  # (its partners are the first matrix's)
                continue
            for j in range(n):
                mutual[i, j] = (i != j and actions[b, i, j] and may[i, j] and actions[b, j, i]
                                and may[j, i])
                if b == 0:
                    mutual0[i, j] = mutual[i, j]
                elif mutual[i, j] != mutual0[i, j]:
                    as_first[i] = False
        if not own_lunar:  # (steps 4 and 5, and the operating costs, are the first matrix's)
            as_first[:] = True
            reserve_after[b] = reserve_after[0]
            for i in range(n):
                r[R_PROPELLANT, i] = r0[R_PROPELLANT, i]
                r[R_REE_MINED, i] = r0[R_REE_MINED, i]
                r[R_PARTNER_SHARE, i] = r0[R_PARTNER_SHARE, i]
                r[R_REE_SHIPPED, i] = r0[R_REE_SHIPPED, i]

        # 4. Extract: exposure to hostile operators, partners, the output factor; reserves
        for i in range(n if own_lunar else 0):
            if as_first[i]:
                for c in range(s_n):
                    partners[i, c] = partners0[i, c]
                    factor[i, c] = factor0[i, c]
                    product[i, c] = worked_all[b, i, c] * factor[i, c] * yield_t[c]
                continue
            hostile_load[:] = 0.0
            partner_load[:] = 0.0
            for j in range(n):
                if j == i:
                    continue
                if mutual[i, j]:
                    for c in range(s_n):
                        partner_load[c] += demand[j, c]
                else:
                    for c in range(s_n):
                        hostile_load[c] += demand[j, c]
            for c in range(s_n):
                exposure = ratio(hostile_load[c], load[c])
                partners[i, c] = ratio(partner_load[c], load[c])
                f = 1.0 + p[P_SYNERGY] * partners[i, c] - p[P_INTERFERENCE] * exposure
                factor[i, c] = f if f > 0.0 else 0.0
                product[i, c] = worked_all[b, i, c] * factor[i, c] * yield_t[c]
                if detail:
                    per_site[b, RS_EXPOSURE, i, c] = exposure
                    per_site[b, RS_FACTOR, i, c] = factor[i, c]
                if b == 0:
                    partners0[i, c] = partners[i, c]
                    factor0[i, c] = factor[i, c]
        for c in range(s_n if own_lunar else 0):
            wanted_c = 0.0
            for i in range(n):
                wanted_c += product[i, c]
            scale = min(1.0, ratio(reserve[c], wanted_c)) if wanted_c > 0.0 else 1.0
            left = reserve[c]
            for i in range(n):
                product[i, c] *= scale
                worked[i, c] = worked_all[b, i, c] * scale
                left -= product[i, c]
            reserve_after[b, c] = left if left > 0.0 else 0.0

        # 5. Use: propellant; rare earths shipped where the price pays the trip
        for i in range(n if own_lunar else 0):
            share_partners = 0.0
            for c in range(s_n):
                share_partners += presence[i, c] * partners[i, c]
                if is_ice[c]:
                    r[R_PROPELLANT, i] += product[i, c]
                else:
                    r[R_REE_MINED, i] += product[i, c]
            r[R_PARTNER_SHARE, i] = share_partners
            r[R_REE_SHIPPED, i] = r[R_REE_MINED, i] if p[P_REE] > 0.0 else 0.0

        # 6. Market: the first matrix's where nothing it reads differs (what is shipped, the
        # holder's trade both ways, and whom it races where a control falls on its rivals)
        as_first_market = b > 0 and not detail
        for j in range(n if as_first_market else 0):
            as_first_market = (as_first_market and r[R_REE_SHIPPED, j] == shipped0[j]
                               and (h < 0 or (trade[b, h, j] == trade[0, h, j]
                                              and trade[b, j, h] == trade[0, j, h]
                                              and (has_named or mp[MP_CONTROL_ACTIVE] <= 0.0
                                                   or comp[h, j] == compete[0, h, j]))))
        if as_first_market:
            scalars[b, 0], scalars[b, 1] = scalars[0, 0], scalars[0, 1]
            m[:, :] = m0
            pain[:, :] = pain0
        else:
            scalars[b, 0], scalars[b, 1], _, _ = market_step(
                comp, trade[b], r[R_REE_SHIPPED], h, named, has_named, wanted, refined, built,
                mp, severity, retaliated, lunar, fl, m, pain)
            if b == 0 and batch > 1:
                shipped0[:] = r[R_REE_SHIPPED]
                m0[:, :] = m
                pain0[:, :] = pain

        # 7. Incidents: uncoordinated pairs at the same sites, more often with distrust
        for i in range(n):
            if as_first[i]:  # (it keeps the first matrix's losses: its row is not read)
                continue
            for j in range(n):
                chance = 0.0 if mutual[i, j] else hostile_chance[i, j]
                if draw:
                    lo, hi = min(i, j), max(i, j)
                    hit = (lo != hi and uniforms[lo, hi] < chance) or forced[i, j]
                    pair_log[i, j] = incident_log[i, j] if hit else 0.0
                    if detail:
                        incidents[b, i, j] = hit
                elif chance > 0.0:
                    pair_log[i, j] = chance * incident_log[i, j]
                else:
                    pair_log[i, j] = 0.0
        for i in range(n):  # the capacity each keeps, and who caused its loss
            if as_first[i]:
                for j in range(n):
                    share[i, j] = share0[i, j]
                r[R_CAPACITY_LOST, i] = lost0[i]
                continue
            kept_log = 0.0
            wiped = 0
            for j in range(n):
                kept_log += pair_log[i, j]
                if np.isinf(pair_log[i, j]):
                    wiped += 1
            for j in range(n):
                if wiped > 0:
                    share[i, j] = (1.0 / wiped) if np.isinf(pair_log[i, j]) else 0.0
                else:
                    share[i, j] = ratio(-pair_log[i, j], -kept_log)
            r[R_CAPACITY_LOST, i] = capacity[i] * -np.expm1(kept_log)
            if b == 0:
                lost0[i] = r[R_CAPACITY_LOST, i]
                for j in range(n):
                    share0[i, j] = share[i, j]

        # 8. Payoffs (USD bn this step)
        members, pooled = 0, 0.0
        for i in range(n):
            r[R_PROPELLANT_VALUE, i] = r[R_PROPELLANT, i] * p[P_PROPELLANT]
            r[R_REE_REVENUE, i] = r[R_REE_SHIPPED, i] * p[P_REE]
            r[R_GROSS, i] = r[R_PROPELLANT_VALUE, i] + r[R_REE_REVENUE, i]
            if own_lunar:
                cost = 0.0
                for c in range(s_n):
                    cost += worked[i, c] * op_cost[c]
                r[R_OPERATING, i] = cost / USD_PER_BN
            else:
                r[R_OPERATING, i] = r0[R_OPERATING, i]
            destroyed = ratio(r[R_CAPACITY_LOST, i], capacity[i])
            r[R_INCIDENT_LOSS, i] = capital[i] * destroyed
            r[R_DEPRECIATION, i] = capital[i] * (1.0 - destroyed) * (1.0 - p[P_SURVIVAL])
            if sharing[i]:
                members += 1
                pooled += p[P_BENEFIT] * r[R_GROSS, i]
        if p[P_BENEFIT] > 0.0 and members > 0:  # benefit sharing: equal parts of the pool
            for i in range(n):
                if sharing[i]:
                    r[R_TRANSFERS, i] = pooled / members - p[P_BENEFIT] * r[R_GROSS, i]
        # A breach is racing a member and taking throughput from it. The regime detects it with
        # a probability its pooled fees buy; the expected fine is that probability times a
        # multiple of what the breach took (Becker 1968), escalating with the breaker's
        # record; no regime takes more from a nation in a step than its operations produce.
        for i in range(n if monitoring else 0):
            rate = p[P_DETECTION] * p[P_FINE] * (1.0 + p[P_ESCALATION] * breach_record[i])
            due = 0.0
            for j in range(n):
                fines[i, j] = 0.0
                # (the value moved is computed only where a regime monitors someone)
                if comp[i, j] and monitored[i, j] and moved_all[b, i, j] > 0.0:
                    fines[i, j] = moved_all[b, i, j] * rate
                    due += fines[i, j]
                    r[R_BREACHES, i] += 1.0
            scale = min(1.0, ratio(r[R_GROSS, i], due))
            for j in range(n):
                fines[i, j] *= scale
        for i in range(n if monitoring or liability else 0):
            for j in range(n):
                if monitoring:
                    r[R_SANCTIONS, i] += fines[j, i] - fines[i, j]
                if liability and comp[j, i] and not comp[i, j] and liable[j, i]:
                    # j raced i, i did not race j
                    owed = p[P_LIABILITY] * r[R_INCIDENT_LOSS, i] * share[i, j]
                    r[R_LIABILITY, i] += owed
                    r[R_LIABILITY, j] -= owed
        for i in range(n):
            r[R_ENTRY, i] = entry[i]
            r[R_RETALIATION, i] = m[MK_RETALIATION_COST, i]
            r[R_WELFARE, i] = (r[R_GROSS, i] - r[R_OPERATING, i] - r[R_DEPRECIATION, i]
                               - r[R_INCIDENT_LOSS, i] + r[R_TRANSFERS, i] + r[R_SANCTIONS, i]
                               + r[R_LIABILITY, i] - entry[i] - m[MK_SHORTFALL_COST, i]
                               - m[MK_EXPORT_LOST, i] - m[MK_PREMIUM, i]
                               - m[MK_RETALIATION_COST, i])
            if p[P_COERCION] > 0.0 and as_first_market:  # (the first matrix's pain)
                r[R_COERCION, i] = r0[R_COERCION, i]
            elif p[P_COERCION] > 0.0:
                coerced = 0.0
                for j in range(n):
                    coerced += (1.0 - trust[i, j]) * pain[i, j]
                r[R_COERCION, i] = p[P_COERCION] * coerced
        for i in range(n):  # less the relative-gains term (Grieco 1988)
            behind = 0.0
            if n > 1 and p[P_RELATIVE] != 0.0:  # (else it weighs nothing)
                for j in range(n):
                    gap = r[R_WELFARE, j] - r[R_WELFARE, i]
                    if gap > 0.0:
                        behind += gap
                behind /= n - 1
            r[R_UTILITY, i] = r[R_WELFARE, i] + r[R_COERCION, i] - p[P_RELATIVE] * behind
            utility[b, i] = r[R_UTILITY, i]
        if detail:  # what the gross output is made of, and where
            for i in range(n):
                for c in range(s_n):
                    w = worth[c]
                    unscaled = worked_all[b, i, c]
                    r[R_POTENTIAL, i] += demand[i, c] * w
                    r[R_CROWDING, i] += (demand[i, c] - unscaled) * w
                    r[R_EXHAUSTION, i] += (unscaled - worked[i, c]) * w
                    r[R_SYNERGY, i] += worked[i, c] * p[P_SYNERGY] * partners[i, c] * w
                    r[R_INTERFERENCE, i] += (worked[i, c] * (1.0 + p[P_SYNERGY] * partners[i, c]
                                                             - factor[i, c]) * w)
                    per_site[b, RS_WORKED, i, c] = worked[i, c]
                    per_site[b, RS_PRODUCT, i, c] = product[i, c]
        if b == 0 and batch > 1:
            r0[:, :] = r
    return utility, out, mk, scalars, reserve_after, per_site, incidents
