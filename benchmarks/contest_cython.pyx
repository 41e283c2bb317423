# cython: boundscheck=False, wraparound=False, cdivision=True, language_level=3
"""The pairwise contest of ``sim/economy/kernels/contest.py`` in Cython, line for line: the
alternative compiler ``benchmarks/compilers.py`` measures numba against (never used by a run)."""

import numpy as np

cimport numpy as cnp


cdef inline double ratio(double num, double den) nogil:
    return num / den if den > 0.0 else 0.0


def contest(double[:, ::1] demand, double[::1] capacity, cnp.npy_bool[:, :, ::1] compete,
            cnp.npy_bool[:, ::1] respects, double race_advantage, double zone_share,
            double[::1] worth):
    cdef Py_ssize_t n = demand.shape[0], s = demand.shape[1], batch = compete.shape[0]
    cdef Py_ssize_t b, c, i, j, k, q, m
    cdef double total, others, di, dj, wi, wj, pool, flow, taken, scale, got
    cdef bint flows
    raced_by_a = np.ascontiguousarray(np.transpose(np.asarray(compete), (0, 2, 1)))
    cdef cnp.npy_bool[:, :, ::1] raced_by = raced_by_a
    cdef cnp.npy_bool[:, ::1] respects_t = np.ascontiguousarray(np.asarray(respects).T)
    weight_a = race_advantage * (1.0 - zone_share * np.asarray(respects, dtype=float))
    cdef double[:, ::1] weight = weight_a
    cdef double[:, ::1] weight_t = np.ascontiguousarray(weight_a.T)
    same_a = np.zeros(batch, dtype=bool)
    comp_a = np.asarray(compete)
    for b in range(1, batch):
        same_a[b] = (comp_a[b] == comp_a[0]).all()
    cdef cnp.npy_bool[::1] same = same_a
    out_a = np.empty((batch, n, s))
    out_a[:] = np.asarray(demand)
    moved_a = np.zeros((batch, n, n))
    cdef double[:, :, ::1] out = out_a
    cdef double[:, :, ::1] moved = moved_a
    cdef double[:, ::1] gross = np.zeros((n, n))
    cdef double[::1] y0 = np.empty(n), share = np.empty(n), excess = np.empty(n)
    cdef double[::1] given = np.empty(n), gave = np.empty(n)
    cdef Py_ssize_t[::1] active = np.empty(n, dtype=np.intp)
    with nogil:
        for c in range(s):
            total = 0.0
            m = 0
            for i in range(n):
                total = total + demand[i, c]
                if demand[i, c] > 0.0:
                    active[m] = i
                    m = m + 1
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
                for k in range(m):
                    i = active[k]
                    di = demand[i, c]
                    for q in range(m):
                        j = active[q]
                        dj = demand[j, c]
                        flow = 0.0
                        if zone_share > 0.0:
                            flow = zone_share * (respects_t[i, j] * excess[i] * dj
                                                 - respects[i, j] * excess[j] * di)
                        if compete[b, i, j] or raced_by[b, i, j]:
                            wi = 1.0 + compete[b, i, j] * weight[i, j]
                            wj = 1.0 + raced_by[b, i, j] * weight_t[i, j]
                            pool = share[i] * dj + share[j] * di
                            flow = flow + pool * di * dj * (wi - wj) / ((wi * di + wj * dj) * (di + dj))
                        flow = flow if flow > 0.0 else 0.0
                        gross[k, q] = flow if i != j else 0.0
                        given[q] = given[q] + gross[k, q]
                flows = False
                for q in range(m):
                    flows = flows or given[q] > 0.0
                if not flows:
                    for k in range(m):
                        i = active[k]
                        out[b, i, c] = min(max(y0[i], 0.0), demand[i, c])
                    continue
                for q in range(m):
                    given[q] = min(1.0, ratio(y0[active[q]], given[q]))
                for k in range(m):
                    i = active[k]
                    taken = 0.0
                    for q in range(m):
                        gross[k, q] = gross[k, q] * given[q]
                        taken = taken + gross[k, q]
                    scale = min(1.0, ratio(demand[i, c] - y0[i], taken))
                    got = 0.0
                    for q in range(m):
                        gross[k, q] = gross[k, q] * scale
                        got = got + gross[k, q]
                        gave[q] = gave[q] + gross[k, q]
                        moved[b, i, active[q]] = moved[b, i, active[q]] + gross[k, q] * worth[c]
                    out[b, i, c] = y0[i] + got
                for q in range(m):
                    i = active[q]
                    out[b, i, c] = min(max(out[b, i, c] - gave[q], 0.0), demand[i, c])
    for b in range(1, batch):
        if same[b]:
            out_a[b] = out_a[0]
            moved_a[b] = moved_a[0]
    return out_a, moved_a
