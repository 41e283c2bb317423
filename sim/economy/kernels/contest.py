"""Step 4's pairwise contest, compiled (section 7.4 of docs/ODD.md)."""

from __future__ import annotations

import numba
import numpy as np

from sim.economy.kernels.common import ratio


@numba.njit(cache=True, error_model="numpy")
def contest(demand, capacity, compete, respects, race_advantage, zone_share, worth):
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
    # each pair's racing weight, and the transposes the pair loop reads, in memory order
    raced_by = np.empty_like(compete)  # raced_by[b, i, j] = compete[b, j, i]
    for b in range(batch):
        raced_by[b] = compete[b].T
    respects_t = np.ascontiguousarray(respects.T)
    weight = race_advantage * (1.0 - zone_share * respects)  # rho, less a respected zone's share
    weight_t = np.ascontiguousarray(weight.T)
    same = np.zeros(batch, dtype=np.bool_)  # the same races as the first matrix: its results
    for b in range(1, batch):
        same[b] = (compete[b] == compete[0]).all()
    out = np.empty((batch, n, s))
    moved = np.zeros((batch, n, n))
    for b in range(batch):
        out[b] = demand
    gross = np.zeros((n, n))  # over the site's operators only: [k, l] for active[k], active[l]
    y0 = np.empty(n)
    share = np.empty(n)  # y0_i / (L - d_i): a_ij = share_i d_j
    excess = np.empty(n)  # (d_i - y0_i) / (L - d_i): what a zone keeps out of the contest
    active = np.empty(n, dtype=np.int64)  # the site's operators (nobody else gives or gets)
    given = np.empty(n)
    gave = np.empty(n)
    for c in range(s):
        total = 0.0
        m = 0
        for i in range(n):
            total += demand[i, c]
            if demand[i, c] > 0.0:
                active[m] = i
                m += 1
        if not total > capacity[c]:
            continue
        for i in range(n):
            y0[i] = demand[i, c] * (capacity[c] / total)
            others = total - demand[i, c]
            share[i] = ratio(y0[i], others)
            excess[i] = ratio(demand[i, c] - y0[i], others)
        for b in range(batch):
            if same[b]:
                continue
            for q in range(m):
                given[q] = 0.0
                gave[q] = 0.0
            for k in range(m):  # what the settlement moves, net from j to i
                i = active[k]
                di = demand[i, c]
                for q in range(m):
                    j = active[q]
                    dj = demand[j, c]
                    flow = 0.0
                    if zone_share > 0.0:
                        flow = zone_share * (respects_t[i, j] * excess[i] * dj
                                             - respects[i, j] * excess[j] * di)
                    if compete[b, i, j] or raced_by[b, i, j]:  # else: the pool pro rata
                        wi = 1.0 + compete[b, i, j] * weight[i, j]
                        wj = 1.0 + raced_by[b, i, j] * weight_t[i, j]
                        pool = share[i] * dj + share[j] * di
                        # pool (w_i d_i / (w_i d_i + w_j d_j) - d_i / (d_i + d_j)), in one
                        # fraction (0 where its terms underflow: demands below 1e-160 t)
                        flow += ratio(pool * di * dj * (wi - wj), (wi * di + wj * dj) * (di + dj))
                    flow = flow if flow > 0.0 else 0.0
                    gross[k, q] = flow if i != j else 0.0
                    given[q] += gross[k, q]
            flows = False
            for q in range(m):
                flows = flows or given[q] > 0.0
            if not flows:  # nobody races, no zone returns anything: the pro-rata shares
                for k in range(m):
                    i = active[k]
                    out[b, i, c] = min(max(y0[i], 0.0), demand[i, c])
                continue
            # nobody gives more than its pro-rata share, nor gets more than it brought (row by
            # row: the matrix is read in memory order)
            for q in range(m):
                given[q] = min(1.0, ratio(y0[active[q]], given[q]))  # now the column's scale
            for k in range(m):
                i = active[k]
                taken = 0.0
                for q in range(m):
                    gross[k, q] *= given[q]
                    taken += gross[k, q]
                scale = min(1.0, ratio(demand[i, c] - y0[i], taken))
                got = 0.0
                for q in range(m):
                    gross[k, q] *= scale
                    got += gross[k, q]
                    gave[q] += gross[k, q]
                    moved[b, i, active[q]] += gross[k, q] * worth[c]
                out[b, i, c] = y0[i] + got  # less what it gave, below
            for q in range(m):
                i = active[q]
                out[b, i, c] = min(max(out[b, i, c] - gave[q], 0.0), demand[i, c])
    for b in range(1, batch):
        if same[b]:
            out[b] = out[0]
            moved[b] = moved[0]
    return out, moved
