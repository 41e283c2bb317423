"""The economics of one step (steps 3-8 of the model): a pure function over numpy arrays.

:func:`resolve_step` takes the world (fixed arrays), the state at the start of the step, the
matrix of actions after the regime and trembles, the regime's rules, the economic parameters and a
random generator, and returns an :class:`Outcome`. It changes nothing it is given. Because it is
pure, it can be tested against a slow reference (``sim/economy/reference.py``), and a strategy can ask
"what would I get if I played D toward j?" by calling it on counterfactual action matrices with
expected incident losses (``rng=None``): one matrix, or a batch [B, N, N] evaluated at once
(:func:`expected_utility` computes only the utility such a question needs).
:func:`grow` and :func:`learn_trust` are the pure forms of steps 9 and 10.

Units: regolith and products in tonnes (t), money in USD bn, rates per year unless the name says
per step. Capacities are regolith throughput; ``grade`` is the product's mass fraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.base.units import KG_PER_T, USD_PER_BN
from sim.base.units import ratio as _ratio
from sim.economy.invest import (
    decide,
    operating_cost_usd_per_t,
    ree_value_usd_per_kg,
    unit_margin_usd_per_t,
    unit_value_usd_per_t,
)
from sim.economy.rare_earths import clear_market
from sim.economy.rare_earths.arena import coercion_value
from sim.economy.state import EconParams, Outcome, RegimeRules, State, World

OXYGEN_MASS_FRACTION = 8.0 / 9.0  # H2O -> O2 + H2: 16/18 of the mass is oxygen


def pair_masks(actions: np.ndarray, may_cooperate: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(coop, races, mutual, uncoordinated) [..., N, N] masks with a False diagonal.

    ``actions[i, j]`` is what i chose toward j (True = C). ``coop[i, j]``: i coordinates with j,
    which it may only where no law bars the pair. ``races``: i chose D (competes: races for the
    best site, claims exclusively); a legal bar stops coordination but does not make anyone
    race. ``mutual``: both coordinate. ``uncoordinated``: not mutual (nobody deconflicts).
    """
    actions = actions.astype(bool)
    off = ~np.eye(actions.shape[-1], dtype=bool)
    coop = actions & may_cooperate & off
    races = ~actions & off
    mutual = coop & _t(coop)
    return coop, races, mutual, ~mutual & off


def _t(a: np.ndarray) -> np.ndarray:
    """Transpose the last two axes (the pair axes), whatever leads them."""
    return np.swapaxes(a, -1, -2)


def locate(world: World, state: State, econ: EconParams) -> np.ndarray:
    """Step 3: spread capacity over sites by expected margin (share of capacity, [N, S]).

    Expected margin: the unit margin, times the share of reserve left, times the crowding seen
    at the previous step, times the output hostile neighbours took there. Capacity goes to
    sites in proportion to expected margin ** ``site_choice_focus``; only ``relocation_per_year``
    of it can move in a year (plants are not mobile); a nation's first plants go straight to
    the target.
    """
    margin = np.maximum(unit_margin_usd_per_t(world, econ, state.ree_price_usd_per_kg), 0.0)
    remaining = _ratio(state.reserve_t, world.initial_reserve_t)
    site_cap = world.site_capacity_t_per_yr * world.dt
    crowding = np.minimum(1.0, _ratio(site_cap, state.site_load_t))
    crowding[state.site_load_t <= 0] = 1.0
    expected = (margin * remaining * crowding)[None, :] * (1.0 - econ.interference * state.exposure)
    expected = np.maximum(expected, 0.0)
    score = np.where(expected > 0, expected ** econ.site_choice_focus, 0.0)
    target = _ratio(score, score.sum(axis=1, keepdims=True))
    rate = 1.0 - (1.0 - econ.relocation_per_year) ** world.dt
    placed = state.allocation.sum(axis=1, keepdims=True) > 0
    return np.where(placed, state.allocation + rate * (target - state.allocation), target)


