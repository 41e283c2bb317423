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
from functools import cache

import numpy as np

from sim.base.units import KG_PER_T, USD_PER_BN
from sim.economy.invest import ree_value_usd_per_kg, unit_margin_usd_per_t, unit_terms
from sim.economy.rare_earths.market import holder_and_targets, supply_side
from sim.economy.rare_earths.market import parameters as market_parameters
from sim.economy.state import EconParams, Outcome, RegimeRules, Resolved, State, World

OXYGEN_MASS_FRACTION = 8.0 / 9.0  # H2O -> O2 + H2: 16/18 of the mass is oxygen


def locate(world: World, state: State, econ: EconParams,
           margin: np.ndarray | None = None) -> np.ndarray:
    """Step 3: spread capacity over sites by expected margin (share of capacity, [N, S];
    computed by the compiled :func:`sim.economy.kernels.growth.locate`).

    Expected margin: the unit margin, times the share of reserve left, times the crowding seen
    at the previous step, times the output hostile neighbours took there. Capacity goes to
    sites in proportion to expected margin ** ``site_choice_focus``; only ``relocation_per_year``
    of it can move in a year (plants are not mobile); a nation's first plants go straight to
    the target. ``margin``: the unit margin at each site, if already known.
    """
    from sim.economy.kernels.growth import locate as compiled

    if margin is None:
        margin = unit_margin_usd_per_t(world, econ, state.ree_price_usd_per_kg)
    return compiled(margin, state.reserve_t, world.initial_reserve_t,
                    world.site_capacity_t_per_yr * world.dt, state.site_load_t, state.exposure,
                    state.allocation, econ.interference, econ.site_choice_focus,
                    1.0 - (1.0 - econ.relocation_per_year) ** world.dt)


def resolve_step(
    world: World,
    state: State,
    actions: np.ndarray,
    rules: RegimeRules,
    econ: EconParams,
    rng: np.random.Generator | None,
    allocation: np.ndarray | None = None,
    trade: np.ndarray | None = None,
    prepared: Prepared | None = None,
) -> Outcome:
    """Steps 3-8: locate, extract, use, market, incidents, payoffs. Pure; see the module doc.

    ``actions`` are the lunar arena's, ``trade`` [N, N] the rare-earth arena's (True = trade
    without restriction; None: nobody restricts; :mod:`sim.economy.rare_earths.arena`).
    With ``rng=None`` no incident is drawn: each pair's expected loss is charged instead (what a
    nation weighing a counterfactual expects). Then ``actions`` and ``trade`` may also be a batch
    [B, N, N] of alternative action matrices, and every outcome array gains that leading axis:
    one call weighs many counterfactuals. ``allocation`` may pass in ``locate``'s result for
    this state, which does not depend on the actions, and ``prepared`` all that does not
    (:func:`prepare`, for this world, state, rules and parameters).
    """
    return _resolve(world, state, actions, rules, econ, rng, allocation, detail=True,
                    trade=trade, prepared=prepared)


def expected_utility(world: World, state: State, actions: np.ndarray, rules: RegimeRules,
                     econ: EconParams, allocation: np.ndarray | None = None,
                     trade: np.ndarray | None = None, prepared: Prepared | None = None
                     ) -> np.ndarray:
    """Every nation's utility [..., N] for one action matrix or a batch [B, N, N], with expected
    incident losses: ``resolve_step(..., rng=None).utility``, the same numbers, without the
    accounting that only a step that happens records (what a nation weighing counterfactuals
    needs, and all it needs)."""
    return _resolve(world, state, actions, rules, econ, None, allocation, detail=False,
                    trade=trade, prepared=prepared)


@dataclass(frozen=True)
class Prepared:
    """What the step's economics reads of the world, the state and the rules whatever the
    actions (:func:`prepare`): computed once a step, it serves the real step and every batch
    of counterfactuals weighed before it."""

    allocation: np.ndarray  # [N, S] where plants go this step (step 3)
    demand: np.ndarray  # [N, S] t of regolith each nation brings to each site
    before: tuple  # the compiled step's arguments before the incident draws ...
    after: tuple  # ... and after them
    market: tuple  # the market's part of ``after`` (its supply side, holder and parameters)


