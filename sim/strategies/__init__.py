"""Decision rules. Importing this package registers every rule in :data:`STRATEGIES`."""

from sim.strategies import classic  # noqa: F401  (registers the rules)
from sim.strategies.base import STRATEGIES, Classifier, Observation, Strategy

__all__ = ["STRATEGIES", "Classifier", "Observation", "Strategy"]
