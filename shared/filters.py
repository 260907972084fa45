"""Source filters: OData v4 `$filter` expressions, parsed once and then evaluated on records.

`parse_filter` reads an expression into a `Filter`; `Filter.matches(record)` tells whether a
record read from a source passes it, and `fields` / `paths` name the properties it refers
to. A malformed expression raises FilterSyntaxError, which says what is wrong and where
(positions count characters from 1). `filter_fields` lists the names of any text, even a
malformed one.

Grammar. Keywords and function names are lowercase, as in OData; property names keep their case.

    a or b, a and b, not a     logic; `not` binds tightest: it applies to what directly
                               follows it, so `not (a eq 1)` negates a comparison
    eq ne gt ge lt le          comparisons, looser than arithmetic; they do not chain
    x in ('a', 'b')            true when x eq one of the listed literals
    add sub, mul div mod       arithmetic on numbers (mul, div, mod bind tighter)
    ( ... )                    grouping
    name, lookup/name          a property, or one reached through navigation
    'O''Brien'                 a string; two quotes stand for one
    42 -3 1000.5 2.5M 1e3      numbers; an M, m, d, D, f, F, L or l suffix is ignored
    true false null
    2024-01-01, 2024-01-01T00:00:00Z, 2024-01-01T08:00:00.1234567+02:00    dates, datetimes
    5d1c0e3a-0000-0000-0000-000000000001                                   GUIDs
    Microsoft.Dynamics.DataEntities.NoYes'Yes'                             F&O enum members
    contains, startswith, endswith (text, text); indexof(text, text); length, tolower,
    toupper, trim (text); substring(text, start[, length]); concat(text, text);
    year, month, day (date or datetime)

Evaluation mirrors what the SQL-backed services do, and never raises on record data:

- A missing property is null, and so is a navigation through a missing or null lookup.
  `x eq null` holds when x is null, `x ne null` when it is not. A null against a value is
  false for eq and true for ne; gt, ge, lt and le with a null side are false.
- Strings compare case-insensitively (casefolded), like SQL Server's collation; so do
  contains, startswith, endswith and indexof (whose position is in the casefolded text).
- A string against a number, a boolean, a date or a datetime is read as that type, since
  blob rows carry every value as a string: a decimal number (surrounding spaces allowed),
  true/false/1/0, an ISO 8601 date or datetime. Numbers compare as decimals, floats by
  their shortest repr. A string that does not read so, or values of unrelated types,
  compare unequal: eq and the ordering comparisons are false, ne is true.
- Datetimes without an offset are UTC; fractions of a second past the microsecond are
  dropped. A date against a datetime compares the datetime's
  UTC date, and year, month and day read datetimes in UTC.
- GUIDs and enum members compare as strings (F&O returns an enum value as its member name).
- String functions give null for a non-string argument (contains, startswith and endswith
  give false); substring counts from 0 and treats a negative start as 0. Arithmetic on a
  non-number or a division by zero gives null; div is exact decimal division.
- A property used as a condition holds when its value is true, "true" or "1".
- Logic is two-valued: `not` negates whatever its operand gave, null comparisons included.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from shared.errors import InvalidInput

_Evaluator = Callable[[Mapping[str, Any]], Any]
_Predicate = Callable[[Mapping[str, Any]], bool]

KEYWORDS = frozenset({
    "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "has", "in", "true", "false", "null",
    "add", "sub", "mul", "div", "mod",
})
_MAX_DEPTH = 100


class FilterSyntaxError(InvalidInput):
    """A `$filter` that cannot be read; the message says what is wrong and at which position."""

    def __init__(self, message: str, *, field: str | None = "source.filter") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class Filter:
    """A parsed `$filter`: `matches` evaluates it on one record without parsing again."""

    expression: str
    fields: frozenset[str]
    paths: frozenset[str]
    _predicate: _Predicate = field(repr=False, compare=False)

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether `record` (a plain dict as read from the source) passes the filter."""
        return self._predicate(record)


@lru_cache(maxsize=256)
def parse_filter(expression: str) -> Filter:
    """Read `expression` once; FilterSyntaxError says what is wrong with a malformed one."""
    parser = _Parser(expression)
    predicate = parser.parse().evaluate
    paths = frozenset(parser.paths)
    return Filter(expression, frozenset(path.split("/", 1)[0] for path in paths), paths, predicate)


