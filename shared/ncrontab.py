"""NCRONTAB schedules, as timer triggers write them: six fields, in UTC.

    {second} {minute} {hour} {day} {month} {day-of-week}
    "0 */5 * * * *"      every five minutes
    "0 30 9 * * Mon-Fri" at 09:30 on weekdays

Each field takes `*`, a value, a range `a-b`, a step `*/n`, `a/n` or `a-b/n`, and lists of
those separated by commas. Months and days of week may be named (Jan, Mon); Sunday is 0 (or
7). As in NCrontab, a time matches when every field matches, day and day of week included.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from shared.errors import InvalidInput

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
DAYS = {name.lower(): (number + 1) % 7 for number, name in enumerate(calendar.day_abbr)}


class _Field(NamedTuple):
    name: str
    low: int
    high: int
    names: dict[str, int]


FIELDS = (_Field("second", 0, 59, {}), _Field("minute", 0, 59, {}), _Field("hour", 0, 23, {}),
          _Field("day", 1, 31, {}), _Field("month", 1, 12, MONTHS), _Field("day of week", 0, 7, DAYS))
SEARCH_YEARS = 8


class ScheduleError(InvalidInput, ValueError):
    """An NCRONTAB expression that cannot be read; a ValueError too, so that pydantic validators may raise it."""


def _value(text: str, field: _Field) -> int:
    number = field.names.get(text.lower()) if not text.isdigit() else int(text)
    if number is None or not field.low <= number <= field.high:
        raise ScheduleError(f"{text!r} is not a valid {field.name} ({field.low}-{field.high})")
    return number


def _values(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ScheduleError(f"{part!r} has an invalid step in the {field.name} field")
        if span == "*":
            first, last = field.low, field.high
        elif "-" in span:
            start, end = span.split("-", 1)
            first, last = _value(start, field), _value(end, field)
        else:
            first = _value(span, field)
            last = field.high if step else first
        if first > last:
            raise ScheduleError(f"{part!r} is an empty range in the {field.name} field")
        values.update(range(first, last + 1, step or 1))
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule; `next_after` gives its next occurrence."""

    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """Read a six-field expression; ScheduleError says what is wrong with a bad one."""
        parts = expression.split()
        if len(parts) != len(FIELDS):
            raise ScheduleError(f"{expression!r} must have six fields: second minute hour day month day-of-week")
        sets = [_values(text, field) for text, field in zip(parts, FIELDS, strict=True)]
        sets[5] = frozenset(day % 7 for day in sets[5])
        return cls(*sets)

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after `moment` (UTC)."""
        at = moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        limit = at.replace(year=at.year + SEARCH_YEARS)
        while at < limit:
            if at.month not in self.months:
                at = (at.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0)
            elif at.day not in self.days or (at.weekday() + 1) % 7 not in self.weekdays:
                at = (at + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif at.hour not in self.hours:
                at = (at + timedelta(hours=1)).replace(minute=0, second=0)
            elif at.minute not in self.minutes:
                at = (at + timedelta(minutes=1)).replace(second=0)
            elif at.second not in self.seconds:
                at += timedelta(seconds=1)
            else:
                return at
        raise ScheduleError("the schedule has no occurrence in the next years")
