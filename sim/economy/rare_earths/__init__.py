"""Rare earths: the market for refined magnet oxides (:mod:`.market`), what the nations'
actions in the rare-earth arena do — the holder's export controls, importers' retaliation and
the coercive value of both (:mod:`.arena`) — the importers' threat and diversification
(:mod:`.importers`), mines outside the holder that answer to price (:mod:`.mines`) and the
break-even cost of lunar supply (:mod:`.lunar`). The step stays one
pure function (:func:`sim.economy.step.resolve_step`) that calls the market; the nations choose
their rare-earth actions with their lunar ones (:mod:`sim.rules.strategies`), and the model calls
the importers after the step.

**One good: magnet rare-earth oxides** (NdPr, with Dy and Tb), in t of oxide per year. They are
where the leverage is (the IEA's 92 % refining share, the 2025 controls on seven heavy rare
earths and magnets, the NdPr price all concern them); the rest of the basket (La, Ce, ...) is
abundant and cheap, and is left out. Mine output is counted by its magnet-oxide content
(``magnet_share`` of the oxide mined).
"""

from sim.economy.rare_earths.arena import arena_pairs
from sim.economy.rare_earths.importers import diversify
from sim.economy.rare_earths.lunar import break_even_return_cost
from sim.economy.rare_earths.market import (
    Flows,
    MarketResult,
    capacity,
    clear_market,
    flows,
)
from sim.economy.rare_earths.mines import open_mines

__all__ = ["Flows", "MarketResult", "arena_pairs", "break_even_return_cost", "capacity",
           "clear_market", "diversify", "flows", "open_mines"]
