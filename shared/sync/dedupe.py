"""Which staged records a newer record with the same business key supersedes.

shared/mapping/duplicates.py says which record wins: the most recently modified, ties broken
by read order. Each record's key travels as a `KeyEntry`: `[page, row, modified, identity]`.

A leg read by one extract step resolves its keys in that step (`resolve_in_step`). A leg read
by several steps partitions its keys while they are read: each step keeps, per hash bucket, the
keys that fall in it (`keep_keys`); once the whole leg is read, one `resolve_bucket` step per
bucket reads that bucket's keys only. A key always falls in the same bucket, so the buckets
together find exactly what one pass over the leg would, and no step holds more than a
bucket's share of the leg's keys. Either way the superseded records go to the leg's staging,
grouped by page, where each load step finds those of its own page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from shared.mapping import NewestByKey
from shared.mapping.duplicates import bucket_of
from shared.store import Store
from shared.store.run_staging import LegStaging, Superseded

KeyEntry = list[Any]
"""`[page, row, modified, identity]`: where a record is staged, its modification value as read, its key's identity."""
WHOLE_LEG = "all"
"""The label of what a one-step leg found (bucket resolutions are labelled by bucket)."""


def resolve(entries: Iterable[KeyEntry]) -> Superseded:
    """`{page: {row: why}}` of the records that lose to another record with the same key."""
    newest = NewestByKey()
    for page, row, modified, identity in entries:
        newest.offer(tuple(identity), modified, page, row)
    superseded: Superseded = {}
    for page, row, why in newest.superseded():
        superseded.setdefault(page, {})[row] = why
    return superseded


def resolve_in_step(staging: LegStaging, entries: Iterable[KeyEntry]) -> int:
    """Resolve a whole leg's keys at once (it was read in one step); return how many records lost."""
    return _keep(staging, WHOLE_LEG, resolve(entries))


def keep_keys(
    staging: LegStaging, first_page: int, entries: Iterable[KeyEntry], buckets: int,
    each: Callable[..., Iterable[Any]] = map,
) -> None:
    """Keep the keys an extract step saw, by bucket, for `resolve_bucket`; `each` maps the writes
    (a thread pool's `map` writes the buckets in parallel).

    Every bucket gets its blob, empty or not, so a step that runs again replaces all that an
    earlier try of it kept.
    """
    parts: list[list[KeyEntry]] = [[] for _ in range(buckets)]
    for entry in entries:
        parts[bucket_of(entry[3], buckets)].append(entry)
    list(each(lambda bucket: staging.write_keys(bucket, first_page, parts[bucket]), range(buckets)))


def resolve_bucket(store: Store, run_id: str, task: str, leg: str, bucket: int) -> dict[str, Any]:
    """Resolve the keys of one bucket of a leg read in several steps; return how many records lost."""
    staging = store.run_staging(run_id).leg(task, leg)
    return {"duplicates": _keep(staging, f"bucket-{bucket:03d}", resolve(staging.read_keys(bucket)))}


def _keep(staging: LegStaging, label: str, superseded: Superseded) -> int:
    staging.write_superseded(label, superseded)
    return sum(len(rows) for rows in superseded.values())
