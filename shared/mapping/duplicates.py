"""Resolve records of one run that share a business key: the latest in source order wins.

A record's place in the source is its `(page number, row in page)`. Pages may be mapped in
any order and in parallel: each worker offers the keys it saw to its own `LatestByKey`, the
indexes are merged, and the result is the same whatever the order or the split.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SourcePosition = tuple[int, int]


def key_identity(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """How two business keys compare: strings trimmed and case-folded, as the target systems match them."""
    return tuple(value.strip().casefold() if value.__class__ is str else value for value in key)


class LatestByKey:
    """For each business key, the latest source position that carries it."""

    def __init__(self) -> None:
        self._latest: dict[tuple[Any, ...], SourcePosition] = {}

    def offer(self, key: tuple[Any, ...], position: SourcePosition) -> SourcePosition | None:
        """Record that `key` occurs at `position`; return the position this makes superseded, if any."""
        identity = key_identity(key)
        current = self._latest.get(identity)
        if current is None:
            self._latest[identity] = position
            return None
        if position > current:
            self._latest[identity] = position
            return current
        return position if position != current else None

    def offer_all(self, keyed: Iterable[tuple[tuple[Any, ...], SourcePosition]]) -> None:
        for key, position in keyed:
            self.offer(key, position)

    def merge(self, other: LatestByKey) -> None:
        for identity, position in other._latest.items():
            current = self._latest.get(identity)
            if current is None or position > current:
                self._latest[identity] = position

    def is_latest(self, key: tuple[Any, ...], position: SourcePosition) -> bool:
        return self._latest.get(key_identity(key)) == position

    def __len__(self) -> int:
        return len(self._latest)
