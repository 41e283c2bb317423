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
from sim.base.units import ratio as _ratio
from sim.economy.rare_earths.arena import Retaliation, all_trade, restrictions, retaliation
from sim.economy.rare_earths.mines import mined as mined_by
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
    cap = world.ree_refining_t_per_yr * state.ree_supply_factor + state.ree_refining_built_t_per_yr
    if world.leverage_holder is not None:
        cap[world.leverage_holder] = 0.0
    return cap


def flows(world: World, state: State, severity: np.ndarray, lunar: np.ndarray) -> Flows:
    """The market's quantities with the holder withholding ``severity`` [..., N] of its sales to
    each nation and nations delivering ``lunar`` [..., N] t/yr of lunar oxide."""
    h = world.leverage_holder
    residual = world.ree_demand_t_per_yr.size - 1 if h is None else h  # refines the rest
    wanted = world.ree_demand_t_per_yr * state.ree_demand_factor  # at the reference price
    mined = mined_by(world, state)
    cap = capacity(world, state)
    cap[residual] = 0.0
    feed = mined.sum() - mined[residual]  # ore the residual refiner does not mine itself
    if h is not None:  # ore the rest of the world ships to the holder (Myanmar's, Nigeria's)
        feed -= world.ree_rest_ore_to_holder * mined[-1]
    use = min(1.0, float(_ratio(feed, cap.sum())))
    refined = cap * use
    refined[residual] = max(mined.sum() - refined.sum(), 0.0)  # >= its own mines, but for rounding
    built = np.minimum(state.ree_refining_built_t_per_yr, cap) * use
    lunar = np.concatenate([np.asarray(lunar, dtype=float),
                            np.zeros(np.shape(lunar)[:-1] + (1,))], axis=-1)
    available = refined + lunar
    # The price clears the market: each economy uses its demand at the clearing price, the
    # same share S/D of its demand at the reference price (one elasticity for all).
    total = available.sum(axis=-1, keepdims=True)
    demand = wanted * _ratio(total, wanted.sum()) if wanted.sum() > 0 else np.zeros_like(total) + wanted
    own = np.minimum(available, demand)
    surplus, need = available - own, demand - own
    pool = surplus.sum(axis=-1)
    held = surplus[..., h] if h is not None else np.zeros(np.shape(pool))
    phi = _ratio(held, pool)
    fill = np.minimum(1.0, _ratio(pool, need.sum(axis=-1)) + (need.sum(axis=-1) <= 0))
    bought = need * fill[..., None]
    from_holder = bought * phi[..., None]
    severity = np.concatenate([np.asarray(severity, dtype=float),
                               np.zeros(np.shape(severity)[:-1] + (1,))], axis=-1)
    if h is not None:
        severity[..., h] = 0.0
    withheld = severity * from_holder
    return Flows(wanted=wanted, demand=demand, refined=np.broadcast_to(refined, own.shape),
                 built_output=np.broadcast_to(built, own.shape), lunar=lunar, own=own, need=need,
                 from_holder=from_holder, withheld=withheld, imports=bought - withheld,
                 stocks=pool - bought.sum(axis=-1), phi=phi)


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


def control_severity(world: World, state: State, compete: np.ndarray,
                     controls: np.ndarray) -> np.ndarray:
    """Share of the holder's sales to each nation it withholds this step [..., N]: the controls
    it chose in the rare-earth arena (``controls``, from :func:`~.arena.restrictions`), or a
    scheduled control (an event: the named targets, or else every nation the holder plays D
    toward at the pole), the larger."""
    h = world.leverage_holder
    shape = compete.shape[:-1]
    if h is None:
        return np.zeros(shape)
    severity = np.broadcast_to(controls, shape).copy()
    if state.export_control_active:
        named = state.export_control_targets
        hit = np.broadcast_to(named, shape) if named is not None else compete[..., h, :]
        severity = np.maximum(severity, np.where(hit, state.export_control_severity, 0.0))
    severity[..., h] = 0.0
    return severity


def clear_market(world: World, state: State, compete: np.ndarray, lunar_shipped_t: np.ndarray,
                 econ: EconParams, trade: np.ndarray | None = None) -> MarketResult:
    """Step 6: the market for refined magnet oxides this step.

    The holder withholds its controls' share of its sales to each target; the price clears
    world demand against the supply that reaches the market (constant elasticity ``eta``):
    ``p = p_ref (D / S)^(1/eta)``, used from the next step. A target's shortfall costs it
    ``shortfall_cost_multiple`` times its value; the holder forgoes the sale; refining built in
    the run costs its premium over the world price on its output. ``trade`` [..., N, N] is the
    rare-earth arena's actions (None: nobody restricts); importers who retaliate withhold the
    equivalent value from the holder (:func:`~.arena.retaliation`).
    """
    dt = world.dt
    h = world.leverage_holder
    trade = all_trade(compete.shape[-1]) if trade is None else np.asarray(trade, dtype=bool)
    controls, retaliated = restrictions(trade, h, econ.control_severity)
    severity = control_severity(world, state, compete, controls)
    lunar = econ.magnet_share * np.asarray(lunar_shipped_t, dtype=float) / dt
    f = flows(world, state, severity, lunar)
    world_demand = f.wanted.sum()
    supply = f.supply
    market = (supply > 0) & (world_demand > 0)  # a world without a market keeps its price
    with np.errstate(over="ignore"):  # an overflow is a non-finite run, reported as such
        cleared = econ.ree_price_usd_per_kg * _ratio(world_demand, supply) ** (1.0 / econ.price_elasticity)
    price = np.where(market, cleared, econ.ree_price_usd_per_kg)
    total = f.refined.sum(axis=-1) + f.lunar.sum(axis=-1)
    leverage = _ratio(f.refined[..., h], total) if h is not None else np.zeros(np.shape(total))
    usd_bn_per_t = price * KG_PER_T / USD_PER_BN
    shortfall = f.withheld[..., :-1] * dt
    lost = np.zeros(np.shape(shortfall))
    if h is not None:
        lost[..., h] = f.withheld.sum(axis=-1) * dt * usd_bn_per_t
    premium = (econ.refining_cost_premium_usd_per_kg * KG_PER_T / USD_PER_BN
               * f.built_output[..., :-1] * dt)
    dependence = _ratio(f.from_holder, f.demand)[..., :-1]  # of what it uses, controls aside
    if h is not None:
        dependence[..., h] = 0.0
    shortfall_cost = econ.shortfall_cost_multiple * shortfall * np.expand_dims(usd_bn_per_t, -1)
    answered = retaliation(np.broadcast_to(retaliated, np.shape(shortfall)), f.from_holder[..., :-1],
                           price, h, econ.retaliation_cost_multiple, dt)
    pain = answered.pain.copy()
    if h is not None:
        pain[..., h, :] += shortfall_cost
    return MarketResult(
        price=float(price) if np.ndim(price) == 0 else price,
        leverage=float(leverage) if np.ndim(leverage) == 0 else leverage,
        targets=severity > 0,
        shortfall_t=shortfall,
        shortfall_cost=shortfall_cost,
        export_revenue_lost=lost,
        diversification_cost=np.broadcast_to(premium, np.shape(shortfall)).copy(),
        dependence=dependence,
        retaliation=answered,
        pain=pain,
        flows=f,
    )
