"""What is measured: a registry of model-level and nation-level metrics.

Each step the recorder (:class:`sim.model.recorder.Recorder`) keeps a few raw arrays of the
state and the step's outcome (a :class:`Snapshot` boiled down by :func:`raw_record`); metrics
are functions of the whole :class:`History` (those arrays stacked over steps, and the sums the
recorder derives from them), computed once, vectorised over steps. Each
metric has a name, a unit and a description (for tables and figure labels). Adding a metric is
one entry here (and, if it needs a new raw quantity, one line in :func:`raw_record`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.base.columns import column_name
from sim.base.units import ratio
from sim.economy.rare_earths import break_even_return_cost
from sim.economy.state import EconParams, Outcome, Resolved, State, World


@dataclass(frozen=True)
class Snapshot:
    """The model after a step (``outcome`` and ``actions`` are None at step 0)."""

    year: float
    world: World
    state: State
    actions: np.ndarray | None  # coordination that took place (C and no legal bar)
    outcome: Resolved | None  # the compiled step's: the record copies its two blocks
    same_bloc: np.ndarray  # bool [N, N], False on the diagonal
    across_blocs: np.ndarray  # bool [N, N], False on the diagonal
    off_diagonal: np.ndarray  # bool [N, N]
    members: np.ndarray  # bool [N]
    membership_gain: np.ndarray  # [N] USD bn/yr, what being in was worth at the last review
    membership_parts: dict[str, np.ndarray]  # its parts (sim.model.membership.GAIN_PARTS)
    blocs: np.ndarray  # str [N]
    investment: np.ndarray  # USD bn [N] spent on new plants in the step (zeros at step 0)
    econ: EconParams
    expected_npv: np.ndarray  # USD bn [N] what the nations expect of those plants, net of cost
    elapsed_years: float  # since the start of the run


# A step's welfare split into the channels through which rules and play change it; they sum to
# welfare exactly (tested), so a paired difference of welfare splits into channel differences.
CHANNELS: dict[str, tuple[str, Callable[[Outcome], np.ndarray]]] = {
    "potential_output": ("Output if all regolith brought were worked", lambda o: o.potential_output),
    "crowding": ("Crowding and racing: brought but not worked", lambda o: -o.crowding_loss),
    "exhausted_sites": ("Sites run out", lambda o: -o.exhaustion_loss),
    "synergy": ("Synergy with partners", lambda o: o.synergy_gain),
    "interference": ("Interference from uncoordinated neighbours", lambda o: -o.interference_loss),
    "operating_cost": ("Operating cost", lambda o: -o.operating_cost),
    "capital_wear": ("Capital worn out (depreciation)", lambda o: -o.depreciation),
    "incidents": ("Capital destroyed in incidents", lambda o: -o.incident_loss),
    "transfers": ("Benefit sharing, sanctions and compensation",
                  lambda o: o.transfers + o.sanctions + o.liability),
    "entry_cost": ("Entry cost", lambda o: -o.entry_cost),
    "rare_earths": ("Rare earths: shortfalls, forgone sales, retaliation, dearer refining of one's own",
                    lambda o: -ree_costs(o)),
}


def raw_record(s: Snapshot) -> dict[str, np.ndarray | float]:
    """The raw quantities kept at each step, [N], [S], the outcome's two blocks of results or
    scalars (the recorder copies them); what is a sum of them is computed over the whole
    history (:func:`outcome_history`, :func:`sim.model.recorder.derived`)."""
    from sim.economy.kernels.market import MK  # the compiler loads with the model
    from sim.economy.kernels.step import R
    from sim.economy.kernels.tally import pair_tallies

    st, out, a = s.state, s.outcome, s.actions
    n = st.welfare_usd_bn.size
    zeros = np.zeros(n)
    nan = float("nan")
    off = s.off_diagonal
    trust_in, given, received, shares, incidents = pair_tallies(
        st.trust, off if a is None else a, off, s.same_bloc, s.across_blocs,
        off if out is None else out.incidents)
    if a is None or n < 2:
        given = received = np.full(n, nan)
    if a is None:
        shares = np.full(3, nan)
    return {
        "welfare": st.welfare_usd_bn,
        "capacity": st.capacity_t_per_yr,
        "capital": st.capital_usd_bn,
        "investment": s.investment,
        "discount": (1.0 + s.econ.social_discount_rate_per_year) ** -s.elapsed_years,
        "brought": zeros if out is None else out.demand_t.sum(axis=-1),
        "worked": zeros if out is None else out.worked_t.sum(axis=-1),
        "expected_npv": s.expected_npv,
        "propellant": st.propellant_t,
        "ree_mined": st.ree_mined_t,
        "reserve": st.reserve_t,
        "import_dependence": st.import_dependence,
        "trusted": trust_in,
        "mean_trust": float(np.sum(st.trust, where=off) / max(np.count_nonzero(off), 1)),
        "ree_price": float(st.ree_price_usd_per_kg),
        "member": s.members.astype(float),
        "membership_gain": s.membership_gain,
        "bloc": s.blocs,
        "stepped": out is not None,
        "incidents": zeros if out is None else incidents,
        "leverage_index": float(st.leverage_index),
        "ree_threat": st.ree_threat,
        "refining_built": st.ree_refining_built_t_per_yr[:-1],
        "refining_built_total": float(st.ree_refining_built_t_per_yr.sum()),
        # the return cost below which lunar rare earths would pay at the next step's price,
        # where plants exist to be sent to a KREEP site (NaN before any)
        "ree_break_even": (break_even_return_cost(s.world, st, s.econ)
                           if st.capacity_t_per_yr.sum() > 0 else nan),
        "cooperation": given,
        "cooperation_received": received,
        "cooperation_rate": shares[0],
        "cooperation_within_blocs": shares[1],
        "cooperation_across_blocs": shares[2],
        # the step's outcome in two blocks (its fields are rows of them: outcome_history)
        "outcome_rows": np.zeros((R, n)) if out is None else out.rows,
        "outcome_market": np.zeros((MK, n)) if out is None else out.market_rows,
    } | {f"membership_gain_{name}": part for name, part in s.membership_parts.items()}


def outcome_history(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The outcome quantities the metrics read of each step [T, N], from the two blocks
    :func:`raw_record` keeps (zeros at a step without an outcome, the start)."""
    from sim.economy.step import block_fields

    out = block_fields(data["outcome_rows"], data["outcome_market"])
    # (a nation table's column is a copy: a view would keep the whole block alive with it)
    return {"gross_output": out["gross_output"].copy(), "propellant_step": out["propellant_t"],
            "ree_delivered_step": out["ree_shipped_t"],
            "export_control": out["export_targets"].astype(float),
            "retaliation": out["retaliators"].astype(float)
            } | {f"outcome_{name}": values for name, values in out.items()}


