"""The scenario file format: strict pydantic models (unknown keys are errors; units in names).

A scenario is read from TOML (see :mod:`sim.scenario.loader`), merged with the scenario it
``extends``, then validated here. Every number a user can set is range-checked; every name a
scenario uses (strategies, regimes, events, nations in events and laws) is checked to exist.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.base.arguments import whole_number
from sim.base.errors import BadValue
from sim.base.registry import Params
from sim.rules.events import EVENTS
from sim.rules.regimes import REGIMES
from sim.rules.strategies import STRATEGIES

MAX_HORIZON_YEARS = 200
MAX_NAME_LENGTH = 100  # names become file names (run-NAME-seedS); file systems allow 255 bytes


SAFE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"  # one path component: no "..", no "/", no "-x"


class Strict(BaseModel):
    """Unknown keys are errors; a number is a number (not ``"1"`` or ``true``), and ``inf`` and
    ``nan`` (which TOML allows) are not numbers here."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class Named(Strict):
    """A spec chosen from a registry: ``name`` plus that kind's own parameters, inline.

    In TOML either a bare string (``strategy = "tit_for_tat"``) or an inline table
    (``strategy = { name = "tit_for_tat", tremble = 0.01 }``).
    """

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False, strict=True)
    name: str
    registry: ClassVar[Any]

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @property
    def params(self) -> Params:
        return self.registry.params(self.name, dict(self.model_extra or {}))

    @model_validator(mode="after")
    def _check(self) -> Named:
        self.registry.get(self.name)  # ValueError names the unknown kind and the known ones
        try:
            self.params  # noqa: B018  (validates the inline parameters)
        except Exception as err:  # pydantic.ValidationError: re-raise as one line
            raise ValueError(f"{self.name}: {_first_error(err)}") from None
        return self


def _first_error(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if errors is None:
        return str(err)
    first = errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown parameter"
    return f"{where}: {msg}" if where else msg


class StrategySpec(Named):
    registry = STRATEGIES
    tremble: float = Field(
        0.0, ge=0.0, le=0.5, description="probability that each lunar action is flipped by mistake"
    )
    linked: bool = Field(
        False, description="answers a rival's D in either arena (lunar, rare earths) in both"
    )


class RegimeSpec(Named):
    registry = REGIMES


class EventSpec(Named):
    """One scheduled event: ``{ year = 2027.0, name = "accede", nation = "India" }``."""

    registry = EVENTS
    year: float = Field(..., ge=1957, le=2300, description="decimal year when the event applies")


class ProjectSpec(Strict):
    """A refinery outside the holder that comes on stream in a given year (market data, shared by
    every scenario that extends the one declaring it)."""

    year: float = Field(..., ge=1957, le=2300, description="decimal year it comes on stream")
    nation: str | None = Field(None, description="where (default: the rest of the world)")
    capacity_t_per_yr: float = Field(
        ..., gt=0, le=1e7, description="magnet rare-earth oxide it separates, t/yr"
    )
    project: str = Field("", max_length=200, description="what it is, for the record")


class TimeSpec(Strict):
    start_year: float = Field(2026.0, ge=1957, le=2200, description="calendar year of step 0")
    steps_per_year: int = Field(4, ge=1, le=52, description="steps per year (4: quarterly)")
    horizon_years: float = Field(
        25.0, gt=0, le=MAX_HORIZON_YEARS, description="length of a run, years")

    @property
    def steps(self) -> int:
        return max(1, round(self.horizon_years * self.steps_per_year))


class NationSpec(Strict):
    name: str = Field(..., min_length=1, max_length=MAX_NAME_LENGTH)
    bloc: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_NAME_LENGTH,
                      description="e.g. artemis, ilrs, nonaligned")
    budget_usd_bn: float = Field(..., ge=0, le=1000, description="lunar programme spend, USD bn/yr")
    budget_growth_per_year: float = Field(0.0, ge=-0.5, le=1.0, description="fraction per year")
    capacity_t_per_yr: float = Field(
        0.0, ge=0, le=1e9, description="installed extraction capacity at the start, t of regolith per year"
    )
    ree_demand_t_per_yr: float = Field(
        0.0, ge=0, le=1e8, description="magnet rare-earth oxides used (NdPr, Dy, Tb), t/yr"
    )
    ree_production_t_per_yr: float = Field(
        0.0, ge=0, le=1e8, description="rare-earth oxide mined, all elements (as USGS counts it), t/yr"
    )
    ree_refining_t_per_yr: float = Field(
        0.0, ge=0, le=1e8, description="capacity to separate magnet rare-earth oxides, t/yr "
        "(ignored for the leverage holder, which refines all ore nobody else does)"
    )
    strategy: StrategySpec


