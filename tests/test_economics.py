"""Invariants of one step's economics, on random states and action matrices."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from helpers import random_world_state
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.base.units import USD_PER_BN
from sim.economy.invest import unit_value_usd_per_t
from sim.economy.step import grow, learn_trust, resolve_step

cases = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 9))


@settings(max_examples=150, deadline=None)
@given(cases)
def test_step_invariants(case):
    seed, n, s = case
    world, state, actions, rules, econ = random_world_state(seed, n, s)
    before = state.copy()
    out = resolve_step(world, state, actions, rules, econ, np.random.default_rng(seed))

    # the function is pure: its inputs are unchanged
    for name in ("capacity_t_per_yr", "reserve_t", "allocation", "trust", "exposure"):
        np.testing.assert_array_equal(getattr(state, name), getattr(before, name))

    # mass balance per site: extracted + remaining = reserve at the start of the step
    extracted = out.product_t.sum(axis=0)
    np.testing.assert_allclose(extracted + out.reserve_after_t, state.reserve_t, rtol=1e-12, atol=1e-9)
    assert (out.product_t >= 0).all() and (out.reserve_after_t >= 0).all()

    # nobody works more regolith than it brought; no site supports more than its capacity
    assert (out.worked_t <= out.demand_t * (1 + 1e-12)).all()
    site_cap = world.site_capacity_t_per_yr * world.dt
    assert (out.worked_t.sum(axis=0) <= site_cap * (1 + 1e-9) + 1e-9).all()

    # what is produced is accounted for: ice becomes propellant, the rest is rare earths
    np.testing.assert_allclose(out.propellant_t + out.ree_mined_t, out.product_t.sum(axis=1))
    assert (out.ree_shipped_t <= out.ree_mined_t + 1e-12).all()

    # incidents are between distinct pairs, symmetric, and destroy at most what there is
    assert (out.incidents == out.incidents.T).all() and not out.incidents.diagonal().any()
    assert (out.capacity_lost_t_per_yr >= 0).all()
    assert (out.capacity_lost_t_per_yr <= state.capacity_t_per_yr + 1e-9).all()

    # benefit sharing moves value between members and creates none
    assert out.transfers.sum() == pytest.approx(0.0, abs=1e-12 * max(1.0, abs(out.propellant_value).sum()))
    assert (out.transfers[~rules.sharing_members] == 0).all()

    # prices and stocks stay non-negative; allocation rows are shares
    assert out.ree_price_usd_per_kg > 0 and 0 <= out.leverage_index <= 1
    assert (out.allocation >= 0).all() and (out.allocation.sum(axis=1) <= 1 + 1e-12).all()
    growth = grow(world, state, out, econ)
    assert (growth.capacity_t_per_yr >= 0).all() and (growth.capital_usd_bn >= 0).all()
    # The accounting identities: welfare is the sum of its parts, and the capital account
    # closes (book value before - incident loss - depreciation + investment = after).
    parts = (out.gross_output - out.operating_cost - out.depreciation - out.incident_loss
             + out.transfers + out.sanctions + out.liability - out.entry_cost
             - out.shortfall_cost - out.export_revenue_lost - out.diversification_cost)
    for transfer in (out.transfers, out.sanctions, out.liability):  # money changes hands only
        assert abs(transfer.sum()) < 1e-12
    np.testing.assert_allclose(out.welfare, parts, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.gross_output, out.propellant_value + out.ree_revenue)
    np.testing.assert_allclose(out.gross_output, out.potential_output - out.crowding_loss
                               - out.exhaustion_loss + out.synergy_gain - out.interference_loss,
                               rtol=1e-10, atol=1e-12)
    for loss in (out.crowding_loss, out.exhaustion_loss, out.interference_loss, out.synergy_gain):
        assert (loss >= -1e-15).all()
    np.testing.assert_allclose(state.capital_usd_bn - out.incident_loss - out.depreciation
                               + growth.investment_usd_bn, growth.capital_usd_bn, atol=1e-12)
    assert (out.depreciation >= 0).all() and (out.incident_loss >= 0).all()

    # export controls: costs are non-negative, only the holder forgoes sales or controls;
    # dependence is a share; a nation that is no target loses nothing to controls
    assert (out.shortfall_cost >= 0).all() and (out.ree_shortfall_t >= 0).all()
    assert (out.diversification_cost >= 0).all()
    holder = world.leverage_holder
    others = np.arange(out.welfare.size) != (-1 if holder is None else holder)
    assert (out.export_revenue_lost[others] == 0).all()
    assert not out.export_targets[~others].any()
    assert ((out.import_dependence >= 0) & (out.import_dependence <= 1 + 1e-12)).all()
    assert (out.shortfall_cost[~out.export_targets] == 0).all()

    # forced incidents happen whatever the draw
    assert (out.incidents | ~state.forced_incidents).all()

    trust = learn_trust(state.trust, actions, out.incidents, econ)
    assert ((trust >= 0) & (trust <= 1)).all()


@settings(max_examples=50, deadline=None)
@given(cases)
def test_relative_gains_only_lower_utility(case):
    """Utility is welfare less the relative-gains term (plus the coercive value of restrictions
    imposed, none here): the best-off nation's is its welfare, nobody's is above it."""
    seed, n, s = case
    world, state, actions, rules, econ = random_world_state(seed, n, s)
    state.export_control_active = False
    out = resolve_step(world, state, actions, rules, econ, np.random.default_rng(seed))
    assert (out.coercion_value == 0).all()  # nobody restricts
    assert (out.utility <= out.welfare + 1e-15).all()
    best = np.argmax(out.welfare)
    assert out.utility[best] == pytest.approx(out.welfare[best])


@pytest.mark.parametrize("seed", range(5))
def test_benefit_transfers_equalise_members_contributions(seed):
    """Members pool ``benefit_share`` of their output value and each gets an equal part back;
    nobody else pays or gets anything."""
    import dataclasses

    world, state, actions, rules, econ = random_world_state(seed, 6, 4)
    members = np.array([True, True, True, False, True, False])
    rules = dataclasses.replace(rules, benefit_share=0.3, sharing_members=members)
    out = resolve_step(world, state, actions, rules, econ, None)
    value = out.gross_output
    assert value[members].any()
    expected = np.where(members, 0.3 * value[members].sum() / members.sum() - 0.3 * value, 0.0)
    np.testing.assert_allclose(out.transfers, expected, rtol=1e-12, atol=1e-15)


def test_racers_with_vanishing_demand_settle_without_dividing_by_zero():
    """Two operators with demands of 1e-170 t race at a crowded site (a high site-choice focus
    leaves such shares): the products in the contest's one fraction underflow, and the site
    still settles as the reference settles it, with every number finite."""
    from sim.economy.kernels.contest import contest
    from sim.economy.reference import _pair_contest

    demand = np.array([[1e-170], [1e-170], [100.0]])
    compete = np.zeros((1, 3, 3), dtype=bool)
    compete[0, 0, 1] = True
    worked, moved = contest(demand, np.array([50.0]), compete, np.zeros((3, 3), dtype=bool),
                            1.0, 0.5, np.array([1.0]), True)
    want, _ = _pair_contest(list(demand[:, 0]), 50.0, lambda i, j: bool(compete[0, i, j]),
                            lambda i, j: False, 1.0, 0.5)
    assert np.isfinite(worked).all() and np.isfinite(moved).all()
    np.testing.assert_allclose(worked[0, :, 0], want, rtol=1e-9, atol=0.0)


def test_same_generator_state_gives_the_same_incidents():
    world, state, actions, rules, econ = random_world_state(11, 8, 4)
    a = resolve_step(world, state, actions, rules, econ, np.random.default_rng(5))
    b = resolve_step(world, state, actions, rules, econ, np.random.default_rng(5))
    np.testing.assert_array_equal(a.incidents, b.incidents)
    np.testing.assert_array_equal(a.welfare, b.welfare)


def _crowded_site(demand, capacity):
    """A world of one ice site of ``capacity`` t/yr where operators bring ``demand`` t/yr."""
    world, state, actions, rules, econ = random_world_state(3, len(demand), 1)
    state.capacity_t_per_yr[:] = demand
    state.allocation[:] = 1.0
    state.reserve_t[:] = 1e12
    world.site_capacity_t_per_yr[:] = capacity
    econ.race_advantage, econ.claim_exclusion = 1.0, 0.0
    no_zones = _with(rules, recognises_claims=np.zeros((len(demand),) * 2, dtype=bool))
    return world, state, no_zones, econ


def _worked(world, state, rules, econ, actions) -> np.ndarray:
    return resolve_step(world, state, np.array(actions), rules, econ, None).worked_t[:, 0]


def test_a_race_between_two_operators_leaves_a_third_partys_share_unchanged():
    world, state, rules, econ = _crowded_site([4e4, 3e4, 2e4], 5e4)
    calm = _worked(world, state, rules, econ, np.ones((3, 3), dtype=bool))
    race = np.ones((3, 3), dtype=bool)
    race[0, 1] = False  # the United States races China; the third party is raced by no one
    raced = _worked(world, state, rules, econ, race)
    assert raced[2] == pytest.approx(calm[2], rel=1e-12)  # untouched
    assert raced[0] > calm[0] and raced[1] < calm[1]  # the racer takes from the rival it races
    assert raced.sum() == pytest.approx(calm.sum(), rel=1e-12) == pytest.approx(5e4 * world.dt)
    race[1, 0] = False  # China races back: equal weights, pro rata again
    np.testing.assert_allclose(_worked(world, state, rules, econ, race), calm, rtol=1e-12)


def test_two_operators_share_a_crowded_site_by_racing_weight():
    """(1 + rho) d_i / ((1 + rho) d_i + d_j) of the site to the racer (docs/ODD.md 7.4)."""
    world, state, rules, econ = _crowded_site([3e4, 5e4], 4e4)
    econ.race_advantage = 0.5
    worked = _worked(world, state, rules, econ, [[True, False], [True, True]])
    site = 4e4 * world.dt
    share = 1.5 * 3e4 / (1.5 * 3e4 + 5e4)
    np.testing.assert_allclose(worked, [share * site, (1 - share) * site], rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1e2, 1e5), min_size=2, max_size=7), st.floats(0.1, 0.99),
       st.booleans())
def test_equal_weights_share_a_crowded_site_pro_rata(demand, crowding, all_race):
    world, state, rules, econ = _crowded_site(demand, crowding * sum(demand))
    actions = ~np.eye(len(demand), dtype=bool) if all_race else np.ones((len(demand),) * 2, bool)
    np.fill_diagonal(actions, True)
    worked = _worked(world, state, rules, econ, actions)
    np.testing.assert_allclose(worked, np.array(demand) * world.dt * crowding, rtol=1e-9)


def test_a_zone_protects_its_holder_whatever_it_plays():
    """A zone holder that races those who respect its zone gains nothing from the zone that it
    would not have gained by coordinating (Artemis Accords section 11: protection, not a prize)."""
    world, state, rules, econ = _crowded_site([4e4, 3e4, 2e4], 5e4)
    econ.claim_exclusion = 0.6
    zones = _with(rules, recognises_claims=np.array([[False, False, False],
                                                     [True, False, False],
                                                     [True, False, False]]))  # 0's respected
    races = np.ones((3, 3), dtype=bool)
    races[0, 1:] = False  # 0 races the two who respect its zone
    coordinates = np.ones((3, 3), dtype=bool)
    gain_racing = (_worked(world, state, zones, econ, races)[0]
                   - _worked(world, state, rules, econ, races)[0])
    gain_coordinating = (_worked(world, state, zones, econ, coordinates)[0]
                         - _worked(world, state, rules, econ, coordinates)[0])
    assert gain_coordinating > 0  # the zone protects a holder who does not race at all
    assert gain_racing == pytest.approx(gain_coordinating, rel=1e-9)
    # and blunts the racing of those who respect it
    raced_by_1 = coordinates.copy()
    raced_by_1[1, 0] = False
    loss_without = (_worked(world, state, rules, econ, coordinates)[0]
                    - _worked(world, state, rules, econ, raced_by_1)[0])
    loss_with = (_worked(world, state, zones, econ, coordinates)[0]
                 - _worked(world, state, zones, econ, raced_by_1)[0])
    assert 0 < loss_with < loss_without


def _two_at_one_site(site_capacity: float):
    world, state, actions, rules, econ = random_world_state(3, 2, 1)
    state.capacity_t_per_yr[:] = 1e5
    state.allocation[:] = 1.0
    state.reserve_t[:] = 1e12
    econ.race_advantage = 1.0
    world.site_capacity_t_per_yr[:] = site_capacity
    racer_vs_cooperator = np.array([[True, False], [True, True]])  # 0 races, 1 cooperates
    out = resolve_step(world, state, racer_vs_cooperator,
                       _with(rules, recognises_claims=np.zeros((2, 2), dtype=bool)),
                       econ, np.random.default_rng(0))
    return out, world.site_capacity_t_per_yr[0] * world.dt


def test_racing_gains_nothing_where_the_site_has_room():
    out, room = _two_at_one_site(1e8)  # a thousand times what is brought
    np.testing.assert_allclose(out.worked_t, out.demand_t)


def test_racing_takes_priority_where_the_site_is_crowded():
    out, room = _two_at_one_site(1.5e5)  # room for three quarters of what is brought
    assert out.worked_t.sum() == pytest.approx(room)  # the whole throughput is used, no more
    assert out.worked_t[0, 0] == pytest.approx(out.demand_t[0, 0])  # the racer is served in full
    assert out.worked_t[1, 0] == pytest.approx(room - out.demand_t[0, 0])


def test_a_legal_bar_stops_coordination_but_does_not_make_anyone_race():
    world, state, actions, rules, econ = random_world_state(3, 2, 1)
    state.capacity_t_per_yr[:] = 1e5
    state.allocation[:] = 1.0
    state.reserve_t[:] = 1e12
    econ.race_advantage, econ.synergy = 1.0, 0.5
    world.site_capacity_t_per_yr[:] = 1e5  # crowded: room for half of what is brought
    barred = _with(rules, may_cooperate=np.eye(2, dtype=bool),
                   recognises_claims=np.zeros((2, 2), dtype=bool))

    def play(chosen):
        return resolve_step(world, state, np.array(chosen), barred, econ, None)

    willing = play([[True, True], [True, True]])  # both would cooperate; the law says no
    assert willing.worked_t[0, 0] == pytest.approx(willing.worked_t[1, 0])  # nobody races
    assert (willing.partner_share == 0).all()  # and nobody shares
    one_races = play([[True, True], [False, True]])  # 1 chooses to race; 0 only obeys the law
    assert one_races.worked_t[1, 0] > one_races.worked_t[0, 0]


def test_full_liability_makes_good_the_cooperators_loss_and_fines_go_to_the_victim():
    world, state, actions, rules, econ = random_world_state(5, 2, 1)
    state.capacity_t_per_yr[:] = 1e5
    state.capital_usd_bn[:] = 2.0
    state.allocation[:] = 1.0
    state.breach_record[:] = [0.0, 2.0]
    state.forced_incidents[:] = ~np.eye(2, dtype=bool)  # they collide this step
    world.site_capacity_t_per_yr[:] = 1e5  # crowded: room for half of what is brought
    state.reserve_t[:] = 1e12  # no site runs out
    everyone = np.ones((2, 2), dtype=bool)
    regime = _with(rules, may_cooperate=everyone, monitored=everyone, liable=everyone,
                   recognises_claims=np.zeros((2, 2), dtype=bool), liability_share=1.0,
                   fine_multiple=0.4, detection=0.5, escalation=1.0)
    one_races = np.array([[True, True], [False, True]])  # 1 races 0; 0 cooperates
    out = resolve_step(world, state, one_races, regime, econ, np.random.default_rng(0))
    assert out.incidents[0, 1] and out.incident_loss[0] > 0
    assert out.liability[0] == pytest.approx(out.incident_loss[0])  # made good in full
    assert out.liability[1] == pytest.approx(-out.incident_loss[0])
    # Two operators each bring d = 1e5 dt to a site with room K = 1e5 dt: pro rata K/2 each;
    # racing moves K (ρ / (2 (2 + ρ))) from 0 to 1, within the bounds (ODD 7.4).
    K, rho = 1e5 * world.dt, econ.race_advantage
    took = min(K * rho / (2 * (2 + rho)), K / 2)
    worth = unit_value_usd_per_t(world, econ, state.ree_price_usd_per_kg)[0] / USD_PER_BN
    # expected fine: detection × multiple × (1 + escalation × 1's record of 2) × value taken
    fine = min(0.5 * 0.4 * (1.0 + 2.0) * took * worth, out.gross_output[1])
    assert out.sanctions[1] == pytest.approx(-fine) and out.sanctions[0] == pytest.approx(fine)
    assert fine > 0 and out.breaches.tolist() == [0.0, 1.0]
    # the cooperator that takes nothing pays nothing; with no detection, nobody pays
    unseen = resolve_step(world, state, one_races, _with(regime, detection=0.0), econ, None)
    assert (unseen.sanctions == 0).all()


def _with(rules, **changes):
    from dataclasses import replace

    return replace(rules, **changes)


@settings(max_examples=50, deadline=None)
@given(cases)
def test_expected_incidents_mode_draws_nothing_and_charges_the_expected_loss(case):
    seed, n, s = case
    world, state, actions, rules, econ = random_world_state(seed, n, s)
    state.forced_incidents[:] = False
    expected = resolve_step(world, state, actions, rules, econ, None)
    assert not expected.incidents.any()
    assert (expected.capacity_lost_t_per_yr >= 0).all()
    assert (expected.capacity_lost_t_per_yr <= state.capacity_t_per_yr + 1e-9).all()
    # the same step without any incident risk loses nothing
    econ.incident_rate_per_year = 0.0
    assert (resolve_step(world, state, actions, rules, econ, None).capacity_lost_t_per_yr == 0).all()


@pytest.mark.parametrize("n, s", [(2, 1), (11, 10), (11, 20), (40, 3), (120, 20), (257, 200)])
def test_incident_losses_follow_the_formula_at_every_size(n, s):
    """The capacity an incident destroys, with many incidents on few and on many nations (the
    reference checks up to 9 nations): each pair in an incident leaves i ``1 - damage ·
    overlap`` of its capacity (overlap: the share of i's work where j works; a forced incident
    hits everywhere), and the losses multiply."""
    for seed in range(6):
        world, state, actions, rules, econ = random_world_state(seed, n, s)
        econ.incident_rate_per_year *= 50.0
        out = resolve_step(world, state, actions, rules, econ, np.random.default_rng(seed))
        demand = out.demand_t
        presence = demand / np.where(demand.sum(1, keepdims=True) > 0,
                                     demand.sum(1, keepdims=True), np.inf)
        overlap = presence @ (demand > 0).T.astype(float)
        overlap = np.where(state.forced_incidents & (overlap <= 0), 1.0, overlap)
        assert (out.incidents == out.incidents.T).all() and not out.incidents.diagonal().any()
        assert (out.incidents | ~state.forced_incidents).all()
        with np.errstate(divide="ignore"):
            kept_log = np.where(out.incidents, np.log1p(-econ.incident_damage
                                                        * np.minimum(overlap, 1.0)), 0.0).sum(1)
        np.testing.assert_allclose(out.capacity_lost_t_per_yr,
                                   state.capacity_t_per_yr * -np.expm1(kept_log),
                                   rtol=1e-12, atol=1e-9)
        if n > 2:
            assert out.incidents.any()




def test_accounts_under_several_rule_sets_are_each_rule_set_s_own():
    """A membership review weighs the step under many rule sets from the preparation made
    under the first: under each rule set the accounts must be, to the last bit, those of a
    preparation made afresh for it (so the rules' numbers land where the compiled step reads
    them)."""
    from helpers import raw_scenario, scenario_from

    from sim.economy.kernels import step as k
    from sim.economy.step import RULE_PARAMETERS, accounts_under, expected_accounts, prepare
    from sim.model.build import rules_in_force
    from sim.model.model import LunarModel

    assert RULE_PARAMETERS == slice(k.P_BENEFIT, k.P_LIABILITY + 1)
    model = LunarModel(scenario_from(raw_scenario("multilateral"), regime__membership="fixed"),
                       rng=2)
    for _ in range(6):
        model.step()
    world, state, econ = model.world, model.state, model.econ
    memberships = [model.members.copy()]
    for i in np.flatnonzero(model.members)[:2]:  # each out in turn
        memberships.append(model.members.copy())
        memberships[-1][i] = not memberships[-1][i]
    rule_sets = [rules_in_force(model.regime, model.names, model.blocs, m, model.laws,
                                model._law_bars) for m in memberships]
    # rule sets that recognise the same claims share one settlement of the contest: one that
    # monitors nobody beside one that monitors (the value moved, which only fines read), and
    # one whose claims are another's but that differs in every other rule
    rule_sets += [replace(rule_sets[1], monitored=np.zeros_like(rule_sets[1].monitored)),
                  replace(rule_sets[0], recognises_claims=rule_sets[2].recognises_claims)]
    assert len({r.recognises_claims.tobytes() for r in rule_sets}) == 3
    assert rule_sets[1].monitored.any()
    actions = np.array(model.recent_intended)
    base = prepare(world, state, model.rules, econ)
    together = accounts_under(world, state, actions, rule_sets, econ, base)
    for f, rules in enumerate(rule_sets):
        alone = expected_accounts(world, state, actions, rules, econ,
                                  prepare(world, state, rules, econ, base.allocation))
        for name, values in alone.fields().items():
            assert np.array_equal(getattr(together, name)[f], values), (f, name)
    assert not np.array_equal(together.utility[0], together.utility[1])
    assert not np.array_equal(together.utility[0], together.utility[2])
    assert not np.array_equal(together.sanctions[1], together.sanctions[3])
    assert not np.array_equal(together.utility[4], together.utility[0])


def test_trust_learning_is_its_definition_to_the_last_bit():
    """Step 10's trust, compiled, equals its definition in numpy (docs/ODD.md): toward 1 after
    C in both arenas, toward 0 after D, cut by the shock where an incident was, 1 toward
    oneself, clipped to [0, 1]."""
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 11, 40):
        for _ in range(25):
            trust = rng.random((n, n)) * rng.choice([1.0, 1e-12])
            actions, trade = rng.random((2, n, n)) < rng.random()
            incidents = rng.random((n, n)) < 0.3
            econ = replace(random_world_state(0, 2, 2)[4], trust_learning_rate=rng.random(),
                           trust_incident_shock=rng.random())
            received = (actions & trade).T.astype(float)
            want = trust + econ.trust_learning_rate * (received - trust)
            want[incidents] = want[incidents] * (1.0 - econ.trust_incident_shock)
            np.fill_diagonal(want, 1.0)
            got = learn_trust(trust, actions, incidents, econ, trade)
            assert got.tobytes() == np.clip(want, 0.0, 1.0).tobytes()  # the bits


def test_a_kernels_copies_of_an_array_are_the_array_whatever_its_layout():
    """``repeated`` (the batches' starting points) gives ``count`` copies of any array: C- or
    F-ordered, a strided view, floats or booleans."""
    from sim.economy.kernels.common import repeated

    rng = np.random.default_rng(2)
    base = rng.random((7, 5))
    for a in (base, np.asfortranarray(base), base[::2, 1:], base.T, base > 0.5):
        for count in (0, 1, 4):
            got = repeated(a, count)
            assert got.dtype == a.dtype and got.shape == (count, *a.shape)
            assert np.array_equal(got, np.repeat(a[None], count, axis=0))


def test_a_kernels_sum_is_numpys_to_the_last_bit():
    """``numpy_sum`` adds as numpy does (from 0, pairwise in blocks of eight running sums), so
    a kernel that sums a market's economies gives numpy's bits: every length from 0 to 300 and
    longer runs (numpy splits those in halves), magnitudes from 1e-8 to 1e8, signed zeros."""
    from sim.economy.kernels.common import numpy_sum

    rng = np.random.default_rng(5)
    lengths = [*range(301), 511, 1024, 1031, 4099]
    for n in lengths:
        for kind in range(3):
            a = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 9, n)
            if kind == 1 and n:
                a[rng.integers(0, n, max(1, n // 5))] = -0.0
            if kind == 2:
                a = np.full(n, -0.0)
            assert np.float64(numpy_sum(a)).tobytes() == np.float64(a.sum()).tobytes(), (n, kind)


@pytest.mark.parametrize("seed", range(40))
def test_what_a_step_leaves_in_one_call_is_each_part_s_own_to_the_last_bit(seed):
    """The model settles trust, the importers' refining, the mines, the running accounts and
    standing in one compiled call (``kernels.advance``); each result is, bit for bit, what the
    part's own function or array expression gives: with and without a holder, mines that do
    and do not answer to price, one site or several."""
    from sim.economy.kernels.advance import advance
    from sim.economy.rare_earths import diversify, open_mines
    from sim.economy.rare_earths.importers import rates
    from sim.economy.rare_earths.mines import price_answer
    from sim.economy.step import learn_trust
    from sim.model.build import bloc_masks
    from sim.rules.strategies.trade import update_standing

    rng = np.random.default_rng(seed)
    n, s = int(rng.integers(1, 12)), int(rng.integers(1, 6))
    world, state, actions, rules, econ = random_world_state(seed, n, s)
    econ.mine_supply_elasticity = float(rng.choice([0.0, rng.uniform(0.1, 2)]))
    trade = rng.random((n, n)) < 0.7
    np.fill_diagonal(trade, True)
    incidents = rng.random((n, n)) < 0.2
    incidents |= incidents.T
    off, same, _ = bloc_masks(np.array(rng.choice(["a", "b", "c"], n), dtype=object))
    targets = rng.random(n) < 0.3
    price = econ.ree_price_usd_per_kg * float(rng.uniform(0.5, 3))  # above or below reference
    demand = rng.uniform(0, 1e4, (n, s)) * (rng.random((n, s)) < 0.7)
    step = {name: rng.uniform(-5, 50, n) for name in ("propellant", "mined", "welfare")}
    breaches, growth = rng.integers(0, 3, n).astype(float), rng.uniform(0.9, 1.1, n)
    standing = rng.random((2, n, n)) < 0.8
    may = rng.random((n, n)) < 0.6
    counted = rng.integers(0, 9, (n, n)).astype(float)
    before = counted.copy()
    h = -1 if world.leverage_holder is None else int(world.leverage_holder)
    dt = world.dt

    got = advance(
        state.trust, actions, trade, incidents, econ.trust_learning_rate,
        econ.trust_incident_shock, h, same, off, targets, state.ree_threat,
        world.ree_demand_t_per_yr, state.ree_demand_factor, world.ree_mining_t_per_yr,
        state.ree_mining_built_t_per_yr, world.ree_refining_t_per_yr,
        state.ree_refining_built_t_per_yr, state.ree_supply_factor, *rates(econ, dt),
        *price_answer(econ, price, dt), demand, state.budget_usd_bn, growth, state.propellant_t,
        step["propellant"], state.ree_mined_t, step["mined"], state.welfare_usd_bn,
        step["welfare"], state.breach_record, 0.5 ** dt, rules.detection, breaches, standing, may,
        counted)

    built, threat = diversify(world, state, targets, same | ~off, econ)
    mines = state.ree_mining_built_t_per_yr.copy()  # the array definition of step 9c
    if econ.mine_supply_elasticity > 0:
        ratio = max(price / econ.ree_price_usd_per_kg, 0.0)
        wanted = world.ree_mining_t_per_yr * state.ree_supply_factor * max(
            ratio ** econ.mine_supply_elasticity - 1.0, 0.0)
        mines += np.maximum(wanted - mines, 0.0) * -np.expm1(-dt / econ.mine_lead_time_years)
        if h >= 0:
            mines[h] = 0.0
    state.ree_price_usd_per_kg = price  # (the mines answer the step's price)
    assert open_mines(world, state, econ).tobytes() == mines.tobytes()
    want = (learn_trust(state.trust, actions, incidents, econ, trade), built, threat,
            mines, demand.sum(axis=0),
            state.budget_usd_bn * growth, state.propellant_t + step["propellant"],
            state.ree_mined_t + step["mined"], state.welfare_usd_bn + step["welfare"],
            state.breach_record * 0.5 ** dt + rules.detection * (breaches > 0),
            update_standing(standing, actions, trade), actions & may)
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), k
    assert counted.tobytes() == (before + (actions & may)).tobytes()  # counted in place


def test_a_kernels_column_sums_are_numpys_to_the_last_bit_in_either_order():
    """``column_sums`` (the load on each site) adds as ``a.sum(axis=0)`` does: row after row
    for a C-ordered array, each column pairwise for an F-ordered one or a single column."""
    from sim.economy.kernels.advance import column_sums

    rng = np.random.default_rng(8)
    for n in (1, 2, 7, 8, 9, 17, 40, 300):
        for s in (1, 2, 3, 10):
            a = rng.standard_normal((n, s)) * 10.0 ** rng.integers(-8, 9, (n, s))
            a[rng.random((n, s)) < 0.2] = -0.0
            for layout in (a, np.asfortranarray(a)):
                assert column_sums(layout).tobytes() == layout.sum(axis=0).tobytes(), (n, s)


@pytest.mark.parametrize("seed", range(40))
def test_each_site_s_yield_value_and_cost_are_their_definitions_to_the_last_bit(seed):
    """What a t of regolith yields, earns and costs at each site (compiled, asked twice a step)
    equals its numpy definition bit for bit: grade · recovery · uptime, that times the value
    of a kg of the site's product (propellant; rare-earth oxide at the price, less the return
    cost) times 1,000, and the site kind's operating cost."""
    from helpers import random_world_state

    from sim.base.units import KG_PER_T
    from sim.economy.invest import ree_value_usd_per_kg, unit_terms

    rng = np.random.default_rng(seed)
    world, state, _, _, econ = random_world_state(seed, 3, int(rng.integers(1, 9)))
    price = float(rng.uniform(0.0, 500.0))
    per_kg = np.where(world.site_is_ice, econ.propellant_value_usd_per_kg,
                      ree_value_usd_per_kg(econ, price))
    want_yield = world.grade * econ.recovery_fraction * world.uptime
    want_value = world.grade * econ.recovery_fraction * world.uptime * per_kg * KG_PER_T
    want_cost = np.where(world.site_is_ice, econ.operating_cost_usd_per_t,
                         econ.ree_operating_cost_usd_per_t)
    yield_t, value, cost = unit_terms(world, econ, price)
    assert np.array_equal(yield_t, want_yield) and np.array_equal(value, want_value)
    assert np.array_equal(cost, want_cost)


