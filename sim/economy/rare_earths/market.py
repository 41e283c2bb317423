"""The rare-earth market (step 6): who refines what, who buys from whom, the price, the
holder's controls as they fall on each importer, and what they cost. Pure functions over numpy
arrays.

One good, magnet rare-earth oxides (see the package's docstring).

**Refining, not mining, decides who depends on whom.** Economies are the N nations and the rest
of the world (index N of every market array). Each refiner outside the holder runs its capacity
on ore mined outside the holder (the holder imports ore; it does not export it); the holder
refines all the ore nobody else does. Each economy uses its own refined output (and its own
lunar deliveries) first; the rest is exported into one pool from which importers buy, a share
``phi`` from the holder (its share of what is exported). Dependence is the share of a nation's
demand met by the holder's refineries.

Units: t/yr for flows, USD/kg for prices, USD bn for costs of a step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.base.units import KG_PER_T, USD_PER_BN
from sim.economy.rare_earths.arena import Retaliation
from sim.economy.state import EconParams, State, World


@dataclass(frozen=True)
class Flows:
    """Where refined magnet oxides come from and go, t/yr; arrays [..., N+1] (last: the rest of
    the world) or scalars [...]."""

    wanted: np.ndarray  # [N+1] what each economy would use at the reference price
    demand: np.ndarray  # what it uses at the clearing price (before controls)
    refined: np.ndarray  # output of its refineries
    built_output: np.ndarray  # the part of it from capacity built in the run (nations; 0 for the rest)
    lunar: np.ndarray  # its lunar deliveries (separated oxide)
    own: np.ndarray  # own refined output and lunar deliveries it uses itself
    need: np.ndarray  # what it must import
    from_holder: np.ndarray  # imports it would buy from the holder without controls
    withheld: np.ndarray  # of those, what the holder's controls withhold
    imports: np.ndarray  # imports delivered
    stocks: np.ndarray  # exports nobody needed (supply above demand) [...]
    phi: np.ndarray  # the holder's share of what is exported [...]

    @property
    def deliveries(self) -> np.ndarray:
        return self.own + self.imports

    @property
    def supply(self) -> np.ndarray:
        """Refined supply reaching the market: all refined output and lunar deliveries less what
        the holder withholds [...]."""
        return self.refined.sum(axis=-1) + self.lunar.sum(axis=-1) - self.withheld.sum(axis=-1)


def capacity(world: World, state: State) -> np.ndarray:
    """Refining capacity of each economy outside the holder, t/yr [N+1]: what it had at the start
    (growing with mine supply) plus what it has built since."""
    from sim.economy.rare_earths.mines import holdings

    return holdings(world, state)[1]


def supply_side(world: World, state: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the market has before anyone acts, t/yr [N+1]: what each economy would use at the
    reference price, what its refineries put out, and the part of that from refining built in
    the run. Each refiner outside the holder runs its capacity on ore mined outside the holder;
    the holder (or, without one, the rest of the world) refines all the ore nobody else does."""
    from sim.economy.kernels.market import supply_side as compiled

    h = world.leverage_holder
    return compiled(world.ree_demand_t_per_yr, state.ree_demand_factor, world.ree_mining_t_per_yr,
                    state.ree_mining_built_t_per_yr, world.ree_refining_t_per_yr,
                    state.ree_refining_built_t_per_yr, state.ree_supply_factor,
                    -1 if h is None else int(h), world.ree_rest_ore_to_holder)


def parameters(world: World, state: State, econ: EconParams) -> np.ndarray:
    """The market's parameters as the compiled kernels read them (``kernels.market.MP``)."""
    return np.array([world.dt, econ.ree_price_usd_per_kg, econ.price_elasticity,
                     econ.shortfall_cost_multiple,
                     econ.refining_cost_premium_usd_per_kg * KG_PER_T / USD_PER_BN,
                     econ.retaliation_cost_multiple, econ.control_severity,
                     float(state.export_control_active), state.export_control_severity,
                     econ.magnet_share])


def holder_and_targets(world: World, state: State, n: int) -> tuple[int, np.ndarray, bool]:
    """(the holder's index or -1, the named targets of a scheduled control [N], whether it
    names them: else it falls on whom the holder races)."""
    named = state.export_control_targets
    h = -1 if world.leverage_holder is None else int(world.leverage_holder)
    return h, (np.zeros(n, dtype=bool) if named is None else np.asarray(named, dtype=bool)), \
        named is not None


