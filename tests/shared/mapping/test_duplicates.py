"""Which of several records with one business key wins: the most recently modified, ties by read order,
the same whatever the order of offering and however the keys are split into buckets."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.mapping import NewestByKey, key_identity, recency
from shared.mapping.duplicates import LATER, NEWER, bucket_of
from shared.sync.dedupe import resolve

MOMENTS = st.one_of(
    st.none(),
    st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00.5Z", "2025-12-31"]),
    st.integers(min_value=0, max_value=3),
)
ENTRIES = st.lists(st.tuples(st.sampled_from(["A-1", " a-1", "B-2", "b-2 ", "C-3"]), MOMENTS), max_size=40)


def as_entries(records: list[tuple[str, object]], page_size: int = 4) -> list[list[object]]:
    return [[1 + n // page_size, n % page_size, moment, list(key_identity((key,)))]
            for n, (key, moment) in enumerate(records)]


def one_pass(records: list[tuple[str, object]]) -> dict[tuple[str, ...], int]:
    """The winner of each key by the rule itself: greatest (recency, read position)."""
    best: dict[tuple[str, ...], tuple[object, ...]] = {}
    for n, (key, moment) in enumerate(records):
        rank = (*recency(moment), n)
        identity = key_identity((key,))
        if identity not in best or rank > best[identity]:
            best[identity] = rank
    return {identity: rank[-1] for identity, rank in best.items()}


@settings(max_examples=200, deadline=None)
@given(ENTRIES, st.integers(min_value=1, max_value=5), st.randoms())
def test_buckets_in_any_order_find_what_one_pass_over_the_leg_finds(records, buckets, shuffle: random.Random) -> None:
    entries = as_entries(records)
    whole = resolve(entries)
    shuffle.shuffle(entries)
    parts: dict[int, list[list[object]]] = {}
    for entry in entries:
        parts.setdefault(bucket_of(entry[3], buckets), []).append(entry)
    split: dict[int, dict[int, str]] = {}
    for part in parts.values():
        for page, rows in resolve(part).items():
            split.setdefault(page, {}).update(rows)
    assert split == whole
    winners = set(one_pass(records).values())
    losers = {(page - 1) * 4 + row for page, rows in whole.items() for row in rows}
    assert winners | losers == set(range(len(records))) and not winners & losers


def test_the_newest_record_wins_and_each_loser_says_why() -> None:
    newest = NewestByKey()
    newest.offer(("a",), "2026-05-01T12:00:00+02:00", 1, 0)
    newest.offer(("a",), "2026-05-01T11:00:00Z", 1, 1)  # the newest, read in the middle
    newest.offer(("a",), "2026-05-01T11:00:00+01:00", 2, 0)  # ties with the first, read later
    newest.offer(("a",), None, 3, 0)  # undated: older than any dated record
    newest.offer(("a",), "2026-05-01T11:00:00Z", 1, 1)  # the same record again: not its own duplicate
    assert sorted(newest.superseded()) == [(1, 0, NEWER), (2, 0, NEWER), (3, 0, NEWER)]
    assert len(newest) == 1


def test_ties_on_time_go_to_the_record_read_later() -> None:
    newest = NewestByKey()
    for page in (1, 2, 3):
        newest.offer(("k",), None, page, 0)
    assert sorted(newest.superseded()) == [(1, 0, LATER), (2, 0, LATER)]


def test_recency_orders_moments_across_offsets_and_kinds() -> None:
    assert recency("2026-01-01T01:00:00+01:00") == recency("2026-01-01T00:00:00Z") == recency("2026-01-01 00:00:00")
    assert recency("2026-01-01T00:00:00.5Z") > recency("2026-01-01T00:00:00Z") > recency(None)
    assert recency(2) > recency(1.5) > recency("") == recency(None)
    assert recency("v2") > recency("v10")  # text that is no moment compares as text
    assert bucket_of(["a-1"], 7) == bucket_of(("a-1",), 7)  # stable whatever the container, in every process
