"""What a step leaves behind, compiled in one call (the model's phase two, but for growth and
the rules' learning): trust (step 10), the importers' diversification (step 9b), the mines
opened outside the holder (step 9c), standing, and the running accounts. Each part is the
kernel or the array expression its own function documents
(:func:`sim.economy.step.learn_trust`, :func:`sim.economy.rare_earths.importers.diversify`,
:func:`sim.economy.rare_earths.mines.open_mines`,
:func:`sim.rules.strategies.trade.update_standing`), the same operations on the same numbers in
the same order, so the results are theirs to the last bit (tested); one call instead of some
thirty numpy calls on arrays of a dozen numbers."""

from __future__ import annotations

import numba
import numpy as np

from sim.economy.kernels.common import maximum, numpy_sum
from sim.economy.kernels.learning import learn_trust, update_standing
from sim.economy.kernels.market import diversify, holdings


@numba.njit(cache=True, error_model="numpy")
def column_sums(a):
    """``a.sum(axis=0)`` of an [N, S] array as numpy adds it, C- or F-ordered (tested): each
    column from 0, row after row, where the rows are contiguous; pairwise, where the columns
    are (F-ordered, or a single column)."""
    n, s = a.shape
    if s == 1 or not a.flags.c_contiguous:
        out = np.empty(s)
        for c in range(s):
            out[c] = numpy_sum(np.ascontiguousarray(a[:, c]))
        return out
    out = np.zeros(s)
    for i in range(n):
        for c in range(s):
            out[c] += a[i, c]
    return out


@numba.njit(cache=True, error_model="numpy")
def open_mines(mining, built, supply_factor, h, opening, push, share):
    """Step 9c's mines [N+1] (:func:`sim.economy.rare_earths.mines.open_mines`): if mines
    answer to price (``opening``), given the output each economy aims to add per t/yr it
    mines, ``push`` (``max((p/p_ref)^ε − 1, 0)``), and the share of the gap closed this step,
    ``share``."""
    out = built.copy()
    if not opening:
        return out
    for e in range(out.shape[0]):
        gap = mining[e] * supply_factor * push - out[e]
        out[e] += maximum(gap, 0.0) * share
    if h >= 0:
        out[h] = 0.0
    return out


@numba.njit(cache=True, error_model="numpy")
def advance(trust, actions, trade, incidents, rate, shock,
            h, same_bloc, off_diagonal, targets, threat, demand_world, demand_factor, mining,
            mining_built, refining, refining_built, supply_factor, decay, ally_threat, goal,
            lead, opening, push, mine_share,
            demand, budget, budget_growth, propellant, propellant_step, ree_mined,
            ree_mined_step, welfare, welfare_step, breach_record, halving, detection, breaches,
            standing, may_cooperate, cooperation_sum):
    """The state a step leaves (see the module's docstring): trust [N, N], refining built
    [N+1], threat [N], mines built [N+1], the load on each site [S], budget, propellant, rare
    earths mined, welfare and breach record [N], standing [2, N, N] and the coordination that
    took place [N, N]; ``cooperation_sum`` [N, N] counts it, in place. The arguments are the
    state's arrays before the step, the step's (``*_step``, ``incidents``, ``breaches``,
    ``targets``: those under the holder's controls), the rules' and the parameters', with the
    scalars the callers compute: ``decay`` (threat's halving over a step), ``lead`` (the share
    of the refining gap closed), ``opening``, ``push`` and ``mine_share``
    (:func:`open_mines`), ``halving`` (0.5^dt)."""
    n = trust.shape[0]
    received = np.empty((n, n), dtype=np.bool_)
    bloc = np.empty((n, n), dtype=np.bool_)
    for i in range(n):
        for j in range(n):
            received[i, j] = actions[i, j] and trade[i, j]
            bloc[i, j] = same_bloc[i, j] or not off_diagonal[i, j]
    new_trust = learn_trust(trust, received, incidents, rate, shock)
    if h < 0:  # nobody to diversify away from
        built, felt = refining_built.copy(), np.zeros(n)
    else:  # (the nations' part of the economies' arrays)
        wanted = np.empty(n)
        for i in range(n):
            wanted[i] = demand_world[i] * demand_factor
        mined, capacity = holdings(mining, mining_built, refining, refining_built,
                                   supply_factor, h)
        built, felt = diversify(h, bloc, targets, threat, wanted, mined[:n], capacity[:n],
                                refining_built, decay, ally_threat, goal, lead)
    mines = open_mines(mining, mining_built, supply_factor, h, opening, push, mine_share)
    grown, stock, extracted, gained, record = (np.empty(n), np.empty(n), np.empty(n),
                                               np.empty(n), np.empty(n))
    for i in range(n):
        grown[i] = budget[i] * budget_growth[i]
        stock[i] = propellant[i] + propellant_step[i]
        extracted[i] = ree_mined[i] + ree_mined_step[i]
        gained[i] = welfare[i] + welfare_step[i]
        record[i] = breach_record[i] * halving + detection * (1.0 if breaches[i] > 0 else 0.0)
    coordination = np.empty((n, n), dtype=np.bool_)
    for i in range(n):
        for j in range(n):
            coordination[i, j] = actions[i, j] and may_cooperate[i, j]
            cooperation_sum[i, j] += 1.0 if coordination[i, j] else 0.0
    return (new_trust, built, felt, mines, column_sums(demand), grown, stock, extracted, gained,
            record, update_standing(standing, actions, trade), coordination)
