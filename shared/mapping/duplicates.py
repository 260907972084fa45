"""Which of a run's records that share a business key is written: the most recently modified one.

Each record a leg reads is offered with its modification value as read and its place
`(page, row)`. Its rank is `(recency, page, row)`: `recency` orders when the record last
changed (its system's modification time, or a field the task names; a record without one is
older than any record with one), and the place breaks ties: the one read later wins. Ranks are
compared whole, so the winner is the same whatever order the records are offered in and however
they are split, bucket by bucket, in parallel. A rank is worked out only when two records meet
on one key, so the many keys that occur once cost no date parsing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

DUPLICATE_BUSINESS_KEY = "duplicate-business-key"
NEWER = "newer"
"""A superseded record lost to one modified more recently."""
LATER = "later"
"""A superseded record lost to one modified at the same time (or neither dated) that was read later."""
SKIP_REASONS = {
    NEWER: f"{DUPLICATE_BUSINESS_KEY}: a more recently modified record with the same key won",
    LATER: f"{DUPLICATE_BUSINESS_KEY}: a record with the same key and modification time, read later, won",
}
"""The skip reason of a superseded record, saying which record won and why."""

Recency = tuple[int, Any]
"""`(kind, value)`: 0 undated, 1 a number, 2 a moment (UTC, ISO 8601 to the microsecond), 3 other text."""
Rank = tuple[int, Any, int, int]
"""`(kind, value, page, row)`: the greater rank wins."""


def bucket_of(identity: Iterable[Any], buckets: int) -> int:
    """The bucket of a key: a hash stable across processes and runs (Python's own `hash` is salted)."""
    text = json.dumps(list(identity), ensure_ascii=False, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big") % buckets


def key_identity(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """How two business keys compare: strings trimmed and case-folded, as the target systems match them."""
    return tuple(value.strip().casefold() if value.__class__ is str else value for value in key)


def recency(value: Any) -> Recency:
    """How recent a modification time (or a field the task names) says a record is, comparable across records."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, float(value))
    text = str(value).strip()
    if not text:
        return (0, 0)
    if len(text) >= 10 and text[:4].isdigit() and text[4] == "-":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            return (2, moment.isoformat(timespec="microseconds"))
    return (3, text)


def rank(modified: Any, page: int, row: int) -> Rank:
    """How a record placed at `(page, row)` and modified at `modified` compares with others of its key."""
    return (*recency(modified), page, row)


class NewestByKey:
    """For each key, the record of highest rank; and every record another one with its key beat."""

    def __init__(self) -> None:
        self._best: dict[tuple[Any, ...], tuple[Any, int, int]] = {}
        self._beaten: list[tuple[tuple[Any, ...], Rank]] = []

    def offer(self, identity: tuple[Any, ...], modified: Any, page: int, row: int) -> None:
        """Record that the record at `(page, row)`, modified at `modified` (as read), has the key `identity`
        (already passed through `key_identity`)."""
        best = self._best.get(identity)
        if best is None:
            self._best[identity] = (modified, page, row)
            return
        offered, current = rank(modified, page, row), rank(*best)
        if offered > current:
            self._best[identity] = (modified, page, row)
            self._beaten.append((identity, current))
        elif offered != current:  # the same record offered again (a step that ran twice) is not its own duplicate
            self._beaten.append((identity, offered))

    def superseded(self) -> Iterator[tuple[int, int, str]]:
        """`(page, row, why)` of each record that lost, `why` being NEWER or LATER against the final winner."""
        for identity, lost in self._beaten:
            winner = rank(*self._best[identity])
            yield lost[2], lost[3], NEWER if winner[:2] > lost[:2] else LATER

    def __len__(self) -> int:
        return len(self._best)
