"""The counts of a two-way task's merge step, per leg: the JSON `add_two_way` sums (shared/outcomes.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from shared.outcomes import TWO_WAY_COUNTS, TWO_WAY_LEGS


class Tally:
    """Each leg's records read (counterparts read by key; staged records were counted when read), written,
    skipped by reason and failed, its conflicts left open and the records it deleted on its target."""

    def __init__(self) -> None:
        self._counts = {leg: Counter[str]() for leg in TWO_WAY_LEGS}
        self._reasons = {leg: Counter[str]() for leg in TWO_WAY_LEGS}

    def read(self, leg: str) -> None:
        self._counts[leg]["read"] += 1

    def add(self, leg: str, count: str, n: int = 1) -> None:
        self._counts[leg][count] += n

    def skip(self, leg: str, reason: str, n: int = 1) -> None:
        if n:
            self._counts[leg]["skipped"] += n
            self._reasons[leg][reason] += n

    def to_json(self) -> dict[str, Any]:
        return {leg: {**{name: self._counts[leg][name] for name in TWO_WAY_COUNTS},
                      "skippedReasons": dict(self._reasons[leg])} for leg in TWO_WAY_LEGS}
