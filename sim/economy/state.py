"""What the step's economics reads and returns: the world that does not change during a run,
the state between steps, the economic parameters, the rules in force as arrays, and one step's
outcome. Plain data (dataclasses over numpy arrays), shared by the lunar step
(:mod:`sim.economy.step`), the rare-earth market (:mod:`sim.economy.rare_earths`) and the regimes
that fill :class:`RegimeRules` (:mod:`sim.rules.regimes`).

Units: regolith and products in tonnes (t), money in USD bn, rates per year unless the name says
per step. Capacities are regolith throughput; ``grade`` is the product's mass fraction.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class EconParams:
    """Economic and market parameters (mutable: events change transport costs mid-run)."""

    propellant_value_usd_per_kg: float
    ree_return_cost_usd_per_kg: float
    recovery_fraction: float
    operating_cost_usd_per_t: float
    ree_operating_cost_usd_per_t: float
    capacity_cost_usd_per_t_yr: float
    isru_budget_share: float
    depreciation_per_year: float
    discount_rate_per_year: float
    social_discount_rate_per_year: float
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
    shortfall_cost_multiple: float
    magnet_share: float
    control_severity: float
    coercion_weight: float
    retaliation_cost_multiple: float
    mine_supply_elasticity: float
    mine_lead_time_years: float
    self_reliance_goal: float
    refining_lead_time_years: float
    threat_half_life_years: float
    ally_threat: float
    refining_cost_premium_usd_per_kg: float
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
    # Rare-earth market (magnet oxides, t/yr at the start), [N+1]: the nations, then the rest
    # of the world. Refining is capacity outside the holder, which refines the rest.
    ree_demand_t_per_yr: np.ndarray
    ree_mining_t_per_yr: np.ndarray
    ree_refining_t_per_yr: np.ndarray
    leverage_holder: int | None
    ree_rest_ore_to_holder: float = 0.0  # share of the rest of the world's ore the holder refines

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
    propellant_t: np.ndarray  # cumulative [N]
    ree_mined_t: np.ndarray  # cumulative [N]
    welfare_usd_bn: np.ndarray  # cumulative [N]
    capital_usd_bn: np.ndarray  # [N] book value of the installed capacity (what it cost, less
    # what depreciation and incidents have consumed)
    breach_record: np.ndarray  # [N] steps with a sanctioned breach, each halving in a year
    forced_incidents: np.ndarray  # bool [N, N]: incidents an event forces at the next step
    ree_price_usd_per_kg: float
    ree_refining_built_t_per_yr: np.ndarray  # [N+1] refining built in the run (the last: the rest
    # of the world's announced projects)
    ree_threat: np.ndarray  # [N] supply threat each nation feels, 0..1
    ree_mining_built_t_per_yr: np.ndarray  # [N+1] magnet oxide from mines opened in the run
    import_dependence: np.ndarray  # [N] share of use the holder supplies (controls aside)
    leverage_index: float  # the holder's share of refined world supply, at the last clearing
    ree_demand_factor: float = 1.0  # world rare-earth demand relative to the start
    ree_supply_factor: float = 1.0  # terrestrial mine supply (and refining) relative to the start
    export_control_active: bool = False
    export_control_severity: float = 0.0  # share of the holder's exports to a target withheld
    export_control_targets: np.ndarray | None = None  # bool [N]; None: whoever it competes with

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
    output_factor: np.ndarray  # [N, S] 1 + synergy - interference, what a t worked yields
    partner_share: np.ndarray  # [N] capacity-weighted share of partners at one's sites
    propellant_t: np.ndarray  # [N] water turned into propellant (O2 + H2)
    ree_mined_t: np.ndarray  # [N]
    ree_shipped_t: np.ndarray  # [N] delivered to Earth
    incidents: np.ndarray  # bool [N, N], symmetric
    capacity_lost_t_per_yr: np.ndarray  # [N]
    ree_price_usd_per_kg: float  # price after this step's market clears
    leverage_index: float  # leverage holder's share of refined world supply
    export_targets: np.ndarray  # bool [N], under the holder's export control this step
    retaliators: np.ndarray  # bool [N], retaliating against the holder this step
    ree_shortfall_t: np.ndarray  # [N]
    import_dependence: np.ndarray  # [N] share of its use the holder supplies, controls aside
    propellant_value: np.ndarray  # USD bn [N]
    ree_revenue: np.ndarray
    gross_output: np.ndarray  # propellant value + rare-earth revenue, USD bn [N]
    # gross output = potential output - crowding loss - exhaustion loss + synergy gain
    #                - interference loss (each valued at what the product earns, USD bn [N])
    potential_output: np.ndarray  # what all the regolith brought would have yielded
    crowding_loss: np.ndarray  # brought but not worked: crowded sites, others' priority
    exhaustion_loss: np.ndarray  # not worked because the site ran out
    synergy_gain: np.ndarray  # extra output from partners at the same sites
    interference_loss: np.ndarray  # output lost to uncoordinated neighbours
    operating_cost: np.ndarray
    depreciation: np.ndarray  # book value of the capacity worn out this step
    incident_loss: np.ndarray  # book value of the capacity incidents destroyed this step
    shortfall_cost: np.ndarray  # rare earths withheld from a target, valued at a multiple
    export_revenue_lost: np.ndarray  # the holder's sales forgone under its own controls
    diversification_cost: np.ndarray  # premium paid on refining built in the run
    retaliation_cost: np.ndarray  # retaliators' exports forgone; the holder's cost of doing without
    coercion_value: np.ndarray  # what the pain a nation's restrictions inflict is worth to it
    # (in utility, not welfare)
    transfers: np.ndarray  # benefit sharing; sums to zero
    sanctions: np.ndarray  # fines received less fines paid for breaches; sums to zero
    liability: np.ndarray  # compensation received less compensation paid; sums to zero
    breaches: np.ndarray  # [N] monitored pairs each nation raced this step
    entry_cost: np.ndarray
    welfare: np.ndarray  # net product this step, USD bn [N] (see section 7.8 of docs/ODD.md)
    utility: np.ndarray  # welfare less the relative-gains term: what learning rules see


@dataclass(frozen=True)
class Resolved(Outcome):
    """An :class:`Outcome` as the compiled step makes it (:func:`sim.economy.step.resolve_step`):
    its per-nation fields are views of two blocks of results, kept here so that the recorder
    copies a step's in two pieces instead of field by field
    (:func:`sim.economy.step.block_fields` names their rows)."""

    rows: np.ndarray  # [..., R, N] the step's per-nation results
    market_rows: np.ndarray  # [..., MK, N] the market's


@dataclass(frozen=True)
class RegimeRules:
    """The rules in force at one step, as arrays over nations (N) and pairs (N x N).

    ``may_cooperate[i, j]``: i may coordinate with j (a legal bar makes it False).
    ``recognises_claims[j, i]``: j respects i's declared safety zones (j yields to i's claims).
    ``monitored[i, j]``: if i races j (plays D) and takes throughput from it, that is a breach;
    the regime detects it with probability ``detection`` (what the pooled fees buy) and fines
    it ``fine_multiple`` times the value taken, times ``1 + escalation · record`` (i's record of
    recent detected breaches), paid to j; the step charges the expected fine.
    ``liable[i, j]``: if i raced j and j did not race i, i pays j ``liability_share`` of what an
    incident between them cost j.
    ``benefit_share``: fraction of each sharing member's output value pooled and shared equally.
    ``entry_cost_usd_bn_per_yr[i]``: what membership costs nation i each year (the fees fund
    the monitoring that sets ``detection``).
    """

    may_cooperate: np.ndarray
    recognises_claims: np.ndarray
    benefit_share: float
    sharing_members: np.ndarray
    entry_cost_usd_bn_per_yr: np.ndarray
    monitored: np.ndarray
    fine_multiple: float
    detection: float
    escalation: float
    liable: np.ndarray
    liability_share: float
