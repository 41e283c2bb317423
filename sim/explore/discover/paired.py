"""A condition evaluated on paired runs: one answer per (design point, replicate), and per
design point whether it holds (:func:`holds`).

How a condition is evaluated
    On paired runs: replicate k ran with the same seed in every scenario at the same design
    point, so every outcome is read per (design point, replicate), one value per scenario, and
    the condition is evaluated there. A design point *holds* when the condition holds on more
    than half of its replicates (a tie, half and half, does not hold); ``share`` is that share.
    A comparison with a missing or undefined (NaN) value, or a run that failed, is *unknown*;
    ``and``/``or``/``not`` follow three-valued logic (false and unknown is false, true or
    unknown is true), and a replicate left unknown counts in neither the share's numerator nor
    its denominator. Arithmetic that gives no finite number (a division by zero) is unknown.

``best``/``worst``/``highest``/``lowest``
    ``highest(X)`` is the scenario with the highest value of X in that replicate, ``lowest(X)``
    the one with the lowest. ``best(X)`` is the most desirable: the highest where higher is
    better (welfare, propellant, cooperation) and the *lowest* where lower is better
    (incidents, depletion, leverage, inequality), as ``sim.analysis.outcomes`` declares for the
    comparison report; ``worst(X)`` is the other end. For an outcome whose direction lunarsim
    does not declare, ``best``/``worst`` are an error that suggests ``highest``/``lowest``. Each
    ranges over all the scenarios with runs in the folder, replicate by replicate (the same
    pairing as every other comparison, so "holds" means "best on most seeds"). A tie at the top
    (values equal to 1e-9 relative) means no scenario is best in that replicate:
    ``best(X) == s`` is false and ``best(X) != s`` true there.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.base.errors import BadType, UserError
from sim.explore.discover.conditions import (
    Arith,
    Compare,
    Condition,
    Is,
    Logic,
    Neg,
    Not,
    Num,
    Ref,
    Token,
    _error,
    parse,
)

if TYPE_CHECKING:
    from sim.analysis.results import Results

TIE = {"rtol": 1e-9, "atol": 1e-12}  # values this close tie for best
IDENTITY = ("run", "scenario", "point", "seed", "replicate")
ALIASES = {"welfare": "welfare_usd_bn"}  # nation outcomes

# --- the condition: evaluation on paired runs --------------------------------------------------


def _close(word: str, names: Iterable[str]) -> str:
    names = list(names)
    match = difflib.get_close_matches(word, names, n=1, cutoff=0.6) or \
        difflib.get_close_matches(word.lower(), [n.lower() for n in names], n=1, cutoff=0.6)
    if match:
        found = next((n for n in names if n.lower() == match[0].lower()), match[0])
        return f"did you mean '{found}'?"
    shown = ", ".join(names[:40]) + (", ..." if len(names) > 40 else "")
    return f"one of: {shown}"


def _direction(outcome: str, nation: bool) -> bool | None:
    """Whether higher is better, as the comparison report declares; None if it does not."""
    from sim.analysis.outcomes import OUTCOMES, REE_OUTCOMES

    known = {o.name: o.higher_is_better for o in OUTCOMES + REE_OUTCOMES}
    if nation:
        known |= {"welfare_usd_bn": True, "import_dependence": False, "controlled_years": False}
    if outcome.startswith("channel_") and outcome.endswith("_usd_bn"):
        return True  # a channel of welfare: a part of a sum that is better higher
    return known.get(outcome)


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


class _Paired:
    """Outcomes per (design point, replicate), one column per scenario."""

    def __init__(self, results: Any) -> None:
        runs = results.runs
        missing = [c for c in ("run", "scenario", "point", "replicate") if c not in runs.columns]
        if missing:
            raise UserError(f"{_folder(results)}: the runs table lacks {', '.join(missing)}")
        self.runs = runs
        self.nations = getattr(results, "nations", pd.DataFrame())
        self.parameters = dict(results.parameters)
        self.scenarios = list(results.scenarios)
        keys = runs[["point", "replicate"]].drop_duplicates().sort_values(["point", "replicate"])
        self.index = pd.MultiIndex.from_frame(keys)
        self.run_keys = runs.set_index("run")[["point", "replicate"]]
        self.cache: dict[tuple[str, str | None], pd.DataFrame] = {}

    # names

    def total_outcomes(self) -> list[str]:
        return [c for c in self.runs.columns
                if c not in IDENTITY and c not in self.parameters and _numeric(self.runs[c])]

    def nation_outcomes(self) -> list[str]:
        if self.nations.empty:
            return []
        return [c for c in self.nations.columns
                if c not in IDENTITY and _numeric(self.nations[c])]

    def nation_names(self) -> list[str]:
        return [] if self.nations.empty else list(dict.fromkeys(self.nations["nation"]))

    def outcome(self, token: Token, nation: Token | None) -> str:
        """The column an outcome token names, in the runs table (``nation`` None) or the
        nations table."""
        name = token.text
        totals, by_nation = self.total_outcomes(), self.nation_outcomes()
        if nation is None:
            if name in totals:
                return name
            if name in self.parameters:
                raise _error(token, f"{self.parameters[name]} is a design parameter, not an "
                                    "outcome")
            if name in ALIASES or name in by_nation:
                raise _error(token, f"'{name}' is a nation's outcome: write "
                                    f"{name}[NATION][SCENARIO] (e.g. {name}[\"United States\"]"
                                    "[open_access]; the total welfare is welfare_total_usd_bn)")
            if name in self.scenarios:
                raise _error(token, "this is a scenario; the order is OUTCOME[SCENARIO]")
            raise _error(token, f"unknown outcome; {_close(name, totals)}")
        column = ALIASES.get(name, name)
        if column in by_nation:
            return column
        if name in totals:
            raise _error(token, f"'{name}' is an outcome of the whole run, not of one nation: "
                                f"write {name}[SCENARIO]")
        raise _error(token, f"unknown nation outcome; {_close(name, ['welfare', *by_nation])}")

    def scenario(self, token: Token) -> str:
        if token.text in self.scenarios:
            return token.text
        hint = ""
        if token.text in self.nation_names():
            hint = f" ('{token.text}' is a nation: write OUTCOME[NATION][SCENARIO])"
        raise _error(token, f"unknown scenario{hint}; with runs in these results: "
                            f"{_close(token.text, self.scenarios)}")

    def nation(self, token: Token) -> str:
        names = self.nation_names()
        if token.text in names:
            return token.text
        if token.text in self.scenarios:
            raise _error(token, "this is a scenario, not a nation: a nation's outcome is "
                                "OUTCOME[NATION][SCENARIO]; best(OUTCOME) takes no scenario")
        if not names:
            raise _error(token, "these results hold no nations table")
        raise _error(token, f"unknown nation; {_close(token.text, names)}")

    # values

    def table(self, outcome: Token, nation: Token | None) -> pd.DataFrame:
        who = self.nation(nation) if nation is not None else None
        column = self.outcome(outcome, nation)
        key = (column, who)
        if key not in self.cache:
            if who is None:
                frame = self.runs[["point", "replicate", "scenario", column]]
            else:
                rows = self.nations.loc[self.nations["nation"] == who, ["run", "scenario", column]]
                frame = rows.join(self.run_keys, on="run")
            values = frame.groupby(["point", "replicate", "scenario"])[column].mean()
            self.cache[key] = (values.astype(float).unstack("scenario")
                               .reindex(index=self.index, columns=self.scenarios))
        return self.cache[key]

    def evaluate(self, node: Any) -> np.ndarray:
        """Numbers as floats; conditions as 1.0 (true), 0.0 (false) or NaN (unknown)."""
        if isinstance(node, Num):
            return np.full(len(self.index), node.value)
        if isinstance(node, Ref):
            table = self.table(node.outcome, node.nation)
            return table[self.scenario(node.scenario)].to_numpy(dtype=float)
        if isinstance(node, Neg):
            return -self.evaluate(node.operand)
        if isinstance(node, Arith):
            a, b = self.evaluate(node.left), self.evaluate(node.right)
            with np.errstate(all="ignore"):
                out = {"+": np.add, "-": np.subtract, "*": np.multiply,
                       "/": np.divide}[node.op](a, b)
            return np.where(np.isfinite(out), out, np.nan)
        if isinstance(node, Compare):
            a, b = self.evaluate(node.left), self.evaluate(node.right)
            with np.errstate(invalid="ignore"):
                out = {">": np.greater, "<": np.less, ">=": np.greater_equal,
                       "<=": np.less_equal, "==": np.equal, "!=": np.not_equal}[node.op](a, b)
            return np.where(np.isnan(a) | np.isnan(b), np.nan, out.astype(float))
        if isinstance(node, Is):
            return self.extreme_is(node)
        if isinstance(node, Not):
            return 1.0 - self.evaluate(node.operand)
        if isinstance(node, Logic):
            a, b = self.evaluate(node.left), self.evaluate(node.right)
            unknown = np.isnan(a) | np.isnan(b)
            if node.op == "and":
                return np.where((a == 0) | (b == 0), 0.0, np.where(unknown, np.nan, 1.0))
            return np.where((a == 1) | (b == 1), 1.0, np.where(unknown, np.nan, 0.0))
        raise TypeError(f"not a node of a condition: {node!r}")  # a bug, not the user's

    def extreme_is(self, node: Is) -> np.ndarray:
        ext = node.extreme
        table = self.table(ext.outcome, ext.nation)
        scenario = self.scenario(node.scenario)
        if len(self.scenarios) < 2:
            raise _error(ext.token, f"{ext.kind}(...) needs two scenarios or more; these "
                                    f"results have only {self.scenarios[0]}")
        higher = ext.kind in ("best", "highest")
        if ext.kind in ("best", "worst"):
            column = self.outcome(ext.outcome, ext.nation)
            better = _direction(column, ext.nation is not None)
            if better is None:
                raise _error(ext.outcome, f"lunarsim does not declare whether higher or lower "
                                          f"{column} is better; write "
                                          f"{'highest' if higher else 'lowest'}(...) instead")
            higher = higher == better
        values = table.to_numpy(dtype=float)
        known = ~np.isnan(values).any(axis=1)
        filled = np.where(np.isnan(values), 0.0, values)
        top = filled.max(axis=1) if higher else filled.min(axis=1)
        at_top = np.isclose(filled, top[:, None], **TIE)
        k = self.scenarios.index(scenario)
        alone = at_top[:, k] & (at_top.sum(axis=1) == 1)
        out = alone.astype(float)
        if node.negate:
            out = 1.0 - out
        return np.where(known, out, np.nan)


def _folder(results: Any) -> str:
    return str(getattr(results, "folder", "the results"))


def holds(results: Results, condition: str | Condition) -> pd.DataFrame:
    """Evaluate a condition at every design point of a results folder, on paired runs.

    One row per design point: ``point``, the design parameters (runs-table columns, e.g.
    ``economics__synergy``), ``replicates`` (how many had a defined answer), ``share`` (the
    share of those on which the condition holds, NaN if none) and ``holds`` (share > 0.5).
    ``results`` is a :class:`sim.analysis.Results` or anything with its ``runs``, ``nations``,
    ``parameters`` and ``scenarios``.
    """
    parsed = condition if isinstance(condition, Condition) else parse(condition)
    if not all(hasattr(results, a) for a in ("runs", "parameters", "scenarios")):
        raise BadType(f"results: expected the Results of a folder (sim.analysis.Results(folder)),"
                      f" got {type(results).__name__}")
    data = _Paired(results)
    value = data.evaluate(parsed.root)
    per = pd.DataFrame({"value": value}, index=data.index)
    grouped = per.groupby(level="point")["value"]
    summary = pd.DataFrame({"replicates": grouped.count().astype("int64"),
                            "share": grouped.mean()})
    columns = [c for c in data.parameters if c in data.runs.columns]
    design = data.runs.drop_duplicates("point").set_index("point")[columns]
    out = design.join(summary, how="right").reset_index()
    out["holds"] = (out["share"] > 0.5).to_numpy(dtype=bool)
    return out
