"""What the recorder counts over pairs at each step, compiled: one pass instead of a dozen
small numpy reductions (:func:`sim.model.metrics.raw_record` names the results). Each count
is a whole number, and the one sum over floats (the trust a nation receives) adds the rows in
order, as numpy's sum over the first axis of a C-ordered array does (the state's trust is one),
so the results are numpy's to the last bit (tested)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def pair_tallies(trust: np.ndarray, actions: np.ndarray, off: np.ndarray, same: np.ndarray,
                 across: np.ndarray, incidents: np.ndarray) -> tuple:
    """For trust [N, N], the coordination that took place ``actions`` [N, N] (True = C), the
    masks of pairs off the diagonal, within and across blocs, and the step's ``incidents``
    [N, N]: the mean trust the others place in each nation [N]; each nation's share of C
    toward the others [N] and received from them [N]; the share of C among all pairs, within
    blocs and across them (NaN where a mask is empty); each nation's incidents [N]."""
    n = trust.shape[0]
    received = trust[0].copy() if n else np.zeros(0)
    for i in range(1, n):
        for j in range(n):
            received[j] += trust[i, j]
    trusted = np.empty(n)
    given, got, count = np.zeros(n), np.zeros(n), np.zeros(n)
    c_off = c_same = c_across = n_off = n_same = n_across = 0
    for i in range(n):
        trusted[i] = (received[i] - trust[i, i]) / max(n - 1, 1)
        for j in range(n):
            a = actions[i, j]
            if off[i, j]:
                n_off += 1
                if a:
                    c_off += 1
                    given[i] += 1.0
                    got[j] += 1.0
            if same[i, j]:
                n_same += 1
                c_same += a
            if across[i, j]:
                n_across += 1
                c_across += a
            count[i] += incidents[i, j]
    shares = np.full(3, np.nan)
    for k, (c, m) in enumerate(((c_off, n_off), (c_same, n_same), (c_across, n_across))):
        if m:
            shares[k] = c / m
    return trusted, given / (n - 1), got / (n - 1), shares, count
