"""Rare earths: the market for refined magnet oxides (:mod:`.market`), the holder's
export-control policy (:mod:`.holder`), the importers' threat and diversification
(:mod:`.importers`) and the break-even cost of lunar supply (:mod:`.lunar`). The step stays one
pure function (:func:`sim.economy.step.resolve_step`) that calls the market; the model calls the
holder before the nations decide and the importers after the step.

**One good: magnet rare-earth oxides** (NdPr, with Dy and Tb), in t of oxide per year. They are
where the leverage is (the IEA's 92 % refining share, the 2025 controls on seven heavy rare
earths and magnets, the NdPr price all concern them); the rest of the basket (La, Ce, ...) is
abundant and cheap, and is left out. Mine output is counted by its magnet-oxide content
(``magnet_share`` of the oxide mined).
"""

from sim.economy.rare_earths.holder import holder_policy
from sim.economy.rare_earths.importers import diversify
from sim.economy.rare_earths.lunar import break_even_return_cost
from sim.economy.rare_earths.market import (
    Flows,
    MarketResult,
    capacity,
    clear_market,
    control_severity,
    flows,
)

__all__ = ["Flows", "MarketResult", "break_even_return_cost", "capacity", "clear_market",
           "control_severity", "diversify", "flows", "holder_policy"]