def ree_costs(out: Outcome) -> np.ndarray:
    """The terrestrial rare-earth costs of a step [N]: shortfalls under controls, the holder's
    forgone sales, retaliation's cost, the premium on refining built (the welfare channel
    ``rare_earths``)."""
    return (out.shortfall_cost + out.export_revenue_lost + out.diversification_cost
            + out.retaliation_cost)


@dataclass(frozen=True)
class History:
    """Raw quantities stacked over recorded steps: [T], [T, N] or [T, S] (the outcome's two
    blocks [T, R, N] and [T, MK, N], with each field's rows named: :func:`outcome_history`)."""

    data: dict[str, np.ndarray]
    world: World

    def __getitem__(self, key: str) -> np.ndarray:
        return self.data[key]


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    description: str
    fn: Callable[[History], np.ndarray]


MODEL_METRICS: dict[str, Metric] = {}
NATION_METRICS: dict[str, Metric] = {}


def _register(table: dict[str, Metric], unit: str, description: str):
    """A metric is registered under its column name: the function's name with its unit's
    suffix (see :mod:`sim.base.columns`)."""

    def register(fn: Callable[[History], np.ndarray]) -> Callable[[History], np.ndarray]:
        name = column_name(fn.__name__, unit)
        table[name] = Metric(name, unit, description, fn)
        return fn

    return register


def model_metric(unit: str, description: str):
    return _register(MODEL_METRICS, unit, description)


def nation_metric(unit: str, description: str):
    return _register(NATION_METRICS, unit, description)


def gini(values: np.ndarray) -> np.ndarray:
    """Gini coefficient along the last axis: the mean absolute difference between all pairs
    over twice the mean absolute value (0 equal, towards 1 concentrated). For non-negative
    values this is the usual Gini; normalising by the mean absolute value keeps it in [0, 1]
    when some values are losses (Chen, Tsaur & Rhai 1982), so unequal losses count as unequal
    instead of as 0."""
    x = np.asarray(values, float)
    n = x.shape[-1]
    spread = np.abs(x[..., :, None] - x[..., None, :]).sum(axis=(-2, -1))
    scale = 2.0 * n * np.abs(x).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, spread / np.where(scale > 0, scale, 1.0), 0.0)


# --- model level -----------------------------------------------------------------------------


@model_metric("USD bn", "cumulative welfare of all nations")
def welfare_total(h: History) -> np.ndarray:
    return h["welfare"].sum(axis=1)


@model_metric("USD bn", "cumulative lunar welfare of all nations: welfare less the terrestrial "
                        "rare-earth costs")
def welfare_lunar_total(h: History) -> np.ndarray:
    return np.cumsum(h["lunar_payoff"].sum(axis=1))


