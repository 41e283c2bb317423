"""The agents: nations that decide and learn, and the sites they work.

Agents hold identity and behaviour; their numbers live in the model's arrays (one row or column
each), so the step's economics runs over all nations and sites at once. The properties below read
those arrays, so an agent looks whole to a user or to Mesa's tools.
"""

from __future__ import annotations

from typing import Protocol

import mesa
import numpy as np

from sim.economy.state import State
from sim.rules.strategies import Observation, Strategy


class Holder(Protocol):
    """What an agent reads of its model (:class:`sim.model.model.LunarModel` provides it)."""

    state: State
    nation_list: list[Nation]


class Nation(mesa.Agent):
    """A space power: it chooses C or D toward every other nation each step."""

    model: Holder  # type: ignore[assignment]

    def __init__(
        self, model: Holder, index: int, name: str, bloc: str, strategy: Strategy, tremble: float
    ) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.bloc = bloc
        self.strategy = strategy
        self.tremble = tremble
        self.intended: np.ndarray | None = None

    def decide(self, obs: Observation) -> None:
        """Phase one of a step: choose from the shared snapshot; nothing is applied yet."""
        self.intended = np.asarray(self.strategy.decide(obs), dtype=bool)

    def learn(self, obs: Observation) -> None:
        self.strategy.learn(obs)

    @property
    def capacity_t_per_yr(self) -> float:
        return float(self.model.state.capacity_t_per_yr[self.index])

    @property
    def budget_usd_bn(self) -> float:
        return float(self.model.state.budget_usd_bn[self.index])

    @property
    def welfare_usd_bn(self) -> float:
        return float(self.model.state.welfare_usd_bn[self.index])

    @property
    def propellant_t(self) -> float:
        return float(self.model.state.propellant_t[self.index])

    @property
    def trust(self) -> dict[str, float]:
        """How far this nation trusts each other nation, by name."""
        row = self.model.state.trust[self.index]
        return {n.name: float(row[n.index]) for n in self.model.nation_list if n is not self}

    def __repr__(self) -> str:
        return f"Nation({self.name!r}, bloc={self.bloc!r}, strategy={self.strategy.name!r})"


class Site(mesa.Agent):
    """A deposit of water ice or KREEP rare earths at a fixed place on the Moon."""

    model: Holder  # type: ignore[assignment]

    def __init__(
        self, model: Holder, index: int, name: str, kind: str, lat: float, lon: float
    ) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.kind = kind
        self.lat = lat
        self.lon = lon

    @property
    def reserve_t(self) -> float:
        return float(self.model.state.reserve_t[self.index])

    @property
    def operators(self) -> list[str]:
        """Nations that had capacity here at the last step."""
        state = self.model.state
        working = state.allocation[:, self.index] * state.capacity_t_per_yr
        return [n.name for n in self.model.nation_list if working[n.index] > 0]

    def __repr__(self) -> str:
        return f"Site({self.name!r}, kind={self.kind!r})"
