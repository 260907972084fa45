"""What a record's values read as, and how they compare, by the rules of the package docstring.

Every reader gives NO for a value that does not read as its type; `compare_to`, `member_of` and
`compare_both` build the predicates of the comparisons, converting a literal side once.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

Evaluator = Callable[[Mapping[str, Any]], Any]
Predicate = Callable[[Mapping[str, Any]], bool]

NO = object()  # a value that does not read as the type asked for

_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def parse_iso(text: str) -> date | datetime | None:
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


def as_number(value: Any) -> Any:
    """`value` as a finite Decimal, or NO."""
    if isinstance(value, bool):
        return NO
    if isinstance(value, Decimal):
        return value if value.is_finite() else NO
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else NO
    if isinstance(value, str):
        text = value.strip()
        return Decimal(text) if _NUMBER_TEXT.fullmatch(text) else NO
    return NO


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().casefold()
        return True if text in _TRUE else False if text in _FALSE else NO
    return NO


def _text(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else NO


def as_datetime(value: Any) -> Any:
    """`value` as an aware datetime in UTC (a date is its midnight), or NO."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        parsed = parse_iso(value)
        return NO if parsed is None else as_datetime(parsed)
    return NO


def _date(value: Any) -> Any:
    """`value` as a date (a datetime's UTC date), or NO."""
    if isinstance(value, datetime | str):
        moment = as_datetime(value)
        return moment if moment is NO else moment.date()
    return value if isinstance(value, date) else NO


# What a value is, for comparing: subclasses before their bases (bool before int, datetime before date).
_GROUPS: dict[type, str] = {
    type(None): "null", bool: "bool", int: "number", float: "number", Decimal: "number", str: "text",
    datetime: "datetime", date: "date",
}
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "bool": _boolean, "number": as_number, "text": _text, "datetime": as_datetime, "date": _date,
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
TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}
MIRRORED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}


def _decide(op: str, left: Any, right: Any) -> bool:
    """`left op right` by the rules of the package docstring."""
    if left is None or right is None:
        return (left is right) if op == "eq" else (left is not right) if op == "ne" else False
    target = _TARGETS.get((_group(left), _group(right)))
    if target is not None:
        convert = _CONVERT[target]
        a, b = convert(left), convert(right)
        if a is not NO and b is not NO:
            return TESTS[op](a, b)
    return op == "ne"


def truth(value: Any) -> bool:
    return _boolean(value) is True


# --- comparisons on records -----------------------------------------------------------------


def compare_to(op: str, get: Evaluator, literal: Any) -> Predicate:
    """`get(record) op literal`, with the literal converted once for each type a value may have."""
    test, unequal = TESTS[op], op == "ne"
    literal_group = _group(literal)
    by_group: dict[str, tuple[Callable[[Any], Any] | None, Any]] = {}
    for group in _GROUP_NAMES:
        target = _TARGETS.get((group, literal_group))
        converted = _CONVERT[target](literal) if target is not None else NO
        by_group[group] = (None, unequal) if converted is NO else (_CONVERT[target], converted)
    by_group["null"] = (None, _decide(op, None, literal))
    by_type = {kind: by_group[group] for kind, group in _GROUPS.items()}

    def compare(record: Mapping[str, Any]) -> bool:
        value = get(record)
        convert, other = by_type.get(type(value)) or by_group[_group(value)]
        if convert is None:
            return other
        value = convert(value)
        return unequal if value is NO else test(value, other)

    return compare


def member_of(get: Evaluator, literals: Sequence[Any]) -> Predicate:
    """`get(record) in literals`: eq against each, with the literals converted once into sets."""
    has_null = any(literal is None for literal in literals)
    by_group: dict[str, tuple[tuple[Callable[[Any], Any], frozenset[Any]], ...]] = {}
    for group in _GROUP_NAMES:
        accepted: dict[str, set[Any]] = {}
        for literal in literals:
            target = _TARGETS.get((group, _group(literal)))
            if target is not None and (converted := _CONVERT[target](literal)) is not NO:
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


def compare_both(op: str, left: Evaluator, right: Evaluator) -> Predicate:
    return lambda record: _decide(op, left(record), right(record))
