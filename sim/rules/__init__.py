"""What a scenario names: decision rules (:mod:`.strategies`), regimes (:mod:`.regimes`) and
scheduled events (:mod:`.events`), each kind in its registry."""
