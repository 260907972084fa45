"""Timer schedules as the Functions host reads them: NCRONTAB with six fields, seconds first, in UTC.

    {second} {minute} {hour} {day} {month} {day-of-week}

A field is a comma-separated list of items; an item is `*`, a value, or a range `a-b`,
optionally followed by a step `/n` (`*/n`, `a-b/n`, and `a/n` meaning from a to the field's
end). Months (`Jan`, `January`) and days of the week (`Sun`, `Sunday`: Sunday is 0, Saturday
6) may be named, in any case. As in the NCrontab library the host uses, a moment matches when
every field matches (the day of the month and the day of the week both).
"""

from __future__ import annotations

import calendar
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

# A day-of-month and day-of-week pair such as "29 Feb on a Monday" recurs only every 28 years.
SEARCH_DAYS = 366 * 29
MIN_NAME_LENGTH = 3


class ScheduleError(ValueError):
    """A schedule that cannot be read; the message says which field and why."""


@dataclass(frozen=True)
class _Field:
    name: str
    first: int
    last: int
    names: tuple[str, ...] = ()
    """Names of the values from `first` on, in order."""

    def value(self, text: str) -> int:
        number = int(text) if text.isdigit() else self._named(text)
        if not self.first <= number <= self.last:
            raise ScheduleError(f"{text!r} is out of range for the {self.name} ({self.first}-{self.last})")
        return number

    def _named(self, text: str) -> int:
        lowered = text.lower()
        if len(lowered) >= MIN_NAME_LENGTH:
            for offset, name in enumerate(self.names):
                if name.lower().startswith(lowered):
                    return self.first + offset
        raise ScheduleError(f"{text!r} is not a {self.name}")

    def values(self, text: str) -> tuple[int, ...]:
        """Every value the field's text selects, in order."""
        if not text:
            raise ScheduleError(f"the {self.name} field is empty")
        chosen: set[int] = set()
        for item in text.split(","):
            chosen.update(self._item(item))
        return tuple(sorted(chosen))

    def _item(self, item: str) -> range:
        span, has_step, step_text = item.partition("/")
        step = 1
        if has_step:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"{item!r} has no valid step for the {self.name}")
            step = int(step_text)
        if span == "*":
            low, high = self.first, self.last
        elif "-" in span:
            low_text, _, high_text = span.partition("-")
            low, high = self.value(low_text), self.value(high_text)
            if low > high:
                raise ScheduleError(f"{item!r} runs backwards for the {self.name}")
        else:
            low = self.value(span)
            high = self.last if has_step else low
        return range(low, high + 1, step)


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY = _Field("day of the month", 1, 31)
_MONTH = _Field("month", 1, 12, tuple(calendar.month_name[1:]))
_WEEKDAY = _Field("day of the week", 0, 6, ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                             "Saturday"))
_FIELDS = (_SECOND, _MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed NCRONTAB schedule; `next_after` gives its occurrences."""

    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]
    """0 is Sunday."""

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """Read a six-field expression; ScheduleError says what is wrong with a bad one."""
        texts = expression.split()
        if len(texts) != len(_FIELDS):
            raise ScheduleError(
                f"{expression!r} has {len(texts)} fields, not six: second minute hour day month day-of-week"
            )
        return cls(*(field.values(text) for field, text in zip(_FIELDS, texts, strict=True)))

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after `moment` (an aware datetime), in UTC."""
        start = moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        earliest: time | None = start.time().replace(tzinfo=None)
        day = start.date()
        for _ in range(SEARCH_DAYS):
            if self._runs_on(day):
                at = self._first_time(earliest or time.min)
                if at is not None:
                    return datetime.combine(day, at, UTC)
            day += timedelta(days=1)
            earliest = None
        raise ScheduleError("the schedule has no occurrence in the coming years")

    def _runs_on(self, day: date) -> bool:
        return day.month in self.months and day.day in self.days and day.isoweekday() % 7 in self.weekdays

    def _first_time(self, earliest: time) -> time | None:
        """The first time of day the schedule selects at or after `earliest`, if any."""
        for hour in self.hours[bisect_left(self.hours, earliest.hour):]:
            if hour > earliest.hour:
                return time(hour, self.minutes[0], self.seconds[0])
            for minute in self.minutes[bisect_left(self.minutes, earliest.minute):]:
                if minute > earliest.minute:
                    return time(hour, minute, self.seconds[0])
                found = bisect_left(self.seconds, earliest.second)
                if found < len(self.seconds):
                    return time(hour, minute, self.seconds[found])
        return None
