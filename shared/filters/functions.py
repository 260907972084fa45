"""The OData functions a filter may call: what each takes, what it gives, and how it is computed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from shared.filters.values import NO, as_datetime, as_number


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
    number = as_number(value)
    if number is NO or number != number.to_integral_value() or number.adjusted() > 18:
        return None
    return int(number)


def _substring(text: Any, start: Any, length: Any = NO) -> str | None:
    begin = _integer(start)
    if not isinstance(text, str) or begin is None:
        return None
    begin = max(begin, 0)
    if length is NO:
        return text[begin:]
    count = _integer(length)
    return text[begin:begin + count] if count is not None and count >= 0 else None


def _concat(first: Any, second: Any) -> str | None:
    return first + second if isinstance(first, str) and isinstance(second, str) else None


def _year(value: Any) -> int | None:
    moment = as_datetime(value)
    return None if moment is NO else moment.year


def _month(value: Any) -> int | None:
    moment = as_datetime(value)
    return None if moment is NO else moment.month


def _day(value: Any) -> int | None:
    moment = as_datetime(value)
    return None if moment is NO else moment.day


class _Function(NamedTuple):
    implementation: Callable[..., Any]
    arities: tuple[int, ...]
    kind: str


FUNCTIONS = {
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