class SiteSpec(Strict):
    name: str = Field(..., min_length=1, max_length=MAX_NAME_LENGTH)
    kind: Literal["ice", "ree"]
    reserve_t: float = Field(..., gt=0, le=1e12, description="recoverable product (water or REO), t")
    grade: float = Field(..., gt=0, le=1, description="mass fraction of product in the regolith")
    capacity_t_per_yr: float = Field(
        ..., gt=0, le=1e9, description="regolith throughput the site supports before crowding, t/yr"
    )
    illumination: float = Field(
        ..., ge=0, le=1, description="fraction of time power is available (plant uptime)"
    )
    lat: float = Field(..., ge=-90, le=90, description="selenographic latitude, degrees")
    lon: float = Field(..., ge=-180, le=360, description="selenographic longitude, degrees")


class EconomicsSpec(Strict):
    propellant_value_usd_per_kg: float = Field(
        500.0, gt=0, le=1e6, description="value of lunar-derived propellant on the surface"
    )
    ree_return_cost_usd_per_kg: float = Field(
        1.0e6, gt=0, le=1e8, description="cost of bringing rare earths from the Moon to Earth"
    )
    recovery_fraction: float = Field(
        0.5, gt=0, le=1, description="share of the product in processed regolith recovered"
    )
    operating_cost_usd_per_t: float = Field(
        660.0, ge=0, le=1e7, description="cost of processing one t of regolith at an ice site"
    )
    ree_operating_cost_usd_per_t: float = Field(
        2000.0, ge=0, le=1e7, description="cost of processing one t of regolith at a KREEP site"
    )
    capacity_cost_usd_per_t_yr: float = Field(
        2.0e4, ge=1, le=1e8, description="cost of one t/yr of new regolith throughput, delivered"
    )
    isru_budget_share: float = Field(
        0.05, ge=0, le=1, description="share of the lunar budget spent on extraction capacity"
    )
    depreciation_per_year: float = Field(0.05, ge=0, lt=1, description="capacity lost per year")
    social_discount_rate_per_year: float = Field(
        0.02, ge=0, le=1, description="rate at which the reported discounted welfare weighs the "
        "future (it changes no decision)"
    )
    discount_rate_per_year: float = Field(
        0.10, ge=0, le=1, description="rate at which a nation discounts a plant's future margins "
        "when it decides to invest"
    )
    race_advantage: float = Field(
        1.0, ge=0, le=100, description="extra priority a racing (D) operator gets over the rival it "
        "races at a crowded site"
    )
    claim_exclusion: float = Field(
        0.5, ge=0, le=1, description="share of a zone holder's operations that a respected safety "
        "zone protects from those who respect it"
    )
    interference: float = Field(
        0.1, ge=0, le=1, description="output lost when all co-located operations are hostile"
    )
    synergy: float = Field(
        0.1, ge=0, le=1, description="output gained when all co-located operations are partners"
    )
    infrastructure_discount: float = Field(
        0.2, ge=0, lt=1, description="capacity cost cut when all of a nation's sites are shared"
    )
    propellant_discount: float = Field(
        0.3, ge=0, lt=1, description="largest capacity cost cut from own lunar propellant"
    )
    propellant_half_t_per_yr: float = Field(
        100.0, ge=1e-3, le=1e9, description="own propellant output that gives half the largest cut, t/yr"
    )
    incident_rate_per_year: float = Field(
        0.2, ge=0, le=1000, description="incidents per year of a fully co-located hostile pair at zero trust"
    )
    incident_damage: float = Field(
        0.1, ge=0, le=1, description="share of capacity at the shared sites an incident destroys"
    )
    relative_gains_weight: float = Field(
        0.0, ge=0, le=10, description="gamma: weight on rivals' gains exceeding one's own"
    )
    site_choice_focus: float = Field(
        2.0, ge=0, le=50, description="beta: how strongly capacity goes to the best-looking site"
    )
    relocation_per_year: float = Field(
        0.5, gt=0, le=1, description="share of capacity that can move to other sites in a year"
    )


