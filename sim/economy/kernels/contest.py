"""Step 4's pairwise contest, compiled (section 7.4 of docs/ODD.md)."""

from __future__ import annotations

import numba
import numpy as np

from sim.economy.kernels.common import ratio, repeated


@numba.njit(cache=True, error_model="numpy")
def contest(demand, capacity, compete, respects, race_advantage, zone_share, worth, value_moved):
    """Step 4, the pairwise contest over a batch [B] of who races whom (``compete[b, i, j]``:
    i chose D toward j): regolith each operator works at each site [B, N, S] (section 7.4 of
    docs/ODD.md), and ``moved`` [B, N, N]: the value of the throughput the settlement moved from
    j to i, summed over sites at ``worth`` (each site's value of a tonne worked [S]).

    A site with room works all that is brought. At a crowded site operator *i* starts from its
    pro-rata share ``y0_i = d_i K / L``, of which ``a_ij = y0_i d_j / (L - d_i)`` faces rival *j*
    (its share of the crowding *j* causes). Each pair then settles its pool ``a_ij + a_ji``
    between themselves, and only between themselves:

    * **racing** (D) weighs ``1 + rho`` against a rival who does not race back: the pool is
      split in proportion to weight times demand instead of demand (two racers, or two who
      coordinate, share it pro rata; in a two-operator site this is the priority share
      ``(1 + rho) d_i / ((1 + rho) d_i + d_j)``);
    * a **safety zone** (Artemis Accords, section 11) of *i*, respected by *j*
      (``respects[j, i]``), keeps ``zone_share`` of *i*'s operations out of the contest: *j*
      returns that share of the throughput its crowding took from *i*, and *j*'s racing weighs
      only ``rho (1 - zone_share)`` against *i*. Neither depends on what *i* plays: a zone is
      protection, not a reward for racing.

    What a pair settles moves throughput from one of them to the other; no operator gives more
    than its pro-rata share or gets more than it brought (where those bounds bind, its flows are
    scaled down).
    """
    n, s = demand.shape
    batch = compete.shape[0]
    respects_t = np.ascontiguousarray(respects.T)
    weight = race_advantage * (1.0 - zone_share * respects)  # rho, less a respected zone's share
    weight_t = np.ascontiguousarray(weight.T)
    raced_by = np.ascontiguousarray(compete[0].T)  # raced_by[i, j]: j races i, read in memory order
    # Matrices after the first are settled as changes to the first one's settlement: a
    # forward-looking batch changes one or two pairs' races a matrix. Only the flows of pairs
    # whose races differ are computed again, and only the column sums, rows and bounds they
    # touch; everything else is the first matrix's, so every number is the one a whole
    # settlement would give, to the last bit (the same expressions of the same operands, summed
    # in the same order).
    same = np.zeros(batch, dtype=np.bool_)  # the same races as the first matrix: its results
    start = np.zeros(batch + 1, dtype=np.int64)  # the pairs (i < j) whose races differ, by matrix
    for b in range(1, batch):
        count = 0
        for i in range(n):
            for j in range(i + 1, n):
                if (compete[b, i, j] != compete[0, i, j]) or (compete[b, j, i] != compete[0, j, i]):
                    count += 1
        same[b] = count == 0
        start[b + 1] = start[b] + count
    first = np.empty(start[batch], dtype=np.int64)
    second = np.empty(start[batch], dtype=np.int64)
    for b in range(1, batch):
        at = start[b]
        for i in range(n):
            for j in range(i + 1, n):
                if (compete[b, i, j] != compete[0, i, j]) or (compete[b, j, i] != compete[0, j, i]):
                    first[at], second[at] = i, j
                    at += 1
    out = repeated(demand, batch)
    moved = np.zeros((batch, n, n) if value_moved else (batch, 0, 0))
    # at a crowded site, over its operators ([k, l] for active[k], active[l]): the first
    # matrix's flows, sums, scales and settlement, and the matrix being settled (the first
    # one's with its changes, which are undone after it)
    keep = batch > 1  # (one matrix: nothing to keep)
    flows0 = np.zeros((n, n) if keep else (0, 0))
    sums0, scales0, got0, gave0 = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    settled0 = np.zeros((n, n) if keep else (0, 0))
    flows, sums, scales, takes = np.zeros((n, n)), np.empty(n), np.empty(n), np.empty(n)
    settled = np.zeros((n, n)) if keep else flows  # (one matrix: its flows are settled in place)
    got, gave = np.empty(n), np.empty(n)
    cols, rows, gave_cols = (np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
                             np.empty(n, dtype=np.int64))  # (what changed, listed)
    column_changed = np.zeros(n, dtype=np.bool_)
    row_changed = np.zeros(n, dtype=np.bool_)
    gave_changed = np.zeros(n, dtype=np.bool_)
    y0 = np.empty(n)
    brought, their_share, their_excess = np.empty(n), np.empty(n), np.empty(n)
    share = np.empty(n)  # y0_i / (L - d_i): a_ij = share_i d_j
    excess = np.empty(n)  # (d_i - y0_i) / (L - d_i): what a zone keeps out of the contest
    active = np.empty(n, dtype=np.int64)  # the site's operators (nobody else gives or gets)
    position = np.full(n, -1, dtype=np.int64)  # each nation's place among them, or -1
    for c in range(s):
        total = 0.0
        m = 0
        for i in range(n):
            total += demand[i, c]
            position[i] = -1
            if demand[i, c] > 0.0:
                active[m] = i
                position[i] = m
                m += 1
        if not total > capacity[c]:
            continue
        for i in range(n):
            y0[i] = demand[i, c] * (capacity[c] / total)
            others = total - demand[i, c]
            share[i] = ratio(y0[i], others)
            excess[i] = ratio(demand[i, c] - y0[i], others)
        # what the first matrix's settlement moves, net from j to i, before the bounds, and
        # what each would give (column sums) and take (row sums) in all: each pair once, both
        # ways, every sum still over its terms in ascending order
        for q in range(m):
            sums[q] = 0.0
            takes[q] = 0.0
            brought[q] = demand[active[q], c]  # (the site's operators' numbers, side by side)
            their_share[q] = share[active[q]]
            their_excess[q] = excess[active[q]]
        for k in range(m):
            i = active[k]
            di, share_i, excess_i = brought[k], their_share[k], their_excess[k]
            races, raced, w, w_t = compete[0, i], raced_by[i], weight[i], weight_t[i]
            zone_of, zone_for = respects_t[i], respects[i]
            gives, takes_k = sums[k], takes[k]  # (locals: in registers through the row)
            flows[k, k] = 0.0
            for q in range(k + 1, m):
                j = active[q]
                into_k, into_q = _pair(di, brought[q], races[j], raced[j], w[j], w_t[j],
                                       zone_of[j], zone_for[j], share_i, their_share[q],
                                       excess_i, their_excess[q], zone_share)
                flows[k, q], flows[q, k] = into_k, into_q
                sums[q] += into_k
                gives += into_q
                takes_k += into_k
                takes[q] += into_q
            sums[k], takes[k] = gives, takes_k
            if keep:
                for q in range(m):
                    flows0[k, q] = flows[k, q]
        positive0 = 0  # the first matrix's givers whose flows give something
        for b in range(batch):
            if same[b]:
                continue
            n_cols = n_rows = n_gave = 0
            if b == 0:  # every column and row is its own
                for q in range(m):
                    scales[q] = min(1.0, ratio(y0[active[q]], sums[q]))
                    positive0 += sums[q] > 0.0
                positive = positive0
                if not keep:  # nor gets more than it brought: in place
                    _bound_one(m, active, demand[:, c], y0, flows, sums, takes, scales, got, gave)
                for q in range(m if keep else 0):
                    gave[q] = 0.0
            else:  # the first matrix's flows, changed where its races differ: only the
                # columns, rows and sums those changes touch are computed again (listed)
                for at in range(start[b], start[b + 1]):
                    k, q = position[first[at]], position[second[at]]
                    if k >= 0 and q >= 0:
                        i, j = first[at], second[at]
                        di, dj = demand[i, c], demand[j, c]
                        flows[k, q] = _flow(di, dj, compete[b, i, j], compete[b, j, i],
                                            weight[i, j], weight_t[i, j], respects_t[i, j],
                                            respects[i, j], share[i], share[j], excess[i],
                                            excess[j], zone_share)
                        flows[q, k] = _flow(dj, di, compete[b, j, i], compete[b, i, j],
                                            weight[j, i], weight_t[j, i], respects_t[j, i],
                                            respects[j, i], share[j], share[i], excess[j],
                                            excess[i], zone_share)
                        for x in (k, q):
                            if not column_changed[x]:
                                column_changed[x] = row_changed[x] = True
                                cols[n_cols] = rows[n_rows] = x
                                n_cols += 1
                                n_rows += 1
                # nobody gives more than its pro-rata share (a scale per column) ...
                positive = positive0
                for x in range(n_cols):
                    q = cols[x]
                    positive -= sums0[q] > 0.0
                    sums[q] = 0.0
                    for k in range(m):
                        sums[q] += flows[k, q]
                    positive += sums[q] > 0.0
                    scales[q] = min(1.0, ratio(y0[active[q]], sums[q]))
                    if scales[q] != scales0[q]:  # every row taking from it changes
                        for k in range(m):
                            if flows[k, q] != 0.0 and not row_changed[k]:
                                row_changed[k] = True
                                rows[n_rows] = k
                                n_rows += 1
            # ... nor gets more than it brought (row by row: in memory order; the first matrix's
            # every row where it keeps them for the later ones, a later one's changed rows)
            for x in range(n_rows if b > 0 else m if keep else 0):
                k = rows[x] if b > 0 else x
                i = active[k]
                taken = 0.0
                for q in range(m):
                    settled[k, q] = flows[k, q] * scales[q]
                    taken += settled[k, q]
                scale = min(1.0, ratio(demand[i, c] - y0[i], taken))
                total = 0.0  # (a local: the compiler keeps it in a register)
                for q in range(m):
                    settled[k, q] *= scale
                    total += settled[k, q]
                    if b == 0:
                        gave[q] += settled[k, q]
                    elif settled[k, q] != settled0[k, q] and not gave_changed[q]:
                        gave_changed[q] = True
                        gave_cols[n_gave] = q
                        n_gave += 1
                got[k] = total
            if b > 0:
                for x in range(n_gave):
                    q = gave_cols[x]
                    gave[q] = 0.0
                    for k in range(m):
                        gave[q] += settled[k, q]
            # each operator: its pro-rata share, what it got and what it gave, within what it
            # brought (its pro-rata share alone where nobody races and no zone returns anything)
            anything = positive > 0
            every = b == 0 or anything != (positive0 > 0) or value_moved
            if not every:  # the first matrix's, but where a row or a sum changed
                for k in range(m):
                    out[b, active[k], c] = out[0, active[k], c]
            for x in range(m if every else n_rows + n_gave):
                k = x if every else (rows[x] if x < n_rows else gave_cols[x - n_rows])
                i = active[k]
                if anything:
                    out[b, i, c] = min(max(y0[i] + got[k] - gave[k], 0.0), demand[i, c])
                    if value_moved:
                        for q in range(m):
                            if settled[k, q] != 0.0:  # (at least half of them are)
                                moved[b, i, active[q]] += settled[k, q] * worth[c]
                else:
                    out[b, i, c] = min(max(y0[i], 0.0), demand[i, c])
            if b == 0 and keep:  # kept, for the matrices after it
                for q in range(m):
                    sums0[q], scales0[q], got0[q], gave0[q] = sums[q], scales[q], got[q], gave[q]
                    for l in range(m):
                        settled0[q, l] = settled[q, l]
            elif b > 0:  # back to the first matrix's
                for at in range(start[b], start[b + 1]):
                    k, q = position[first[at]], position[second[at]]
                    if k >= 0 and q >= 0:
                        flows[k, q], flows[q, k] = flows0[k, q], flows0[q, k]
                for x in range(n_cols):
                    q = cols[x]
                    sums[q], scales[q] = sums0[q], scales0[q]
                    column_changed[q] = False
                for x in range(n_rows):
                    k = rows[x]
                    got[k] = got0[k]
                    for l in range(m):
                        settled[k, l] = settled0[k, l]
                    row_changed[k] = False
                for x in range(n_gave):
                    q = gave_cols[x]
                    gave[q] = gave0[q]
                    gave_changed[q] = False
    for b in range(1, batch):
        if same[b]:
            out[b] = out[0]
            if value_moved:
                moved[b] = moved[0]
    return out, moved


