"""The economics of one step (steps 3-8 of the model): a pure function over numpy arrays.

:func:`resolve_step` takes the world (fixed arrays), the state at the start of the step, the
matrix of actions after the regime and trembles, the regime's rules, the economic parameters and a
random generator, and returns an :class:`Outcome`. It changes nothing it is given. Because it is
pure, it can be tested against a slow reference, and a strategy can ask "what would I get if I
played D toward j?" by calling it on a counterfactual action matrix with a copy of the generator.
:func:`grow` and :func:`learn_trust` are the pure forms of steps 9 and 10.

Units: regolith and products in tonnes (t), money in USD bn, rates per year unless the name says
per step. Capacities are regolith throughput; ``grade`` is the product's mass fraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from sim.regimes import RegimeRules

KG_PER_T = 1.0e3
USD_PER_BN = 1.0e9
OXYGEN_MASS_FRACTION = 8.0 / 9.0  # H2O -> O2 + H2: 16/18 of the mass is oxygen


@dataclass
class EconParams:
    """Economic and market parameters (mutable: events change transport costs mid-run)."""

    propellant_value_usd_per_kg: float
    ree_return_cost_usd_per_kg: float
    recovery_fraction: float
    operating_cost_usd_per_t: float
    capacity_cost_usd_per_t_yr: float
    isru_budget_share: float
    depreciation_per_year: float
    race_advantage: float
    claim_exclusion: float
    interference: float
    synergy: float
    infrastructure_discount: float
    propellant_discount: float
    propellant_half_t_per_yr: float
    incident_rate_per_year: float
    incident_damage: float
    relative_gains_weight: float
    site_choice_focus: float
    relocation_per_year: float
    ree_price_usd_per_kg: float
    price_elasticity: float
    demand_growth_per_year: float
    supply_growth_per_year: float
    trust_learning_rate: float
    trust_incident_shock: float

    @classmethod
    def from_specs(cls, *specs: object) -> EconParams:
        names = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for spec in specs:
            for key, value in spec.model_dump().items():  # type: ignore[attr-defined]
                if key in names:
                    values[key] = float(value)
                elif f"trust_{key}" in names:
                    values[f"trust_{key}"] = float(value)
        return cls(**values)


@dataclass(frozen=True)
class World:
    """What does not change during a run: sites, nations' fixed traits, the clock."""

    steps_per_year: int
    site_is_ice: np.ndarray  # bool [S]
    grade: np.ndarray  # product mass fraction [S]
    site_capacity_t_per_yr: np.ndarray  # regolith throughput the site supports [S]
    uptime: np.ndarray  # fraction of time powered [S]
    initial_reserve_t: np.ndarray  # [S]
    best_sites: np.ndarray  # bool [S]: the top ice sites, for the depletion metric
    ree_demand_t_per_yr: np.ndarray  # [N] at the start
    ree_production_t_per_yr: np.ndarray  # [N] at the start
    rest_of_world_demand_t_per_yr: float
    rest_of_world_production_t_per_yr: float
    leverage_holder: int | None
    initial_refining_share: float

    @property
    def dt(self) -> float:
        return 1.0 / self.steps_per_year


@dataclass
class State:
    """The model's state between steps: what the economics reads and the model updates."""

    capacity_t_per_yr: np.ndarray  # [N]
    budget_usd_bn: np.ndarray  # [N] per year
    reserve_t: np.ndarray  # [S]
    allocation: np.ndarray  # [N, S] share of each nation's capacity at each site
    site_load_t: np.ndarray  # [S] regolith demanded at the previous step
    exposure: np.ndarray  # [N, S] hostile share of the site's operations at the previous step
    trust: np.ndarray  # [N, N] trust[i, j]: how far i trusts j, 0..1
    ree_price_usd_per_kg: float
    ree_demand_factor: float = 1.0  # world rare-earth demand relative to the start
    ree_supply_factor: float = 1.0  # terrestrial rare-earth supply relative to the start
    propellant_t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # cumulative [N]
    ree_mined_t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # cumulative [N]
    welfare_usd_bn: np.ndarray = field(default_factory=lambda: np.zeros(0))  # cumulative [N]

    def copy(self) -> State:
        return State(**{f.name: _copy(getattr(self, f.name)) for f in fields(self)})


