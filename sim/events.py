"""Scheduled events: what changes at a given decimal year of a scenario.

Each event kind is a class with ``Params`` (validated in the scenario file) and ``apply(model)``,
which changes the model's rules or state through its small public surface
(:meth:`~sim.model.LunarModel.nation_index`, ``set_member``, ``set_law``, ``state``, ``econ``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from sim.registry import Params, Registry

if TYPE_CHECKING:
    from sim.model import LunarModel


class Event:
    name: ClassVar[str]
    description: ClassVar[str]

    class Params(Params):
        pass

    def __init__(self, params: Params, year: float) -> None:
        self.params = params
        self.year = year

    def apply(self, model: LunarModel) -> str:
        """Apply the event; return one line saying what happened (for the run's event log)."""
        raise NotImplementedError


EVENTS: Registry[Event] = Registry("event")


class _NationParams(Params):
    nation: str


class _LawParams(Params):
    law: str


@EVENTS.register
class Accede(Event):
    """A nation joins the scenario's regime (e.g. signs the Artemis Accords)."""

    name = "accede"
    description = "a nation joins the regime"
    Params = _NationParams

    def apply(self, model: LunarModel) -> str:
        model.set_member(model.nation_index(self.params.nation), True)
        return f"{self.params.nation} joins {model.regime.name}"


@EVENTS.register
class Withdraw(Event):
    """A nation leaves the scenario's regime."""

    name = "withdraw"
    description = "a nation leaves the regime"
    Params = _NationParams

    def apply(self, model: LunarModel) -> str:
        model.set_member(model.nation_index(self.params.nation), False)
        return f"{self.params.nation} leaves {model.regime.name}"


@EVENTS.register
class EnactLaw(Event):
    """A law of the scenario's ``[[laws]]`` comes into force."""

    name = "enact_law"
    description = "a law comes into force"
    Params = _LawParams

    def apply(self, model: LunarModel) -> str:
        model.set_law(self.params.law, True)
        return f"law {self.params.law} in force"


@EVENTS.register
class LiftLaw(Event):
    """A law of the scenario's ``[[laws]]`` is lifted (e.g. the Wolf Amendment is not renewed)."""

    name = "lift_law"
    description = "a law is lifted"
    Params = _LawParams

    def apply(self, model: LunarModel) -> str:
        model.set_law(self.params.law, False)
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

    def apply(self, model: LunarModel) -> str:
        i = model.nation_index(self.params.nation)
        model.state.budget_usd_bn[i] *= self.params.factor
        return f"{self.params.nation} budget x{self.params.factor:g}"


class _TransportParams(Params):
    capacity_cost_factor: float = Field(
        1.0, gt=0, le=10, description="multiplies the cost of new lunar capacity"
    )
    ree_return_cost_usd_per_kg: float | None = Field(
        None, gt=0, description="new Moon-to-Earth return cost"
    )


@EVENTS.register
class TransportCost(Event):
    """Launch and return costs change (e.g. a fully reusable heavy launcher enters service)."""

    name = "transport_cost"
    description = "launch and return costs change"
    Params = _TransportParams

    def apply(self, model: LunarModel) -> str:
        p = self.params
        model.econ.capacity_cost_usd_per_t_yr *= p.capacity_cost_factor
        if p.ree_return_cost_usd_per_kg is not None:
            model.econ.ree_return_cost_usd_per_kg = p.ree_return_cost_usd_per_kg
        return "transport costs change"
