"""The economics of a step as pure functions over numpy arrays: the state they read
(:mod:`.state`), the lunar step (:mod:`.step`), the rare-earth market (:mod:`.rare_earths`) and a
slow reference of the step to test it against (:mod:`.reference`)."""
