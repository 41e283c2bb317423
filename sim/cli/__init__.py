"""Layer 10, interfaces: the ``lunarsim`` command line. A module per command group and what they
share (:mod:`.console`); :mod:`.main` assembles them. A user's mistake prints one line and exits
with code 2."""

from sim.cli.main import app, main

__all__ = ["app", "main"]