@model_metric("USD bn", "cumulative terrestrial rare-earth costs of all nations (shortfalls, "
                        "forgone sales, the premium on refining built)")
def ree_costs_total(h: History) -> np.ndarray:
    return np.cumsum(h["ree_cost"].sum(axis=1))


@model_metric("USD bn", "cumulative welfare of all nations discounted to the start at the social "
                        "discount rate")
def welfare_discounted_total(h: History) -> np.ndarray:
    return np.cumsum(h["payoff"].sum(axis=1) * h["discount"])


@model_metric("t", "regolith all nations brought to the sites in this step")
def regolith_brought_step(h: History) -> np.ndarray:
    return h["brought"].sum(axis=1)


@model_metric("share", "share of the regolith brought in this step that crowding left unworked "
                       "(NaN when none is brought)")
def unworked_share(h: History) -> np.ndarray:
    brought = h["brought"].sum(axis=1)
    return np.where(brought > 0, 1.0 - ratio(h["worked"].sum(axis=1), brought), np.nan)


@model_metric("USD bn", "what all nations expect this step's new plants to be worth, net of "
                        "their cost")
def investment_expected_npv_step(h: History) -> np.ndarray:
    return h["expected_npv"].sum(axis=1)


@model_metric("USD bn", "welfare of all nations in this step")
def welfare_step(h: History) -> np.ndarray:
    return h["payoff"].sum(axis=1)


@model_metric("USD bn", "value of all nations' output in this step (propellant and rare earths)")
def gross_output_step(h: History) -> np.ndarray:
    return h["gross_output"].sum(axis=1)


@model_metric("USD bn", "spent on new extraction capacity by all nations in this step")
def investment_step(h: History) -> np.ndarray:
    return h["investment"].sum(axis=1)


@model_metric("USD bn", "book value of all nations' installed capacity")
def capital_total(h: History) -> np.ndarray:
    return h["capital"].sum(axis=1)


@model_metric("t", "propellant (O2 + H2) made in this step")
def propellant_step(h: History) -> np.ndarray:
    return h["propellant_step"].sum(axis=1)


@model_metric("t", "lunar rare-earth oxide delivered to Earth in this step")
def ree_delivered_step(h: History) -> np.ndarray:
    return h["ree_delivered_step"].sum(axis=1)


@model_metric("count", "incidents (pairs) in this step")
def incidents(h: History) -> np.ndarray:
    return h["incidents"].sum(axis=1) / 2.0


@model_metric("share", "fraction of C among all actions toward others")
def cooperation_rate(h: History) -> np.ndarray:
    return h["cooperation_rate"]


@model_metric("share", "fraction of C among actions toward the same bloc")
def cooperation_within_blocs(h: History) -> np.ndarray:
    return h["cooperation_within_blocs"]


@model_metric("share", "fraction of C among actions toward other blocs")
def cooperation_across_blocs(h: History) -> np.ndarray:
    return h["cooperation_across_blocs"]


@model_metric("share", "mean trust between nations (1 - tension)")
def mean_trust(h: History) -> np.ndarray:
    return h["mean_trust"]


@model_metric("share", "share of the best ice sites' initial reserve extracted so far")
def best_site_depletion(h: History) -> np.ndarray:
    best = h.world.best_sites
    return 1.0 - h["reserve"][:, best].sum(axis=1) / h.world.initial_reserve_t[best].sum()


@model_metric("share", "share of all ice reserves extracted so far")
def ice_depletion(h: History) -> np.ndarray:
    ice = h.world.site_is_ice
    return 1.0 - h["reserve"][:, ice].sum(axis=1) / h.world.initial_reserve_t[ice].sum()


@model_metric("t/yr", "installed regolith throughput of all nations")
def capacity_total(h: History) -> np.ndarray:
    return h["capacity"].sum(axis=1)


@model_metric("USD/kg", "world rare-earth oxide price")
def ree_price(h: History) -> np.ndarray:
    return h["ree_price"]


@model_metric("share", "leverage holder's share of refined world rare-earth supply")
def leverage_index(h: History) -> np.ndarray:
    return h["leverage_index"]


@model_metric("share", "share of the modelled importers' rare-earth demand met by the holder")
def importer_dependence(h: History) -> np.ndarray:
    holder = h.world.leverage_holder
    demand = np.broadcast_to(h.world.ree_demand_t_per_yr[:-1], h["import_dependence"].shape).copy()
    if holder is not None:
        demand[:, holder] = 0.0
    total = demand.sum(axis=1)
    weighted = (h["import_dependence"] * demand).sum(axis=1)
    return np.divide(weighted, total, out=np.zeros_like(weighted), where=total > 0)


@model_metric("t/yr", "rare-earth refining built outside the holder since the start")
def refining_built(h: History) -> np.ndarray:
    return h["refining_built_total"]


