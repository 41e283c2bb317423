"""What is measured each step: a registry of model-level and nation-level metrics.

Each metric has a name, a unit and a description (used for tables and figure labels) and a
function of a :class:`Snapshot`, the state after a step with that step's actions and outcome.
Adding a metric is one entry here; the recorder, the tables and the figures pick it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mesa
import numpy as np

from sim.economics import Outcome, State, World


@dataclass(frozen=True)
class Snapshot:
    """Everything a metric may read after a step (``outcome`` and ``actions`` are None at step 0)."""

    year: float
    world: World
    state: State
    actions: np.ndarray | None
    outcome: Outcome | None
    same_bloc: np.ndarray  # bool [N, N], False on the diagonal
    members: np.ndarray  # bool [N]
    blocs: np.ndarray  # str [N]


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    description: str
    fn: Callable[[Snapshot], np.ndarray | float]


MODEL_METRICS: dict[str, Metric] = {}
NATION_METRICS: dict[str, Metric] = {}


def model_metric(unit: str, description: str):
    def register(fn: Callable[[Snapshot], float]) -> Callable[[Snapshot], float]:
        MODEL_METRICS[fn.__name__] = Metric(fn.__name__, unit, description, fn)
        return fn

    return register


def nation_metric(unit: str, description: str):
    def register(fn: Callable[[Snapshot], np.ndarray]) -> Callable[[Snapshot], np.ndarray]:
        NATION_METRICS[fn.__name__] = Metric(fn.__name__, unit, description, fn)
        return fn

    return register


def _off_diagonal_mean(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask].mean()) if mask.any() else float("nan")


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 equal, towards 1 concentrated)."""
    x = np.sort(np.maximum(np.asarray(values, float), 0.0))
    total = x.sum()
    if x.size == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, x.size + 1)
    return float((2.0 * (ranks * x).sum()) / (x.size * total) - (x.size + 1.0) / x.size)


# --- model level -----------------------------------------------------------------------------


@model_metric("USD bn", "cumulative welfare of all nations")
def welfare_total(s: Snapshot) -> float:
    return float(s.state.welfare_usd_bn.sum())


@model_metric("USD bn", "welfare of all nations in this step")
def welfare_step(s: Snapshot) -> float:
    return float(s.outcome.welfare.sum()) if s.outcome else 0.0


@model_metric("t", "propellant (O2 + H2) made in this step")
def propellant_step(s: Snapshot) -> float:
    return float(s.outcome.propellant_t.sum()) if s.outcome else 0.0


@model_metric("t", "lunar rare-earth oxide delivered to Earth in this step")
def ree_delivered_step(s: Snapshot) -> float:
    return float(s.outcome.ree_shipped_t.sum()) if s.outcome else 0.0


@model_metric("count", "incidents (pairs) in this step")
def incidents(s: Snapshot) -> float:
    return float(np.triu(s.outcome.incidents, k=1).sum()) if s.outcome else 0.0


@model_metric("share", "fraction of C among all actions toward others")
def cooperation_rate(s: Snapshot) -> float:
    if s.actions is None:
        return float("nan")
    return _off_diagonal_mean(s.actions, ~np.eye(len(s.actions), dtype=bool))


@model_metric("share", "fraction of C among actions toward the same bloc")
def cooperation_within_blocs(s: Snapshot) -> float:
    return float("nan") if s.actions is None else _off_diagonal_mean(s.actions, s.same_bloc)


@model_metric("share", "fraction of C among actions toward other blocs")
def cooperation_across_blocs(s: Snapshot) -> float:
    if s.actions is None:
        return float("nan")
    across = ~s.same_bloc & ~np.eye(len(s.actions), dtype=bool)
    return _off_diagonal_mean(s.actions, across)


@model_metric("share", "mean trust between nations (1 - tension)")
def mean_trust(s: Snapshot) -> float:
    return _off_diagonal_mean(s.state.trust, ~np.eye(len(s.state.trust), dtype=bool))


@model_metric("share", "share of the best ice sites' initial reserve extracted so far")
def best_site_depletion(s: Snapshot) -> float:
    best = s.world.best_sites
    initial = s.world.initial_reserve_t[best].sum()
    return float(1.0 - s.state.reserve_t[best].sum() / initial)


@model_metric("share", "share of all ice reserves extracted so far")
def ice_depletion(s: Snapshot) -> float:
    ice = s.world.site_is_ice
    return float(1.0 - s.state.reserve_t[ice].sum() / s.world.initial_reserve_t[ice].sum())


@model_metric("t/yr", "installed regolith throughput of all nations")
def capacity_total(s: Snapshot) -> float:
    return float(s.state.capacity_t_per_yr.sum())


@model_metric("USD/kg", "world rare-earth oxide price")
def ree_price(s: Snapshot) -> float:
    return float(s.state.ree_price_usd_per_kg)


@model_metric("share", "leverage holder's share of refined world rare-earth supply")
def leverage_index(s: Snapshot) -> float:
    if s.outcome is None:
        return float(s.world.initial_refining_share)
    return s.outcome.leverage_index


@model_metric("index", "Gini coefficient of cumulative welfare (negative values as 0)")
def gini_welfare(s: Snapshot) -> float:
    return gini(s.state.welfare_usd_bn)


