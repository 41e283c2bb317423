"""Scheduled events: what changes at a given decimal year of a scenario.

Each event kind is a class with ``Params`` (validated in the scenario file) and
``apply(target)``, which changes the model only through :class:`EventTarget`: what an event may
do (set a membership, a bloc or a law; change the economy's state and parameters). The model
provides that surface; events never import it.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np
from pydantic import Field, model_validator

from sim.base.registry import Params, Registry
from sim.economy.state import EconParams, State, World
from sim.rules.regimes import Regime


class EventTarget(Protocol):
    """What an event may read and change (:class:`sim.target.target.LunarModel` provides it)."""

    names: tuple[str, ...]
    regime: Regime
    world: World
    state: State  # budgets, refining built, export controls, forced incidents
    econ: EconParams  # transport costs

    def nation_index(self, name: str) -> int: ...

    def set_member(self, index: int, member: bool) -> None: ...

    def set_bloc(self, index: int, bloc: str) -> None: ...

    def set_law(self, name: str, in_force: bool) -> None: ...


class Event:
    name: ClassVar[str]
    description: ClassVar[str]

    class Params(Params):
        pass

    def __init__(self, params: Params, year: float) -> None:
        self.params = params
        self.year = year

    def apply(self, target: EventTarget) -> str:
        """Apply the event; return one line saying what happened (for the run's event log)."""
        raise NotImplementedError


EVENTS: Registry[Event] = Registry("event")


class _NationParams(Params):
    nation: str


class _AccedeParams(Params):
    nation: str
    bloc: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9_]*$", description="the bloc it joins, if it changes bloc"
    )


class _LawParams(Params):
    law: str


@EVENTS.register
class Accede(Event):
    """A nation joins the scenario's regime (e.g. signs the Artemis Accords)."""

    name = "accede"
    description = "a nation joins the regime (and, if given, a bloc)"
    Params = _AccedeParams

    def apply(self, target: EventTarget) -> str:
        i = target.nation_index(self.params.nation)
        if self.params.bloc is not None:
            target.set_bloc(i, self.params.bloc)
        target.set_member(i, True)
        return f"{self.params.nation} joins {target.regime.name}"


@EVENTS.register
class Withdraw(Event):
    """A nation leaves the scenario's regime."""

    name = "withdraw"
    description = "a nation leaves the regime"
    Params = _NationParams

    def apply(self, target: EventTarget) -> str:
        target.set_member(target.nation_index(self.params.nation), False)
        return f"{self.params.nation} leaves {target.regime.name}"


@EVENTS.register
class EnactLaw(Event):
    """A law of the scenario's ``[[laws]]`` comes into force."""

    name = "enact_law"
    description = "a law comes into force"
    Params = _LawParams

    def apply(self, target: EventTarget) -> str:
        target.set_law(self.params.law, True)
        return f"law {self.params.law} in force"


@EVENTS.register
class LiftLaw(Event):
    """A law of the scenario's ``[[laws]]`` is lifted (e.g. the Wolf Amendment is not renewed)."""

    name = "lift_law"
    description = "a law is lifted"
    Params = _LawParams

    def apply(self, target: EventTarget) -> str:
        target.set_law(self.params.law, False)
        return f"law {self.params.law} lifted"


class _BudgetShockParams(Params):
    nation: str
    factor: float = Field(..., ge=0, le=10, description="budget is multiplied by this")


@EVENTS.register
class BudgetShock(Event):
    """A nation's lunar budget is multiplied by ``factor`` (a cut below 1, a surge above)."""

    name = "budget_shock"
    description = "a nation's budget is multiplied by a factor"
    Params = _BudgetShockParams

    def apply(self, target: EventTarget) -> str:
        i = target.nation_index(self.params.nation)
        target.state.budget_usd_bn[i] *= self.params.factor
        return f"{self.params.nation} budget x{self.params.factor:g}"


class _TransportParams(Params):
    capacity_cost_factor: float = Field(
        1.0, gt=0, le=10, description="multiplies the cost of new lunar capacity"
    )
    ree_return_cost_usd_per_kg: float | None = Field(
        None, gt=0, le=1e8, description="new Moon-to-Earth return cost"
    )


