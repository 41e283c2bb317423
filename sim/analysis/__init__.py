"""Analysis of results folders: paired statistics, figures and the report."""

from sim.analysis.compare import Analysis, analyse
from sim.analysis.results import Results

__all__ = ["Analysis", "Results", "analyse"]