# --- names only -----------------------------------------------------------------------------

_STRING = re.compile(r"(?:[A-Za-z_][\w.]*)?'(?:[^']|'')*'")
_NAME = re.compile(r"(?<![\w.])([A-Za-z_][\w]*(?:/[A-Za-z_]\w*)*)(\s*\()?")
_TEMPORAL = re.compile(r"\b\d[\d:.\-TZ+]*\b")


def filter_fields(expression: str) -> set[str]:
    """The first segment of every property path in `expression` (`primarycontactid/fullname` -> `primarycontactid`).

    A well-formed filter gives the fields of `parse_filter`; any other text is only tokenized, so
    that the checks before a run can still name what it refers to.
    """
    try:
        return set(parse_filter(expression).fields)
    except FilterSyntaxError:
        return _names(expression)


def _names(expression: str) -> set[str]:
    text = _TEMPORAL.sub(" ", _STRING.sub(" ", expression))
    names = set()
    for match in _NAME.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.casefold() in KEYWORDS:
            continue
        names.add(name.split("/", 1)[0])
    return names


# --- values ---------------------------------------------------------------------------------

_NO = object()  # a value that does not read as the type asked for
_VARIABLE = object()  # a node whose value depends on the record

_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def _parse_iso(text: str) -> date | datetime | None:
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        zone = UTC
        if offset is not None and offset not in ("Z", "z"):
            digits = offset[1:].replace(":", "")
            shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            zone = timezone(-shift if offset[0] == "-" else shift)
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, zone)
    except ValueError:
        return None


def _number(value: Any) -> Any:
    """`value` as a finite Decimal, or _NO."""
    if isinstance(value, bool):
        return _NO
    if isinstance(value, Decimal):
        return value if value.is_finite() else _NO
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else _NO
    if isinstance(value, str):
        text = value.strip()
        return Decimal(text) if _NUMBER_TEXT.fullmatch(text) else _NO
    return _NO


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().casefold()
        return True if text in _TRUE else False if text in _FALSE else _NO
    return _NO


def _text(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else _NO


def _datetime(value: Any) -> Any:
    """`value` as an aware datetime in UTC (a date is its midnight), or _NO."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        parsed = _parse_iso(value)
        return _NO if parsed is None else _datetime(parsed)
    return _NO


def _date(value: Any) -> Any:
    """`value` as a date (a datetime's UTC date), or _NO."""
    if isinstance(value, datetime | str):
        moment = _datetime(value)
        return moment if moment is _NO else moment.date()
    return value if isinstance(value, date) else _NO


# What a value is, for comparing: subclasses before their bases (bool before int, datetime before date).
_GROUPS: dict[type, str] = {
    type(None): "null", bool: "bool", int: "number", float: "number", Decimal: "number", str: "text",
    datetime: "datetime", date: "date",
}
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "bool": _boolean, "number": _number, "text": _text, "datetime": _datetime, "date": _date,
}
_GROUP_NAMES = (*_CONVERT, "null", "other")


def _group(value: Any) -> str:
    group = _GROUPS.get(type(value))
    if group is None:
        group = next((g for kind, g in _GROUPS.items() if isinstance(value, kind)), "other")
    return group


def _common(first: str, second: str) -> str | None:
    """The type two groups of values compare as: a string takes the other side's type."""
    if first == second:
        return first if first in _CONVERT else None
    if first == "text" and second in _CONVERT:
        return second
    if second == "text" and first in _CONVERT:
        return first
    return "date" if {first, second} == {"date", "datetime"} else None


_TARGETS = {(a, b): t for a in _GROUP_NAMES for b in _GROUP_NAMES if (t := _common(a, b)) is not None}
_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}
_MIRRORED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}


def _decide(op: str, left: Any, right: Any) -> bool:
    """`left op right` by the rules of the module docstring."""
    if left is None or right is None:
        return (left is right) if op == "eq" else (left is not right) if op == "ne" else False
    target = _TARGETS.get((_group(left), _group(right)))
    if target is not None:
        convert = _CONVERT[target]
        a, b = convert(left), convert(right)
        if a is not _NO and b is not _NO:
            return _TESTS[op](a, b)
    return op == "ne"


def _truth(value: Any) -> bool:
    return _boolean(value) is True


# --- functions ------------------------------------------------------------------------------


def _contains(text: Any, part: Any) -> bool:
    return isinstance(text, str) and isinstance(part, str) and part.casefold() in text.casefold()


