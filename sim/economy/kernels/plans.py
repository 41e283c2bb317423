"""The forward-looking rule's arithmetic, compiled (:mod:`sim.rules.strategies.plans` holds the
rule and documents each formula): the matrices it weighs, its stage games, its plans' values
weighed by its beliefs, its first moves and its Bayesian update. Each is a few small loops a
step that numpy would spread over dozens of calls on arrays of a dozen numbers."""

from __future__ import annotations

import numba
import numpy as np

from sim.economy.kernels.common import maximum, repeated


@numba.njit(cache=True, error_model="numpy")
def plan_matrices(base, trade, me, arena):
    """The pairs of action matrices a forward-looking nation ``me`` weighs (lunar [B, N, N],
    rare-earth [B, N, N]: the base first, everyone as last step in both arenas) and where in
    [arena, j, my action, j's answer] each but the first goes ([2, N, 2, 2], True where a
    matrix is weighed; actions 0 = D, 1 = C). Toward every rival at the pole, and in the
    rare-earth arena toward the rivals ``arena`` [N] pairs me with, each of the four joint
    moves that differs from the base, in that order (arena, rival, my move, its answer)."""
    n = base.shape[0]
    differ = np.zeros((2, n, 2, 2), dtype=np.bool_)
    count = 0
    for ar in range(2):
        pair = base if ar == 0 else trade
        for j in range(n):
            if j == me or (ar == 1 and not arena[j]):
                continue
            for a in range(2):
                for b in range(2):
                    if (a == 1) != pair[me, j] or (b == 1) != pair[j, me]:
                        differ[ar, j, a, b] = True
                        count += 1
    lunar = repeated(base, count + 1)
    rare = repeated(trade, count + 1)
    k = 1
    for ar in range(2):
        for j in range(n):
            for a in range(2):
                for b in range(2):
                    if differ[ar, j, a, b]:
                        changed = lunar if ar == 0 else rare
                        changed[k, me, j] = a == 1
                        changed[k, j, me] = b == 1
                        k += 1
    return lunar, rare, differ


@numba.njit(cache=True, error_model="numpy")
def stage_games(evaluated, differ, me, arena):
    """[arena, j, my action, j's answer] (D = 0, C = 1): my utility toward each rival at the
    pole, and what the rare-earth arena's actions add to the base there (0 toward a rival the
    arena does not pair me with, and toward myself), from ``evaluated`` [B] (the base first,
    then the matrices of :func:`plan_matrices` in its order)."""
    n = differ.shape[1]
    utility = np.empty((2, n, 2, 2))
    k = 1
    for ar in range(2):
        for j in range(n):
            for a in range(2):
                for b in range(2):
                    u = evaluated[0]
                    if differ[ar, j, a, b]:
                        u = evaluated[k]
                        k += 1
                    if j == me:
                        u = 0.0
                    elif ar == 1:
                        u = u - evaluated[0] if arena[j] else 0.0
                    utility[ar, j, a, b] = u
    return utility


@numba.njit(cache=True, error_model="numpy")
def plan_values(R, S, T, P, m0, d, contrite):
    """:func:`sim.rules.strategies.plans.plan_values` over rivals [K]: [K, plan, type]."""
    count = R.shape[0]
    values = np.empty((count, 3, 3))
    k = d / (1.0 - d)
    for x in range(count):
        r, s, t, p = R[x], S[x], T[x], P[x]
        now_d = t if m0[x] else p  # U(D, m0)
        now_c = r if m0[x] else s  # U(C, m0)
        echo = s + k * r if contrite else (s + d * t) / (1.0 - d * d)
        forever_r = r + k * r
        values[x, 0, 0], values[x, 0, 1], values[x, 0, 2] = p + k * p, now_d + k * p, t + k * t
        values[x, 1, 0], values[x, 1, 1] = s + k * p, forever_r if m0[x] else echo
        values[x, 1, 2] = forever_r
        values[x, 2, 0], values[x, 2, 1], values[x, 2, 2] = s + k * s, now_c + k * r, forever_r
    return values


@numba.njit(cache=True, error_model="numpy")
def expected_plan_values(R, S, T, P, m0, d, contrite, beliefs):
    """[K, plan]: each plan's value toward each rival weighed by the beliefs [K, type] over the
    rival's type."""
    values = plan_values(R, S, T, P, m0, d, contrite)
    count = R.shape[0]
    out = np.empty((count, 3))
    for x in range(count):
        for p in range(3):
            total = 0.0
            for t in range(3):
                total += values[x, p, t] * beliefs[x, t]
            out[x, p] = total
    return out