# where the rules' numbers go in the step's parameters (sim.economy.kernels.step's P_BENEFIT, ...)
RULE_PARAMETERS = slice(9, 14)


def prepare(world: World, state: State, rules: RegimeRules, econ: EconParams,
            allocation: np.ndarray | None = None) -> Prepared:
    """The action-independent inputs of :func:`resolve_step` for this state (``allocation``:
    :func:`locate`'s result, if already known). Pure; what it derives (each pair's incident
    risk, the market's supply side, ...) is the state's as it is now, not a view of it."""
    from sim.economy.kernels import step as k  # (the compiler loads with the first step)

    dt = world.dt
    n = state.capacity_t_per_yr.shape[0]
    yield_t, value, cost = unit_terms(world, econ, state.ree_price_usd_per_kg)
    if allocation is None:
        allocation = locate(world, state, econ, value - cost)  # 3. Locate (the unit margin)
    demand = state.capacity_t_per_yr[:, None] * allocation * dt  # t regolith this step
    ree_value = ree_value_usd_per_kg(econ, state.ree_price_usd_per_kg)
    p = np.array([econ.race_advantage, econ.claim_exclusion, econ.synergy, econ.interference,
                  econ.incident_rate_per_year * dt, econ.incident_damage,
                  econ.propellant_value_usd_per_kg * KG_PER_T / USD_PER_BN,
                  ree_value * KG_PER_T / USD_PER_BN, _survival(econ, dt), 0.0, 0.0, 0.0, 0.0,
                  0.0, econ.coercion_weight, econ.relative_gains_weight])
    before = (demand, world.site_capacity_t_per_yr * dt, yield_t, value / USD_PER_BN, cost,
              world.site_is_ice, state.reserve_t, state.capacity_t_per_yr, state.capital_usd_bn,
              state.breach_record, state.trust, state.forced_incidents,
              *k.exposure(demand, state.trust, state.forced_incidents, p[k.P_HAZARD],
                          p[k.P_DAMAGE]))
    market = (*supply_side(world, state), *holder_and_targets(world, state, n),
              market_parameters(world, state, econ))
    *rule_arrays, p = _rule_arguments(rules, dt, p)
    return Prepared(allocation, demand, before, (*rule_arrays, *market, p), market)


def _rule_arguments(rules: RegimeRules, dt: float, p: np.ndarray) -> tuple[np.ndarray, ...]:
    """What the compiled step reads of the rules: who may coordinate with whom, whose claims
    each recognises, who is monitored and liable toward whom, who shares and what it pays this
    step, and the step's parameters ``p`` with the rules' numbers in :data:`RULE_PARAMETERS`."""
    p = p.copy()
    p[RULE_PARAMETERS] = (rules.benefit_share, rules.detection, rules.fine_multiple,
                          rules.escalation, rules.liability_share)
    return (rules.may_cooperate, rules.recognises_claims, rules.monitored, rules.liable,
            rules.sharing_members,
            np.where(rules.sharing_members, rules.entry_cost_usd_bn_per_yr * dt, 0.0), p)


def expected_accounts(world: World, state: State, actions: np.ndarray, rules: RegimeRules,
                      econ: EconParams, prepared: Prepared | None = None) -> Accounts:
    """Each nation's accounts for a batch of action matrices [B, N, N], with expected incident
    losses: the per-nation fields of :class:`Outcome` that payoffs make ([B, N] each: welfare,
    utility, transfers, sanctions, liability, entry cost, ...), the same numbers as
    ``resolve_step(..., rng=None)``'s, without the per-site results and the accounting of gross
    output (:data:`GROSS_ACCOUNTING`)."""
    return _resolve(world, state, actions, rules, econ, None, None, detail=False,
                    prepared=prepared, accounts=True)


