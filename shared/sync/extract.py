"""Read a leg's source in pages and stage each page, with the business keys its records map to.

The source is read in requests of `Batching.read_size` records (few round trips) and staged
in pages of `Batching.page_size` (one load step each). An extract step stages at most
`Batching.pages_per_step` pages and returns where the next step resumes, so a source of any
size is read by several short steps, each holding a bounded number of records. Pages are
numbered from `first_page`. With each record goes its business key and how recently it
changed (shared/sync/dedupe.py): a step that reads the whole leg resolves the duplicates
itself and says so (`indexed`); otherwise it keeps the keys in hash buckets, one
`resolve_bucket` step each once the leg is read. The pages of one read are staged on
`STAGING_THREADS` worker threads while the next read is on its way; before that one is
taken, the read before it must be staged, so at most two reads' records are held at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from shared.connectors.base import Page, ReadRequest
from shared.mapping import MappedRecord
from shared.models import RunMode
from shared.store import Store
from shared.store.run_staging import LegStaging
from shared.sync.batching import DEFAULT_BATCHING, Batching
from shared.sync.dedupe import KeyEntry, keep_keys, resolve_in_step
from shared.sync.state_binding import bind, note_on_run, usable_state
from shared.sync.workspace import LegPlan, RunWorkspace

STAGING_THREADS = 2


def extract_chunk(
    store: Store,
    workspace: RunWorkspace,
    task: str,
    leg: str,
    mode: str,
    resume: str | None,
    first_page: int,
    previous_run: str | None = None,
    batching: Batching = DEFAULT_BATCHING,
) -> dict[str, Any]:
    """Stage up to `batching.pages_per_step` pages from `first_page` on.

    Returns `{"pages", "read", "filtered", "deleted", "next", "state", "indexed"}`: how many
    pages were staged, the records read, those the task's filter left out (counted, not
    staged), those the source says were deleted, where the next step resumes (None: the leg
    is read), the incremental state to save, and whether this step resolved the leg's
    duplicates itself. The first step of a leg clears whatever an earlier try left staged.
    """
    plan = workspace.leg(task, leg)
    staging = store.run_staging(workspace.run_id).leg(task, leg)
    if first_page == 1:
        staging.clear()
    if mode == RunMode.FAILED_ONLY:
        pages = _failed_records(store, plan, previous_run, resume)
    else:
        pages = plan.source.read_pages(read_request(store, workspace, plan, mode, resume, batching.read_size))
    staged = read = deleted = filtered = 0
    next_link: str | None = None
    state: dict[str, Any] | None = None
    keys: list[KeyEntry] = []
    with ThreadPoolExecutor(STAGING_THREADS, thread_name_prefix="stage") as pool:
        staging_steps: list[Future[list[KeyEntry]]] = []
        keep = plan.source_filter.matches if plan.source_filter is not None else None
        for page in pages:
            rows = list(zip(page.records, modified_values(plan, page), strict=True))
            kept = rows if keep is None else [row for row in rows if keep(row[0])]
            filtered += len(rows) - len(kept)
            earlier, staging_steps = staging_steps, []
            for start in range(0, len(kept), batching.page_size):
                page_no = first_page + staged
                part = kept[start : start + batching.page_size]
                staging_steps.append(pool.submit(_stage, staging, plan, page_no, part))
                staged += 1
            keys.extend(entry for step in earlier for entry in step.result())
            read += len(page.records)
            deleted += len(page.deleted)
            next_link, state = page.next, page.state
            if staged >= batching.pages_per_step and next_link:
                break
        keys.extend(entry for step in staging_steps for entry in step.result())
        indexed = first_page == 1 and next_link is None
        if indexed:
            resolve_in_step(staging, keys)
        else:
            keep_keys(staging, first_page, keys, batching.key_buckets, pool.map)
    return {"pages": staged, "read": read, "filtered": filtered, "deleted": deleted, "next": next_link,
            "state": bind(state, workspace, plan), "indexed": indexed}


def read_request(
    store: Store, workspace: RunWorkspace, plan: LegPlan, mode: str, resume: str | None, page_size: int,
    query: tuple[list[str] | None, dict[str, list[str]]] | None = None,
) -> ReadRequest:
    """What a step of `plan`'s leg reads: `query` (select, expand; default the leg's own), all of it or, in an
    incremental run, what changed since the leg's saved state (a state saved for other connections is dropped,
    and the run says so)."""
    saved = None
    if mode == RunMode.INCREMENTAL and resume is None:
        found = store.task_state.get(workspace.project.name, plan.task.name, plan.leg.name)
        saved, discarded = usable_state(found, workspace, plan)
        if discarded is not None:
            note_on_run(store, workspace.run_id, discarded)
    select, expand = query or plan.source_query()
    return ReadRequest(
        entity=plan.leg.source.entity,
        select=select,
        expand=expand,
        page_size=page_size,
        incremental=mode == RunMode.INCREMENTAL,
        state=saved,
        resume=resume,
    )


def _stage(staging: LegStaging, plan: LegPlan, page_no: int, rows: list[tuple[dict[str, Any], Any]]
           ) -> list[KeyEntry]:
    """Stage a page; return the keys of its records that map (kept by the caller for duplicate resolution)."""
    staging.write_page(page_no, [record for record, _ in rows])
    keys: list[KeyEntry] = []
    for row, (record, modified) in enumerate(rows):
        outcome = plan.mapping(record)
        if outcome.__class__ is MappedRecord:
            identity = plan.identity(record, outcome)  # type: ignore[arg-type]
            if identity is not None:
                keys.append([page_no, row, modified, identity])
    return keys


def modified_values(plan: LegPlan, page: Page) -> list[Any]:
    """When each record of `page` last changed, as read: from the leg's modification field, else from the page
    (compared only when two records share a key, shared/mapping/duplicates.py)."""
    if plan.modified_field is not None:
        return [record.get(plan.modified_field) for record in page.records]
    if page.modified is not None:
        return list(page.modified)
    return [None] * len(page.records)


def _failed_records(store: Store, plan: LegPlan, previous_run: str | None, resume: str | None) -> Iterator[Page]:
    """The records that failed in `previous_run`, read again from the source.

    They are read afresh, by record id where the source entity has one and by source key
    elsewhere, so that a record fixed at the source since is taken as it is now (one no longer
    at the source is not taken again). One error page at a time, each page saying
    where the next step resumes (`{"errorPage": n}`), so a run with many failures is read
    in bounded steps like any other.
    """
    names = store.errors.list_pages(previous_run, plan.task.name, plan.leg.name) if previous_run else []
    start = json.loads(resume)["errorPage"] if resume else 0
    if start >= len(names):
        yield Page(records=[])
        return
    for index in range(start, len(names)):
        failed = [error["record"] for error in store.errors.read_page(names[index])]
        yield Page(records=_read_again(plan, failed),
                   next=json.dumps({"errorPage": index + 1}) if index + 1 < len(names) else None)


def _read_again(plan: LegPlan, failed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The source's current version of the `failed` records, each once (as they were when none has a key)."""
    entity = plan.leg.source.entity
    primary_id = plan.source.describe(entity).primary_id
    if primary_id is not None:
        key, keys = [primary_id], [[r[primary_id]] for r in failed if r.get(primary_id)]
    else:
        key, keys = plan.leg.source.key, [[r.get(k) for k in plan.leg.source.key] for r in failed]
    keys = list({json.dumps(values): values for values in keys}.values())
    if not keys:
        return failed
    select, expand = plan.source_query()
    return [record for record in plan.source.read_by_keys(entity, key, keys, select, expand) if record is not None]