@numba.njit(cache=True, error_model="numpy")
def _flow(di, dj, i_races, j_races, wi_race, wj_race, i_zone, j_zone, share_i, share_j,
          excess_i, excess_j, zone_share):
    """What a pair's settlement at a site moves from j to i before the bounds (0 where it moves
    the other way), from the pair's demands ``di``, ``dj``: the return of i's zone where j
    respects it (``i_zone``) less that of j's where i does (``j_zone``), and the pool split by
    the racing weights (``1 + wi_race`` for i where it races) where either races the other.
    Scalars only: numba passes arrays to a function at a cost that would dominate the
    contest."""
    flow = 0.0
    if zone_share > 0.0:
        flow = zone_share * (i_zone * excess_i * dj - j_zone * excess_j * di)
    if i_races or j_races:  # else: the pool pro rata
        wi = 1.0 + i_races * wi_race
        wj = 1.0 + j_races * wj_race
        pool = share_i * dj + share_j * di
        # pool (w_i d_i / (w_i d_i + w_j d_j) - d_i / (d_i + d_j)), in one fraction (0 where
        # its terms underflow: demands below 1e-160 t)
        flow += ratio(pool * di * dj * (wi - wj), (wi * di + wj * dj) * (di + dj))
    return flow if flow > 0.0 else 0.0