def accounts_under(world: World, state: State, actions: np.ndarray,
                   rule_sets: list[RegimeRules], econ: EconParams,
                   prepared: Prepared | None = None) -> Accounts:
    """:func:`expected_accounts` under each of F rule sets (what a membership review weighs:
    the membership as it is and with each nation's flipped): each field [F, B, N], the same
    numbers to the last bit, with the preparation and the results' views made once for all
    of them. ``prepared``: this state's preparation under any rules (only what the rules do
    not change is read of it). The contest, which reads of the rules only whose claims each
    recognises, is settled once for the rule sets that agree on them. (One compiled call
    looping over the rule sets was measured: it saved 0.05 ms a review and cost 15 s of
    compiling at the first multilateral run.)"""
    from sim.economy.kernels import step as k
    from sim.economy.kernels.common import batch
    from sim.economy.kernels.contest import contest

    actions = np.asarray(actions, dtype=bool)
    n, lead = actions.shape[-1], actions.shape[:-2]
    if prepared is None:
        prepared = prepare(world, state, rule_sets[0], econ)
    actions, trade = batch(actions, lead, n, n), batch(np.ones((n, n), bool), lead, n, n)
    uniforms = np.zeros((n, n))
    arguments = [_rule_arguments(rules, world.dt, prepared.after[-1]) for rules in rule_sets]
    claims: dict[bytes, list[int]] = {}  # the rule sets that recognise the same claims
    for f, (_, respects, *_) in enumerate(arguments):
        claims.setdefault(respects.tobytes(), []).append(f)
    settled = [(_UNSETTLED, _UNSETTLED)] * len(rule_sets)
    compete = ~actions  # (who races whom, as the compiled step reads it)
    compete.reshape(len(actions), -1)[:, :: n + 1] = False
    demand, site_cap, _, worth = prepared.before[:4]
    for group in claims.values():
        if len(group) > 1:
            _, respects, monitored, *_, p = arguments[group[0]]
            result = contest(demand, site_cap, compete, respects, p[k.P_RHO], p[k.P_ZONE],
                             worth, any(arguments[f][2].any() for f in group))
            for f in group:
                settled[f] = result
    rows = np.stack([
        k.resolve(actions, trade, *prepared.before, uniforms, False, *rules_part,
                  *prepared.market, p, False, True, *contested)[1]
        for (*rules_part, p), contested in zip(arguments, settled, strict=True)])
    return Accounts(rows, lead)


class Accounts:
    """Each nation's accounts for a batch (:func:`expected_accounts`): the per-nation fields of
    :class:`Outcome` but :data:`GROSS_ACCOUNTING`, as attributes ([B, N] each; [F, B, N] under
    F rule sets, :func:`accounts_under`), each read from the compiled step's rows when asked
    for (a review reads six of them, many times a year)."""

    __slots__ = ("_rows", "_lead")

    def __init__(self, rows: np.ndarray, lead: tuple[int, ...]) -> None:
        self._rows, self._lead = rows, lead  # [B, R, N], the batch's leading shape

    def __getattr__(self, name: str) -> np.ndarray:
        r = _account_rows().get(name)
        if r is None:
            raise AttributeError(name)
        rows = self._rows  # [B, R, N], or [F, B, R, N] under F rule sets (accounts_under)
        return rows[..., r, :].reshape(rows.shape[:-3] + self._lead + rows.shape[-1:])

    def fields(self) -> dict[str, np.ndarray]:
        """Every field, by name."""
        return {name: getattr(self, name) for name in _account_rows()}


# the compiled step's sign that the contest is to be settled in the call (empty results)
_UNSETTLED = np.empty((0, 0, 0))

# what the gross output is made of: computed only for a step's full outcome (``detail``)
GROSS_ACCOUNTING = ("potential_output", "crowding_loss", "exhaustion_loss", "synergy_gain",
                    "interference_loss")


