"""Map one page of source records and sort every record into mapped, skipped or failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.mapping.compiler import DUPLICATE_BUSINESS_KEY, CompiledMapping, Failed, MappedRecord, Skipped
from shared.mapping.duplicates import LatestByKey


@dataclass
class PageResult:
    """Every record of a page, by its row in the page, in exactly one of the three lists."""

    mapped: list[tuple[int, MappedRecord]] = field(default_factory=list)
    skipped: list[tuple[int, Skipped]] = field(default_factory=list)
    failed: list[tuple[int, Failed]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return len(self.mapped) + len(self.skipped) + len(self.failed)


def map_page(
    mapping: CompiledMapping,
    records: Sequence[dict[str, Any]],
    page_no: int = 0,
    latest: LatestByKey | None = None,
) -> PageResult:
    """Map `records`; a record whose business key appears later in the source is skipped.

    `latest` is the run's index of business keys (it must already hold this page's keys);
    without it, duplicates are resolved within the page alone.
    """
    result = PageResult()
    outcomes = [mapping(record) for record in records]
    if latest is None:
        latest = LatestByKey()
        latest.offer_all(
            (outcome.key, (page_no, row)) for row, outcome in enumerate(outcomes) if isinstance(outcome, MappedRecord)
        )
    for row, outcome in enumerate(outcomes):
        if isinstance(outcome, MappedRecord):
            if latest.is_latest(outcome.key, (page_no, row)):
                result.mapped.append((row, outcome))
            else:
                result.skipped.append((row, Skipped(DUPLICATE_BUSINESS_KEY, outcome.key)))
        elif isinstance(outcome, Skipped):
            result.skipped.append((row, outcome))
        else:
            result.failed.append((row, outcome))
    return result