@model_metric("USD bn", "cost of rare-earth shortfalls under export controls, this step")
def shortfall_cost_total(s: Snapshot) -> float:
    return float(s.outcome.shortfall_cost.sum()) if s.outcome else 0.0


@model_metric("count", "nations under the holder's export control this step")
def export_control_targets(s: Snapshot) -> float:
    return float(s.outcome.export_targets.sum()) if s.outcome else 0.0


@model_metric("count", "regime members")
def regime_members(s: Snapshot) -> float:
    return float(s.members.sum())


# --- nation level ----------------------------------------------------------------------------


@nation_metric("USD bn", "cumulative welfare")
def welfare(s: Snapshot) -> np.ndarray:
    return s.state.welfare_usd_bn.copy()


@nation_metric("USD bn", "welfare in this step")
def payoff(s: Snapshot) -> np.ndarray:
    n = s.state.welfare_usd_bn.size
    return s.outcome.welfare.copy() if s.outcome else np.zeros(n)


@nation_metric("t/yr", "installed regolith throughput")
def capacity(s: Snapshot) -> np.ndarray:
    return s.state.capacity_t_per_yr.copy()


@nation_metric("t", "cumulative propellant made")
def propellant(s: Snapshot) -> np.ndarray:
    return s.state.propellant_t.copy()


@nation_metric("t", "cumulative rare-earth oxide mined on the Moon")
def ree_mined(s: Snapshot) -> np.ndarray:
    return s.state.ree_mined_t.copy()


@nation_metric("share", "fraction of C in this nation's actions toward others")
def cooperation(s: Snapshot) -> np.ndarray:
    n = s.state.welfare_usd_bn.size
    if s.actions is None or n < 2:
        return np.full(n, np.nan)
    off = s.actions & ~np.eye(n, dtype=bool)
    return off.sum(axis=1) / (n - 1)


@nation_metric("share", "mean trust the others place in this nation")
def trusted(s: Snapshot) -> np.ndarray:
    t = s.state.trust
    n = len(t)
    return (t.sum(axis=0) - np.diag(t)) / max(n - 1, 1)


@nation_metric("count", "incidents this nation was in during this step")
def nation_incidents(s: Snapshot) -> np.ndarray:
    n = s.state.welfare_usd_bn.size
    return s.outcome.incidents.sum(axis=1).astype(float) if s.outcome else np.zeros(n)


@nation_metric("USD bn", "cost of rare earths withheld by the holder's export controls, this step")
def shortfall_cost(s: Snapshot) -> np.ndarray:
    return _nation_outcome(s, "shortfall_cost")


@nation_metric("USD bn", "the holder's rare-earth sales forgone under its own controls, this step")
def export_revenue_lost(s: Snapshot) -> np.ndarray:
    return _nation_outcome(s, "export_revenue_lost")


@nation_metric("flag", "1 if under the holder's export control this step")
def export_control(s: Snapshot) -> np.ndarray:
    return _nation_outcome(s, "export_targets").astype(float)


@nation_metric("share", "share of rare-earth imports bought from the leverage holder")
def import_dependence(s: Snapshot) -> np.ndarray:
    return s.state.import_dependence.copy()


@nation_metric("label", "bloc at this step")
def bloc(s: Snapshot) -> np.ndarray:
    return s.blocs.copy()


def _nation_outcome(s: Snapshot, field: str) -> np.ndarray:
    if s.outcome is None:
        return np.zeros(s.state.welfare_usd_bn.size)
    return getattr(s.outcome, field).copy()


@nation_metric("flag", "1 if a member of the regime")
def member(s: Snapshot) -> np.ndarray:
    return s.members.astype(float)


class Recorder:
    """Records every metric at every step.

    Model-level metrics go through Mesa's ``DataCollector`` (so ``mesa.batch_run`` and Mesa's
    tools read them as usual). Nation-level metrics are whole arrays kept one row per step:
    Mesa's agent reporters would build one dict per nation per step from attribute reads, when
    the numbers already sit in arrays (see docs/ODD.md, "Observation").
    """

    def __init__(self) -> None:
        self._snap: Snapshot | None = None
        self.collector = mesa.DataCollector(
            model_reporters={name: self._reporter(m) for name, m in MODEL_METRICS.items()}
        )
        self.steps: list[int] = []
        self.nation_rows: dict[str, list[np.ndarray]] = {name: [] for name in NATION_METRICS}

    def _reporter(self, metric: Metric) -> Callable[[object], float]:
        return lambda _model: metric.fn(self._snap)

    def record(self, model: mesa.Model, snap: Snapshot) -> None:
        self.steps.append(model.steps)
        self._snap = snap
        self.collector.collect(model)
        self._snap = None
        for name, metric in NATION_METRICS.items():
            self.nation_rows[name].append(metric.fn(snap))

    def model_column(self, name: str) -> np.ndarray:
        return np.asarray(self.collector.model_vars[name], dtype=float)

    def model_table(self) -> dict[str, np.ndarray]:
        return {"step": np.array(self.steps)} | {name: self.model_column(name) for name in MODEL_METRICS}

    def nation_table(self) -> dict[str, np.ndarray]:
        """Per-nation series as [steps, N] arrays."""
        return {k: np.vstack(v) for k, v in self.nation_rows.items()}
