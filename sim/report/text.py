"""How the report writes numbers and marks text: one place, so that every table and sentence
rounds alike."""

from __future__ import annotations

import re

import pandas as pd


def num(x: float, sign: bool = False) -> str:
    """Three significant figures, thousands separated; ``sign`` puts + before positives."""
    if pd.isna(x):
        return "—"
    plus = "+" if sign and x > 0 else ""
    if abs(x) < 1e-9:  # rounding noise of sums that cancel (transfers)
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{plus}{x:,.0f}"
    return f"{plus}{float(f'{x:.3g}'):g}"


def value_text(v: object) -> str:
    return f"{v:g}" if isinstance(v, int | float) else str(v)


def bold(escaped_html: str) -> str:
    """Markdown's **bold** as <strong> in HTML that is already escaped."""
    return re.sub(r"\*\*([^*<>]+)\*\*", r"<strong>\1</strong>", escaped_html)


def code(escaped_html: str) -> str:
    """Markdown's `code` spans as <code> in HTML that is already escaped."""
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", escaped_html)