@cache
def _row_fields() -> dict[str, int]:
    """The :class:`Outcome` fields that are rows of the compiled step's per-nation results
    (built once: the step reads them at every call)."""
    from sim.economy.kernels import step as k

    return {"partner_share": k.R_PARTNER_SHARE, "propellant_t": k.R_PROPELLANT,
            "ree_mined_t": k.R_REE_MINED, "ree_shipped_t": k.R_REE_SHIPPED,
            "capacity_lost_t_per_yr": k.R_CAPACITY_LOST,
            "propellant_value": k.R_PROPELLANT_VALUE, "ree_revenue": k.R_REE_REVENUE,
            "gross_output": k.R_GROSS, "potential_output": k.R_POTENTIAL,
            "crowding_loss": k.R_CROWDING, "exhaustion_loss": k.R_EXHAUSTION,
            "synergy_gain": k.R_SYNERGY, "interference_loss": k.R_INTERFERENCE,
            "operating_cost": k.R_OPERATING, "depreciation": k.R_DEPRECIATION,
            "incident_loss": k.R_INCIDENT_LOSS, "retaliation_cost": k.R_RETALIATION,
            "coercion_value": k.R_COERCION, "transfers": k.R_TRANSFERS,
            "sanctions": k.R_SANCTIONS, "liability": k.R_LIABILITY, "breaches": k.R_BREACHES,
            "entry_cost": k.R_ENTRY, "welfare": k.R_WELFARE, "utility": k.R_UTILITY}


@cache
def _account_rows() -> dict[str, int]:
    """:func:`_row_fields` but :data:`GROSS_ACCOUNTING`: the fields of :class:`Accounts`."""
    return {name: r for name, r in _row_fields().items() if name not in GROSS_ACCOUNTING}


def _resolve(world: World, state: State, actions: np.ndarray, rules: RegimeRules,
             econ: EconParams, rng: np.random.Generator | None, allocation: np.ndarray | None,
             detail: bool, trade: np.ndarray | None = None, prepared: Prepared | None = None,
             accounts: bool = False) -> Outcome | Accounts | np.ndarray:
    """:func:`resolve_step` (``detail``), :func:`expected_accounts` (``accounts``), or
    :func:`expected_utility`: only the utility. The arrays the compiled step reads
    (:func:`sim.economy.kernels.step.resolve`), then its results as an :class:`Outcome`."""
    from sim.economy.kernels import step as k  # the compiler loads with the first step
    from sim.economy.kernels.common import batch

    actions = np.asarray(actions, dtype=bool)
    if rng is not None and (actions.ndim != 2 or (trade is not None and np.ndim(trade) != 2)):
        raise ValueError("a batch of action matrices is evaluated with expected incidents (rng=None)")
    n = actions.shape[-1]
    trade = np.ones((n, n), dtype=bool) if trade is None else np.asarray(trade, dtype=bool)
    lead = np.broadcast_shapes(actions.shape[:-2], trade.shape[:-2])
    if prepared is None:
        prepared = prepare(world, state, rules, econ, allocation)
    allocation, demand = prepared.allocation, prepared.demand
    utility, out, mk, scalars, reserve_after, per_site, incidents = k.resolve(
        batch(actions, lead, n, n), batch(trade, lead, n, n), *prepared.before,
        rng.random((n, n)) if rng is not None else np.zeros((n, n)), rng is not None,
        *prepared.after, detail, accounts, _UNSETTLED, _UNSETTLED)
    if accounts:  # (the accounting of gross output is computed with the detail only)
        return Accounts(out, lead)
    if not detail:
        return utility.reshape(lead + (n,))

    def per(a: np.ndarray) -> np.ndarray:  # [B, ...] -> the actions' leading shape
        return a.reshape(lead + a.shape[1:])

    out, mk, per_site = per(out), per(mk), per(per_site)

    def scalar(a: np.ndarray) -> float | np.ndarray:
        return float(a[0]) if not lead else a.reshape(lead)

    return Resolved(
        allocation=allocation,
        demand_t=demand,
        worked_t=per_site[..., k.RS_WORKED, :, :],
        product_t=per_site[..., k.RS_PRODUCT, :, :],
        reserve_after_t=per(reserve_after),
        exposure=per_site[..., k.RS_EXPOSURE, :, :],
        output_factor=per_site[..., k.RS_FACTOR, :, :],
        incidents=per(incidents) if rng is not None else np.zeros(lead + (n, n), dtype=bool),
        ree_price_usd_per_kg=scalar(scalars[:, 0]),
        leverage_index=scalar(scalars[:, 1]),
        rows=out,
        market_rows=mk,
        **block_fields(out, mk),
    )


