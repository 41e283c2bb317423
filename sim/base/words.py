"""How sentences list things and give shares: one place for every generated text."""

from __future__ import annotations


def listed(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def percent(share: float) -> str:
    """A share of 0..1 as a whole percentage: ``0.375`` -> ``38 %``."""
    return f"{100 * share:.0f} %"


def capitalised(text: str) -> str:
    """The first letter upper-case, the rest as it is (``the world`` -> ``The world``)."""
    return text[:1].upper() + text[1:]
