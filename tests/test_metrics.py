"""Metrics whose definitions are choices: each checked against values known by hand."""

from __future__ import annotations

import numpy as np
import pytest


def test_gini_is_the_usual_one_for_gains_and_counts_unequal_losses():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sim.model.metrics import gini

    assert gini(np.array([1.0, 1.0, 1.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 3.0])) == pytest.approx(2 / 3)  # one holds all: (n-1)/n
    assert gini(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.25)  # textbook value
    assert gini(np.array([-2.0, -2.0])) == pytest.approx(0.0)  # equal losses are equal
    assert gini(np.array([-3.0, 0.0, 0.0])) == pytest.approx(2 / 3)  # one bears all the loss
    assert gini(np.zeros(4)) == 0.0

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=12))
    def bounded(values):
        g = float(gini(np.array(values)))
        assert -1e-12 <= g <= 1 + 1e-12
        assert g == pytest.approx(float(gini(np.array(values) * 3.7)), abs=1e-9)  # scale-free

    bounded()


def test_the_pair_tallies_are_numpys_sums_to_the_last_bit():
    """The recorder's compiled tallies over pairs equal the numpy expressions that define them
    (the trust a nation receives is a sum over floats, added in numpy's order), for any size,
    any masks, and trust with signed zeros and tiny or huge values."""
    from sim.economy.kernels.tally import pair_tallies

    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 8, 11, 37, 120):
        for _ in range(20):
            trust = rng.random((n, n)) * rng.choice([1e-300, 1.0, 1e300], size=(n, n))
            trust[rng.random((n, n)) < 0.1] = -0.0
            actions = rng.random((n, n)) < rng.random()
            off = ~np.eye(n, dtype=bool)
            same = off & (rng.random((n, n)) < 0.5)
            across = off & ~same & (rng.random((n, n)) < 0.9)
            incidents = rng.random((n, n)) < 0.2
            trusted, given, received, shares, count = pair_tallies(
                trust, actions, off, same, across, incidents)
            want = (trust.sum(axis=0) - np.diag(trust)) / max(n - 1, 1)
            assert trusted.tobytes() == want.tobytes()  # the bits, signed zeros included
            with np.errstate(invalid="ignore"):
                assert np.array_equal(given, (actions & off).sum(axis=1) / (n - 1), equal_nan=True)
                assert np.array_equal(received, (actions & off).sum(axis=0) / (n - 1),
                                      equal_nan=True)
            for k, mask in enumerate((off, same, across)):
                m = np.count_nonzero(mask)
                want = np.count_nonzero(actions & mask) / m if m else np.nan
                assert np.array_equal(shares[k], want, equal_nan=True), (n, k)
            assert count.tobytes() == incidents.sum(axis=1).astype(float).tobytes()


def test_the_break_even_follows_the_economics_it_is_asked_with():
    """The break-even keeps the part that does not move with the price for the last world and
    numbers asked: asked with another operating cost, recovery or world, it answers for them."""
    from dataclasses import replace

    from sim.economy.rare_earths import break_even_return_cost
    from sim.model.model import LunarModel

    model = LunarModel("baseline", rng=0)
    world, state, econ = model.world, model.state, model.econ

    def by_hand(world, econ):
        ree = ~world.site_is_ice
        yield_kg = world.grade[ree] * econ.recovery_fraction * world.uptime[ree] * 1000.0
        return float(np.max(econ.magnet_share * state.ree_price_usd_per_kg
                            - econ.ree_operating_cost_usd_per_t / yield_kg))

    dearer = replace(econ, ree_operating_cost_usd_per_t=econ.ree_operating_cost_usd_per_t * 3)
    poorer = replace(econ, recovery_fraction=econ.recovery_fraction / 2)
    richer = replace(world, grade=world.grade * 2)
    # each asked right after one that differs in that one thing
    for w, e in ((world, econ), (world, poorer), (world, econ), (world, dearer), (world, econ),
                 (richer, econ), (world, econ)):
        assert break_even_return_cost(w, state, e) == pytest.approx(by_hand(w, e), rel=1e-12)
    assert len({break_even_return_cost(w, state, e)
                for w, e in ((world, econ), (world, dearer), (world, poorer), (richer, econ))}) == 4


@pytest.mark.parametrize("seed", range(30))
def test_the_best_rare_earth_margin_is_numpys_max(seed):
    """The break-even's compiled maximum over the rare-earth sites is numpy's, bit for bit:
    sites that yield nothing (an infinite cost) and a NaN among them included."""
    from sim.economy.kernels.market import best_margin

    rng = np.random.default_rng(seed)
    cost = rng.uniform(0.0, 1e4, int(rng.integers(1, 9)))
    cost[rng.random(cost.size) < 0.3] = np.inf
    if seed % 5 == 0:
        cost[rng.integers(cost.size)] = np.nan
    earned = float(rng.uniform(0.0, 1e4))
    want = (earned - cost).max()
    got = best_margin(earned, cost)
    assert got == want or (np.isnan(got) and np.isnan(want))


def test_numpys_maximum_and_short_maxima_to_the_sign_of_zero():
    """The kernels' ``maximum`` is ``np.maximum`` for every pair of ±0, ±1, ±inf and NaN (the
    second on a tie, NaN where either is), and folded over a row of up to eight it is numpy's
    ``max`` of the row, the sign of a zero included (what the break-even and the posteriors
    take of a row)."""
    import functools
    import itertools

    from sim.economy.kernels.common import maximum
    from sim.economy.kernels.market import best_margin

    def same(a, b):
        return np.asarray(a, dtype=float).tobytes() == np.asarray(b, dtype=float).tobytes() or (
            np.isnan(a) and np.isnan(b))

    values = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan]
    for a, b in itertools.product(values, repeat=2):
        assert same(maximum(a, b), np.maximum(a, b)), (a, b)
    rng = np.random.default_rng(3)
    for _ in range(500):
        row = rng.choice(values[:4] + [-2.0], size=int(rng.integers(1, 9)))
        assert same(functools.reduce(maximum, row), row.max()), row
        assert same(best_margin(-0.0, -row), (-0.0 - -row).max()), row