class MarketSpec(Strict):
    ree_price_usd_per_kg: float = Field(
        60.0, gt=0, le=1e7, description="reference rare-earth oxide price when supply meets demand"
    )
    price_elasticity: float = Field(
        0.5, ge=0.05, le=10, description="|elasticity| of demand; price = ref x (demand/supply)^(1/e)"
    )
    demand_growth_per_year: float = Field(0.05, ge=-0.5, le=1.0, description="world REO demand")
    supply_growth_per_year: float = Field(
        0.04, ge=-0.5, le=1.0, description="terrestrial REO mine supply"
    )
    rest_of_world_demand_t_per_yr: float | None = Field(
        None, ge=0, le=1e8, description="magnet rare-earth oxides used by nations not modelled, "
        "t/yr (default: what balances the market at the reference price at the start)"
    )
    rest_of_world_production_t_per_yr: float = Field(
        0.0, ge=0, le=1e8, description="rare-earth oxide mined by nations not modelled, t/yr"
    )
    rest_of_world_ore_to_holder: float = Field(
        0.0, ge=0, le=1, description="share of the rest of the world's ore shipped to the leverage "
        "holder's refineries (Myanmar's goes to China)"
    )
    magnet_share: float = Field(
        0.18, gt=0, le=1, description="magnet oxides (NdPr, Dy, Tb) per t of rare-earth oxide, in "
        "mined ore and in lunar KREEP"
    )
    leverage_holder: str | None = Field(
        None, description="nation whose refining share is its leverage (e.g. China)"
    )
    refining_share: float = Field(
        0.92, ge=0, le=1, description="leverage holder's share of world refining at the start; "
        "the rest of the world's refining is what the nations' own leaves of the other share"
    )
    export_controls: bool = Field(
        False, description="a scheduled control in force at the start: the holder withholds "
        "exports from nations it competes with (events impose and lift such controls later)"
    )
    control_severity: float = Field(
        0.5, ge=0, le=1, description="share of the holder's sales to a target its controls withhold"
    )
    shortfall_cost_multiple: float = Field(
        3.0, ge=0, le=100, description="cost of a shortfall, as a multiple of its market value"
    )
    coercion_weight: float = Field(
        0.0, ge=0, le=100, description="c: what the pain a nation's rare-earth restrictions "
        "inflict on a rival is worth to it, per unit of distrust (0: a restriction is only a cost)"
    )
    retaliation_cost_multiple: float = Field(
        1.0, ge=0, le=100, description="what the holder loses per USD an importer's retaliation "
        "withholds from it"
    )
    initial_threat: float = Field(
        0.0, ge=0, le=1, description="supply threat the importers feel at the start (1: just hit)"
    )
    threat_half_life_years: float = Field(
        5.0, gt=0, le=100, description="years for a threat felt to halve once controls stop"
    )
    ally_threat: float = Field(
        0.5, ge=0, le=1, description="threat a nation feels when an ally (same bloc) is under control"
    )
    self_reliance_goal: float = Field(
        0.4, ge=0, le=1, description="share of a threatened bloc's demand it wants refined outside "
        "the holder"
    )
    mine_supply_elasticity: float = Field(0.5, ge=0, le=5, description=(
        "epsilon: mines outside the holder add (p / p_ref)^epsilon - 1 of their output"))
    mine_lead_time_years: float = Field(5.0, gt=0, le=50, description=(
        "time constant of opening mines outside the holder, years"))
    refining_lead_time_years: float = Field(
        5.0, gt=0, le=50, description="time constant of building refining capacity, years"
    )
    projects: list[ProjectSpec] = Field(
        default_factory=list, description="refineries outside the holder announced to come on stream"
    )
    refining_cost_premium_usd_per_kg: float = Field(
        50.0, ge=0, le=1e5, description="extra cost of oxide from refining built in the run over "
        "the world price, USD/kg"
    )


