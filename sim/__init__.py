"""lunarsim: an agent-based policy simulation of competition and cooperation over lunar
water ice and rare earths. See docs/ODD.md for the model.

>>> from sim import load_scenario, LunarModel
>>> model = LunarModel(load_scenario("baseline"), rng=7).run()

The names below are imported when first used, so that ``import sim`` (and the command line's
start) stays quick.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

__version__ = "0.1.0"
__all__ = ["LunarModel", "RunResult", "Scenario", "UserError", "load_scenario", "run_scenario"]
_HOMES = {"LunarModel": "sim.model.model", "RunResult": "sim.experiment.run",
          "run_scenario": "sim.experiment.run", "Scenario": "sim.scenario",
          "load_scenario": "sim.scenario", "UserError": "sim.base.errors"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


def main() -> None:
    """The ``lunarsim`` command. The command line is imported here, so that Ctrl-C while it
    starts is one line too, not a traceback."""
    try:
        from sim.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    cli_main()
