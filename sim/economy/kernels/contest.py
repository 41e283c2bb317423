"""Step 4's pairwise contest, compiled (section 7.4 of docs/ODD.md)."""

from __future__ import annotations

import numba
import numpy as np

from sim.economy.kernels.common import ratio


@numba.njit(cache=True)
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
    same = np.zeros(batch, dtype=np.bool_)  # the same races as the first matrix: its results
    for b in range(1, batch):
        same[b] = (compete[b] == compete[0]).all()
    out = np.empty((batch, n, s))
    moved = np.zeros((batch, n, n))
    for b in range(batch):
        out[b] = demand
    gross = np.zeros((n, n))
    y0 = np.empty(n)
    others = np.empty(n)
    # what each pair settles but for who races whom (the same for every action matrix)
    pool = np.empty((n, n))  # a_ij + a_ji
    pro_rata = np.empty((n, n))  # d_i / (d_i + d_j)
    zones = np.empty((n, n))  # what the zones return to i, less what they return to j
    for c in range(s):
        total = 0.0
        for i in range(n):
            total += demand[i, c]
        if not total > capacity[c]:
            continue
        for i in range(n):
            y0[i] = demand[i, c] * (capacity[c] / total)
            others[i] = total - demand[i, c]
        for i in range(n):
            di = demand[i, c]
            for j in range(n):
                dj = demand[j, c]
                pool[i, j] = y0[i] * ratio(dj, others[i]) + y0[j] * ratio(di, others[j])
                pro_rata[i, j] = ratio(di, di + dj)
                kept = zone_share * respects[j, i] * ((di - y0[i]) * ratio(dj, others[i]))
                back = zone_share * respects[i, j] * ((dj - y0[j]) * ratio(di, others[j]))
                zones[i, j] = kept - back
        for b in range(batch):
            if same[b]:
                continue
            flows = False
            for i in range(n):  # what the settlement moves, net from j to i
                di = demand[i, c]
                for j in range(n):
                    flow = zones[i, j]
                    if i == j:
                        flow = 0.0
                    elif compete[b, i, j] or compete[b, j, i]:  # else: the pool pro rata
                        dj = demand[j, c]
                        wi = 1.0 + compete[b, i, j] * (race_advantage
                                                       * (1.0 - zone_share * respects[i, j]))
                        wj = 1.0 + compete[b, j, i] * (race_advantage
                                                       * (1.0 - zone_share * respects[j, i]))
                        flow += pool[i, j] * (ratio(wi * di, wi * di + wj * dj) - pro_rata[i, j])
                    gross[i, j] = flow if flow > 0.0 else 0.0
                    flows = flows or flow > 0.0
            if not flows:  # nobody races, no zone returns anything: the pro-rata shares
                for i in range(n):
                    out[b, i, c] = min(max(y0[i], 0.0), demand[i, c])
                continue
            for j in range(n):  # nobody gives more than its pro-rata share
                given = 0.0
                for i in range(n):
                    given += gross[i, j]
                scale = min(1.0, ratio(y0[j], given))
                for i in range(n):
                    gross[i, j] *= scale
            for i in range(n):  # nobody gets more than it brought
                taken = 0.0
                for j in range(n):
                    taken += gross[i, j]
                scale = min(1.0, ratio(demand[i, c] - y0[i], taken))
                for j in range(n):
                    gross[i, j] *= scale
            for i in range(n):
                got, gave = 0.0, 0.0
                for j in range(n):
                    got += gross[i, j]
                    gave += gross[j, i]
                    moved[b, i, j] += gross[i, j] * worth[c]
                out[b, i, c] = min(max(y0[i] + got - gave, 0.0), demand[i, c])
    for b in range(1, batch):
        if same[b]:
            out[b] = out[0]
            moved[b] = moved[0]
    return out, moved
