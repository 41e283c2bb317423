"""Layer 8, explore: how sure are we? Robustness over the calibrated ranges (:mod:`.robustness`),
sensitivity analysis (:mod:`.sensitivity`), scenario discovery (:mod:`.discover`), the stage game
a pair of nations plays (:mod:`.game`) and lunarsim as an EMA Workbench model (:mod:`.ema`)."""
