"""Layer 2, economy: one step's economics as pure functions over numpy arrays. The state they read
and the rules in force (:mod:`.state`), the lunar step (:mod:`.step`), the rare-earth market
(:mod:`.rare_earths`) and a slow reference of the step to test it against (:mod:`.reference`)."""
