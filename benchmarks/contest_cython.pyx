# cython: boundscheck=False, wraparound=False, cdivision=True, language_level=3
"""The pairwise contest of ``sim/economy/kernels/contest.py`` in Cython, line for line (the
first matrix's flows computed once per pair, both ways, by ``_pair``; a single matrix's bounds
settled in place by ``_bound_one``; the matrices after a batch's first settled as changes to its
settlement, their changed pairs' flows by ``_flow``; the helpers inline, on scalars or array
views): the alternative compiler ``benchmarks/compilers.py`` measures numba against (never used
by a run)."""

import numpy as np

cimport numpy as cnp


cdef inline double ratio(double num, double den) noexcept nogil:
    return num / den if den > 0.0 else 0.0


def contest(double[:, ::1] demand, double[::1] capacity, cnp.npy_bool[:, :, ::1] compete,
            cnp.npy_bool[:, ::1] respects, double race_advantage, double zone_share,
            double[::1] worth, bint value_moved):
    cdef Py_ssize_t n = demand.shape[0], s = demand.shape[1], batch = compete.shape[0]
    cdef Py_ssize_t b, c, i, j, k, q, l, m
    cdef cnp.int64_t count, at
    cdef double total, others, di, dj, taken, scale
    cdef double share_i, excess_i, gives, takes_k, into_k, into_q
    cdef bint anything
    cdef cnp.npy_bool[::1] races, raced, zone_of, zone_for
    cdef double[::1] w, w_t
    cdef cnp.npy_bool[:, ::1] respects_t = np.ascontiguousarray(np.asarray(respects).T)
    weight_a = race_advantage * (1.0 - zone_share * np.asarray(respects))
    cdef double[:, ::1] weight = weight_a
    cdef double[:, ::1] weight_t = np.ascontiguousarray(weight_a.T)
    # raced_by[i, j]: j races i, read in memory order
    cdef cnp.npy_bool[:, ::1] raced_by = np.ascontiguousarray(np.asarray(compete)[0].T)
    # the matrices with the same races as the first, and the pairs (i < j) whose races differ
    same_a = np.zeros(batch, dtype=bool)
    start_a = np.zeros(batch + 1, dtype=np.int64)
    cdef cnp.npy_bool[::1] same = same_a
    cdef cnp.int64_t[::1] start = start_a
    with nogil:
        for b in range(1, batch):
            count = 0
            for i in range(n):
                for j in range(i + 1, n):
                    if (compete[b, i, j] != compete[0, i, j]) or (compete[b, j, i] != compete[0, j, i]):
                        count = count + 1
            same[b] = count == 0
            start[b + 1] = start[b] + count
    cdef cnp.int64_t[::1] first = np.empty(start[batch], dtype=np.int64)
    cdef cnp.int64_t[::1] second = np.empty(start[batch], dtype=np.int64)
    with nogil:
        for b in range(1, batch):
            at = start[b]
            for i in range(n):
                for j in range(i + 1, n):
                    if (compete[b, i, j] != compete[0, i, j]) or (compete[b, j, i] != compete[0, j, i]):
                        first[at] = i
                        second[at] = j
                        at = at + 1
    out_a = np.empty((batch, n, s))
    moved_a = np.zeros((batch, n if value_moved else 0, n if value_moved else 0))
    out_a[:] = np.asarray(demand)
    cdef double[:, :, ::1] out = out_a
    cdef double[:, :, ::1] moved = moved_a
    # at a crowded site, over its operators ([k, l] for active[k], active[l]): the first
    # matrix's flows, sums, scales and settlement, and the matrix being settled (the first
    # one's with its changes, which are undone after it)
    cdef bint keep = batch > 1  # (one matrix: nothing to keep)
    cdef double[:, ::1] flows0 = np.zeros((n if keep else 0, n if keep else 0))
    cdef double[::1] sums0 = np.empty(n), scales0 = np.empty(n)
    cdef double[::1] got0 = np.empty(n), gave0 = np.empty(n)
    cdef double[:, ::1] settled0 = np.zeros((n if keep else 0, n if keep else 0))
    cdef double[:, ::1] flows = np.zeros((n, n))
    cdef double[::1] sums = np.empty(n), scales = np.empty(n), takes = np.empty(n)
    # (one matrix: its flows are settled in place)
    cdef double[:, ::1] settled = np.zeros((n, n)) if keep else flows
    cdef double[::1] got = np.empty(n), gave = np.empty(n)
    cdef cnp.npy_bool[::1] column_changed = np.zeros(n, dtype=bool)
    cdef cnp.npy_bool[::1] row_changed = np.zeros(n, dtype=bool)
    cdef cnp.npy_bool[::1] gave_changed = np.zeros(n, dtype=bool)
    cdef double[::1] y0 = np.empty(n)
    cdef double[::1] brought = np.empty(n), their_share = np.empty(n), their_excess = np.empty(n)
    cdef double[::1] share = np.empty(n)  # y0_i / (L - d_i): a_ij = share_i d_j
    cdef double[::1] excess = np.empty(n)  # (d_i - y0_i) / (L - d_i): kept out of the contest
    cdef cnp.int64_t[::1] active = np.empty(n, dtype=np.int64)  # the site's operators
    cdef cnp.int64_t[::1] position = np.full(n, -1, dtype=np.int64)  # their places, or -1
    with nogil:
        for c in range(s):
            total = 0.0
            m = 0
            for i in range(n):
                total = total + demand[i, c]
                position[i] = -1
                if demand[i, c] > 0.0:
                    active[m] = i
                    position[i] = m
                    m = m + 1
            if not total > capacity[c]:
                continue
            for i in range(n):
                y0[i] = demand[i, c] * (capacity[c] / total)
                others = total - demand[i, c]
                share[i] = ratio(y0[i], others)
                excess[i] = ratio(demand[i, c] - y0[i], others)
            # what the first matrix's settlement moves, net from j to i, before the bounds, and
            # what each would give (column sums) and take (row sums) in all: each pair once,
            # both ways, every sum still over its terms in ascending order
            for q in range(m):
                sums[q] = 0.0
                takes[q] = 0.0
                brought[q] = demand[active[q], c]  # (the site's operators' numbers, side by side)
                their_share[q] = share[active[q]]
                their_excess[q] = excess[active[q]]
            for k in range(m):
                i = active[k]
                di = brought[k]
                share_i = their_share[k]
                excess_i = their_excess[k]
                races = compete[0, i]
                raced = raced_by[i]
                w = weight[i]
                w_t = weight_t[i]
                zone_of = respects_t[i]
                zone_for = respects[i]
                gives = sums[k]  # (locals: in registers through the row)
                takes_k = takes[k]
                flows[k, k] = 0.0
                for q in range(k + 1, m):
                    j = active[q]
                    into_k, into_q = _pair(di, brought[q], races[j], raced[j], w[j], w_t[j],
                                           zone_of[j], zone_for[j], share_i, their_share[q],
                                           excess_i, their_excess[q], zone_share)
                    flows[k, q] = into_k
                    flows[q, k] = into_q
                    sums[q] = sums[q] + into_k
                    gives = gives + into_q
                    takes_k = takes_k + into_k
                    takes[q] = takes[q] + into_q
                sums[k] = gives
                takes[k] = takes_k
                column_changed[k] = row_changed[k] = gave_changed[k] = True  # the first: all
                if keep:
                    for q in range(m):
                        flows0[k, q] = flows[k, q]
            for b in range(batch):
                if same[b]:
                    continue
                if b > 0:  # the first matrix's flows, changed where its races differ
                    for at in range(start[b], start[b + 1]):
                        k = position[first[at]]
                        q = position[second[at]]
                        if k >= 0 and q >= 0:
                            i = first[at]
                            j = second[at]
                            di = demand[i, c]
                            dj = demand[j, c]
                            flows[k, q] = _flow(di, dj, compete[b, i, j], compete[b, j, i],
                                                weight[i, j], weight_t[i, j], respects_t[i, j],
                                                respects[i, j], share[i], share[j], excess[i],
                                                excess[j], zone_share)
                            flows[q, k] = _flow(dj, di, compete[b, j, i], compete[b, i, j],
                                                weight[j, i], weight_t[j, i], respects_t[j, i],
                                                respects[j, i], share[j], share[i], excess[j],
                                                excess[i], zone_share)
                            column_changed[k] = column_changed[q] = True
                            row_changed[k] = row_changed[q] = True
                # nobody gives more than its pro-rata share (a scale per column: what a giver
                # gives of what its flows would give) ...
                for q in range(m):
                    if column_changed[q]:
                        if b > 0:
                            sums[q] = 0.0
                            for k in range(m):
                                sums[q] = sums[q] + flows[k, q]
                        scales[q] = min(1.0, ratio(y0[active[q]], sums[q]))
                        if b > 0 and scales[q] != scales0[q]:  # every row taking from it changes
                            for k in range(m):
                                if flows[k, q] != 0.0:
                                    row_changed[k] = True
                # ... nor gets more than it brought (row by row: the matrix read in memory order)
                if b == 0 and not keep:
                    _bound_one(m, active, demand[:, c], y0, flows, sums, takes, scales, got, gave)
                if b == 0 and keep:
                    for q in range(m):
                        gave[q] = 0.0
                for k in range(m if b > 0 or keep else 0):
                    if row_changed[k]:
                        i = active[k]
                        taken = 0.0
                        for q in range(m):
                            settled[k, q] = flows[k, q] * scales[q]
                            taken = taken + settled[k, q]
                        scale = min(1.0, ratio(demand[i, c] - y0[i], taken))
                        total = 0.0  # (a local: the compiler keeps it in a register)
                        if b == 0:
                            for q in range(m):
                                settled[k, q] = settled[k, q] * scale
                                total = total + settled[k, q]
                                gave[q] = gave[q] + settled[k, q]
                        else:
                            for q in range(m):
                                settled[k, q] = settled[k, q] * scale
                                total = total + settled[k, q]
                                if settled[k, q] != settled0[k, q]:
                                    gave_changed[q] = True
                        got[k] = total
                if b > 0:
                    for q in range(m):
                        if gave_changed[q]:
                            gave[q] = 0.0
                            for k in range(m):
                                gave[q] = gave[q] + settled[k, q]
                anything = False  # nobody races, no zone returns anything: the pro-rata shares
                for q in range(m):
                    anything = anything or sums[q] > 0.0
                for k in range(m):
                    i = active[k]
                    if anything:
                        # its pro-rata share, what it got and what it gave, within what it brought
                        out[b, i, c] = min(max(y0[i] + got[k] - gave[k], 0.0), demand[i, c])
                        if value_moved:
                            for q in range(m):
                                if settled[k, q] != 0.0:  # (at least half of them are)
                                    moved[b, i, active[q]] = (moved[b, i, active[q]]
                                                              + settled[k, q] * worth[c])
                    else:
                        out[b, i, c] = min(max(y0[i], 0.0), demand[i, c])
                if b > 0:  # back to the first matrix's
                    for at in range(start[b], start[b + 1]):
                        k = position[first[at]]
                        q = position[second[at]]
                        if k >= 0 and q >= 0:
                            flows[k, q] = flows0[k, q]
                            flows[q, k] = flows0[q, k]
                for q in range(m):
                    if b == 0 and keep:  # kept, for the matrices after it
                        sums0[q] = sums[q]
                        scales0[q] = scales[q]
                        got0[q] = got[q]
                        gave0[q] = gave[q]
                        for l in range(m):
                            settled0[q, l] = settled[q, l]
                    elif b > 0:  # back to the first matrix's (one matrix alone keeps nothing)
                        if column_changed[q]:
                            sums[q] = sums0[q]
                            scales[q] = scales0[q]
                        if row_changed[q]:
                            got[q] = got0[q]
                            for l in range(m):
                                settled[q, l] = settled0[q, l]
                        if gave_changed[q]:
                            gave[q] = gave0[q]
                    column_changed[q] = row_changed[q] = gave_changed[q] = False
    for b in range(1, batch):
        if same[b]:
            out_a[b] = out_a[0]
            if value_moved:
                moved_a[b] = moved_a[0]
    return out_a, moved_a


