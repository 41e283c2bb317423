"""Scenario discovery: in which region of the sampled parameter space does a conclusion hold?

``lunarsim explore discover EXPERIMENT --where "CONDITION"`` evaluates a condition on every
design point of a sampled experiment (Latin hypercube or Sobol over ranges), then describes
where it holds in two ways:

- **PRIM** (the Patient Rule Induction Method, Friedman & Fisher 1999, as the EMA Workbench
  implements it; Bryant & Lempert 2010 for its use in scenario discovery) peels the parameter
  space down to a box of ranges where the condition mostly holds. A box has a *coverage* (the
  share of the design points where the condition holds that lie inside the box), a *density*
  (the share of the points inside the box where it holds) and a *mass* (the share of all points
  inside the box). A box's edges are PRIM's, between the last design point it peeled off and the
  first it kept. Each restriction has a quasi-p-value (Bryant & Lempert 2010: the binomial
  probability that the box with that restriction lifted would show the box's density by
  chance; for a range cut at both ends, the larger of the two); a restriction is *significant*
  when its quasi-p-value is below 0.05. PRIM stops peeling at ``mass_min`` (0.05 of the
  points), so a region smaller than that needs a smaller ``mass_min``; and as it peels one edge
  at a time, a region no single peel improves on (opposite corners) escapes it.
- **CART** (a scikit-learn decision tree, depth 3 at most, leaves of 5 % of the points at
  least) as a second view: its rules as text with the dotted paths, its accuracy on the design
  points it was fitted to, its accuracy in stratified 5-fold cross-validation, and the accuracy
  of always guessing the commoner answer, to judge the other two against.

Which box on PRIM's peeling trajectory is reported
    Without ``threshold``: the densest box whose coverage is at least ``min_coverage`` (0.5);
    of equally dense ones, the one with the higher coverage. With ``threshold``: the box with
    the highest coverage whose density is at least ``threshold``; none reaching it is an error
    that names the densest box there is. A further box (``max_boxes`` > 1) is sought among the
    design points outside the boxes before it, by the same rule with coverage counted among the
    cases not yet covered; the table reports every box's coverage as a share of all the cases.

The package: the condition language (:mod:`.conditions`), its evaluation on paired runs
(:mod:`.paired`), PRIM and CART over the design points (:mod:`.boxes`) and the figure
(:mod:`.figure`).

The design points are those of the folder's design: a sample over ranges, as intended, or a
sweep (a grid), accepted too when it has :data:`MIN_POINTS` points or more (PRIM's edges then
fall between the grid's values). Parameters that are not numbers, or take one value, are left
out with a note.

Every mistake (a syntax error, an unknown outcome, scenario or nation, a folder without a
sampled design or with fewer than :data:`MIN_POINTS` design points, a condition that holds at
every design point or at none) raises :class:`sim.base.errors.UserError` with one line that names
it and, for the condition, the word and its column.
"""

from sim.explore.discover.boxes import Discovery, discover, discover_points
from sim.explore.discover.conditions import Condition, parse
from sim.explore.discover.figure import discovery_figure, parameter_words
from sim.explore.discover.paired import holds

__all__ = ["Condition", "Discovery", "discover", "discover_points", "discovery_figure", "holds",
           "parameter_words", "parse"]