@numba.njit(cache=True, error_model="numpy")
def rule_values(utility, arena, linked, d, m0_lunar, m0_trade, beliefs_lunar, beliefs_trade):
    """[arena, N, plan]: each plan's value toward each rival weighed by the beliefs, from the
    stage games ``utility`` (:func:`stage_games`): at the pole, with ``m0_lunar`` and no
    contrition (for a ``linked`` rule: in the pooled game, the two arenas' payoffs summed toward
    the rivals ``arena`` pairs it with, with contrition), and in the rare-earth arena (with
    ``m0_trade`` and contrition)."""
    n = utility.shape[1]
    games = np.empty((2, 4, n))  # [arena, R S T P, rival]
    for j in range(n):
        share = 1.0 if arena[j] else 0.0
        for g in range(4):
            a, b = 1 - g // 2, 1 - g % 2  # R (C, C), S (C, D), T (D, C), P (D, D)
            games[1, g, j] = utility[1, j, a, b]
            games[0, g, j] = utility[0, j, a, b]
            if linked:
                games[0, g, j] = games[0, g, j] + games[1, g, j] * share
    out = np.empty((2, n, 3))
    out[0] = expected_plan_values(games[0, 0], games[0, 1], games[0, 2], games[0, 3], m0_lunar,
                                  d, linked, beliefs_lunar)
    out[1] = expected_plan_values(games[1, 0], games[1, 1], games[1, 2], games[1, 3], m0_trade,
                                  d, True, beliefs_trade)
    return out


@numba.njit(cache=True, error_model="numpy")
def update_evidence(evidence, lunar, trade, me, at_pole, in_trade, mine, fade, right, wrong):
    """Bayes' rule with trembles, old evidence fading: each type's faded log-likelihood [N, 3]
    plus ``right`` where the type predicted rival j's answer (always-D: D; tit for tat: what
    I played, ``mine``; always-C: C) and ``wrong`` where it did not. The answer is C where j
    played C toward ``me`` at the pole (``lunar``, if ``at_pole``) and in the rare-earth arena
    (``trade``, where ``in_trade[j]``) alike: the pole's move, the arena's, or both at once."""
    n = evidence.shape[0]
    out = np.empty((n, 3))
    for j in range(n):
        answered = (lunar[j, me] or not at_pole) and (trade[j, me] or not in_trade[j])
        hits = (not answered, mine[j] == answered, answered)
        for t in range(3):
            out[j, t] = evidence[j, t] * fade + (right if hits[t] else wrong)
    return out


@numba.njit(cache=True, error_model="numpy")
def first_moves(values, arena, linked):
    """The rows a forward-looking rule plays from its plans' values (:func:`rule_values`): C
    toward a rival unless always-D is worth strictly more than both other plans, at the pole
    and in the rare-earth arena (where a linked rule plays its one plan, and toward a rival the
    arena does not pair it with, C)."""
    n = values.shape[1]
    row = np.empty(n, dtype=np.bool_)
    trade_row = np.empty(n, dtype=np.bool_)
    for j in range(n):
        row[j] = values[0, j, 0] <= max(values[0, j, 1], values[0, j, 2])
        own = row[j] if linked else values[1, j, 0] <= max(values[1, j, 1], values[1, j, 2])
        trade_row[j] = own or not arena[j]
    return row, trade_row


@numba.njit(cache=True, error_model="numpy")
def plan_moves(evaluated, differ, me, arena, linked, d, m0_lunar, m0_trade, beliefs_lunar,
               beliefs_trade):
    """A forward-looking rule's rows at the pole and in the rare-earth arena from its evaluated
    matrices, in one call: :func:`first_moves` of :func:`rule_values` of :func:`stage_games`."""
    values = rule_values(stage_games(evaluated, differ, me, arena), arena, linked, d, m0_lunar,
                         m0_trade, beliefs_lunar, beliefs_trade)
    return first_moves(values, arena, linked)


@numba.njit(cache=True, error_model="numpy")
def log_posteriors(log_prior, evidence, evidence_trade):
    """[arena, N, type]: the log-posterior over each rival's type at the pole and in the
    rare-earth arena, less each row's largest (``log_prior + evidence``, shifted so that its
    exponentials neither overflow nor all underflow): numpy's numbers to the last bit (one
    addition and one subtraction an entry; the row's maximum as numpy's, :func:`maximum`). The
    exponential is left to numpy, whose ``exp`` differs from the compiled one in the last bit."""
    n, types = evidence.shape
    out = np.empty((2, n, types))
    for ar in range(2):
        ev = evidence if ar == 0 else evidence_trade
        for j in range(n):
            top = out[ar, j, 0] = log_prior[0] + ev[j, 0]
            for t in range(1, types):
                out[ar, j, t] = log_prior[t] + ev[j, t]
                top = maximum(top, out[ar, j, t])
            for t in range(types):
                out[ar, j, t] -= top
    return out


@numba.njit(cache=True, error_model="numpy")
def normalised(weights):
    """Each row of ``weights`` [..., type] over its sum, in place: numpy's
    ``weights / weights.sum(axis=-1, keepdims=True)`` to the last bit for rows of fewer than
    eight (numpy sums so short a row from 0, term by term)."""
    rows = weights.reshape(-1, weights.shape[-1])
    for j in range(rows.shape[0]):
        total = 0.0
        for t in range(rows.shape[1]):
            total += rows[j, t]
        for t in range(rows.shape[1]):
            rows[j, t] /= total
    return weights
