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

The condition language
----------------------
A condition is typed on one command line. It is read by the small tokenizer and
recursive-descent parser below and evaluated by walking the tree it builds; it never reaches
Python's ``eval``/``exec`` or pandas ``eval``/``query``. A hand-written parser, rather than
``ast.parse`` with a whitelist, because its grammar is exactly the one documented here (no
Python construct slips through a missed node type), and because every error can name the word
and the column where it is, in the words of this language rather than Python's.

Grammar (lowest precedence first; keywords are lower case)::

    condition  := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum [(">" | "<" | ">=" | "<=" | "==" | "!=") sum]
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | atom
    atom       := NUMBER | outcome | extreme | NAME | "(" condition ")"
    outcome    := OUTCOME "[" SCENARIO "]"                  a total: a runs-table column
                | OUTCOME "[" NATION "]" "[" SCENARIO "]"   one nation's: a nations-table column
    extreme    := ("best" | "worst" | "highest" | "lowest") "(" OUTCOME ["[" NATION "]"] ")"

Each part is checked to be what its place needs: arithmetic and ``>``, ``<``, ... take numbers,
``and``/``or``/``not`` take conditions, the whole is a condition; parentheses group either. An
``extreme`` is compared only with ``==`` or ``!=`` to a scenario NAME (on either side).

Names are bare words (``multilateral``, ``China``) or quoted with ``"`` or ``'`` when they hold
spaces or other characters (``"United States"``). ``welfare`` is short for the nations table's
``welfare_usd_bn``. Comparisons do not chain (write ``a < b and b < c``).

Examples::

    welfare_total_usd_bn[us_china_cooperation] > welfare_total_usd_bn[open_access]
    welfare["United States"][us_china_cooperation] > welfare["United States"][open_access]
        and welfare[China][us_china_cooperation] > welfare[China][open_access]
    best(welfare_total_usd_bn) == multilateral
    welfare_total_usd_bn[multilateral] - welfare_total_usd_bn[open_access] > 0.5
    not (incidents[open_access] <= incidents[multilateral]) or best(incidents) != open_access

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

The design points are those of the folder's design: a sample over ranges, as intended, or a
sweep (a grid), accepted too when it has :data:`MIN_POINTS` points or more (PRIM's edges then
fall between the grid's values). Parameters that are not numbers, or take one value, are left
out with a note.

Every mistake (a syntax error, an unknown outcome, scenario or nation, a folder without a
sampled design or with fewer than :data:`MIN_POINTS` design points, a condition that holds at
every design point or at none) raises :class:`sim.base.errors.UserError` with one line that names
it and, for the condition, the word and its column.
"""

from __future__ import annotations

import difflib
import math
import re
import textwrap
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.base.errors import UserError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.analysis.results import Results

MIN_POINTS = 10  # fewer design points than this describe no region
MAX_CONDITION_LENGTH = 2000
MAX_NESTING = 50  # parentheses and signs: deeper is refused, never a RecursionError
SIGNIFICANT = 0.05  # a restriction with a quasi-p-value below this is significant
TIE = {"rtol": 1e-9, "atol": 1e-12}  # values this close tie for best
IDENTITY = ("run", "scenario", "point", "seed", "replicate")
ALIASES = {"welfare": "welfare_usd_bn"}  # nation outcomes
EXTREMES = ("best", "worst", "highest", "lowest")
KEYWORDS = ("and", "or", "not")
COMPARISONS = (">", "<", ">=", "<=", "==", "!=")

# --- the condition: tokens ---------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"[^"\n]*"|'[^'\n]*')
  | (?P<op>>=|<=|==|!=|[-+*/()\[\]<>])
""", re.VERBOSE)
_HINTS = {"=": "write '==' to compare", "&": "write 'and'", "|": "write 'or'",
          "!": "write 'not' (or '!=')", "\u201c": "use straight quotes (\")",
          "\u201d": "use straight quotes (\")", "\u2018": "use straight quotes (')",
          "\u2019": "use straight quotes (')", "\u2265": "write '>='", "\u2264": "write '<='",
          "\u2260": "write '!='", "\u2212": "write '-' (ASCII minus)", ",": "best(...) takes one "
          "outcome; join conditions with 'and' or 'or'"}


@dataclass(frozen=True)
class Token:
    kind: str  # number, name, string, op, end
    text: str  # as typed (a string without its quotes)
    pos: int  # 0-based offset in the condition


def _where(token: Token) -> str:
    if token.kind == "end":
        return "at the end"
    shown = f'"{token.text}"' if token.kind == "string" else f"'{token.text}'"
    return f"at column {token.pos + 1} ({shown})"


def _error(token: Token, message: str) -> UserError:
    return UserError(f"condition {_where(token)}: {message}")


