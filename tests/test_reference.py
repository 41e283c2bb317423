"""The vectorised step against the slow, obviously correct reference, on random states."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from helpers import random_trade, random_world_state
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.economy.reference import resolve_step_reference
from sim.economy.state import Outcome
from sim.economy.step import expected_utility, resolve_step


def assert_same_outcome(fast: Outcome, slow: Outcome) -> None:
    for f in fields(Outcome):
        a, b = np.asarray(getattr(fast, f.name), dtype=float), np.asarray(getattr(slow, f.name),
                                                                            dtype=float)
        scale = max(1.0, float(np.nanmax(np.abs(b)))) if b.size else 1.0  # rounding is relative
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * scale, err_msg=f.name)


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 9), st.integers(1, 7), st.booleans())
def test_vectorised_step_matches_the_reference(seed, n, s, expected_mode):
    world, state, actions, rules, econ = random_world_state(seed, n, s)
    if expected_mode:
        state.forced_incidents[:] = False
    rng_a = None if expected_mode else np.random.default_rng(seed)
    rng_b = None if expected_mode else np.random.default_rng(seed)
    trade = random_trade(seed, n)
    assert_same_outcome(resolve_step(world, state, actions, rules, econ, rng_a, trade=trade),
                        resolve_step_reference(world, state, actions, rules, econ, rng_b, trade))


def test_reference_agrees_on_a_real_scenario_step():
    from helpers import raw_scenario, scenario_from

    from sim.model.model import LunarModel

    model = LunarModel(scenario_from(raw_scenario("multilateral"), regime__membership="fixed"), rng=4)
    for _ in range(12):  # into the crowded years, with plants placed and trust moved
        model.step()
    actions, trade = model.decide()
    trade[model.nation_index("China"), model.nation_index("Japan")] = False  # a control, and
    trade[model.nation_index("Italy"), model.nation_index("China")] = False  # an answer
    fast = resolve_step(model.world, model.state, actions, model.rules, model.econ,
                        np.random.default_rng(1), trade=trade)
    slow = resolve_step_reference(model.world, model.state, actions, model.rules, model.econ,
                                  np.random.default_rng(1), trade)
    assert_same_outcome(fast, slow)
    assert fast.transfers.any() and fast.worked_t.sum() > 0
    assert fast.shortfall_cost.any() and fast.retaliation_cost.any() and fast.coercion_value.any()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 6), st.integers(1, 5))
def test_a_batch_of_action_matrices_gives_each_matrix_its_own_outcome(seed, n, s, batch):
    world, state, actions, rules, econ = random_world_state(seed, n, s)
    state.forced_incidents[:] = False
    rng = np.random.default_rng(seed + 1)
    many = rng.random((batch, n, n)) < 0.5
    trades = random_trade(seed, n, batch)
    together = resolve_step(world, state, many, rules, econ, None, trade=trades)
    for b in range(batch):
        alone = resolve_step(world, state, many[b], rules, econ, None, trade=trades[b])
        for f in fields(Outcome):
            want = np.asarray(getattr(alone, f.name), dtype=float)
            got = np.asarray(getattr(together, f.name), dtype=float)
            if got.shape == (batch, *want.shape):  # a batched field; the others need no batch
                got = got[b]
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=f.name)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.integers(1, 5), st.integers(1, 3),
       st.sampled_from([0.0, 0.5, 1.0]))
def test_a_batch_of_small_changes_settles_each_matrix_exactly_as_alone(seed, n, s, flips, zone):
    """A forward-looking batch: matrices that differ from the first in a pair or two. The
    contest settles them as changes to the first matrix's settlement; every number must be the
    one settling the matrix alone gives, to the last bit, whether the bounds bind or not."""
    from sim.economy.kernels.contest import contest

    rng = np.random.default_rng(seed)
    demand = rng.random((n, s)) * (rng.random((n, s)) < 0.8) * 10.0 ** rng.uniform(-2, 3)
    capacity = demand.sum(axis=0) * rng.uniform(0.1, 1.2, s)  # most sites crowded
    respects = rng.random((n, n)) < 0.5
    base = (rng.random((n, n)) < 0.4) & ~np.eye(n, dtype=bool)
    batch = [base]
    for _ in range(12):
        changed = base.copy()
        for _ in range(flips):
            i, j = rng.choice(n, 2, replace=False)
            changed[i, j] = not changed[i, j]
        batch.append(changed)
    batch.append(base.copy())  # one with nothing changed
    compete = np.array(batch)
    rho, worth = float(rng.uniform(0.0, 3.0)), rng.random(s)
    worked, moved = contest(demand, capacity, compete, respects, rho, zone, worth, True)
    assert (worked < demand[None] - 1e-12).any() or not (capacity < demand.sum(axis=0)).any()
    for b in range(len(batch)):
        alone_worked, alone_moved = contest(demand, capacity, compete[b:b + 1], respects, rho,
                                            zone, worth, True)
        assert np.array_equal(worked[b], alone_worked[0]), b
        assert np.array_equal(moved[b], alone_moved[0]), b
    assert contest(demand, capacity, compete, respects, rho, zone, worth, False)[1].size == 0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 8), st.integers(1, 6), st.integers(1, 3))
def test_a_batch_of_small_changes_gives_each_matrix_exactly_its_own_outcome(seed, n, s, flips):
    """The step reuses the first matrix's output factors and incident risks for every nation
    whose partners a later matrix leaves as they were: each outcome must still be, to the last
    bit, the one the matrix gives alone (lunar pairs and rare-earth pairs changed)."""
    world, state, actions, rules, econ = random_world_state(seed, n, s)
    state.forced_incidents[:] = False
    rng = np.random.default_rng(seed + 2)
    trade = random_trade(seed, n)
    lunar, trades = [actions], [trade]
    for _ in range(10):
        a, t = actions.copy(), trade.copy()
        for _ in range(flips):
            i, j = rng.choice(n, 2, replace=False)
            target = a if rng.random() < 0.7 else t
            target[i, j] = not target[i, j]
        lunar.append(a)
        trades.append(t)
    together = resolve_step(world, state, np.array(lunar), rules, econ, None,
                            trade=np.array(trades))
    utility = expected_utility(world, state, np.array(lunar), rules, econ, trade=np.array(trades))
    for b in range(len(lunar)):
        alone = resolve_step(world, state, lunar[b], rules, econ, None, trade=trades[b])
        assert np.array_equal(utility[b], alone.utility), b
        for f in fields(Outcome):
            want = np.asarray(getattr(alone, f.name), dtype=float)
            got = np.asarray(getattr(together, f.name), dtype=float)
            if got.shape == (len(lunar), *want.shape):
                got = got[b]
            assert np.array_equal(got, want, equal_nan=True), (f.name, b)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 8), st.integers(1, 6), st.integers(1, 4))
def test_a_batch_s_accounts_are_the_outcome_s_per_nation_fields(seed, n, s, batch):
    """What a membership review weighs (expected_accounts: each nation's accounts, without the
    per-site detail) must be, field by field and to the last bit, what the step's outcome says
    for the same batch."""
    from sim.economy.step import expected_accounts

    world, state, actions, rules, econ = random_world_state(seed, n, s)
    state.forced_incidents[:] = False
    rng = np.random.default_rng(seed + 3)
    flipped = actions.copy()
    flipped[0, 1] = not flipped[0, 1]  # one pair changed: the first matrix's results reused
    many = np.array([actions, flipped, actions] + [rng.random((n, n)) < 0.6 for _ in range(batch)])
    outcome = resolve_step(world, state, many, rules, econ, None)
    accounts = expected_accounts(world, state, many, rules, econ)
    fields = accounts.fields()
    assert "utility" in fields and "welfare" in fields and "potential_output" not in fields
    for name, values in fields.items():
        assert np.array_equal(values, getattr(outcome, name)), name
