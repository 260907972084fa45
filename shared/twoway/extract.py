"""Read one side of a two-way task in steps and stage each record in the bucket of its pair identity.

Like a leg's extract (shared/sync/extract.py), a side is read by steps of at most
`Batching.pages_per_step * page_size` records, each saying where the next one resumes; a full
run reads every record, an incremental one what changed since the side's saved state (bound to
its connections, shared/sync/state_binding.py). Each record goes, with its pair identity (the
CDS business key, shared/twoway/identity, or with a key map the CDS id, shared/twoway/key_map)
and its modification value, into the bucket of that identity; a record the side says was deleted
(change tracking) goes there as a tombstone when the baselines know its id. Records without a
business key are counted, never staged (a two-way task has no filter: a record it left out would
look deleted). Duplicates within a side are settled by the merge step, which sees all of a
bucket's records at once.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from shared.mapping import MISSING_BUSINESS_KEY, MISSING_SOURCE_ID
from shared.store import Store
from shared.store.baselines import bucket_of_identity
from shared.sync.batching import Batching
from shared.sync.extract import modified_values, read_request
from shared.sync.state_binding import bind
from shared.sync.workspace import RunWorkspace
from shared.twoway.identity import Identity, identity_text
from shared.twoway.key_map import source_identities
from shared.twoway.sides import SOURCE, Side, side_of


def extract_side(
    store: Store, workspace: RunWorkspace, task: str, side: str, mode: str, resume: str | None, step: int,
    batching: Batching,
) -> dict[str, Any]:
    """Stage extract step `step` (from 1) of `side`; the first step clears what an earlier try staged.

    Returns `{"read", "skippedReasons", "deleted", "next", "state", "staged"}`: the records read, those
    left out by reason (counted as read and skipped), the tombstones staged, where the next step resumes
    (None: the side is read), the incremental state to save once the run ends, and the entries staged
    in each bucket (how the merge steps are cut).
    """
    plan = side_of(workspace, task, side)
    staging = store.run_staging(workspace.run_id).twoway(task)
    if step == 1:
        staging.clear(side)
    pages = plan.reads.source.read_pages(
        read_request(store, workspace, plan.reads, mode, resume, batching.read_size, plan.query()))
    buckets: list[list[dict[str, Any]]] = [[] for _ in range(batching.key_buckets)]
    reasons: Counter[str] = Counter()
    read = deleted = 0
    next_link: str | None = None
    state: dict[str, Any] | None = None
    for page in pages:
        read += len(page.records)
        identities = _identities(store, workspace, task, plan, page.records)
        for record, identity, modified in zip(page.records, identities, modified_values(plan.reads, page),
                                              strict=True):
            if identity is None:
                reasons[MISSING_SOURCE_ID if plan.key_mapped else MISSING_BUSINESS_KEY] += 1
            else:
                text = identity_text(identity)
                buckets[bucket_of_identity(text, len(buckets))].append(
                    {"identity": text, "modified": modified, "record": record})
        deleted += _stage_tombstones(store, workspace, task, plan, page.deleted, buckets)
        next_link, state = page.next, page.state
        if read >= batching.page_size * batching.pages_per_step and next_link:
            break
    for bucket, entries in enumerate(buckets):
        staging.write_bucket(side, bucket, step, entries)
    return {"read": read, "skippedReasons": dict(reasons), "deleted": deleted, "next": next_link,
            "state": bind(state, workspace, plan.reads), "staged": [len(entries) for entries in buckets]}


def _identities(store: Store, workspace: RunWorkspace, task: str, plan: Side, records: list[dict[str, Any]]
                ) -> list[Identity | None]:
    """The pair identity of each record (None: it has none), a key-mapped source's looked up in one go."""
    if plan.key_mapped and plan.name == SOURCE:
        return source_identities(store, workspace.project.name, task, plan.key[0], records)
    return [plan.identity(record) for record in records]


def _stage_tombstones(
    store: Store, workspace: RunWorkspace, task: str, plan: Side, ids: list[str],
    buckets: list[list[dict[str, Any]]],
) -> int:
    """Stage a tombstone for each deleted id a pair's baseline knows; return how many were staged."""
    if not ids:
        return 0
    known = store.baselines.identities_of_ids(workspace.project.name, task, plan.name, ids)
    for record_id, text in known.items():
        buckets[bucket_of_identity(text, len(buckets))].append({"identity": text, "deletedId": record_id})
    return len(known)