def _startswith(text: Any, prefix: Any) -> bool:
    return isinstance(text, str) and isinstance(prefix, str) and text.casefold().startswith(prefix.casefold())


def _endswith(text: Any, suffix: Any) -> bool:
    return isinstance(text, str) and isinstance(suffix, str) and text.casefold().endswith(suffix.casefold())


def _indexof(text: Any, part: Any) -> int | None:
    if isinstance(text, str) and isinstance(part, str):
        return text.casefold().find(part.casefold())
    return None


def _length(text: Any) -> int | None:
    return len(text) if isinstance(text, str) else None


def _tolower(text: Any) -> str | None:
    return text.lower() if isinstance(text, str) else None


def _toupper(text: Any) -> str | None:
    return text.upper() if isinstance(text, str) else None


def _trim(text: Any) -> str | None:
    return text.strip() if isinstance(text, str) else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    if number is _NO or number != number.to_integral_value() or number.adjusted() > 18:
        return None
    return int(number)


def _substring(text: Any, start: Any, length: Any = _NO) -> str | None:
    begin = _integer(start)
    if not isinstance(text, str) or begin is None:
        return None
    begin = max(begin, 0)
    if length is _NO:
        return text[begin:]
    count = _integer(length)
    return text[begin:begin + count] if count is not None and count >= 0 else None


def _concat(first: Any, second: Any) -> str | None:
    return first + second if isinstance(first, str) and isinstance(second, str) else None


def _year(value: Any) -> int | None:
    moment = _datetime(value)
    return None if moment is _NO else moment.year


def _month(value: Any) -> int | None:
    moment = _datetime(value)
    return None if moment is _NO else moment.month


def _day(value: Any) -> int | None:
    moment = _datetime(value)
    return None if moment is _NO else moment.day


class _Function(NamedTuple):
    implementation: Callable[..., Any]
    arities: tuple[int, ...]
    kind: str


_FUNCTIONS = {
    "contains": _Function(_contains, (2,), "condition"),
    "startswith": _Function(_startswith, (2,), "condition"),
    "endswith": _Function(_endswith, (2,), "condition"),
    "indexof": _Function(_indexof, (2,), "value"),
    "length": _Function(_length, (1,), "value"),
    "tolower": _Function(_tolower, (1,), "value"),
    "toupper": _Function(_toupper, (1,), "value"),
    "trim": _Function(_trim, (1,), "value"),
    "substring": _Function(_substring, (2, 3), "value"),
    "concat": _Function(_concat, (2,), "value"),
    "year": _Function(_year, (1,), "value"),
    "month": _Function(_month, (1,), "value"),
    "day": _Function(_day, (1,), "value"),
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv, "mod": operator.mod,
}
_COMPARISONS = frozenset({*_TESTS, "in"})
_POWER = {"or": 1, "and": 2, **dict.fromkeys(_COMPARISONS, 3), "add": 4, "sub": 4, "mul": 5, "div": 5, "mod": 5}
_NOT_POWER = 6


# --- evaluators -----------------------------------------------------------------------------


def _property(path: str) -> _Evaluator:
    first, *rest = path.split("/")
    if not rest:
        return lambda record: record.get(first)

    def navigate(record: Mapping[str, Any]) -> Any:
        value = record.get(first)
        for segment in rest:
            if not isinstance(value, Mapping):
                return None
            value = value.get(segment)
        return value

    return navigate


def _compare_to(op: str, get: _Evaluator, literal: Any) -> _Predicate:
    """`get(record) op literal`, with the literal converted once for each type a value may have."""
    test, unequal = _TESTS[op], op == "ne"
    literal_group = _group(literal)
    by_group: dict[str, tuple[Callable[[Any], Any] | None, Any]] = {}
    for group in _GROUP_NAMES:
        target = _TARGETS.get((group, literal_group))
        converted = _CONVERT[target](literal) if target is not None else _NO
        by_group[group] = (None, unequal) if converted is _NO else (_CONVERT[target], converted)
    by_group["null"] = (None, _decide(op, None, literal))
    by_type = {kind: by_group[group] for kind, group in _GROUPS.items()}

    def compare(record: Mapping[str, Any]) -> bool:
        value = get(record)
        convert, other = by_type.get(type(value)) or by_group[_group(value)]
        if convert is None:
            return other
        value = convert(value)
        return unequal if value is _NO else test(value, other)

    return compare


