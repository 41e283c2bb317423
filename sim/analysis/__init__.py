"""Layer 7, analysis: results folders read and compared. A folder read once (:mod:`.results`),
the outcomes compared (:mod:`.outcomes`), paired statistics (:mod:`.stats`), the welfare
channels (:mod:`.decompose`) and the comparison's figures (:mod:`.figures`)."""

from sim.analysis.results import Results

__all__ = ["Results"]