@EVENTS.register
class TransportCost(Event):
    """Launch and return costs change (e.g. a fully reusable heavy launcher enters service)."""

    name = "transport_cost"
    description = "launch and return costs change"
    Params = _TransportParams

    def apply(self, target: EventTarget) -> str:
        p = self.params
        target.econ.capacity_cost_usd_per_t_yr *= p.capacity_cost_factor
        if p.ree_return_cost_usd_per_kg is not None:
            target.econ.ree_return_cost_usd_per_kg = p.ree_return_cost_usd_per_kg
        return "transport costs change"


class _ProjectParams(Params):
    nation: str | None = Field(
        None, description="where the refinery is built (default: the rest of the world)"
    )
    capacity_t_per_yr: float = Field(
        ..., gt=0, le=1e7, description="magnet rare-earth oxide it separates, t/yr"
    )


@EVENTS.register
class RefiningProject(Event):
    """A rare-earth refinery outside the holder comes on stream: an announced project (Iluka's
    Eneabba refinery, 2027; Solvay's La Rochelle line, 2030) or a what-if. Its oxide costs the
    refining premium, like capacity the model builds itself."""

    name = "refining_project"
    description = "a rare-earth refinery outside the holder comes on stream"
    Params = _ProjectParams

    def apply(self, target: EventTarget) -> str:
        p = self.params
        k = len(target.names) if p.nation is None else target.nation_index(p.nation)
        if k == target.world.leverage_holder:
            return f"{p.nation} is the leverage holder: the project changes nothing"
        target.state.ree_refining_built_t_per_yr[k] += p.capacity_t_per_yr
        return f"refinery of {p.capacity_t_per_yr:,.0f} t/yr in {p.nation or 'the rest of the world'}"


class _ControlParams(Params):
    severity: float | None = Field(
        None, ge=0, le=1, description="share of exports to a target withheld (default: the market's)"
    )
    targets: list[str] | None = Field(
        None, description="nations hit; default: every nation the holder competes with"
    )


@EVENTS.register
class ImposeExportControl(Event):
    """The leverage holder restricts rare-earth exports (e.g. China to Japan, Sep 2010; licences
    for seven heavy rare earths, Apr 2025; MOFCOM)."""

    name = "impose_export_control"
    description = "the leverage holder restricts rare-earth exports"
    Params = _ControlParams

    def apply(self, target: EventTarget) -> str:
        state, p = target.state, self.params
        state.export_control_active = True
        if p.severity is not None:
            state.export_control_severity = p.severity
        if p.targets is None:
            state.export_control_targets = None
            whom = "nations it competes with"
        else:
            state.export_control_targets = np.isin(np.array(target.names), p.targets)
            whom = ", ".join(p.targets)
        return f"export control on {whom} ({state.export_control_severity:.0%} withheld)"


@EVENTS.register
class LiftExportControl(Event):
    """The leverage holder lifts its export controls (e.g. the Oct 2025 measures suspended)."""

    name = "lift_export_control"
    description = "the leverage holder lifts its export controls"

    def apply(self, target: EventTarget) -> str:
        target.state.export_control_active = False
        return "export controls lifted"


class _PairParams(Params):
    a: str
    b: str

    @model_validator(mode="after")
    def _distinct(self) -> _PairParams:
        if self.a == self.b:
            raise ValueError("a and b must be two different nations")
        return self


@EVENTS.register
class ForcedIncident(Event):
    """An incident between two nations at this step, whatever the odds (e.g. a collision at a
    shared site): it destroys capacity where both work (everywhere, if nowhere) and costs trust."""

    name = "forced_incident"
    description = "an incident between two nations, whatever the odds"
    Params = _PairParams

    def apply(self, target: EventTarget) -> str:
        i, j = target.nation_index(self.params.a), target.nation_index(self.params.b)
        forced = target.state.forced_incidents
        forced[i, j] = forced[j, i] = True
        return f"incident between {self.params.a} and {self.params.b}"