def _member_of(get: _Evaluator, literals: Sequence[Any]) -> _Predicate:
    """`get(record) in literals`: eq against each, with the literals converted once into sets."""
    has_null = any(literal is None for literal in literals)
    by_group: dict[str, tuple[tuple[Callable[[Any], Any], frozenset[Any]], ...]] = {}
    for group in _GROUP_NAMES:
        accepted: dict[str, set[Any]] = {}
        for literal in literals:
            target = _TARGETS.get((group, _group(literal)))
            if target is not None and (converted := _CONVERT[target](literal)) is not _NO:
                accepted.setdefault(target, set()).add(converted)
        by_group[group] = tuple((_CONVERT[target], frozenset(values)) for target, values in accepted.items())
    by_type = {kind: by_group[group] for kind, group in _GROUPS.items()}

    def member(record: Mapping[str, Any]) -> bool:
        value = get(record)
        if value is None:
            return has_null
        checks = by_type.get(type(value))
        for convert, values in by_group[_group(value)] if checks is None else checks:
            if convert(value) in values:
                return True
        return False

    return member


def _compare_both(op: str, left: _Evaluator, right: _Evaluator) -> _Predicate:
    return lambda record: _decide(op, left(record), right(record))


def _any(predicates: Sequence[_Predicate]) -> _Predicate:
    return lambda record: any(predicate(record) for predicate in predicates)


def _all(predicates: Sequence[_Predicate]) -> _Predicate:
    return lambda record: all(predicate(record) for predicate in predicates)


def _calculate(first: _Evaluator, rest: Sequence[tuple[Callable[[Any, Any], Any], _Evaluator]]) -> _Evaluator:
    def calculate(record: Mapping[str, Any]) -> Any:
        total = _number(first(record))
        for apply, operand in rest:
            value = _number(operand(record))
            if total is _NO or value is _NO:
                return None
            try:
                total = apply(total, value)
            except ArithmeticError:
                return None
        return None if total is _NO else total

    return calculate


def _call(implementation: Callable[..., Any], arguments: Sequence[_Evaluator]) -> _Evaluator:
    if len(arguments) == 1:
        (only,) = arguments
        return lambda record: implementation(only(record))
    if len(arguments) == 2:
        first, second = arguments
        return lambda record: implementation(first(record), second(record))
    return lambda record: implementation(*[argument(record) for argument in arguments])


# --- parsing --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<enum>[^\W\d]\w*(?:\.[^\W\d]\w*)+'[^']*+(?:''[^']*+)*+')
    | (?P<string>'[^']*+(?:''[^']*+)*+')
    | (?P<guid>[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?![\w-]))
    | (?P<datetime>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?
                   (?:Z|[+-][0-9]{2}:[0-9]{2})?(?![\w:.+-]))
    | (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}(?![\w:.-]))
    | (?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[mMdDfFlL]?(?![\w.]))
    | (?P<name>[^\W\d]\w*(?:/[^\W\d]\w*)*(?![\w/.]))
    | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_CONSTANTS = {"true": True, "false": False, "null": None}
_NOT = re.compile(r"not\W")
_QUOTE_START = re.compile(r"(?:[^\W\d]\w*(?:\.[^\W\d]\w*)+)?'")
_BAD = re.compile(r"[\w.:+\-/]+|\S")


class _Token(NamedTuple):
    kind: str  # "literal", "keyword", "name", "punct" or "end"
    text: str
    start: int
    value: Any = None

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _at(position: int) -> str:
    return f"at position {position + 1} of the filter"


def _excerpt(text: str) -> str:
    """`text` quoted for a message (a string literal already is), shortened past 40 characters."""
    short = text if len(text) <= 40 else text[:39] + "…"
    return short if text.startswith("'") else repr(short)


def _literal(kind: str, text: str, start: int) -> Any:
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "enum":
        return text[text.index("'") + 1:-1].replace("''", "'")
    if kind == "guid":
        return text
    if kind == "number":
        return Decimal(text.rstrip("mMdDfFlL"))
    value = _parse_iso(text)
    if value is None:
        raise FilterSyntaxError(f"{text!r} {_at(start)} is not a valid {kind}")
    return value