cdef inline double _flow(double di, double dj, bint i_races, bint j_races, double wi_race,
                         double wj_race, bint i_zone, bint j_zone, double share_i,
                         double share_j, double excess_i, double excess_j,
                         double zone_share) noexcept nogil:
    cdef double flow = 0.0, wi, wj, pool
    if zone_share > 0.0:
        flow = zone_share * (i_zone * excess_i * dj - j_zone * excess_j * di)
    if i_races or j_races:  # else: the pool pro rata
        wi = 1.0 + i_races * wi_race
        wj = 1.0 + j_races * wj_race
        pool = share_i * dj + share_j * di
        flow = flow + ratio(pool * di * dj * (wi - wj), (wi * di + wj * dj) * (di + dj))
    return flow if flow > 0.0 else 0.0


cdef inline void _bound_one(Py_ssize_t m, cnp.int64_t[::1] active, double[:] demand,
                            double[::1] y0, double[:, ::1] settled, double[::1] sums,
                            double[::1] takes, double[::1] scales, double[::1] got,
                            double[::1] gave) noexcept nogil:
    # where no bound binds (every scale 1, or nothing to scale) the flows are the settlement
    # and their sums what each gets and gives, with no pass over the matrix
    cdef bint free = True, rescaled
    cdef Py_ssize_t k, q
    cdef double taken, scale, total
    for q in range(m):
        free = free and (scales[q] == 1.0 or sums[q] == 0.0)
    rescaled = not free
    for k in range(m):
        if free:
            taken = takes[k]
        else:
            taken = 0.0
            for q in range(m):
                settled[k, q] = settled[k, q] * scales[q]
                taken = taken + settled[k, q]
        scale = min(1.0, ratio(demand[active[k]] - y0[active[k]], taken))
        if scale == 1.0 or taken == 0.0:  # (nothing taken: nothing to scale)
            got[k] = taken
        else:
            total = 0.0
            for q in range(m):
                settled[k, q] = settled[k, q] * scale
                total = total + settled[k, q]
            got[k] = total
            rescaled = True
    for q in range(m):
        gave[q] = 0.0 if rescaled else sums[q]
    for k in range(m if rescaled else 0):
        for q in range(m):
            gave[q] = gave[q] + settled[k, q]


cdef inline (double, double) _pair(double di, double dj, bint i_races, bint j_races,
                                   double wi_race, double wj_race, bint i_zone, bint j_zone,
                                   double share_i, double share_j, double excess_i,
                                   double excess_j, double zone_share) noexcept nogil:
    # (i, j)'s and (j, i)'s _flow, to the last bit, with one division where those take two
    cdef double zi = 0.0, zj = 0.0, to_i, to_j, wi, wj, pool, den, flow, fi, fj
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