def flows(world: World, state: State, severity: np.ndarray, lunar: np.ndarray) -> Flows:
    """The market's quantities with the holder withholding ``severity`` [..., N] of its sales to
    each nation and nations delivering ``lunar`` [..., N] t/yr of lunar oxide."""
    from sim.economy.kernels.market import MP, MP_DT, market_flows

    severity, lunar = np.broadcast_arrays(np.asarray(severity, dtype=float),
                                          np.asarray(lunar, dtype=float))
    lead, n = severity.shape[:-1], severity.shape[-1]

    def economies(a: np.ndarray) -> np.ndarray:  # [B, N+1], the rest of the world's 0
        return np.concatenate([a.reshape(-1, n), np.zeros((a.size // max(n, 1), 1))], axis=-1)

    mp = np.ones(MP)  # the flows read only the step's length (no price is asked for)
    mp[MP_DT] = world.dt
    fl, scalars = market_flows(economies(severity), economies(lunar), *supply_side(world, state),
                               holder_and_targets(world, state, n)[0], mp)
    return _flows(fl.reshape(lead + fl.shape[1:]), scalars[..., 0].reshape(lead),
                  scalars[..., 1].reshape(lead))


def _flows(fl: np.ndarray, stocks: np.ndarray, phi: np.ndarray) -> Flows:
    """:class:`Flows` from the kernel's rows [..., FL, N+1]."""
    from sim.economy.kernels import market as k

    return Flows(wanted=fl[..., k.FL_WANTED, :], demand=fl[..., k.FL_DEMAND, :],
                 refined=fl[..., k.FL_REFINED, :], built_output=fl[..., k.FL_BUILT, :],
                 lunar=fl[..., k.FL_LUNAR, :], own=fl[..., k.FL_OWN, :],
                 need=fl[..., k.FL_NEED, :], from_holder=fl[..., k.FL_FROM_HOLDER, :],
                 withheld=fl[..., k.FL_WITHHELD, :], imports=fl[..., k.FL_IMPORTS, :],
                 stocks=stocks, phi=phi)


@dataclass(frozen=True)
class MarketResult:
    price: float | np.ndarray  # USD/kg after clearing
    leverage: float | np.ndarray  # the holder's share of refined world supply
    targets: np.ndarray  # bool [..., N]: nations under the holder's export control this step
    shortfall_t: np.ndarray  # [..., N] oxide a target could not get this step
    shortfall_cost: np.ndarray  # USD bn [..., N]
    export_revenue_lost: np.ndarray  # USD bn [..., N], the holder's only
    diversification_cost: np.ndarray  # USD bn [..., N]: the premium on refining built in the run
    dependence: np.ndarray  # [..., N] share of its use the holder's refineries supply, or would
    # supply but for its controls (being cut off does not make a nation less dependent)
    retaliation: Retaliation  # importers' retaliation and what it costs
    pain: np.ndarray  # [..., N, N] USD bn: the loss i's restrictions inflict on j this step
    flows: Flows


def clear_market(world: World, state: State, compete: np.ndarray, lunar_shipped_t: np.ndarray,
                 econ: EconParams, trade: np.ndarray | None = None) -> MarketResult:
    """Step 6: the market for refined magnet oxides this step (a batch [..., N, N] of actions
    gives every result that leading shape).

    The holder withholds ``control_severity`` of its sales to each nation it restricts in the
    rare-earth arena (``trade`` [..., N, N], True = trade freely; None: nobody restricts), or a
    scheduled control's severity on its targets (an event: the named targets, or else every
    nation the holder races at the pole, ``compete``), the larger. The price clears world demand
    against the supply that reaches the market (constant elasticity ``eta``):
    ``p = p_ref (D / S)^(1/eta)``, used from the next step. A target's shortfall costs it
    ``shortfall_cost_multiple`` times its value; the holder forgoes the sale; refining built in
    the run costs its premium over the world price on its output. Importers who retaliate
    withhold the equivalent value from the holder (:mod:`~.arena`). Computed by the step's
    compiled market (:func:`sim.economy.kernels.market.market`), the one the step itself uses.
    """
    from sim.economy.kernels import market as k
    from sim.economy.kernels.common import batch

    compete = np.asarray(compete, dtype=bool)
    n = compete.shape[-1]
    trade = np.ones((n, n), dtype=bool) if trade is None else np.asarray(trade, dtype=bool)
    shipped = np.asarray(lunar_shipped_t, dtype=float)
    lead = np.broadcast_shapes(compete.shape[:-2], trade.shape[:-2], shipped.shape[:-1])

    h, named, has_named = holder_and_targets(world, state, n)
    fl, mk, pain, scalars = k.market(batch(compete, lead, n, n), batch(trade, lead, n, n),
                                     batch(shipped, lead, n),
                                     *supply_side(world, state), h, named, has_named,
                                     parameters(world, state, econ))

    def shaped(a: np.ndarray) -> np.ndarray:
        return a.reshape(lead + a.shape[1:])

    def scalar(a: np.ndarray) -> float | np.ndarray:
        return float(a[0]) if not lead else a.reshape(lead)

    mk, pain = shaped(mk), shaped(pain)
    sales_lost = mk[..., k.MK_SALES_LOST, :]
    retaliation_pain, cost = pain.copy(), np.zeros_like(sales_lost)
    if h >= 0:
        retaliation_pain[..., h, :] = 0.0  # the holder's row is its controls' pain
        cost[..., h] = mk[..., k.MK_RETALIATION_COST, h]  # (it retaliates against nobody)
    return MarketResult(
        price=scalar(scalars[:, 0]),
        leverage=scalar(scalars[:, 1]),
        targets=mk[..., k.MK_SEVERITY, :] > 0,
        shortfall_t=mk[..., k.MK_SHORTFALL_T, :],
        shortfall_cost=mk[..., k.MK_SHORTFALL_COST, :],
        export_revenue_lost=mk[..., k.MK_EXPORT_LOST, :],
        diversification_cost=mk[..., k.MK_PREMIUM, :],
        dependence=mk[..., k.MK_DEPENDENCE, :],
        retaliation=Retaliation(sales_lost=sales_lost, cost=cost, pain=retaliation_pain),
        pain=pain,
        flows=_flows(shaped(fl), scalar(scalars[:, 2]), scalar(scalars[:, 3])),
    )
