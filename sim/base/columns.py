"""How every results table names and types its columns (told to users in ``results/README.md``;
``tests/test_tables.py`` checks every table lunarsim writes against it).

- A name is snake_case ASCII, ``[a-z][a-z0-9_]*``, so SQL engines, pandas and Polars take it
  unquoted.
- A quantity with a physical or money unit ends with the unit (:data:`SUFFIX`): ``_usd_bn``,
  ``_usd_bn_per_yr``, ``_t``, ``_t_per_yr``, ``_usd_per_kg``, ``_years``. Shares (0 to 1),
  indices and counts have no unit and no suffix.
- Counts are integers, flags booleans, names strings; every other number is a float (NaN where
  it is undefined, as a share of actions before anyone has played).
- A design parameter's column is its dotted path with each dot written ``__``, lower case,
  ``*`` written ``all`` and any other character outside ``[a-z0-9_]`` written ``_``
  (``economics.synergy`` is ``economics__synergy``, ``nations.*.budget_usd_bn`` is
  ``nations__all__budget_usd_bn``); its numbers are floats. The manifest lists the paths.
- Every table of an experiment starts with the run's identity, ``run, scenario, point, seed``,
  so each table can be read alone; ``run`` joins them.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
SUFFIX = {"USD bn": "_usd_bn", "USD bn/yr": "_usd_bn_per_yr", "t": "_t", "t/yr": "_t_per_yr",
          "USD/kg": "_usd_per_kg", "years": "_years"}
IDENTITY = ("run", "scenario", "point", "seed")


def column_name(name: str, unit: str) -> str:
    """``name`` with its unit's suffix (once)."""
    suffix = SUFFIX.get(unit, "")
    return name if name.endswith(suffix) else name + suffix


def typed(values: Any, unit: str) -> np.ndarray:
    """Values as the convention stores a quantity of this unit: counts as int64 (they are whole
    numbers held as floats while computed), flags as bool, labels as str, the rest float64."""
    if unit == "count":
        return np.rint(np.asarray(values, dtype=float)).astype(np.int64)
    if unit == "flag":
        return np.asarray(values, dtype=float) > 0
    if unit == "label":
        return np.asarray(values).astype(str).astype(object)
    return np.asarray(values, dtype=float)


def parameter_column(path: str) -> str:
    """The column of a design parameter given by its dotted path."""
    plain = path.lower().replace('"', "").replace("*", "all").replace(".", "__")
    return re.sub(r"[^a-z0-9_]+", "_", plain)


def parameter_value(value: Any) -> Any:
    """A design value as its column stores it: numbers as floats (so that a sweep over
    ``[1, 1.5]`` gives one column type in every part), flags and names as they are."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value