@numba.njit(cache=True, error_model="numpy")
def _bound_one(m, active, demand, y0, settled, sums, takes, scales, got, gave):
    """The bounds of a single matrix's settlement at a site, in place (``settled`` holds its
    flows; ``sums`` and ``takes`` their column and row sums; ``scales`` the givers' scales):
    what each operator got and gave. Where no bound binds (every scale 1, or nothing to scale)
    the flows are the settlement and their sums what each gets and gives, with no pass over the
    matrix; the numbers are the general settlement's to the last bit (a product by 1 changes
    nothing, and every sum runs over the same terms in the same order)."""
    free = True
    for q in range(m):
        free = free and (scales[q] == 1.0 or sums[q] == 0.0)
    rescaled = not free
    for k in range(m):
        if free:
            taken = takes[k]
        else:
            taken = 0.0
            for q in range(m):
                settled[k, q] *= scales[q]
                taken += settled[k, q]
        scale = min(1.0, ratio(demand[active[k]] - y0[active[k]], taken))
        if scale == 1.0 or taken == 0.0:  # (nothing taken: nothing to scale)
            got[k] = taken
        else:
            total = 0.0
            for q in range(m):
                settled[k, q] *= scale
                total += settled[k, q]
            got[k] = total
            rescaled = True
    for q in range(m):
        gave[q] = 0.0 if rescaled else sums[q]
    for k in range(m if rescaled else 0):
        for q in range(m):
            gave[q] += settled[k, q]


