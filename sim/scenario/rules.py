"""Every nation following one rule: the strategy sets that the robustness studies treat as an
uncertainty (which rule each nation follows is as uncertain as any parameter, and no range can
hold it; :mod:`sim.explore.strategy_sets`, :mod:`sim.explore.robust`).

* ``forward_looking``: weighs plans over a shadow of the future (the US's and China's rule in
  the baseline, for everyone);
* ``tit_for_tat``: reciprocity without looking ahead (Axelrod 1984);
* ``myopic``: the forward-looking rule with no weight on the future (δ = 0): a best response
  to this step, against what it believes of each rival;
* ``unlinked``: every nation keeps its own rule, but none links the lunar and rare-earth
  arenas (China does at the defaults: docs/ODD.md, section 7.6);

each nation keeping its tremble and (but in ``unlinked``) whether it links the arenas.

In a design, the parameter ``rules.strategy_set`` chooses one by number: 0 leaves every nation its
own rule, k the k-th set of :data:`SETS` in order (1 ``forward_looking`` ... 4 ``unlinked``).
"""

from __future__ import annotations

from typing import Any

from sim.base.errors import UserError

PARAMETER = "rules.strategy_set"
# name -> (in words, the rule everyone follows; None: each its own, none linking the arenas)
SETS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "forward_looking": ("all forward-looking", {"name": "forward_looking"}),
    "tit_for_tat": ("all tit for tat", {"name": "tit_for_tat"}),
    "myopic": ("all myopic", {"name": "forward_looking", "discount_per_year": 0.0}),
    "unlinked": ("none linking the arenas", None),
}
CODES = ("own", *SETS)  # what each value of the design parameter stands for


def follow(raw: dict[str, Any], name: str) -> None:
    """Make every nation of the raw scenario table follow strategy set ``name`` (in place)."""
    _, rule = SETS[name]
    for nation in raw.get("nations", []):
        old = nation.get("strategy")
        old = dict(old) if isinstance(old, dict) else {} if old is None else {"name": old}
        if rule is None:
            if old:
                nation["strategy"] = old | {"linked": False}
            continue
        kept = {k: old[k] for k in ("tremble", "linked") if k in old}
        nation["strategy"] = dict(rule) | kept


def apply_code(raw: dict[str, Any], value: Any, where: str) -> None:
    """The design parameter ``strategy_set`` at ``value`` (0: every nation its own rule)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) \
            or not 0 <= value < len(CODES):
        raise UserError(f"{where}: expected a whole number from 0 to {len(CODES) - 1} "
                        f"({', '.join(f'{k} {c}' for k, c in enumerate(CODES))}), got {value!r}")
    if int(value):
        follow(raw, CODES[int(value)])