def resolve_step(
    world: World,
    state: State,
    actions: np.ndarray,
    rules: RegimeRules,
    econ: EconParams,
    rng: np.random.Generator | None,
    allocation: np.ndarray | None = None,
    trade: np.ndarray | None = None,
) -> Outcome:
    """Steps 3-8: locate, extract, use, market, incidents, payoffs. Pure; see the module doc.

    ``actions`` are the lunar arena's, ``trade`` [N, N] the rare-earth arena's (True = trade
    without restriction; None: nobody restricts; :mod:`sim.economy.rare_earths.arena`).
    With ``rng=None`` no incident is drawn: each pair's expected loss is charged instead (what a
    nation weighing a counterfactual expects). Then ``actions`` and ``trade`` may also be a batch
    [B, N, N] of alternative action matrices, and every outcome array gains that leading axis:
    one call weighs many counterfactuals. ``allocation`` may pass in ``locate``'s result for
    this state, which does not depend on the actions.
    """
    return _resolve(world, state, actions, rules, econ, rng, allocation, detail=True,
                    trade=trade)


def expected_utility(world: World, state: State, actions: np.ndarray, rules: RegimeRules,
                     econ: EconParams, allocation: np.ndarray | None = None,
                     trade: np.ndarray | None = None) -> np.ndarray:
    """Every nation's utility [..., N] for one action matrix or a batch [B, N, N], with expected
    incident losses: ``resolve_step(..., rng=None).utility``, the same numbers, without the
    accounting that only a step that happens records (what a nation weighing counterfactuals
    needs, and all it needs)."""
    return _resolve(world, state, actions, rules, econ, None, allocation, detail=False,
                    trade=trade)


