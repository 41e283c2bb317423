"""Layer 4, scenario: scenario files. The schema (:mod:`.schema`), reading them (:mod:`.loader`)
and every parameter's range and source (:mod:`.calibration`)."""

from sim.scenario.loader import content_hash, find_scenario, library, load_scenario
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "content_hash", "find_scenario", "library", "load_scenario"]
