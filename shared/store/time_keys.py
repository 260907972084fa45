"""Fixed-width row-key parts from instants, so that a partition comes back in time order.

Table Storage returns a partition sorted by RowKey, ascending and as text. A zero-padded
count of microseconds sorts oldest first; its complement sorts newest first. An instant
without a time zone is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_ORIGIN = datetime.min.replace(tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_LATEST = (datetime.max.replace(tzinfo=UTC) - _ORIGIN) // _MICROSECOND
_WIDTH = len(str(_LATEST))


def ascending_time_key(moment: datetime) -> str:
    """A key that sorts earlier instants first."""
    return f"{_microseconds(moment):0{_WIDTH}d}"


def descending_time_key(moment: datetime) -> str:
    """A key that sorts later instants first."""
    return f"{_LATEST - _microseconds(moment):0{_WIDTH}d}"


def _microseconds(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _ORIGIN) // _MICROSECOND