def _tokenize(text: str) -> Iterator[Token]:
    """Tokens one at a time, so that the parser reports the first mistake in reading order."""
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            char = text[pos]
            if char in "\"'":
                raise UserError(f"condition at column {pos + 1}: the quote {char} is never closed")
            hint = f"; {_HINTS[char]}" if char in _HINTS else ""
            raise UserError(f"condition at column {pos + 1}: unexpected character {char!r}{hint}")
        kind = m.lastgroup
        assert kind is not None
        if kind != "space":
            value = m.group()[1:-1] if kind == "string" else m.group()
            yield Token(kind, value, pos)
        pos = m.end()
    yield Token("end", "", len(text))


# --- the condition: a tree ---------------------------------------------------------------------
# Each node has a type: "bool" (a condition), "num" (a number), "scenario" (best(...) and the
# like: names a scenario) or "word" (a bare name: a scenario to compare best(...) with).


@dataclass(frozen=True)
class Num:
    value: float
    token: Token
    type: str = "num"


@dataclass(frozen=True)
class Ref:
    """An outcome of one scenario, in total (``nation`` None) or of one nation."""

    outcome: Token
    nation: Token | None
    scenario: Token
    type: str = "num"

    @property
    def token(self) -> Token:
        return self.outcome


@dataclass(frozen=True)
class Extreme:
    """best/worst/highest/lowest(OUTCOME[NATION]): which scenario, per replicate."""

    kind: str
    outcome: Token
    nation: Token | None
    token: Token
    type: str = "scenario"


@dataclass(frozen=True)
class Word:
    token: Token
    type: str = "word"


@dataclass(frozen=True)
class Arith:
    op: str
    left: Any
    right: Any
    token: Token
    type: str = "num"


@dataclass(frozen=True)
class Neg:
    operand: Any
    token: Token
    type: str = "num"


@dataclass(frozen=True)
class Compare:
    op: str
    left: Any
    right: Any
    token: Token
    type: str = "bool"


@dataclass(frozen=True)
class Is:
    """``extreme == scenario`` (``negate``: ``!=``)."""

    extreme: Extreme
    scenario: Token
    negate: bool
    token: Token
    type: str = "bool"


@dataclass(frozen=True)
class Logic:
    op: str  # and, or
    left: Any
    right: Any
    token: Token
    type: str = "bool"