def test_the_compiled_step_refuses_a_settlement_made_for_other_actions_or_sites():
    """A review hands the compiled step the contest it settled once for several rule sets; a
    settlement of another shape (other matrices, nations or sites) is refused, not read."""
    from helpers import random_world_state

    from sim.economy.kernels import step as k
    from sim.economy.kernels.common import batch
    from sim.economy.step import prepare

    world, state, actions, rules, econ = random_world_state(5, 4, 3)
    prepared = prepare(world, state, rules, econ)
    many = batch(np.array([actions, actions]), (2,), 4, 4)
    trade = batch(np.ones((4, 4), bool), (2,), 4, 4)

    def resolve(settled, moved):
        return k.resolve(many, trade, *prepared.before, np.zeros((4, 4)), False,
                         *prepared.after, False, True, settled, moved)

    empty = np.empty((0, 0, 0))
    right = resolve(empty, empty)
    worked, moved = k.contest(prepared.demand, prepared.before[1], ~many & ~np.eye(4, dtype=bool),
                              rules.recognises_claims, prepared.after[-1][k.P_RHO],
                              prepared.after[-1][k.P_ZONE], prepared.before[3], True)
    assert np.array_equal(resolve(worked, moved)[1], right[1])
    for wrong in (worked[:1], worked[:, :3], np.ascontiguousarray(worked[:, :, :2])):
        with pytest.raises(ValueError, match="settlement"):
            resolve(np.ascontiguousarray(wrong), moved)
