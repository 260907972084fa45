"""How a two-way task's buckets are cut into merge steps: consecutive ranges, each within the limit unless one
bucket alone holds more, every bucket in exactly one."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from shared.sync.batching import Batching, merge_ranges


def test_a_run_that_changed_little_merges_in_one_step() -> None:
    assert merge_ranges([0, 3, 0, 1] + [0] * 252, 5_000) == [(0, 255)]


def test_full_buckets_merge_one_or_a_few_a_step() -> None:
    assert merge_ranges([400, 400, 400, 7_000, 0, 100], 1_000) == [(0, 1), (2, 2), (3, 3), (4, 5)]


def test_the_limit_is_a_few_pages() -> None:
    assert Batching(page_size=1000).merge_size == 5_000 and Batching(page_size=10).merge_size == 50


@given(st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=256), st.integers(1, 600))
def test_ranges_cover_every_bucket_once_in_order_within_the_limit(staged: list[int], limit: int) -> None:
    ranges = merge_ranges(staged, limit)
    assert [b for first, last in ranges for b in range(first, last + 1)] == list(range(len(staged)))
    for first, last in ranges:
        held = sum(staged[first : last + 1])
        assert held <= limit or first == last
    for (first, last), (following, _) in pairwise(ranges):
        # a range ends only where taking the next bucket too would pass the limit
        assert sum(staged[first : last + 1]) + staged[following] > limit