def _resolve(world: World, state: State, actions: np.ndarray, rules: RegimeRules,
             econ: EconParams, rng: np.random.Generator | None, allocation: np.ndarray | None,
             detail: bool, trade: np.ndarray | None = None) -> Outcome | np.ndarray:
    """:func:`resolve_step` (``detail``), or :func:`expected_utility`: only the utility."""
    if rng is not None and (actions.ndim != 2 or (trade is not None and np.ndim(trade) != 2)):
        raise ValueError("a batch of action matrices is evaluated with expected incidents (rng=None)")
    if trade is not None and np.ndim(trade) > actions.ndim:  # a batch of rare-earth actions
        actions = np.broadcast_to(actions, np.shape(trade))
    dt = world.dt
    coop, compete, mutual, hostile = pair_masks(actions, rules.may_cooperate)
    if allocation is None:
        allocation = locate(world, state, econ)  # 3. Locate
    x = extract(world, state, allocation, coop, compete, mutual, hostile, rules, econ)  # 4.

    # 5. Use. Water becomes propellant; rare earths go to Earth only if the price pays the trip.
    propellant = x.product[..., world.site_is_ice].sum(axis=-1)
    ree_mined = x.product[..., ~world.site_is_ice].sum(axis=-1)
    ree_value = ree_value_usd_per_kg(econ, state.ree_price_usd_per_kg)
    ree_shipped = ree_mined if ree_value > 0 else np.zeros_like(ree_mined)

    m = clear_market(world, state, compete, ree_shipped, econ, trade)  # 6. Market
    incidents, capacity_lost, loss_share = draw_incidents(world, state, x, hostile, econ, rng)

    # 8. Payoffs (USD bn this step).
    propellant_value = propellant * econ.propellant_value_usd_per_kg * KG_PER_T / USD_PER_BN
    ree_revenue = ree_shipped * ree_value * KG_PER_T / USD_PER_BN
    operating_cost = x.worked @ operating_cost_usd_per_t(world, econ) / USD_PER_BN
    gross_output = propellant_value + ree_revenue
    destroyed = _ratio(capacity_lost, state.capacity_t_per_yr)  # share of the capacity
    incident_loss = state.capital_usd_bn * destroyed
    depreciation = state.capital_usd_bn * (1.0 - destroyed) * (1.0 - _survival(econ, dt))
    transfers = benefit_transfers(gross_output, rules.sharing_members, rules.benefit_share)
    # A breach is racing a member and taking throughput from it. The regime detects it with a
    # probability its pooled fees buy; the expected fine is that probability times a multiple of
    # what the breach took (Becker 1968), escalating with the breaker's record; no regime can
    # take more from a nation in a step than its operations produce.
    breached = compete & rules.monitored & (x.moved > 0)  # i raced j and took from it
    fines = breached * x.moved * (rules.detection * rules.fine_multiple
                                  * (1.0 + rules.escalation * state.breach_record))[..., :, None]
    due = fines.sum(axis=-1)
    fines = fines * np.minimum(1.0, _ratio(gross_output, due))[..., :, None]
    sanctions = fines.sum(axis=-2) - fines.sum(axis=-1)  # received less paid
    at_fault = compete & ~_t(compete) & rules.liable  # [j, i]: j raced i, i did not race j
    owed = rules.liability_share * _t(at_fault) * incident_loss[..., :, None] * loss_share
    liability = owed.sum(axis=-1) - owed.sum(axis=-2)  # owed[i, j]: j compensates i
    entry_cost = np.where(rules.sharing_members, rules.entry_cost_usd_bn_per_yr * dt, 0.0)
    retaliation_cost = m.retaliation.sales_lost + m.retaliation.cost
    welfare = (gross_output - operating_cost - depreciation - incident_loss + transfers
               + sanctions + liability - entry_cost - m.shortfall_cost - m.export_revenue_lost
               - m.diversification_cost - retaliation_cost)
    coercion = coercion_value(m.pain, state.trust, econ.coercion_weight)
    utility = welfare + coercion - econ.relative_gains_weight * relative_shortfall(welfare)
    if not detail:
        return utility

    # What the gross output is made of (recorded for the step that happens, not weighed).
    worth = x.worth
    potential_output = (x.demand * worth).sum(axis=-1)  # USD bn per t of regolith: ``worth``
    crowding_loss = ((x.demand - x.worked_unscaled) * worth).sum(axis=-1)
    exhaustion_loss = ((x.worked_unscaled - x.worked) * worth).sum(axis=-1)
    synergy_gain = (x.worked * econ.synergy * x.partners * worth).sum(axis=-1)
    interference_loss = (x.worked * (1.0 + econ.synergy * x.partners - x.factor) * worth).sum(axis=-1)
    return Outcome(
        allocation=allocation,
        demand_t=x.demand,
        worked_t=x.worked,
        product_t=x.product,
        reserve_after_t=x.reserve_after,
        exposure=x.exposure,
        output_factor=x.factor,
        partner_share=x.partner_share,
        propellant_t=propellant,
        ree_mined_t=ree_mined,
        ree_shipped_t=ree_shipped,
        incidents=incidents,
        capacity_lost_t_per_yr=capacity_lost,
        ree_price_usd_per_kg=m.price,
        leverage_index=m.leverage,
        export_targets=m.targets,
        retaliators=m.retaliation.sales_lost > 0,
        ree_shortfall_t=m.shortfall_t,
        import_dependence=m.dependence,
        propellant_value=propellant_value,
        ree_revenue=ree_revenue,
        gross_output=gross_output,
        potential_output=potential_output,
        crowding_loss=crowding_loss,
        exhaustion_loss=exhaustion_loss,
        synergy_gain=synergy_gain,
        interference_loss=interference_loss,
        operating_cost=operating_cost,
        depreciation=depreciation,
        incident_loss=incident_loss,
        shortfall_cost=m.shortfall_cost,
        export_revenue_lost=m.export_revenue_lost,
        diversification_cost=m.diversification_cost,
        retaliation_cost=retaliation_cost,
        coercion_value=coercion,
        transfers=transfers,
        sanctions=sanctions,
        liability=liability,
        breaches=breached.sum(axis=-1).astype(float),
        entry_cost=entry_cost,
        welfare=welfare,
        utility=utility,
    )


