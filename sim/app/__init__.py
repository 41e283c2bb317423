"""Layer 10, interfaces: the interactive page (``lunarsim app``). :mod:`sim.app.session` holds
the models, :mod:`sim.app.figures` draws them, :mod:`sim.app.page` is the Solara page."""
