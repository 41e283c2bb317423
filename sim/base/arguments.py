"""Checks of the arguments a caller gives, one set for the command line and the Python API: a
mistake raises :class:`~sim.base.errors.BadType` or :class:`~sim.base.errors.BadValue`, whose
one-line message starts with the argument's name as the caller wrote it (``steps`` in Python,
``--steps`` on the command line)."""

from __future__ import annotations

import math
import numbers
from typing import Any

from sim.base.errors import BadType, BadValue


def whole_number(value: Any, label: str, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int: an integer (not a bool, not a float, however whole), within
    ``low``..``high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise BadType(f"{label}: expected a whole number, got {_shown(value)}")
    number = int(value)
    if low is not None and number < low:
        raise BadValue(f"{label}: at least {low:,}, got {number:,}")
    if high is not None and number > high:
        raise BadValue(f"{label}: at most {high:,}, got {number:,}")
    return number


def finite_number(value: Any, label: str) -> float:
    """``value`` as a finite float (an int or float; not a bool, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise BadType(f"{label}: expected a number, got {_shown(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise BadValue(f"{label}: expected a finite number, got {number}")
    return number


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{text[:40]}... ({type(value).__name__})" if len(text) > 50 \
        else f"{text} ({type(value).__name__})"