@dataclass(frozen=True)
class Extraction:
    demand: np.ndarray  # [N, S] t regolith brought
    worked: np.ndarray  # [N, S] t regolith processed
    worked_unscaled: np.ndarray  # [N, S] what would have been processed had reserves sufficed
    factor: np.ndarray  # [N, S] output factor: 1 + synergy - interference (at least 0)
    partners: np.ndarray  # [N, S] share of the site's operations in mutual cooperation
    product: np.ndarray  # [N, S] t of product
    reserve_after: np.ndarray  # [S]
    exposure: np.ndarray  # [N, S]
    presence: np.ndarray  # [N, S] share of each nation's demand at each site
    partner_share: np.ndarray  # [N]
    colocation: np.ndarray  # [N, N] how much i's and j's work shares sites: Σ_s p_is p_js
    moved: np.ndarray  # [..., N, N] USD bn: the throughput the contest moved from j to i, valued
    worth: np.ndarray  # [S] USD bn a tonne of regolith worked at each site yields


def extract(world: World, state: State, allocation: np.ndarray, coop: np.ndarray,
            compete: np.ndarray, mutual: np.ndarray, hostile: np.ndarray, rules: RegimeRules,
            econ: EconParams) -> Extraction:
    """Step 4. Where a site has room for everyone, everyone works all it brought. At a crowded
    site each operator starts from its pro-rata share, and each pair of operators settles
    between themselves (:func:`pairwise_contest`): racing takes throughput from the rival raced
    and from no one else, and a safety zone protects its holder against those who respect it."""
    dt = world.dt
    demand = state.capacity_t_per_yr[:, None] * allocation * dt  # t regolith this step
    load = demand.sum(axis=0)
    worth = unit_value_usd_per_t(world, econ, state.ree_price_usd_per_kg) / USD_PER_BN
    worked, moved = pairwise_contest(demand, world.site_capacity_t_per_yr * dt, compete,
                                     rules.recognises_claims, econ.race_advantage,
                                     econ.claim_exclusion, worth)
    exposure = _ratio(hostile.astype(float) @ demand, load)
    partners = _ratio(mutual.astype(float) @ demand, load)
    factor = np.maximum(0.0, 1.0 + econ.synergy * partners - econ.interference * exposure)
    yield_t = world.grade * econ.recovery_fraction * world.uptime
    unscaled = worked
    product = worked * factor * yield_t
    # Output never exceeds the remaining reserve: scale every operator at an exhausted site.
    wanted = product.sum(axis=-2)
    scale = np.where(wanted > 0, np.minimum(1.0, _ratio(state.reserve_t, wanted)), 1.0)
    product *= scale[..., None, :]
    worked = worked * scale[..., None, :]
    reserve_after = np.maximum(state.reserve_t - product.sum(axis=-2), 0.0)
    presence = _ratio(demand, demand.sum(axis=-1, keepdims=True))
    return Extraction(demand, worked, unscaled, factor, partners, product, reserve_after,
                      exposure, presence, (presence * partners).sum(axis=-1),
                      presence @ _t(presence), moved, worth)