def _copy(value: object) -> object:
    return value.copy() if isinstance(value, np.ndarray) else value


@dataclass(frozen=True)
class Outcome:
    """What one step produced. Arrays over nations [N], sites [S], or both [N, S]."""

    allocation: np.ndarray  # [N, S]
    demand_t: np.ndarray  # [N, S] regolith each nation brought to each site this step
    worked_t: np.ndarray  # [N, S] regolith actually processed
    product_t: np.ndarray  # [N, S] water or REO extracted
    reserve_after_t: np.ndarray  # [S]
    exposure: np.ndarray  # [N, S] hostile share of the site's operations
    partner_share: np.ndarray  # [N] capacity-weighted share of partners at one's sites
    propellant_t: np.ndarray  # [N] water turned into propellant (O2 + H2)
    ree_mined_t: np.ndarray  # [N]
    ree_shipped_t: np.ndarray  # [N] delivered to Earth
    incidents: np.ndarray  # bool [N, N], symmetric
    capacity_lost_t_per_yr: np.ndarray  # [N]
    ree_price_usd_per_kg: float  # price after this step's market clears
    leverage_index: float  # leverage holder's share of refined world supply
    propellant_value: np.ndarray  # USD bn [N]
    ree_revenue: np.ndarray
    operating_cost: np.ndarray
    incident_loss: np.ndarray
    transfers: np.ndarray  # benefit sharing; sums to zero
    entry_cost: np.ndarray
    welfare: np.ndarray  # material payoff this step, USD bn [N]
    utility: np.ndarray  # welfare less the relative-gains term: what learning rules see


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, and 0 where den is 0 (an empty site has no crowding, rivals or partners)."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    return np.divide(num, den, out=np.zeros(num.shape), where=den > 0)