@dataclass(frozen=True)
class Not:
    operand: Any
    token: Token
    type: str = "bool"


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its text and its tree. Names are checked against results when it is
    evaluated (:func:`holds`), since they depend on the folder."""

    text: str
    root: Any

    def __str__(self) -> str:
        return self.text


def parse(condition: str) -> Condition:
    """Parse a condition (grammar in the module's docstring); a syntax error is a UserError
    naming the word and its column."""
    if not isinstance(condition, str):
        raise UserError(f"condition: expected text, got {type(condition).__name__}")
    text = re.sub(r"\s", " ", condition)  # one line, whatever was pasted; columns unchanged
    if not text.strip():
        raise UserError("condition: empty; write e.g. "
                        "'welfare_total_usd_bn[multilateral] > welfare_total_usd_bn[open_access]'")
    if len(text) > MAX_CONDITION_LENGTH:
        raise UserError(f"condition: {len(text)} characters; at most {MAX_CONDITION_LENGTH}")
    return Condition(text.strip(), _Parser(text).parse())


class _Parser:
    def __init__(self, text: str) -> None:
        self.stream = _tokenize(text)
        self.tokens: list[Token] = []
        self.i = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> Token:
        while len(self.tokens) <= self.i + ahead and (
                not self.tokens or self.tokens[-1].kind != "end"):
            self.tokens.append(next(self.stream))
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.i += 1
        return token

    def at(self, kind: str, *texts: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == kind and (not texts or token.text in texts)

    def expect_op(self, text: str, what: str) -> Token:
        if not self.at("op", text):
            token = self.peek()
            raise _error(token, f"expected '{text}' {what}")
        return self.take()

    def parse(self) -> Any:
        node = self.disjunction()
        if not self.at("end"):
            token = self.peek()
            if token.kind == "op" and token.text == ")":
                raise _error(token, "this ')' closes no '('")
            if token.kind == "name" and token.text.lower() in KEYWORDS:
                raise _error(token, f"keywords are lower case: write '{token.text.lower()}'")
            raise _error(token, "unexpected here; join conditions with 'and' or 'or'")
        if node.type != "bool":
            raise _error(node.token, _not_a_condition(node))
        return node

    # conditions

    def disjunction(self) -> Any:
        left = self.conjunction()
        while self.at("name", "or"):
            token = self.take()
            right = self.conjunction()
            left = Logic("or", _boolean(left, token, "left"), _boolean(right, token, "right"), token)
        return left

    def conjunction(self) -> Any:
        left = self.negation()
        while self.at("name", "and"):
            token = self.take()
            right = self.negation()
            left = Logic("and", _boolean(left, token, "left"), _boolean(right, token, "right"),
                         token)
        return left

    def negation(self) -> Any:
        if self.at("name", "not"):
            token = self.take()
            with self.nested(token):
                operand = self.negation()
            return Not(_boolean(operand, token, "right"), token)
        return self.comparison()

    def comparison(self) -> Any:
        left = self.sum()
        if not self.at("op", *COMPARISONS):
            return left
        token = self.take()
        right = self.sum()
        if self.at("op", *COMPARISONS):
            raise _error(self.peek(), "comparisons do not chain; write 'a < b and b < c'")
        return _compare(token, left, right)

    # numbers

    def sum(self) -> Any:
        left = self.product()
        while self.at("op", "+", "-"):
            token = self.take()
            right = self.product()
            left = Arith(token.text, _number(left, token), _number(right, token), token)
        return left

    def product(self) -> Any:
        left = self.unary()
        while self.at("op", "*", "/"):
            token = self.take()
            right = self.unary()
            left = Arith(token.text, _number(left, token), _number(right, token), token)
        return left

    def unary(self) -> Any:
        if self.at("op", "-", "+"):
            token = self.take()
            with self.nested(token):
                operand = self.unary()
            operand = _number(operand, token)
            return Neg(operand, token) if token.text == "-" else operand
        return self.primary()

    def primary(self) -> Any:
        token = self.peek()
        if token.kind == "number":
            self.take()
            return Num(float(token.text), token)
        if token.kind == "op" and token.text == "(":
            self.take()
            with self.nested(token):
                inner = self.disjunction()
            self.expect_op(")", f"to close the '(' at column {token.pos + 1}")
            return inner
        if token.kind == "string":
            self.take()
            return Word(token)
        if token.kind == "name":
            if token.text in KEYWORDS:
                raise _error(token, "expected a number, an outcome such as "
                                    "welfare_total_usd_bn[SCENARIO], or '(' before this")
            if token.text in EXTREMES and self.at("op", "(", ahead=1):
                return self.extreme()
            if self.at("op", "(", ahead=1):
                raise _error(token, f"unknown function; the functions are {', '.join(EXTREMES)}")
            self.take()
            if self.at("op", "["):
                return self.reference(token)
            return Word(token)
        if token.kind == "end":
            raise _error(token, "the condition stops short; expected a number, an outcome or '('")
        raise _error(token, "expected a number, an outcome such as "
                            "welfare_total_usd_bn[SCENARIO], or '('")

    def subscript(self, what: str) -> Token:
        self.expect_op("[", f"before the {what}")
        token = self.peek()
        if token.kind not in ("name", "string", "number"):
            raise _error(token, f"expected the {what} inside '[ ]' (quote a name with spaces: "
                                '"United States")')
        self.take()
        self.expect_op("]", f"after the {what}")
        return token

    def reference(self, outcome: Token) -> Ref:
        first = self.subscript("scenario (or nation)")
        if not self.at("op", "["):
            return Ref(outcome, None, first)
        scenario = self.subscript("scenario")
        if self.at("op", "["):
            raise _error(self.peek(), "at most two subscripts: OUTCOME[SCENARIO] for a total, "
                                      "OUTCOME[NATION][SCENARIO] for one nation")
        return Ref(outcome, first, scenario)

    def extreme(self) -> Extreme:
        token = self.take()
        self.expect_op("(", f"after {token.text}")
        outcome = self.peek()
        if outcome.kind != "name" or outcome.text in KEYWORDS:
            raise _error(outcome, f"expected an outcome: {token.text}(OUTCOME) or "
                                  f"{token.text}(OUTCOME[NATION])")
        self.take()
        nation = self.subscript("nation") if self.at("op", "[") else None
        if self.at("op", "["):
            raise _error(self.peek(), f"{token.text}(...) takes the outcome without a scenario "
                                      "(it ranges over all of them)")
        self.expect_op(")", f"to close {token.text}(")
        return Extreme(token.text, outcome, nation, token)

    def nested(self, token: Token):
        parser = self

        class _Depth:
            def __enter__(self) -> None:
                parser.depth += 1
                if parser.depth > MAX_NESTING:
                    raise _error(token, f"nested more than {MAX_NESTING} deep")

            def __exit__(self, *_: object) -> None:
                parser.depth -= 1

        return _Depth()


def _describe(node: Any) -> str:
    if isinstance(node, Extreme):
        return f"{node.kind}(...) names a scenario"
    if isinstance(node, Word):
        return (f"'{node.token.text}' alone is neither a number nor a condition (an outcome "
                f"needs its scenario in brackets: {node.token.text}[SCENARIO]; a bare scenario "
                "name is compared only with best(...) and the like)")
    if node.type == "num":
        return "this is a number, not a condition"
    return "this is a condition, not a number"


def _not_a_condition(node: Any) -> str:
    if isinstance(node, Word | Extreme):
        return _describe(node) + ("; compare it: best(OUTCOME) == SCENARIO"
                                  if isinstance(node, Extreme) else "")
    return "the condition is a number, not a condition; compare it (>, <, >=, <=, ==, !=)"


def _boolean(node: Any, op: Token, side: str) -> Any:
    if node.type == "bool":
        return node
    if isinstance(node, Word | Extreme):
        raise _error(node.token, _describe(node))
    raise _error(op, f"'{op.text}' joins conditions, but its {side} side is a number; "
                     "compare it (e.g. '... > 0')")


def _number(node: Any, op: Token) -> Any:
    if node.type == "num":
        return node
    if isinstance(node, Word | Extreme):
        raise _error(node.token, _describe(node) + f", not a number for '{op.text}'")
    raise _error(op, f"'{op.text}' needs numbers, but one side is a condition (use 'and'/'or' "
                     "to join conditions)")


def _compare(op: Token, left: Any, right: Any) -> Any:
    extreme, other = ((left, right) if isinstance(left, Extreme) else
                      (right, left) if isinstance(right, Extreme) else (None, None))
    if extreme is not None:
        if op.text not in ("==", "!="):
            raise _error(op, f"{extreme.kind}(...) names a scenario: compare it with == or !=")
        if not isinstance(other, Word):
            raise _error(other.token, f"{extreme.kind}(...) {op.text} needs a scenario name on "
                                      "the other side")
        return Is(extreme, other.token, op.text == "!=", op)
    for node in (left, right):
        if isinstance(node, Word):
            raise _error(node.token, _describe(node))
        if node.type != "num":
            raise _error(op, f"'{op.text}' compares numbers, but one side is already a condition "
                             "(use 'and'/'or' to join conditions)")
    return Compare(op.text, left, right, op)


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


# --- discovery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discovery:
    """Where a condition holds: PRIM's boxes and a CART tree over the design points.

    ``boxes``: one row per box and analysed parameter: ``box`` (1, 2, ...), ``parameter``
    (dotted path), ``restricted``, the box's ``low``/``high``, the data's ``range_low``/
    ``range_high``, the restriction's quasi-p-value ``qp`` (NaN where unrestricted) and
    ``significant`` (qp < 0.05), and the box's ``coverage``, ``density``, ``mass``, ``points``
    (design points inside) and ``holding`` (of those, where the condition holds).
    ``trajectory``: every box on PRIM's peeling and pasting trajectory, ``chosen`` marking the
    reported ones. ``points``: :func:`holds`'s table (the data PRIM and CART saw).
    """

    condition: str
    points: pd.DataFrame
    parameters: dict[str, str]  # column of ``points`` -> dotted path, the ones analysed
    boxes: pd.DataFrame
    trajectory: pd.DataFrame
    cart: str
    cart_accuracy: float
    cart_cv_accuracy: float  # NaN when a class has too few points to cross-validate
    base_rate: float  # share of design points where the condition holds
    rule: str
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """A few lines for the terminal."""
        n = len(self.points)
        held = int(self.points["holds"].sum())
        lines = [self.condition, (f"holds at {held} of {n} design points "
                                  f"({self.base_rate:.0%}); {self.rule}")]
        if self.boxes.empty or not self.boxes["restricted"].any():
            lines.append("PRIM: no box (see the notes)")
        for box, rows in self.boxes.groupby("box", sort=True):
            first = rows.iloc[0]
            lines.append(f"box {box}: coverage {first['coverage']:.2f}, density "
                         f"{first['density']:.2f}, mass {first['mass']:.2f} "
                         f"({int(first['holding'])} of {int(first['points'])} points hold)")
            for row in rows[rows["restricted"]].itertuples():
                flag = "" if row.significant else ", not significant"
                lines.append(f"  {row.parameter}: {_range_words(row)} (sampled "
                             f"{row.range_low:.4g} to {row.range_high:.4g}; qp {row.qp:.2g}{flag})")
        cv = ("" if math.isnan(self.cart_cv_accuracy)
              else f", cross-validated {self.cart_cv_accuracy:.2f}")
        lines.append(f"CART: accuracy {self.cart_accuracy:.2f}{cv} (always guessing the commoner "
                     f"answer: {max(self.base_rate, 1 - self.base_rate):.2f})")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _range_words(row: Any) -> str:
    low_cut = row.low > row.range_low
    high_cut = row.high < row.range_high
    if low_cut and high_cut:
        return f"{row.low:.4g} to {row.high:.4g}"
    return f">= {row.low:.4g}" if low_cut else f"<= {row.high:.4g}"


def _design(results: Any) -> dict[str, str]:
    parameters = {c: p for c, p in dict(results.parameters).items() if c in results.runs.columns}
    if not parameters:
        raise UserError(f"{_folder(results)}: no sampled design (the experiment varies no "
                        "parameter); scenario discovery needs a [sample] of ranges")
    return parameters


def discover(results: Results, condition: str | Condition, *, threshold: float | None = None,
             min_coverage: float = 0.5, max_boxes: int = 1, peel_alpha: float = 0.05,
             paste_alpha: float = 0.05, mass_min: float = 0.05,
             tree_depth: int = 3) -> Discovery:
    """Where in the design does ``condition`` hold? PRIM's boxes and a CART tree over the
    design points of ``results`` (see the module's docstring for the rules)."""
    parameters = _design(results)
    parsed = condition if isinstance(condition, Condition) else parse(condition)
    points = holds(results, parsed)
    notes = []
    undefined = points["replicates"] == 0
    if undefined.any():
        notes.append(f"{int(undefined.sum())} design point(s) left out: the condition is "
                     "undefined on every replicate there (a NaN outcome or a failed run)")
        points = points[~undefined].reset_index(drop=True)
    if len(points) < MIN_POINTS:
        defined = " with a defined answer" if undefined.any() else ""
        raise UserError(f"{_folder(results)}: {len(points)} design point(s){defined}; scenario "
                        f"discovery needs at least {MIN_POINTS} (more [sample] points)")
    held = int(points["holds"].sum())
    if held in (0, len(points)):
        where = "every one" if held else "none"
        raise UserError(f"condition '{parsed.text}' holds at {where} of the {len(points)} design "
                        f"points of {_folder(results)}: nothing to discover (the region is "
                        f"{'all' if held else 'none'} of the sampled ranges)")
    return discover_points(points, points["holds"].to_numpy(dtype=bool), parameters=parameters,
                           condition=parsed.text, threshold=threshold, min_coverage=min_coverage,
                           max_boxes=max_boxes, peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                           mass_min=mass_min, tree_depth=tree_depth, notes=notes)


def discover_points(x: pd.DataFrame, y: Sequence[bool] | np.ndarray, *,
                    parameters: dict[str, str] | None = None, condition: str = "",
                    threshold: float | None = None, min_coverage: float = 0.5,
                    max_boxes: int = 1, peel_alpha: float = 0.05, paste_alpha: float = 0.05,
                    mass_min: float = 0.05, tree_depth: int = 3,
                    notes: Sequence[str] = ()) -> Discovery:
    """PRIM and CART on a table of design points ``x`` and whether the condition holds at each
    (``y``). ``parameters`` maps the columns of ``x`` to analyse to their dotted paths (default:
    every numeric column, named as it is). The lower-level entry point of :func:`discover`."""
    y = np.asarray(y, dtype=bool)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must be one flag per row of x ({len(x)}), got shape {y.shape}")
    _check_options(threshold, min_coverage, max_boxes, peel_alpha, paste_alpha, mass_min,
                   tree_depth)
    notes = list(notes)
    if parameters is None:
        parameters = {c: str(c) for c in x.columns if _numeric(x[c]) or
                      pd.api.types.is_bool_dtype(x[c])}
    used: dict[str, str] = {}
    for column, path in parameters.items():
        values = x[column]
        if not (_numeric(values) or pd.api.types.is_bool_dtype(values)):
            notes.append(f"{path} left out: its values are not numbers")
        elif values.nunique(dropna=True) < 2:
            notes.append(f"{path} left out: it takes one value")
        elif values.isna().any():
            notes.append(f"{path} left out: it has missing values")
        else:
            used[column] = path
    if not used:
        raise UserError("no design parameter takes two numeric values or more: nothing to "
                        "describe the region by")
    if len(x) < MIN_POINTS:
        raise UserError(f"{len(x)} design points; scenario discovery needs at least {MIN_POINTS}")
    if y.all() or not y.any():
        raise UserError(f"the condition holds at {'every one' if y.all() else 'none'} of the "
                        f"{len(y)} design points: nothing to discover")
    frame = pd.DataFrame({path: x[column].to_numpy(dtype=float)
                          for column, path in used.items()})
    boxes, trajectory, rule = _prim(frame, y, threshold, min_coverage, max_boxes, peel_alpha,
                                    paste_alpha, mass_min, notes)
    text, accuracy, cv = _cart(frame, y, tree_depth, notes)
    points = x.reset_index(drop=True)
    if "holds" not in points.columns:
        points = points.assign(holds=y)
    return Discovery(condition, points, used, boxes, trajectory, text, accuracy, cv,
                     float(y.mean()), rule, tuple(notes))


def _check_options(threshold, min_coverage, max_boxes, peel_alpha, paste_alpha, mass_min,
                   tree_depth) -> None:
    def share(name: str, value: Any, low_open: bool) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and \
            math.isfinite(value) and (0 < value <= 1 if low_open else 0 <= value <= 1)
        if not ok:
            raise UserError(f"{name}: {value!r} is not a share "
                            f"({'above 0' if low_open else 'from 0'} up to 1)")

    if threshold is not None:
        share("threshold", threshold, True)
    share("min_coverage", min_coverage, False)
    share("mass_min", mass_min, True)
    for name, value in (("peel_alpha", peel_alpha), ("paste_alpha", paste_alpha)):
        share(name, value, True)
        if value >= 0.5:
            raise UserError(f"{name}: {value!r}; PRIM peels less than half a box at a time")
    for name, value in (("max_boxes", max_boxes), ("tree_depth", tree_depth)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 20:
            raise UserError(f"{name}: {value!r} is not a whole number from 1 to 20")


def _import(module: str):
    """Import an optional dependency (lunarsim[explore]); the workbench warns at import that
    ipyparallel is missing, which does not matter here."""
    import importlib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError as err:
        raise UserError(f"scenario discovery needs {module.split('.')[0]}: "
                        "pip install 'lunarsim[explore]'") from err


def _choose(trajectory: pd.DataFrame, scale: float, threshold: float | None,
            min_coverage: float) -> int | None:
    """The box on a peeling trajectory to report (rule in the module's docstring)."""
    t = trajectory.assign(cov=trajectory["coverage"].to_numpy(dtype=float) / scale,
                          step=np.arange(len(trajectory)))
    if threshold is None:
        pick = t[t["cov"] >= min_coverage - 1e-12]
        order = ["density", "cov", "step"]
        ascending = [False, False, True]
    else:
        pick = t[t["density"] >= threshold - 1e-12]
        order = ["cov", "density", "res_dim", "step"]
        ascending = [False, False, True, True]
    if pick.empty:
        return None
    return int(pick.sort_values(order, ascending=ascending).iloc[0]["step"])


def _prim(frame: pd.DataFrame, y: np.ndarray, threshold: float | None, min_coverage: float,
          max_boxes: int, peel_alpha: float, paste_alpha: float, mass_min: float,
          notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    prim = _import("ema_workbench.analysis.prim")
    rule = ("box chosen: the densest on PRIM's trajectory with coverage >= "
            f"{min_coverage:g}" if threshold is None else
            f"box chosen: the highest coverage on PRIM's trajectory with density >= {threshold:g}")
    cases = int(y.sum())
    rows, steps = [], []
    init_low, init_high = frame.min(), frame.max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' FutureWarnings from inside the workbench
        # The workbench's threshold both counts the cases of interest (y >= it) and discards a
        # final box less dense than it: a tiny one counts y == 1 and keeps every trajectory, so
        # the choice is made here, by the stated rule.
        alg = prim.Prim(frame, y.astype(int), threshold=1e-9, peel_alpha=peel_alpha,
                        paste_alpha=paste_alpha, mass_min=mass_min)
        covered = np.zeros(len(y), dtype=bool)
        for number in range(1, max_boxes + 1):
            remaining = int((y & ~covered).sum())
            if remaining == 0:
                break
            box = alg.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory.reset_index(drop=True)
            i = _choose(trajectory, remaining / cases, threshold, min_coverage)
            steps.append(trajectory.assign(box=number, step=np.arange(len(trajectory)),
                                           chosen=np.arange(len(trajectory)) == i))
            if i is None:
                densest = float(trajectory["density"].max())
                if number == 1:
                    raise UserError(f"threshold: no PRIM box reaches density {threshold:g} (the "
                                    f"densest on the trajectory has {densest:.2f}); lower it")
                notes.append(f"no box {number}: none among the remaining points reaches density "
                             f"{threshold:g} (the densest has {densest:.2f})")
                break
            box.select(i)
            limits = box.box_lims[i]
            restricted = [p for p in frame.columns
                          if limits.at[0, p] > init_low[p] or limits.at[1, p] < init_high[p]]
            if not restricted:
                if number == 1:
                    notes.append("PRIM found no box: no peel of one range's edge raised the "
                                 "share of points where the condition holds (PRIM peels one edge "
                                 "at a time, so e.g. opposite corners escape it; see the CART "
                                 "tree)")
                break
            stats = trajectory.iloc[i]
            qp = {p: max([v for v in box.qp[i].get(p, []) if v >= 0], default=math.nan)
                  for p in restricted}
            for p in frame.columns:
                q = qp.get(p, math.nan)
                rows.append({"box": number, "parameter": p, "restricted": p in restricted,
                             "low": float(limits.at[0, p]), "high": float(limits.at[1, p]),
                             "range_low": float(init_low[p]), "range_high": float(init_high[p]),
                             "qp": q, "significant": bool(q < SIGNIFICANT),
                             "coverage": float(stats["coverage"]),
                             "density": float(stats["density"]), "mass": float(stats["mass"]),
                             "points": int(stats["n"]), "holding": int(stats["k"])})
            inside = np.ones(len(y), dtype=bool)
            for p in restricted:
                values = frame[p].to_numpy()
                inside &= (values >= limits.at[0, p]) & (values <= limits.at[1, p])
            covered |= inside
            weak = [p for p in restricted if not qp[p] < SIGNIFICANT]
            if weak:
                notes.append(f"box {number}: the restriction of {', '.join(weak)} is not "
                             f"significant (quasi-p >= {SIGNIFICANT:g}); it may be noise")
    columns = ["box", "parameter", "restricted", "low", "high", "range_low", "range_high", "qp",
               "significant", "coverage", "density", "mass", "points", "holding"]
    boxes = pd.DataFrame(rows, columns=columns)
    if not boxes.empty:  # restricted first, the most significant first
        boxes = (boxes.assign(_free=~boxes["restricted"], _qp=boxes["qp"].fillna(2.0))
                 .sort_values(["box", "_free", "_qp"], kind="stable")
                 .drop(columns=["_free", "_qp"]).reset_index(drop=True))
    keep = ["box", "step", "coverage", "density", "mass", "res_dim", "n", "k", "chosen"]
    trajectory = (pd.concat(steps, ignore_index=True)[keep] if steps else
                  pd.DataFrame(columns=keep))
    trajectory = trajectory.rename(columns={"res_dim": "restricted", "n": "points",
                                            "k": "holding"})
    return boxes, trajectory, rule


def _cart(frame: pd.DataFrame, y: np.ndarray, depth: int,
          notes: list[str]) -> tuple[str, float, float]:
    tree_module = _import("sklearn.tree")
    selection = _import("sklearn.model_selection")
    leaf = max(1, math.ceil(0.05 * len(y)))
    model = tree_module.DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf,
                                               random_state=0)
    model.fit(frame, y)
    names = list(frame.columns)
    classes = ["holds" if c else "fails" for c in model.classes_]
    text = tree_module.export_text(model, feature_names=names, class_names=classes,
                                   decimals=4, show_weights=True)
    accuracy = float(model.score(frame, y))
    smaller = int(min(y.sum(), (~y).sum()))
    cv = math.nan
    if smaller >= 2:
        folds = selection.StratifiedKFold(n_splits=min(5, smaller), shuffle=True, random_state=0)
        fresh = tree_module.DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf,
                                                   random_state=0)
        cv = float(selection.cross_val_score(fresh, frame, y, cv=folds).mean())
    else:
        notes.append("CART not cross-validated: the condition holds (or fails) at one point only")
    return text, accuracy, cv


# --- the figure --------------------------------------------------------------------------------

BOX_COLOURS = ["#0072B2", "#E69F00", "#CC79A7", "#009E73", "#56B4E9"]  # Okabe-Ito
HOLDS_COLOUR, FAILS_COLOUR = "#009E73", "#999999"
_UNIT_WORDS = [  # suffix of a field's name -> its unit in words (longest first)
    ("_usd_per_t_yr", "US dollars per tonne a year of capacity"),
    ("_usd_per_kg", "US dollars per kg"), ("_usd_per_t", "US dollars per tonne"),
    ("_usd_bn", "billion US dollars"), ("_t_per_yr", "tonnes a year"),
    ("_per_year", "per year"), ("_years", "years"), ("_t", "tonnes")]


def parameter_words(path: str) -> tuple[str, str]:
    """(what the parameter is, its unit in words): from ``sim/scenario/calibration.toml`` where it lists
    the parameter, else from the scenario schema's description and the field name's unit
    suffix; ("", "") where neither describes it. A number without a unit has unit "none"."""
    from pydantic import BaseModel

    from sim.scenario.calibration import find
    from sim.scenario.loader import split_path
    from sim.scenario.schema import Scenario

    listed = find(path)
    if listed is not None:
        unit = listed.unit.strip()
        return listed.label, "none" if unit in ("", "—", "-") else unit

    try:
        parts = split_path(path)
    except ValueError:
        return "", ""
    model: Any = Scenario
    description = ""
    skip = False
    for k, part in enumerate(parts):
        if skip:  # a list entry, by name or index
            skip = False
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return "", ""
        info = fields[part]
        annotation = info.annotation
        description = info.description or ""
        origin = getattr(annotation, "__origin__", None)
        if origin is list:
            annotation = annotation.__args__[0]
            skip = True
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif k < len(parts) - 1 and not skip:
            return "", ""
    if model is not Scenario and parts[-1] not in getattr(model, "model_fields", {}):
        return "", ""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "", ""  # a table, not a number
    written = re.search(r", ((?:USD |t |)(?:bn|t|kg|USD)?/\w+|years|degrees)$", description)
    if written:  # the schema's own words for a rate ("USD bn/yr") beat the name's suffix
        return description[: written.start()], written.group(1)
    name = parts[-1]
    unit = next((words for suffix, words in _UNIT_WORDS if name.endswith(suffix)), "none")
    return description, unit


def discovery_figure(discovery: Discovery) -> Figure:
    """Each box's restricted parameters as bars on the sampled range (0 to 1: lowest to highest
    value sampled), labelled with their values; with two restrictions or more, the design
    points of the two most significant, coloured by whether the condition holds, and the box."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from sim.base.style import STYLE

    rows = discovery.boxes[discovery.boxes["restricted"]] if not discovery.boxes.empty else \
        discovery.boxes
    first = rows[rows["box"] == 1]
    scatter = len(first) >= 2
    n = max(len(rows), 1)
    height = max(2.8, 0.95 * n + 1.9, 4.6 if scatter else 0.0)
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(12.0 if scatter else 8.0, height), constrained_layout=True)
        if scatter:
            ax, sc = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1.0]})
        else:
            ax, sc = fig.subplots(1, 1), None
        _bars(ax, rows)
        if sc is not None:
            _scatter(sc, discovery, first, Rectangle)
        fig.suptitle(_title(discovery, int(fig.get_figwidth() * 12)), fontsize=10)
    return fig


def _title(discovery: Discovery, width: int) -> str:
    condition = textwrap.shorten(discovery.condition, 300, placeholder=" ...") \
        if discovery.condition else "the condition"
    n = len(discovery.points)
    lines = textwrap.wrap(f"Where \u201c{condition}\u201d holds (at "
                          f"{int(discovery.points['holds'].sum())} of {n} design points)", width)
    if discovery.boxes.empty or not discovery.boxes["restricted"].any():
        none = "PRIM found no box (the CART tree may still describe the region: see the text)"
        return "\n".join([*lines, none])
    for box, r in discovery.boxes.groupby("box", sort=True):
        s = r.iloc[0]
        lines.append(f"box {box}: coverage {s['coverage']:.2f}, density {s['density']:.2f} "
                     f"({int(s['holding'])} of the {int(s['points'])} points in it hold)")
    lines += textwrap.wrap("coverage: share of the points where it holds that are in the box; "
                           "density: share of the points in the box where it holds", width)
    return "\n".join(lines)


def _bars(ax, rows: pd.DataFrame) -> None:
    if rows.empty:
        ax.text(0.5, 0.5, "no range restricted", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    labels = []
    for k, row in enumerate(rows.itertuples()):
        y = -k
        span = row.range_high - row.range_low
        low = (row.low - row.range_low) / span
        high = (row.high - row.range_low) / span
        colour = BOX_COLOURS[(row.box - 1) % len(BOX_COLOURS)]
        ax.barh(y, 1.0, left=0.0, height=0.36, color="#DDDDDD", zorder=2)
        ax.barh(y, high - low, left=low, height=0.36, color=colour, zorder=3,
                label=f"box {row.box}" if k == 0 or row.box != rows.iloc[k - 1]["box"] else None)
        narrow = high - low < 0.15
        if row.low > row.range_low:  # label the ends the box restricts
            ax.text(low, y + 0.22, f"{row.low:.4g}", ha="right" if narrow else "left",
                    va="bottom", fontsize=8, color=colour, zorder=4)
        if row.high < row.range_high:
            ax.text(high, y + 0.22, f"{row.high:.4g}", ha="left" if narrow else "right",
                    va="bottom", fontsize=8, color=colour, zorder=4)
        ax.text(0.0, y - 0.22, f"{row.range_low:.4g}", ha="left", va="top", fontsize=7,
                color="#666666")
        ax.text(1.0, y - 0.22, f"{row.range_high:.4g}", ha="right", va="top", fontsize=7,
                color="#666666")
        significance = "" if row.significant else "\nnot significant"
        ax.text(1.03, y, f"quasi-p {row.qp:.2g}{significance}", ha="left", va="center", fontsize=8,
                color="#000000" if row.significant else "#999999", clip_on=False)
        description, unit = parameter_words(row.parameter)
        text = [row.parameter, *textwrap.wrap(description, 40)[:2], f"unit: {unit}"]
        labels.append("\n".join(text))
    ax.set_yticks([-k for k in range(len(rows))], labels, fontsize=7.5)
    ax.set_ylim(-len(rows) + 0.45, 0.6)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("share of the sampled range (0: lowest value sampled, 1: highest); "
                  "grey: sampled, coloured: the box")
    ax.grid(False, axis="y")
    if rows["box"].nunique() > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.18), ncol=rows["box"].nunique())


def _scatter(ax, discovery: Discovery, first: pd.DataFrame, rectangle) -> None:
    a, b = first.iloc[0], first.iloc[1]  # the two most significant (the table's order)
    column = {path: c for c, path in discovery.parameters.items()}
    x = discovery.points[column[a["parameter"]]].to_numpy(dtype=float)
    y = discovery.points[column[b["parameter"]]].to_numpy(dtype=float)
    held = discovery.points["holds"].to_numpy(dtype=bool)
    ax.scatter(x[~held], y[~held], marker="x", s=22, color=FAILS_COLOUR, linewidths=1.0,
               label=f"fails ({int((~held).sum())})", zorder=3)
    ax.scatter(x[held], y[held], marker="o", s=22, color=HOLDS_COLOUR, edgecolors="none",
               label=f"holds ({int(held.sum())})", zorder=3)
    ax.add_patch(rectangle((a["low"], b["low"]), a["high"] - a["low"], b["high"] - b["low"],
                           fill=False, edgecolor=BOX_COLOURS[0], linewidth=2.0, zorder=4,
                           label="box 1"))
    ax.set_xlabel(_axis_label(a["parameter"]))
    ax.set_ylabel(_axis_label(b["parameter"]))
    more = len(first) - 2
    ax.set_title("design points" + (f" (box 1 also restricts {more} other parameter"
                                    f"{'s' if more > 1 else ''})" if more > 0 else ""))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _axis_label(path: str) -> str:
    unit = parameter_words(path)[1]
    return path if unit in ("", "none") else f"{path}, {unit}"
