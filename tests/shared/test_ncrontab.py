"""NCRONTAB schedules: six fields in UTC, as timer triggers write them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.ncrontab import CronSchedule, ScheduleError

START = datetime(2024, 1, 31, 23, 59, 58, 500_000, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(("expression", "expected"), [
    ("* * * * * *", datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC)),
    ("*/5 * * * * *", datetime(2024, 2, 1, 0, 0, 0, tzinfo=UTC)),
    ("0 */5 * * * *", datetime(2024, 2, 1, 0, 0, 0, tzinfo=UTC)),
    ("0 30 9 * * Mon-Fri", datetime(2024, 2, 1, 9, 30, tzinfo=UTC)),
    ("0 30 9 * * Sat,Sun", datetime(2024, 2, 3, 9, 30, tzinfo=UTC)),
    ("0 0 0 * * 7", datetime(2024, 2, 4, 0, 0, tzinfo=UTC)),
    ("0 0 12 29 Feb *", datetime(2024, 2, 29, 12, 0, tzinfo=UTC)),
    ("0 0 0 1 1 *", datetime(2025, 1, 1, 0, 0, tzinfo=UTC)),
    ("15,45 10-20/5 3 * * *", datetime(2024, 2, 1, 3, 10, 15, tzinfo=UTC)),
    ("0 0 0 13 * Fri", datetime(2024, 9, 13, 0, 0, tzinfo=UTC)),
])
def test_next_occurrence(expression: str, expected: datetime) -> None:
    assert CronSchedule.parse(expression).next_after(START) == expected


def test_next_occurrence_is_strictly_later() -> None:
    schedule = CronSchedule.parse("0 0 * * * *")
    at = datetime(2024, 5, 5, 10, 0, 0, tzinfo=UTC)

    assert schedule.next_after(at) == datetime(2024, 5, 5, 11, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("expression", [
    "* * * * *", "60 * * * * *", "* * 24 * * *", "* * * 0 * *", "* * * * Foo *", "*/0 * * * * *", "5-1 * * * * *",
])
def test_invalid_schedules_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        CronSchedule.parse(expression)


def test_a_schedule_that_never_occurs_says_so() -> None:
    with pytest.raises(ScheduleError):
        CronSchedule.parse("0 0 0 30 Feb *").next_after(START)