def _tokenize(expression: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            if _QUOTE_START.match(expression, position):
                raise FilterSyntaxError(f"unterminated string starting at position {position + 1} of the filter")
            bad = _BAD.match(expression, position)
            text = bad.group() if bad else expression[position]
            raise FilterSyntaxError(f"unexpected {_excerpt(text)} {_at(position)}")
        kind, text = match.lastgroup or "", match.group()
        if kind == "name" and text in _CONSTANTS:
            tokens.append(_Token("literal", text, position, _CONSTANTS[text]))
        elif kind == "name" and text in KEYWORDS:
            tokens.append(_Token("keyword", text, position))
        elif kind in ("name", "punct"):
            tokens.append(_Token(kind, text, position))
        elif kind != "space":
            tokens.append(_Token("literal", text, position, _literal(kind, text, position)))
        position = match.end()
    tokens.append(_Token("end", "", len(expression)))
    return tokens


class _Node(NamedTuple):
    evaluate: _Evaluator
    kind: str  # "condition" (gives a bool), "property" (may be a boolean field) or "value"
    start: int
    end: int
    constant: Any = _VARIABLE


def _node(evaluate: _Evaluator, kind: str, start: int, end: int, operands: Sequence[_Node]) -> _Node:
    """A node; one whose operands are all constant is evaluated now, once."""
    if all(operand.constant is not _VARIABLE for operand in operands):
        value = evaluate({})
        return _Node(lambda _record: value, kind, start, end, value)
    return _Node(evaluate, kind, start, end)


class _Parser:
    """Precedence climbing over the tokens; chains of one operator are read in a loop, not by recursion."""

    def __init__(self, expression: str) -> None:
        if not expression.strip():
            raise FilterSyntaxError("the filter is empty")
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.index = 0
        self.paths: list[str] = []

    def parse(self) -> _Node:
        node = self.condition(self.binary(0, 0))
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def unexpected(self, token: _Token) -> FilterSyntaxError:
        if token.kind == "end":
            return FilterSyntaxError("the filter ends in the middle of an expression")
        if token.text == "has":
            return FilterSyntaxError(f"the 'has' operator {_at(token.start)} is not supported")
        message = f"unexpected {_excerpt(token.text)} {_at(token.start)}"
        if token.kind == "name" and token.text.lower() in KEYWORDS:
            message += f" (operators and keywords are lowercase: {token.text.lower()!r})"
        return FilterSyntaxError(message)

    def close(self, opening: _Token) -> _Token:
        token = self.advance()
        if token.text == ")" and token.kind == "punct":
            return token
        if token.kind == "end":
            raise FilterSyntaxError(f"the '(' {_at(opening.start)} is never closed")
        raise self.unexpected(token)

    def condition(self, node: _Node) -> _Node:
        if node.kind == "condition":
            return node
        if node.kind == "property":
            get = node.evaluate
            return _Node(lambda record: _truth(get(record)), "condition", node.start, node.end)
        text = self.expression[node.start:node.end]
        raise FilterSyntaxError(f"{_excerpt(text)} {_at(node.start)} is not a condition")

    def binary(self, power: int, depth: int) -> _Node:
        left = self.operand(depth)
        while True:
            token = self.peek()
            strength = _POWER.get(token.text, 0) if token.kind == "keyword" else 0
            if strength <= power:
                return left
            if token.text in ("or", "and"):
                left = self.logic(left, token.text, strength, depth)
            elif token.text in _ARITHMETIC:
                left = self.arithmetic(left, strength, depth)
            else:
                left = self.comparison(left, strength, depth)
                following = self.peek()
                if following.kind == "keyword" and following.text in _COMPARISONS:
                    raise self.unexpected(following)

    def logic(self, left: _Node, word: str, strength: int, depth: int) -> _Node:
        operands = [self.condition(left)]
        while self.peek().kind == "keyword" and self.peek().text == word:
            self.advance()
            operands.append(self.condition(self.binary(strength, depth)))
        predicates = [operand.evaluate for operand in operands]
        evaluate = _any(predicates) if word == "or" else _all(predicates)
        return _node(evaluate, "condition", left.start, operands[-1].end, operands)

    def arithmetic(self, left: _Node, strength: int, depth: int) -> _Node:
        operands, rest = [left], []
        while self.peek().kind == "keyword" and _POWER.get(self.peek().text) == strength:
            apply = _ARITHMETIC[self.advance().text]
            operands.append(self.binary(strength, depth))
            rest.append((apply, operands[-1].evaluate))
        return _node(_calculate(left.evaluate, rest), "value", left.start, operands[-1].end, operands)

    def comparison(self, left: _Node, strength: int, depth: int) -> _Node:
        op = self.advance()
        if op.text == "in":
            literals, end = self.literal_list(op)
            return _node(_member_of(left.evaluate, literals), "condition", left.start, end, [left])
        right = self.binary(strength, depth)
        for one, other in ((left, right), (right, left)):
            value = other.constant
            if one.kind == "condition" and value is not _VARIABLE and value is not None and not isinstance(value, bool):
                message = f"{_excerpt(self.expression[one.start:one.end])} {_at(one.start)} is a condition"
                message += f" and cannot be compared with {_excerpt(self.expression[other.start:other.end])}"
                if _NOT.match(self.expression, one.start):
                    message += " ('not' applies to what directly follows it: write 'not (a eq b)')"
                raise FilterSyntaxError(message)
        if right.constant is not _VARIABLE:
            evaluate = _compare_to(op.text, left.evaluate, right.constant)
        elif left.constant is not _VARIABLE:
            evaluate = _compare_to(_MIRRORED[op.text], right.evaluate, left.constant)
        else:
            evaluate = _compare_both(op.text, left.evaluate, right.evaluate)
        return _node(evaluate, "condition", left.start, right.end, [left, right])

    def literal_list(self, op: _Token) -> tuple[list[Any], int]:
        opening = self.advance()
        if opening.kind == "end":
            raise self.unexpected(opening)
        if opening.text != "(" or opening.kind != "punct":
            raise FilterSyntaxError(f"'in' {_at(op.start)} takes a list of literals in parentheses, like ('a', 'b')")
        literals = []
        while True:
            token = self.advance()
            if token.kind != "literal":
                if token.kind == "end":
                    raise self.unexpected(token)
                raise FilterSyntaxError(f"unexpected {_excerpt(token.text)} {_at(token.start)}: 'in' takes literals")
            literals.append(token.value)
            if self.peek().text != "," or self.peek().kind != "punct":
                return literals, self.close(opening).end
            self.advance()

    def operand(self, depth: int) -> _Node:
        token = self.advance()
        if depth > _MAX_DEPTH:
            raise FilterSyntaxError(f"the filter nests more than {_MAX_DEPTH} levels deep {_at(token.start)}")
        if token.kind == "literal":
            value = token.value
            kind = "condition" if isinstance(value, bool) else "value"
            return _Node(lambda _record: value, kind, token.start, token.end, value)
        if token.kind == "keyword" and token.text == "not":
            inner = self.condition(self.binary(_NOT_POWER, depth + 1))
            test = inner.evaluate
            return _node(lambda record: not test(record), "condition", token.start, inner.end, [inner])
        if token.kind == "punct" and token.text == "(":
            inner = self.binary(0, depth + 1)
            return inner._replace(start=token.start, end=self.close(token).end)
        if token.kind == "name":
            if self.peek().text == "(" and self.peek().kind == "punct":
                return self.call(token, depth)
            self.paths.append(token.text)
            return _Node(_property(token.text), "property", token.start, token.end)
        raise self.unexpected(token)

    def call(self, name: _Token, depth: int) -> _Node:
        function = _FUNCTIONS.get(name.text)
        if function is None:
            message = f"unknown function {_excerpt(name.text)} {_at(name.start)}"
            if name.text.lower() in _FUNCTIONS:
                message += f" (function names are lowercase: {name.text.lower()!r})"
            raise FilterSyntaxError(message)
        opening = self.advance()
        arguments: list[_Node] = []
        if self.peek().text != ")" or self.peek().kind != "punct":
            arguments.append(self.binary(0, depth + 1))
            while self.peek().text == "," and self.peek().kind == "punct":
                self.advance()
                arguments.append(self.binary(0, depth + 1))
        end = self.close(opening).end
        if len(arguments) not in function.arities:
            expected = " or ".join(str(count) for count in function.arities)
            plural = "s" if function.arities[-1] > 1 else ""
            message = f"{name.text}() {_at(name.start)} takes {expected} argument{plural}, not {len(arguments)}"
            raise FilterSyntaxError(message)
        evaluate = _call(function.implementation, [argument.evaluate for argument in arguments])
        return _node(evaluate, function.kind, name.start, end, arguments)
