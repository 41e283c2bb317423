"""The condition language of scenario discovery (``lunarsim explore discover --where``).

A condition is typed on one command line. It is read by the small tokenizer and
recursive-descent parser of this module and evaluated by walking the tree it builds; it never
reaches Python's ``eval``/``exec`` or pandas ``eval``/``query``. A hand-written parser, rather
than ``ast.parse`` with a whitelist, because its grammar is exactly the one documented here (no
Python construct slips through a missed node type), and because every error can name the word
and the column where it is, in the words of this language rather than Python's. Nor a parsing
library: in Lark (1.3.1, LALR) the grammar below is 24 lines, but its errors are the parser's
sets of expected tokens (``unexpected Token('CMP', '>'); expected one of ['$END', 'ADD', 'AND',
'OR', 'RPAR']`` for a chained comparison), and turning them back into the messages below
("comparisons do not chain; write 'a < b and b < c'", "expected ')' to close the '(' at column
1") needs the parser's context again: about as much code as the 190 lines of tokenizer and
parser it would replace, for one more dependency.

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

Parsing only: the tree is evaluated on paired runs by :mod:`sim.explore.discover.paired`, where
the names are checked against the results folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sim.base.errors import BadType, UserError

MAX_CONDITION_LENGTH = 2000
MAX_NESTING = 50  # parentheses and signs: deeper is refused, never a RecursionError
# Arithmetic, comparisons, and/or/not: more is refused. The tree's depth, which bounds every
# walk over it (evaluation included), is at most the operations plus the nesting, however long a
# flat chain of terms the length limit would let through.
MAX_OPERATIONS = 200
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
        raise BadType(f"condition: expected text, got {type(condition).__name__}")
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
        self.operations = 0

    def peek(self, ahead: int = 0) -> Token:
        while len(self.tokens) <= self.i + ahead and (
                not self.tokens or self.tokens[-1].kind != "end"):
            self.tokens.append(next(self.stream))
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.i += 1
        if (token.kind == "op" and token.text in ("+", "-", "*", "/", *COMPARISONS)) or (
                token.kind == "name" and token.text in KEYWORDS):
            self.operations += 1
            if self.operations > MAX_OPERATIONS:
                raise _error(token, f"more than {MAX_OPERATIONS} operations (+ - * /, "
                                    "comparisons, and, or, not) in one condition")
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
