"""The conversions of the Format transform: to integer, number, text, date or date-time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from shared.mapping.errors import TransformError


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TransformError(f"{value!r} is not a number")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise TransformError(f"{str(value)[:100]!r} is not a number") from None


def to_integer(value: Any) -> int:
    number = _number(value)
    if number != number.to_integral_value():
        raise TransformError(f"{value!r} is not a whole number")
    return int(number)


def to_number(value: Any) -> float:
    return float(_number(value))


def to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def _moment(value: Any) -> datetime:
    try:
        text = str(value).strip().replace("Z", "+00:00")
        parsed = datetime.combine(date.fromisoformat(text), datetime.min.time()) if len(text) == 10 else (
            datetime.fromisoformat(text))
    except ValueError:
        raise TransformError(f"{str(value)[:100]!r} is not an ISO date or date-time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_date(value: Any) -> str:
    return _moment(value).strftime("%Y-%m-%d")


def to_datetime(value: Any) -> str:
    return _moment(value).strftime("%Y-%m-%dT%H:%M:%SZ")


CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "integer": to_integer, "number": to_number, "text": to_text, "date": to_date, "datetime": to_datetime,
}


def converter(to: str, pattern: str | None = None, decimals: int | None = None) -> Callable[[Any], Any]:
    """The conversion `to`, writing dates with `pattern` or numbers rounded to `decimals` when given."""
    convert = CONVERSIONS[to]
    if pattern is not None:
        convert = lambda value: _moment(value).strftime(pattern)  # noqa: E731 - one expression
    elif decimals is not None:
        quantum = Decimal(1).scaleb(-decimals)
        rounded = lambda value: _number(value).quantize(quantum, rounding=ROUND_HALF_EVEN)  # noqa: E731
        convert = (lambda value: float(rounded(value))) if to == "number" else (lambda value: str(rounded(value)))

    def format_value(value: Any) -> Any:
        if value is None or (value.__class__ is str and not value.strip()):
            return None
        return convert(value)

    return format_value
