"""Duplicate business keys in one run: the later record in source order wins, whatever the paging."""

from __future__ import annotations

import random

from pydantic import TypeAdapter

from shared.mapping import LatestByKey, MappedRecord, compile_mapping, map_page
from shared.models import FieldMapping

MAPPING = compile_mapping(
    TypeAdapter(list[FieldMapping]).validate_python(
        [{"source": "no", "target": "accountnumber"}, {"source": "name", "target": "name"}]
    ),
    ["accountnumber"],
)


def pages_of(records: list[dict], size: int) -> list[list[dict]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


def resolve(pages: list[list[dict]], order: list[int], workers: int) -> dict[str, tuple[str, list[str]]]:
    """Map pages in `order`, split among `workers` indexes that are merged afterwards."""
    indexes = [LatestByKey() for _ in range(workers)]
    for n, page_no in enumerate(order):
        for row, record in enumerate(pages[page_no]):
            outcome = MAPPING(record)
            if isinstance(outcome, MappedRecord):
                indexes[n % workers].offer(outcome.key, (page_no, row))
    merged = LatestByKey()
    for index in indexes:
        merged.merge(index)
    written: dict[str, str] = {}
    skipped: dict[str, list[str]] = {}
    for page_no in order:
        result = map_page(MAPPING, pages[page_no], page_no, merged)
        for _, mapped in result.mapped:
            assert mapped.key[0].casefold() not in written
            written[mapped.key[0].casefold()] = mapped.values["name"]
        for row, skip in result.skipped:
            skipped.setdefault(skip.reason, []).append(pages[page_no][row]["name"])
    return {k: (v, sorted(skipped.get("duplicate-business-key", []))) for k, v in written.items()}


def test_later_record_wins_and_earlier_is_skipped_within_a_page() -> None:
    result = map_page(
        MAPPING,
        [{"no": "A", "name": "first"}, {"no": "B", "name": "b"}, {"no": "a ", "name": "second"}, {"name": "none"}],
    )
    assert [m.values["name"] for _, m in result.mapped] == ["b", "second"]
    assert [(row, s.reason) for row, s in result.skipped] == [(0, "duplicate-business-key"), (3, "missing-business-key")]
    assert result.read == 4


def test_same_winners_whatever_the_page_order_or_split() -> None:
    rng = random.Random(7)
    records = [{"no": f"K{rng.randrange(300)}", "name": f"r{i}"} for i in range(2_000)]
    expected_last = {}
    for record in records:
        expected_last[record["no"].casefold()] = record["name"]
    pages = pages_of(records, 37)
    baseline = resolve(pages, list(range(len(pages))), workers=1)
    assert {k: v for k, (v, _) in baseline.items()} == expected_last
    for workers in (2, 5):
        order = list(range(len(pages)))
        rng.shuffle(order)
        assert resolve(pages, order, workers) == baseline


def test_counts_add_up_with_duplicates() -> None:
    records = [{"no": str(i % 10), "name": str(i)} for i in range(95)] + [{"name": "no key"}] * 5
    latest = LatestByKey()
    pages = pages_of(records, 20)
    for page_no, page in enumerate(pages):
        for row, record in enumerate(page):
            outcome = MAPPING(record)
            if isinstance(outcome, MappedRecord):
                latest.offer(outcome.key, (page_no, row))
    totals = {"mapped": 0, "skipped": 0, "failed": 0}
    for page_no, page in enumerate(pages):
        result = map_page(MAPPING, page, page_no, latest)
        totals["mapped"] += len(result.mapped)
        totals["skipped"] += len(result.skipped)
        totals["failed"] += len(result.failed)
    assert totals == {"mapped": 10, "skipped": 90, "failed": 0}
    assert len(latest) == 10


def test_offer_names_the_superseded_position_in_any_order() -> None:
    latest = LatestByKey()
    assert latest.offer(("A",), (2, 0)) is None
    assert latest.offer(("a ",), (1, 5)) == (1, 5)
    assert latest.offer(("A",), (3, 1)) == (2, 0)
    assert latest.offer(("A",), (3, 1)) is None
    assert latest.is_latest(("A",), (3, 1))
