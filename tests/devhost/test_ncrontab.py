"""devhost's NCRONTAB reading: six fields, seconds first, UTC, every field matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devhost.ncrontab import CronSchedule, ScheduleError


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def occurrences(expression: str, start: str, count: int) -> list[str]:
    schedule = CronSchedule.parse(expression)
    moment, found = at(start), []
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment.strftime("%Y-%m-%d %a %H:%M:%S"))
    return found


@pytest.mark.parametrize(("expression", "start", "expected"), [
    ("*/15 * * * * *", "2026-03-01T10:00:07", ["2026-03-01 Sun 10:00:15", "2026-03-01 Sun 10:00:30",
                                                "2026-03-01 Sun 10:00:45", "2026-03-01 Sun 10:01:00"]),
    ("0 */5 * * * *", "2026-03-01T10:58:00", ["2026-03-01 Sun 11:00:00", "2026-03-01 Sun 11:05:00"]),
    ("0 30 9 * * Mon-Fri", "2026-03-06T09:30:00", ["2026-03-09 Mon 09:30:00", "2026-03-10 Tue 09:30:00"]),
    ("0 0 12 * * sunday,SAT", "2026-03-02T00:00:00", ["2026-03-07 Sat 12:00:00", "2026-03-08 Sun 12:00:00"]),
    ("0 0 0 1 jan,Jul *", "2026-03-01T00:00:00", ["2026-07-01 Wed 00:00:00", "2027-01-01 Fri 00:00:00"]),
    ("5,10-12 0 0 * * *", "2026-03-01T00:00:10", ["2026-03-01 Sun 00:00:11", "2026-03-01 Sun 00:00:12",
                                                  "2026-03-02 Mon 00:00:05"]),
    ("0 0 8-18/4 * * *", "2026-03-01T12:00:00", ["2026-03-01 Sun 16:00:00", "2026-03-02 Mon 08:00:00"]),
    ("30/10 0 0 * * *", "2026-03-01T00:00:00", ["2026-03-01 Sun 00:00:30", "2026-03-01 Sun 00:00:40",
                                                "2026-03-01 Sun 00:00:50", "2026-03-02 Mon 00:00:30"]),
    ("0 0 0 31 * *", "2026-01-31T00:00:00", ["2026-03-31 Tue 00:00:00", "2026-05-31 Sun 00:00:00"]),
    ("0 0 0 13 * Fri", "2026-01-01T00:00:00", ["2026-02-13 Fri 00:00:00", "2026-03-13 Fri 00:00:00",
                                               "2026-11-13 Fri 00:00:00"]),
    ("0 0 0 29 Feb Mon", "2026-01-01T00:00:00", ["2044-02-29 Mon 00:00:00"]),
    ("59 59 23 31 12 *", "2026-12-31T23:59:59", ["2027-12-31 Fri 23:59:59"]),
])
def test_occurrences(expression: str, start: str, expected: list[str]) -> None:
    assert occurrences(expression, start, len(expected)) == expected


def test_moments_are_read_in_utc_and_fractions_of_a_second_are_dropped() -> None:
    schedule = CronSchedule.parse("0 0 * * * *")
    lisbon_summer = datetime(2026, 7, 1, 10, 59, 59, 999_999, tzinfo=UTC).astimezone()

    assert schedule.next_after(lisbon_summer) == datetime(2026, 7, 1, 11, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("expression", "complaint"), [
    ("0 */5 * * *", "has 5 fields, not six"),
    ("0 0 */5 * * * *", "has 7 fields, not six"),
    ("60 * * * * *", "out of range for the second"),
    ("* * 24 * * *", "out of range for the hour"),
    ("* * * 0 * *", "out of range for the day of the month"),
    ("* * * * 13 *", "out of range for the month"),
    ("* * * * * 7", "out of range for the day of the week"),
    ("* * * * Foo *", "'Foo' is not a month"),
    ("* * * * * Mo", "'Mo' is not a day of the week"),
    ("*/0 * * * * *", "no valid step"),
    ("*/x * * * * *", "no valid step"),
    ("10-5 * * * * *", "runs backwards"),
    ("1,,2 * * * * *", "'' is not a second"),
    ("0 0 0 30 Feb *", "no occurrence"),
])
def test_unreadable_schedules_say_why(expression: str, complaint: str) -> None:
    with pytest.raises(ScheduleError, match=complaint):
        CronSchedule.parse(expression).next_after(at("2026-01-01T00:00:00"))


@given(
    second=st.integers(0, 59), minute=st.integers(0, 59), hour=st.integers(0, 23),
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
)
def test_a_daily_schedule_fires_once_within_a_day_at_its_time(second: int, minute: int, hour: int,
                                                               start: datetime) -> None:
    found = CronSchedule.parse(f"{second} {minute} {hour} * * *").next_after(start)

    assert start < found <= start + timedelta(days=1)
    assert (found.hour, found.minute, found.second, found.microsecond) == (hour, minute, second, 0)
