"""lunarsim: an agent-based policy simulation of competition and cooperation over lunar
water ice and rare earths. See docs/ODD.md for the model.

>>> from sim import load_scenario, LunarModel
>>> model = LunarModel(load_scenario("baseline"), rng=7).run()
"""

from sim.errors import UserError
from sim.model import LunarModel
from sim.runner import RunResult, run_scenario
from sim.scenario import Scenario, load_scenario

__version__ = "0.1.0"
__all__ = ["LunarModel", "RunResult", "Scenario", "UserError", "load_scenario", "run_scenario"]
