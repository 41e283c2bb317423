"""Layer 3, rules: what a scenario names, each kind in its registry. Decision rules
(:mod:`.strategies`), regimes that turn membership and laws into the rules the economy reads
(:mod:`.regimes`), and scheduled events that act through :class:`.events.EventTarget`."""