def block_fields(rows: np.ndarray, market: np.ndarray) -> dict[str, np.ndarray]:
    """The per-nation fields of an :class:`Outcome` that the compiled step's two blocks of
    results hold — ``rows`` [..., R, N] and the market's ``market`` [..., MK, N] — by name: views
    of them, but for the two flags. Whatever the leading shape: one step's blocks, a batch's,
    or a run's stacked by the recorder ([T, R, N])."""
    from sim.economy.kernels import market as km

    if rows.ndim > 2:  # (views with each row's index first: rows[r] is rows[..., r, :])
        rows, market = np.moveaxis(rows, -2, 0), np.moveaxis(market, -2, 0)
    return {"export_targets": market[km.MK_SEVERITY] > 0,
            "retaliators": market[km.MK_SALES_LOST] > 0,
            "ree_shortfall_t": market[km.MK_SHORTFALL_T],
            "import_dependence": market[km.MK_DEPENDENCE],
            "shortfall_cost": market[km.MK_SHORTFALL_COST],
            "export_revenue_lost": market[km.MK_EXPORT_LOST],
            "diversification_cost": market[km.MK_PREMIUM],
            } | {name: rows[r] for name, r in _row_fields().items()}


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


def grow(world: World, state: State, outcome: Outcome, econ: EconParams) -> Growth:
    """Step 9: capacity and its book value after losses, depreciation and investment [N].

    Each nation adds capacity where it pays (the rule of :mod:`sim.economy.invest`): at a site
    whose margin, over the site's remaining life at its discount rate, beats the cost of new
    capacity, as far as its marginal share of a crowded site still does, within its budget. A
    t/yr of new capacity costs less with the nation's own lunar propellant (fewer launches of
    propellant; a saturating cut) and with partners' shared infrastructure at its sites. New
    plants go to the sites they were bought for. The capital account closes exactly: book value
    before - incident loss - depreciation + investment = after. Computed by the compiled kernel
    :func:`sim.economy.kernels.growth.grow`.
    """
    from sim.economy.kernels.growth import grow as compiled

    dt = world.dt
    g = np.array([dt, _survival(econ, dt), econ.propellant_discount,
                  econ.propellant_half_t_per_yr, econ.infrastructure_discount,
                  econ.capacity_cost_usd_per_t_yr, econ.discount_rate_per_year,
                  econ.depreciation_per_year, econ.isru_budget_share])
    capacity, capital, spent, allocation, npv = compiled(
        state.capacity_t_per_yr, state.capital_usd_bn, outcome.capacity_lost_t_per_yr,
        outcome.allocation, outcome.propellant_t, outcome.partner_share, outcome.output_factor,
        outcome.reserve_after_t, outcome.incident_loss, outcome.depreciation, state.budget_usd_bn,
        world.site_capacity_t_per_yr, *unit_terms(world, econ, outcome.ree_price_usd_per_kg), g)
    return Growth(capacity, capital, spent, allocation, npv)


def learn_trust(trust: np.ndarray, actions: np.ndarray, incidents: np.ndarray, econ: EconParams,
                trade: np.ndarray | None = None) -> np.ndarray:
    """Step 10: trust[i, j] moves toward 1 after j's C toward i (in both arenas: a rare-earth
    restriction is as hostile as a race), toward 0 after its D; an incident between them cuts
    it by ``trust_incident_shock``."""
    from sim.economy.kernels.learning import learn_trust as compiled

    received = actions if trade is None else actions & trade
    return compiled(trust, received, incidents, econ.trust_learning_rate,
                    econ.trust_incident_shock)
