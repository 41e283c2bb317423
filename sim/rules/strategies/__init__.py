"""Decision rules. Importing this package registers every rule in :data:`STRATEGIES`."""

from sim.rules.strategies import adaptive, blocs, classic, plans  # noqa: F401  (registers the rules)
from sim.rules.strategies.base import STRATEGIES, Classifier, Observation, Roster, Strategy

__all__ = ["STRATEGIES", "Classifier", "Observation", "Roster", "Strategy"]