class TrustSpec(Strict):
    within_bloc: float = Field(0.7, ge=0, le=1, description="initial trust inside a bloc")
    across_bloc: float = Field(0.3, ge=0, le=1, description="initial trust across blocs")
    learning_rate: float = Field(
        0.2, ge=0, le=1, description="step toward 1 after C, toward 0 after D"
    )
    incident_shock: float = Field(0.5, ge=0, le=1, description="trust lost in an incident")
    pairs: list[TrustPair] = Field(default_factory=list, description="overrides for named pairs")


class TrustPair(Strict):
    a: str
    b: str
    value: float = Field(..., ge=0, le=1)


class LawSpec(Strict):
    """A law that bars cooperation between named pairs while in force (e.g. the Wolf Amendment)."""

    name: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_NAME_LENGTH)
    bars: list[tuple[str, str]] = Field(..., min_length=1)
    in_force: bool = True

    @field_validator("bars", mode="before")
    @classmethod
    def _pairs(cls, bars: Any) -> Any:
        """TOML writes a pair as an array; each must hold exactly two names."""
        if isinstance(bars, list):
            return [tuple(pair) if isinstance(pair, list) else pair for pair in bars]
        return bars


class MetricsSpec(Strict):
    best_sites: int = Field(3, ge=1, le=10_000, description="how many top ice sites count as 'the best'")


