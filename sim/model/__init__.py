"""Layer 5, model: a validated scenario built into its parts (:mod:`.build`), stepped by
:class:`~sim.model.model.LunarModel` (:mod:`.model`) with its agents (:mod:`.agents`), and what
is measured (:mod:`.metrics`).

>>> from sim.model import LunarModel
"""

from sim.model.model import LunarModel

__all__ = ["LunarModel"]
