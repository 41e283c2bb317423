"""The recorder: each step's raw quantities (:func:`sim.model.metrics.raw_record`) kept in
arrays that grow by doubling, the quantities that are sums of them computed once over the whole
history, and the metrics' tables (:mod:`sim.model.metrics`) and Mesa's ``DataCollector`` built
from them."""

from __future__ import annotations

import mesa
import numpy as np

from sim.base.columns import typed
from sim.economy.state import World
from sim.model.metrics import (
    CHANNELS,
    MODEL_METRICS,
    NATION_METRICS,
    History,
    Snapshot,
    outcome_history,
    raw_record,
    ree_costs,
)


class _Stacked:
    """The kept outcome fields of every step [T, N], read as an outcome's attributes."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> np.ndarray:
        return self._data[f"outcome_{name}"]


def derived(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The quantities that are sums of the kept ones, for every step at once [T, N] (0 at a
    step without an outcome, the start): each step's welfare (``payoff``), its rare-earth
    costs, lunar welfare, capital consumed, and the welfare channels (:data:`CHANNELS`)."""
    out, stepped = _Stacked(data), data["stepped"][:, None]

    def where(values: np.ndarray) -> np.ndarray:
        return np.where(stepped, values, 0.0)

    ree_cost = where(ree_costs(out))
    return {
        "payoff": where(out.welfare),
        "shortfall_cost": where(out.shortfall_cost),
        "export_revenue_lost": where(out.export_revenue_lost),
        "retaliation_cost": where(out.retaliation_cost),
        "diversification_cost": where(out.diversification_cost),
        "ree_cost": ree_cost,
        "lunar_payoff": where(out.welfare + ree_cost),
        "capital_consumed": where(out.depreciation + out.incident_loss),
    } | {f"channel_{name}": where(fn(out)) for name, (_, fn) in CHANNELS.items()}


# The run's totals to date of the per-step flows, in the DataCollector that Mesa users read
TO_DATE = {"incidents_to_date": ("incidents", "count"),
           "propellant_to_date_t": ("propellant_step_t", "t"),
           "ree_delivered_to_date_t": ("ree_delivered_step_t", "t")}
# What the DataCollector reports for each nation agent
AGENT_VARS = ("welfare_usd_bn", "capacity_t_per_yr", "cooperation", "cooperation_received")


class Recorder:
    """Keeps the raw quantities of every step in arrays; computes the metrics over the whole
    history. Mesa's ``DataCollector`` calls one reporter per metric per step and deep-copies each
    value (a quarter of a baseline run's time, measured), so one is built only when Mesa's
    tools ask for it (:meth:`datacollector`)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.steps: list[int] = []
        self._data: dict[str, np.ndarray] = {}  # each quantity's rows, with room to grow
        self._columns: list[np.ndarray] = []  # the same arrays, in order
        self._history: History | None = None

    def record(self, step: int, snap: Snapshot) -> None:
        """The step's raw quantities in the next row (arrays doubled when full)."""
        row, values = len(self.steps), raw_record(snap)
        if not self._data or row == len(self._data["welfare"]):
            self._data = {key: np.concatenate([self._data[key], np.empty_like(self._data[key])])
                          if self._data else np.empty((16, *np.shape(v)), np.asarray(v).dtype)
                          for key, v in values.items()}
            self._columns = list(self._data.values())  # in the order raw_record gives them
        for column, value in zip(self._columns, values.values(), strict=True):
            column[row] = value
        self.steps.append(step)
        self._history = None

    def history(self) -> History:
        if self._history is None:
            n = len(self.steps)
            data = {k: a[:n] for k, a in self._data.items()}
            data |= outcome_history(data)
            self._history = History(data | derived(data), self.world)
        return self._history

    def model_column(self, name: str) -> np.ndarray:
        metric = MODEL_METRICS[name]
        return typed(metric.fn(self.history()), metric.unit)

    def model_table(self) -> dict[str, np.ndarray]:
        return {"step": np.array(self.steps)} | {name: self.model_column(name) for name in MODEL_METRICS}

    def nation_table(self) -> dict[str, np.ndarray]:
        """Per-nation series as [steps, N] arrays."""
        h = self.history()
        return {name: typed(metric.fn(h), metric.unit) for name, metric in NATION_METRICS.items()}

    def datacollector(self, agent_ids: list[int]) -> mesa.DataCollector:
        """A Mesa ``DataCollector`` filled with every recorded step, as if ``collect`` had been
        called after each: the model-level metrics, the run's totals to date of its flows
        (:data:`TO_DATE`, what lunarsim's run summary reports at the end), and for each nation
        (``agent_ids``, in order) :data:`AGENT_VARS`.

        Mesa 3.5 records the step of each collection, and ``batch_run`` reads the last; Mesa
        3.3 does not, and its ``batch_run`` reads position ``steps - 1``: there the initial
        state (step 0) is left out, so that position k holds step k + 1 and the last row is
        the end of the run, as on 3.5 (the agent rows still say their step)."""
        table = self.model_table()
        for name, (source, unit) in TO_DATE.items():
            table[name] = typed(np.cumsum(table[source]), unit)
        names = [name for name in table if name != "step"]
        collector = mesa.DataCollector(model_reporters={name: name for name in names},
                                       agent_reporters={name: name for name in AGENT_VARS})
        by_step = hasattr(collector, "_collection_steps")
        first = 0 if by_step else 1
        collector.model_vars = {name: table[name][first:].tolist() for name in names}
        nations = self.nation_table()
        columns = [nations[name].tolist() for name in AGENT_VARS]
        collector._agent_records = {
            (step if by_step else k - 1): [
                (step, uid, *(column[k][i] for column in columns))
                for i, uid in enumerate(agent_ids)]
            for k, step in enumerate(self.steps) if k >= first}
        if by_step:
            collector._collection_steps = list(self.steps)
        return collector