class Scenario(Strict):
    """A whole scenario, after ``extends`` and ``--set`` overrides have been applied."""

    name: str = Field(..., pattern=SAFE_NAME, max_length=MAX_NAME_LENGTH)
    description: str = ""
    extends: str | None = None
    inherit_events: bool | None = Field(
        None, description="in a file that extends another whose events it would change: true "
        "adds its [[events]] to the inherited ones, false replaces them (events = [] then drops "
        "them all); required there, so that no inherited event is lost by accident")
    time: TimeSpec = TimeSpec()
    regime: RegimeSpec = RegimeSpec(name="open_access")
    economics: EconomicsSpec = EconomicsSpec()
    market: MarketSpec = MarketSpec()
    trust: TrustSpec = TrustSpec()
    metrics: MetricsSpec = MetricsSpec()
    laws: list[LawSpec] = Field(default_factory=list)
    nations: list[NationSpec] = Field(..., min_length=2, max_length=1000)  # N x N matrices
    sites: list[SiteSpec] = Field(..., min_length=1, max_length=1000)
    events: list[EventSpec] = Field(default_factory=list, max_length=100_000)

    @field_validator("nations", "sites", "laws")
    @classmethod
    def _unique_names(cls, items: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for item in items:
            if item.name in seen:
                raise ValueError(f"duplicate name {item.name!r}")
            seen.add(item.name)
        return items

    @model_validator(mode="after")
    def _names_exist(self) -> Scenario:
        nations = {n.name for n in self.nations}

        def need(name: str, where: str) -> None:
            if name not in nations:
                raise ValueError(f"{where}: unknown nation {name!r} (known: {', '.join(sorted(nations))})")

        for k, law in enumerate(self.laws):
            for a, b in law.bars:
                need(a, f"laws.{k}.bars")
                need(b, f"laws.{k}.bars")
        for k, pair in enumerate(self.trust.pairs):
            need(pair.a, f"trust.pairs.{k}.a")
            need(pair.b, f"trust.pairs.{k}.b")
        if self.market.leverage_holder is not None:
            need(self.market.leverage_holder, "market.leverage_holder")
            _check_refining(self)
        for where, names in _named_references(self):
            for name in names:
                need(name, where)
        laws = {law.name for law in self.laws}
        for law in getattr(self.regime.params, "lifts", None) or ():
            if law not in laws:
                raise ValueError(f"regime.lifts: unknown law {law!r}")
        for k, event in enumerate(self.events):
            law = getattr(event.params, "law", None)
            if law is not None and law not in laws:
                raise ValueError(f"events.{k}.law: unknown law {law!r}")
        return self

    @property
    def steps(self) -> int:
        return self.time.steps

    def steps_to_run(self, steps: Any = None, label: str = "steps") -> int:
        """How many steps a run of this scenario takes: its horizon, or ``steps``, a whole
        number from 1 to the longest horizon (:data:`MAX_HORIZON_YEARS` at its steps a year).
        ``label`` names the argument in the error (``--steps`` on the command line)."""
        if steps is None:
            return self.steps
        per_year = self.time.steps_per_year
        longest = per_year * MAX_HORIZON_YEARS
        count = whole_number(steps, label, low=1)
        if count > longest:
            raise BadValue(f"{label}: at most {longest} ({MAX_HORIZON_YEARS} years at {per_year} "
                           f"step{'s' if per_year > 1 else ''} a year, the longest horizon), "
                           f"got {count:,}")
        return count


def rest_of_world_refining(s: Scenario) -> float:
    """Refining capacity of the rest of the world (t/yr of magnet oxides): what the holder's
    share leaves, less the nations' own (the holder refines all ore others do not)."""
    mined = (sum(n.ree_production_t_per_yr for n in s.nations)
             + s.market.rest_of_world_production_t_per_yr) * s.market.magnet_share
    others = sum(n.ree_refining_t_per_yr for n in s.nations if n.name != s.market.leverage_holder)
    return (1.0 - s.market.refining_share) * mined - others


def rest_of_world_demand(s: Scenario) -> float:
    """The rest of the world's use of magnet oxides (t/yr): as given, or what the magnet oxide
    mined leaves after the nations' use, so the market starts balanced at the reference price."""
    given = s.market.rest_of_world_demand_t_per_yr
    if given is not None:
        return given
    mined = (sum(n.ree_production_t_per_yr for n in s.nations)
             + s.market.rest_of_world_production_t_per_yr) * s.market.magnet_share
    return max(mined - sum(n.ree_demand_t_per_yr for n in s.nations), 0.0)


def _check_refining(s: Scenario) -> None:
    holder = next(n for n in s.nations if n.name == s.market.leverage_holder)
    mined = (sum(n.ree_production_t_per_yr for n in s.nations)
             + s.market.rest_of_world_production_t_per_yr)
    own = (holder.ree_production_t_per_yr
           + s.market.rest_of_world_ore_to_holder * s.market.rest_of_world_production_t_per_yr)
    if mined > 0 and s.market.refining_share < own / mined - 1e-9:
        raise ValueError(
            f"market.refining_share: {s.market.refining_share} is below the "
            f"{own / mined:.1%} of world ore that {holder.name} mines or is shipped, all of "
            "which it refines")
    if rest_of_world_refining(s) < 0:
        raise ValueError(
            f"market.refining_share: {s.market.refining_share} leaves "
            f"{(1.0 - s.market.refining_share):.0%} of world refining to the others, less than the "
            "nations' ree_refining_t_per_yr add up to")


def _named_references(s: Scenario) -> list[tuple[str, list[str]]]:
    """Every nation name a regime or event refers to, with the field that refers to it."""
    refs: list[tuple[str, list[str]]] = []
    for field in ("members", "parties"):
        value = getattr(s.regime.params, field, None)
        if value:
            refs.append((f"regime.{field}", list(value)))
    for k, event in enumerate(s.events):
        for field in ("nation", "a", "b"):
            value = getattr(event.params, field, None)
            if value is not None:
                refs.append((f"events.{k}.{field}", [value]))
        targets = getattr(event.params, "targets", None)
        if targets:
            refs.append((f"events.{k}.targets", list(targets)))
    for k, project in enumerate(s.market.projects):
        if project.nation is not None:
            refs.append((f"market.projects.{k}.nation", [project.nation]))
    for nation in s.nations:
        leader = getattr(nation.strategy.params, "leader", None)
        if leader is not None:
            refs.append((f"nations.{quote_key(nation.name)}.strategy.leader", [leader]))
    return refs


def quote_key(part: str) -> str:
    """A key as written in a dotted ``--set`` path: bare if it is a plain word, else quoted as
    a TOML basic string (``"United States"``, ``"a \\"b\\""``, ``""``)."""
    if part and all(c.isalnum() or c in "_-" for c in part) and part.isascii():
        return part
    return json.dumps(part)


TrustSpec.model_rebuild()
Scenario.model_rebuild()