def pairwise_contest(demand: np.ndarray, capacity: np.ndarray, compete: np.ndarray,
                     respects: np.ndarray, race_advantage: float, zone_share: float,
                     worth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Regolith each operator works at each site [..., N, S] (section 7.4 of docs/ODD.md), and
    ``moved`` [..., N, N]: the value of the throughput the settlement moved from j to i, summed
    over sites at ``worth`` (each site's value of a tonne worked [S]).

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
    scaled down). ``compete`` may carry a leading batch axis.
    """
    from sim.economy.kernels import contest  # the compiler loads with the first step

    actions = np.asarray(compete, dtype=bool)
    lead = actions.shape[:-2]
    out, moved = contest(np.ascontiguousarray(demand, dtype=float),
                         np.ascontiguousarray(capacity, dtype=float),
                         np.ascontiguousarray(actions.reshape(-1, *actions.shape[-2:])),
                         np.ascontiguousarray(respects, dtype=bool), float(race_advantage),
                         float(zone_share), np.ascontiguousarray(worth, dtype=float))
    return out.reshape(lead + np.shape(demand)), moved.reshape(actions.shape)


def draw_incidents(world: World, state: State, x: Extraction, hostile: np.ndarray,
                   econ: EconParams, rng: np.random.Generator | None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 7: uncoordinated pairs working the same sites collide, more often with distrust.

    Every pair draws every step, whatever its risk, so that paired runs share their random
    numbers. Returns (incidents [N, N] bool, capacity lost [N] t/yr, and share [N, N] of i's
    loss that its incident with j caused). Forced incidents (events) happen whatever the draw.
    With ``rng=None``, the expected loss is returned and no incident.
    """
    colocation = x.colocation
    shared_trust = 0.5 * (state.trust + state.trust.T)
    hazard = econ.incident_rate_per_year * world.dt * colocation * hostile * (1.0 - shared_trust)
    chance = -np.expm1(-hazard)
    positive = (x.demand > 0).T.astype(float)  # [S, N]: where each nation works
    if rng is None:  # every pair's loss, weighed by its chance
        overlap = x.presence @ positive  # share of i's capacity where j works
        with np.errstate(divide="ignore", invalid="ignore"):  # damage 1 at full overlap: log 0
            pair_log = np.log1p(-econ.incident_damage * np.minimum(overlap, 1.0))
            pair_log = np.where(chance > 0, chance * pair_log, 0.0)  # [i, j], <= 0
        kept_log, share = _loss_shares(pair_log)
        return np.zeros_like(hostile), state.capacity_t_per_yr * -np.expm1(kept_log), share
    upper = np.triu(rng.random(hazard.shape) < chance, k=1)
    incidents = upper | upper.T | state.forced_incidents
    kept_log, share = np.zeros(incidents.shape[:-1]), np.zeros(incidents.shape)
    hit = np.flatnonzero(incidents.any(axis=-1))  # only these nations lose anything
    if hit.size:  # (with none: the same zeros as the formulas give, -0.0 included below)
        overlap = (x.presence @ positive)[hit]  # [k, N] (whole: BLAS's bits depend on the shape)
        forced = state.forced_incidents[hit]
        if forced.any():  # a forced incident hits wherever both are, or everywhere
            overlap = np.where(forced & (overlap <= 0), 1.0, overlap)
        mine = incidents[hit]
        pair_log = np.zeros(overlap.shape)  # [k, N], <= 0
        with np.errstate(divide="ignore", invalid="ignore"):  # damage 1 at full overlap: log 0
            pair_log[mine] = np.log1p(-econ.incident_damage * np.minimum(overlap[mine], 1.0))
        kept_log[hit], share[hit] = _loss_shares(pair_log)
    return incidents, state.capacity_t_per_yr * -np.expm1(kept_log), share


def _loss_shares(pair_log: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the log of the capacity each nation keeps, and the share [.., i, j] of i's loss that
    its incident with j caused) from each pair's log of what it leaves [..., i, j]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        kept_log = pair_log.sum(axis=-1)
        wiped = np.isinf(pair_log)  # pairs that wipe i out
        total = wiped.sum(axis=-1, keepdims=True)
        share = np.where(total > 0, wiped / np.maximum(total, 1),
                         _ratio(-pair_log, -kept_log[..., None]))
    return kept_log, share


def benefit_transfers(value: np.ndarray, members: np.ndarray, share: float) -> np.ndarray:
    """Members pool ``share`` of their output value and each gets an equal part (sums to 0)."""
    transfers = np.zeros_like(value)
    if share > 0 and members.any():
        contributions = share * value[..., members]
        transfers[..., members] = contributions.mean(axis=-1, keepdims=True) - contributions
    return transfers


def relative_shortfall(welfare: np.ndarray) -> np.ndarray:
    """Mean over the others of how far each one's gain exceeds mine (Grieco 1988)."""
    n = welfare.shape[-1]
    if n < 2:
        return np.zeros_like(welfare)
    gap = np.maximum(welfare[..., None, :] - welfare[..., :, None], 0.0)
    return gap.sum(axis=-1) / (n - 1)


@dataclass(frozen=True)
class Growth:
    """Step 9's result for each nation [N]."""

    capacity_t_per_yr: np.ndarray  # after losses, depreciation and new plants
    capital_usd_bn: np.ndarray  # book value after the same
    investment_usd_bn: np.ndarray  # spent on new plants this step
    allocation: np.ndarray  # [N, S] where the capacity is, new plants included
    expected_npv_usd_bn: np.ndarray  # what the nation expects this step's new plants to be worth


def _survival(econ: EconParams, dt: float) -> float:
    """Share of capacity that depreciation leaves after a step."""
    return (1.0 - econ.depreciation_per_year) ** dt


def unit_capacity_cost(outcome: Outcome, econ: EconParams, dt: float) -> np.ndarray:
    """What a t/yr of new capacity costs each nation [N]: less with its own lunar propellant
    (fewer launches of propellant; a saturating cut) and with partners' shared infrastructure at
    its sites."""
    own_rate = outcome.propellant_t / dt
    own_cut = econ.propellant_discount * own_rate / (own_rate + econ.propellant_half_t_per_yr)
    shared_cut = econ.infrastructure_discount * outcome.partner_share
    return econ.capacity_cost_usd_per_t_yr * (1.0 - own_cut) * (1.0 - shared_cut)


def grow(world: World, state: State, outcome: Outcome, econ: EconParams) -> Growth:
    """Step 9: capacity and its book value after losses, depreciation and investment [N].

    Each nation adds capacity where it pays (:func:`sim.economy.invest.decide`): at a site whose
    margin, over the site's remaining life at its discount rate, beats the cost of new capacity,
    as far as its marginal share of a crowded site still does, within its budget. New plants go
    to the sites they were bought for. The capital account closes exactly: book value before -
    incident loss - depreciation + investment = after.
    """
    dt = world.dt
    kept = np.maximum((state.capacity_t_per_yr - outcome.capacity_lost_t_per_yr)
                      * _survival(econ, dt), 0.0)
    unit_cost = unit_capacity_cost(outcome, econ, dt)
    plan = decide(world, state, outcome, econ, kept, unit_cost)
    placed = kept[:, None] * outcome.allocation + plan.added_t_per_yr
    capacity = placed.sum(axis=1)
    allocation = np.where(capacity[:, None] > 0, _ratio(placed, capacity[:, None]),
                          outcome.allocation)
    capital = state.capital_usd_bn - outcome.incident_loss - outcome.depreciation + plan.spent_usd_bn
    return Growth(capacity, np.maximum(capital, 0.0), plan.spent_usd_bn, allocation,
                  plan.expected_npv_usd_bn)


def learn_trust(trust: np.ndarray, actions: np.ndarray, incidents: np.ndarray, econ: EconParams,
                trade: np.ndarray | None = None) -> np.ndarray:
    """Step 10: trust[i, j] moves toward 1 after j's C toward i (in both arenas: a rare-earth
    restriction is as hostile as a race), toward 0 after its D; an incident between them cuts
    it by ``trust_incident_shock``."""
    received = (actions if trade is None else actions & trade).T.astype(float)
    new = trust + econ.trust_learning_rate * (received - trust)
    if incidents.any():  # (few pairs: only theirs are cut)
        new[incidents] = new[incidents] * (1.0 - econ.trust_incident_shock)
    np.fill_diagonal(new, 1.0)
    return np.clip(new, 0.0, 1.0)