@model_metric("USD/kg", "Earth-return cost below which lunar rare earths would pay at this price")
def ree_break_even(h: History) -> np.ndarray:
    return h["ree_break_even"]


@model_metric("index", "Gini coefficient of cumulative welfare (losses count: see gini)")
def gini_welfare(h: History) -> np.ndarray:
    return gini(h["welfare"])


@model_metric("USD bn", "cost of rare-earth shortfalls under export controls, this step")
def shortfall_cost_total(h: History) -> np.ndarray:
    return h["shortfall_cost"].sum(axis=1)


@model_metric("count", "nations under the holder's export control this step")
def export_control_targets(h: History) -> np.ndarray:
    return h["export_control"].sum(axis=1)


@model_metric("count", "regime members")
def regime_members(h: History) -> np.ndarray:
    return h["member"].sum(axis=1)


# --- nation level: the raw quantity of the same name ------------------------------------------

NATION_UNITS = {
    "welfare": ("USD bn", "cumulative welfare"),
    "payoff": ("USD bn", "welfare in this step"),
    "capacity": ("t/yr", "installed regolith throughput"),
    "capital": ("USD bn", "book value of the installed capacity"),
    "investment": ("USD bn", "spent on new capacity in this step"),
    "gross_output": ("USD bn", "value of propellant and rare earths produced in this step"),
    "lunar_payoff": ("USD bn", "lunar welfare in this step: welfare less its rare-earth costs"),
    "ree_cost": ("USD bn", "terrestrial rare-earth costs in this step"),
    "expected_npv": ("USD bn", "what the nation expects this step's new plants to be worth, net "
                               "of their cost"),
    "capital_consumed": ("USD bn", "capacity worn out or destroyed in this step, at book value"),
    "propellant": ("t", "cumulative propellant made"),
    "ree_mined": ("t", "cumulative rare-earth oxide mined on the Moon"),
    "cooperation": ("share", "fraction of C in this nation's actions toward others"),
    "cooperation_received": ("share", "fraction of C in the others' actions toward this nation"),
    "trusted": ("share", "mean trust the others place in this nation"),
    "incidents": ("count", "incidents this nation was in during this step"),
    "shortfall_cost": ("USD bn", "cost of rare earths withheld by the holder's controls, this step"),
    "export_revenue_lost": ("USD bn", "the holder's rare-earth sales forgone under its own controls"),
    "export_control": ("flag", "1 if under the holder's export control this step"),
    "retaliation": ("flag", "1 if retaliating against the holder's rare-earth trade this step"),
    "retaliation_cost": ("USD bn", "what retaliation cost it this step (the retaliator's sales "
                                   "forgone; for the holder, what it did without)"),
    "import_dependence": ("share", "share of its rare-earth demand met by the leverage holder"),
    "ree_threat": ("share", "rare-earth supply threat felt (1: just under control)"),
    "refining_built": ("t/yr", "rare-earth refining capacity built since the start"),
    "diversification_cost": ("USD bn", "premium paid on rare earths from refining built, this step"),
    "bloc": ("label", "bloc at this step"),
    "member": ("flag", "1 if a member of the regime"),
    "membership_gain": ("USD bn/yr", "what being in the regime was worth to the nation at the "
                                     "last yearly review, in less out (NaN: it does not choose)"),
    "membership_gain_sharing": ("USD bn/yr", "the part of it from benefit sharing"),
    "membership_gain_sanctions": ("USD bn/yr", "the part of it from fines and compensation"),
    "membership_gain_fee": ("USD bn/yr", "the part of it from the fee"),
    "membership_gain_standing": ("USD bn/yr", "the part of it from standing beside rivals"),
}
for _key, (_unit, _description) in NATION_UNITS.items():
    _name = column_name(_key, _unit)
    NATION_METRICS[_name] = Metric(_name, _unit, _description, lambda h, key=_key: h[key])


NATION_METRICS["welfare_lunar_usd_bn"] = Metric(
    "welfare_lunar_usd_bn", "USD bn", "cumulative lunar welfare: welfare less its rare-earth costs",
    lambda h: np.cumsum(h["lunar_payoff"], axis=0))
NATION_METRICS["welfare_discounted_usd_bn"] = Metric(
    "welfare_discounted_usd_bn", "USD bn",
    "cumulative welfare discounted to the start at the social discount rate",
    lambda h: np.cumsum(h["payoff"] * h["discount"][:, None], axis=0))


def series_units() -> dict[str, dict[str, str]]:
    """The unit of every column of the two series tables, as the manifests record them."""
    return {"series_model": {m.name: m.unit for m in MODEL_METRICS.values()},
            "series_nations": {m.name: m.unit for m in NATION_METRICS.values()}}