def pair_masks(actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(coop, compete, mutual, hostile) N x N masks with a False diagonal.

    ``coop[i, j]``: i plays C toward j. ``mutual``: both play C. ``hostile``: either plays D.
    """
    coop = actions.astype(bool, copy=True)
    np.fill_diagonal(coop, False)
    compete = ~actions.astype(bool)
    np.fill_diagonal(compete, False)
    mutual = coop & coop.T
    hostile = ~mutual
    np.fill_diagonal(hostile, False)
    return coop, compete, mutual, hostile


def unit_margin_usd_per_t(world: World, econ: EconParams, ree_price: float) -> np.ndarray:
    """Value of working one t of regolith at each site, less its operating cost [S]."""
    ree_net = max(ree_price - econ.ree_return_cost_usd_per_kg, 0.0)
    value_per_kg = np.where(world.site_is_ice, econ.propellant_value_usd_per_kg, ree_net)
    yield_t = world.grade * econ.recovery_fraction * world.uptime
    return yield_t * value_per_kg * KG_PER_T - econ.operating_cost_usd_per_t


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
    rng: np.random.Generator,
) -> Outcome:
    """Steps 3-8: locate, extract, use, market, incidents, payoffs. Pure; see the module doc."""
    dt = world.dt
    coop, compete, mutual, hostile = pair_masks(actions)

    # 3. Locate.
    allocation = locate(world, state, econ)
    demand = state.capacity_t_per_yr[:, None] * allocation * dt  # t regolith this step
    load = demand.sum(axis=0)
    rivals = load[None, :] - demand

    # 4. Extract. At a crowded site the throughput it supports is shared by priority weight:
    # racing (D) operators push ahead, and a recognised exclusive claim pushes ahead of the C
    # operators who respect it. A pair's weights are averaged over the rival operations there.
    racing = _ratio(compete.astype(float) @ demand, rivals)
    yields_to = compete & coop.T & rules.recognises_claims.T  # [i, j]: j respects i's claim
    claiming = _ratio(yields_to.astype(float) @ demand, rivals)
    weight = 1.0 + econ.race_advantage * racing + econ.claim_exclusion * claiming
    scarcity = np.minimum(1.0, _ratio(world.site_capacity_t_per_yr * dt, load))
    scarcity[load <= 0] = 1.0
    mean_weight = _ratio((demand * weight).sum(axis=0), load)
    worked = np.minimum(demand, demand * scarcity * _ratio(weight, mean_weight[None, :]))
    exposure = _ratio(hostile.astype(float) @ demand, load[None, :])
    partners = _ratio(mutual.astype(float) @ demand, load[None, :])
    factor = np.maximum(0.0, 1.0 + econ.synergy * partners - econ.interference * exposure)
    yield_t = world.grade * econ.recovery_fraction * world.uptime
    product = worked * factor * yield_t[None, :]
    # Output never exceeds the remaining reserve: scale every operator at an exhausted site.
    wanted = product.sum(axis=0)
    scale = np.minimum(1.0, _ratio(state.reserve_t, wanted))
    scale[wanted <= 0] = 1.0
    product *= scale[None, :]
    worked = worked * scale[None, :]
    extracted = product.sum(axis=0)
    reserve_after = np.maximum(state.reserve_t - extracted, 0.0)

    # 5. Use. Water becomes propellant; rare earths go to Earth only if the price pays the trip.
    propellant = product[:, world.site_is_ice].sum(axis=1)
    ree_mined = product[:, ~world.site_is_ice].sum(axis=1)
    price = state.ree_price_usd_per_kg
    ships = price > econ.ree_return_cost_usd_per_kg
    ree_shipped = ree_mined if ships else np.zeros_like(ree_mined)

    # 6. Market: constant-elasticity price from world supply and demand.
    demand_t_yr = world.ree_demand_t_per_yr.sum() + world.rest_of_world_demand_t_per_yr
    demand_t_yr *= state.ree_demand_factor
    terrestrial = world.ree_production_t_per_yr.sum() + world.rest_of_world_production_t_per_yr
    terrestrial *= state.ree_supply_factor
    supply = terrestrial + ree_shipped.sum() / dt
    new_price, leverage = econ.ree_price_usd_per_kg, world.initial_refining_share
    if supply > 0 and demand_t_yr > 0:  # a world without a rare-earth market keeps its price
        new_price *= (demand_t_yr / supply) ** (1.0 / econ.price_elasticity)
        leverage *= terrestrial / supply

    # 7. Incidents: hostile pairs working the same sites, more likely with distrust; each draws
    # every step (whatever the risk) so that paired runs share their random numbers.
    presence = _ratio(demand, demand.sum(axis=1, keepdims=True))
    colocation = presence @ presence.T
    shared_trust = 0.5 * (state.trust + state.trust.T)
    hazard = (
        econ.incident_rate_per_year * dt * colocation * hostile
        * (1.0 - shared_trust) * (1.0 - rules.hazard_reduction)
    )
    draws = rng.random(hazard.shape)
    upper = np.triu(draws < -np.expm1(-hazard), k=1)
    incidents = upper | upper.T
    overlap = presence @ (demand > 0).T.astype(float)  # share of i's capacity where j works
    kept_log = (incidents * np.log1p(-econ.incident_damage * np.minimum(overlap, 1.0))).sum(axis=1)
    capacity_lost = state.capacity_t_per_yr * -np.expm1(kept_log)

    # 8. Payoffs (USD bn this step).
    propellant_value = propellant * econ.propellant_value_usd_per_kg * KG_PER_T / USD_PER_BN
    ree_revenue = ree_shipped * max(price - econ.ree_return_cost_usd_per_kg, 0.0) * KG_PER_T
    ree_revenue = ree_revenue / USD_PER_BN
    operating_cost = worked.sum(axis=1) * econ.operating_cost_usd_per_t / USD_PER_BN
    incident_loss = capacity_lost * econ.capacity_cost_usd_per_t_yr / USD_PER_BN
    output_value = propellant_value + ree_revenue
    transfers = benefit_transfers(output_value, rules.sharing_members, rules.benefit_share)
    entry_cost = np.where(rules.sharing_members, rules.entry_cost_usd_bn_per_yr * dt, 0.0)
    welfare = output_value - operating_cost - incident_loss + transfers - entry_cost
    utility = welfare - econ.relative_gains_weight * relative_shortfall(welfare)

    return Outcome(
        allocation=allocation,
        demand_t=demand,
        worked_t=worked,
        product_t=product,
        reserve_after_t=reserve_after,
        exposure=exposure,
        partner_share=(presence * partners).sum(axis=1),
        propellant_t=propellant,
        ree_mined_t=ree_mined,
        ree_shipped_t=ree_shipped,
        incidents=incidents,
        capacity_lost_t_per_yr=capacity_lost,
        ree_price_usd_per_kg=float(new_price),
        leverage_index=float(leverage),
        propellant_value=propellant_value,
        ree_revenue=ree_revenue,
        operating_cost=operating_cost,
        incident_loss=incident_loss,
        transfers=transfers,
        entry_cost=entry_cost,
        welfare=welfare,
        utility=utility,
    )


def benefit_transfers(value: np.ndarray, members: np.ndarray, share: float) -> np.ndarray:
    """Members pool ``share`` of their output value and each gets an equal part (sums to 0)."""
    transfers = np.zeros_like(value)
    if share > 0 and members.any():
        contributions = share * value[members]
        transfers[members] = contributions.mean() - contributions
    return transfers


def relative_shortfall(welfare: np.ndarray) -> np.ndarray:
    """Mean over the others of how far each one's gain exceeds mine (Grieco 1988)."""
    n = welfare.size
    if n < 2:
        return np.zeros_like(welfare)
    gap = np.maximum(welfare[None, :] - welfare[:, None], 0.0)
    return gap.sum(axis=1) / (n - 1)


def grow(world: World, state: State, outcome: Outcome, econ: EconParams) -> np.ndarray:
    """Step 9: capacity after losses, depreciation and investment, t/yr [N].

    New capacity costs less with one's own lunar propellant (fewer launches of propellant; a
    saturating cut) and with partners' shared infrastructure at one's sites. A nation spends in
    proportion to how much of its capacity it could work this step: it does not land plants that
    crowded sites leave idle (a nation with no capacity yet spends in full).
    """
    dt = world.dt
    brought = outcome.demand_t.sum(axis=1)
    utilisation = np.where(brought > 0, _ratio(outcome.worked_t.sum(axis=1), brought), 1.0)
    invest_usd = state.budget_usd_bn * econ.isru_budget_share * dt * USD_PER_BN * utilisation
    own_rate = outcome.propellant_t / dt
    own_cut = econ.propellant_discount * own_rate / (own_rate + econ.propellant_half_t_per_yr)
    shared_cut = econ.infrastructure_discount * outcome.partner_share
    unit_cost = econ.capacity_cost_usd_per_t_yr * (1.0 - own_cut) * (1.0 - shared_cut)
    kept = (state.capacity_t_per_yr - outcome.capacity_lost_t_per_yr) * (
        (1.0 - econ.depreciation_per_year) ** dt
    )
    return np.maximum(kept, 0.0) + invest_usd / unit_cost


def learn_trust(trust: np.ndarray, actions: np.ndarray, incidents: np.ndarray, econ: EconParams) -> np.ndarray:
    """Step 10: trust[i, j] moves toward 1 after j's C toward i, toward 0 after its D;
    an incident between them cuts it by ``trust_incident_shock``."""
    received = actions.T.astype(float)
    new = trust + econ.trust_learning_rate * (received - trust)
    new = np.where(incidents, new * (1.0 - econ.trust_incident_shock), new)
    np.fill_diagonal(new, 1.0)
    return np.clip(new, 0.0, 1.0)