@numba.njit(cache=True, error_model="numpy")
def _pair(di, dj, i_races, j_races, wi_race, wj_race, i_zone, j_zone, share_i, share_j,
          excess_i, excess_j, zone_share):
    """A pair's flows both ways (to i, to j): :func:`_flow` of (i, j) and of (j, i), to the last
    bit, with one division where those two would take two. Without a zone's return the pair's
    race moves throughput only toward the heavier weight, so only that way is computed (the
    other is 0: its numerator has the opposite sign)."""
    zi = zj = 0.0
    if zone_share > 0.0:
        to_i = i_zone * excess_i * dj
        to_j = j_zone * excess_j * di
        zi = zone_share * (to_i - to_j)
        zj = zone_share * (to_j - to_i)
    if not (i_races or j_races):
        return (zi if zi > 0.0 else 0.0), (zj if zj > 0.0 else 0.0)
    wi = 1.0 + i_races * wi_race
    wj = 1.0 + j_races * wj_race
    pool = share_i * dj + share_j * di
    den = (wi * di + wj * dj) * (di + dj)
    if zi == 0.0 and zj == 0.0:
        if wi > wj:
            flow = ratio(pool * di * dj * (wi - wj), den)
            return (flow if flow > 0.0 else 0.0), 0.0
        if wj > wi:
            flow = ratio(pool * dj * di * (wj - wi), den)
            return 0.0, (flow if flow > 0.0 else 0.0)
        return 0.0, 0.0
    fi = zi + ratio(pool * di * dj * (wi - wj), den)
    fj = zj + ratio(pool * dj * di * (wj - wi), den)
    return (fi if fi > 0.0 else 0.0), (fj if fj > 0.0 else 0.0)
