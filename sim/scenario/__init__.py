"""Scenario files: the schema (:mod:`.schema`) and reading them (:mod:`.loader`)."""

from sim.scenario.loader import content_hash, find_scenario, library, load_scenario
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "content_hash", "find_scenario", "library", "load_scenario"]
