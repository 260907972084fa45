"""Read a leg's source in pages and stage each page, with the business keys its records map to.

The source is read in pages of `READ_SIZE` records (few round trips) and staged in pages of
`PAGE_SIZE` (one load activity each). An extract step stages at most `max_pages` pages and
returns where the next step resumes, so a large source is read by several short activities.
Pages are numbered from `first_page`. A step that reads the whole leg finds the duplicates
itself and says so (`indexed`), which spares the run the `find_duplicates` step; otherwise
each staged page gets a companion page of keys (`{leg}.keys`) for `find_duplicates` to read.
The pages of one read are staged on `STAGING_THREADS` worker threads while the next read is
on its way; before that one is taken, the read before it must be staged, so reading and
staging overlap and at most two reads' records are held at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from shared.connectors.base import Page, ReadRequest
from shared.connectors.odata import Guid, any_of
from shared.mapping import MappedRecord
from shared.models import RunMode
from shared.store import Store
from shared.sync.dedupe import KeyPage, keep_duplicates, keys_leg, superseded_rows
from shared.sync.state_binding import bind, note_on_run, usable_state
from shared.sync.workspace import LegPlan, RunWorkspace

READ_SIZE = 5000
PAGE_SIZE = 1000
MAX_PAGES_PER_STEP = 50
FAILED_KEYS_PER_READ = 40
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
    page_size: int = PAGE_SIZE,
    max_pages: int = MAX_PAGES_PER_STEP,
    read_size: int = READ_SIZE,
) -> dict[str, Any]:
    """Stage up to `max_pages` pages; return `{"pages", "read", "filtered", "deleted", "next", "state", "indexed"}`.

    Records the task's filter leaves out are counted (`filtered`), not staged.
    """
    plan = workspace.leg(task, leg)
    if mode == RunMode.FAILED_ONLY:
        pages = _failed_records(store, plan, previous_run, read_size)
    else:
        pages = plan.source.read_pages(_request(store, workspace, plan, mode, resume, read_size))
    staged: list[int] = []
    read = deleted = filtered = 0
    next_link: str | None = None
    state: dict[str, Any] | None = None
    keys: list[KeyPage] = []
    with ThreadPoolExecutor(STAGING_THREADS, thread_name_prefix="stage") as pool:
        staging: list[Future[KeyPage]] = []
        keep = plan.source_filter.matches if plan.source_filter is not None else None
        for page in pages:
            kept = page.records if keep is None else list(filter(keep, page.records))
            filtered += len(page.records) - len(kept)
            earlier, staging = staging, []
            for start in range(0, len(kept), page_size):
                page_no = first_page + len(staged)
                records = kept[start : start + page_size]
                staging.append(pool.submit(_stage, store, workspace.run_id, plan, task, leg, page_no, records))
                staged.append(page_no)
            keys.extend(step.result() for step in earlier)
            read += len(page.records)
            deleted += len(page.deleted)
            next_link, state = page.next, page.state
            if len(staged) >= max_pages and next_link:
                break
        keys.extend(step.result() for step in staging)
        indexed = first_page == 1 and next_link is None
        if indexed:
            keep_duplicates(store, workspace.run_id, task, leg, superseded_rows(keys))
        else:
            list(pool.map(lambda page: store.staging.write_page(workspace.run_id, task, keys_leg(leg), *page), keys))
    return {"pages": staged, "read": read, "filtered": filtered, "deleted": deleted, "next": next_link,
            "state": bind(state, workspace, plan), "indexed": indexed}


def _request(
    store: Store, workspace: RunWorkspace, plan: LegPlan, mode: str, resume: str | None, page_size: int
) -> ReadRequest:
    saved = None
    if mode == RunMode.INCREMENTAL and resume is None:
        found = store.task_state.get(workspace.project.name, plan.task.name, plan.leg.name)
        saved, discarded = usable_state(found, workspace, plan)
        if discarded is not None:
            note_on_run(store, workspace.run_id, discarded)
    select, expand = plan.source_query()
    return ReadRequest(
        entity=plan.leg.source.entity,
        select=select,
        expand=expand,
        page_size=page_size,
        incremental=mode == RunMode.INCREMENTAL,
        state=saved,
        resume=resume,
        company=plan.company if plan.source_kind == "finops" else None,
    )


def _stage(
    store: Store, run_id: str, plan: LegPlan, task: str, leg: str, page_no: int, records: list[dict[str, Any]]
) -> KeyPage:
    """Stage a page; return its keys (staged by the caller when another step needs them)."""
    store.staging.write_page(run_id, task, leg, page_no, records)
    keys = []
    for row, record in enumerate(records):
        outcome = plan.mapping(record)
        if outcome.__class__ is MappedRecord:
            identity = plan.identity(record, outcome)  # type: ignore[arg-type]
            if identity is not None:
                keys.append({"r": row, "k": identity})
    return page_no, keys


def _failed_records(store: Store, plan: LegPlan, previous_run: str | None, page_size: int) -> Iterator[Page]:
    """The records that failed in `previous_run`, read again from the source by their source keys.

    They are read afresh, by primary id in Dataverse and by business key elsewhere, so that a
    record fixed at the source since is taken as it is now; a source that cannot be filtered
    (blob files) gives the records as they were.
    """
    if previous_run is None:
        yield Page(records=[])
        return
    failed = [
        error["record"]
        for name in store.errors.list_pages(previous_run, plan.task.name, plan.leg.name)
        for error in store.errors.read_page(name)
    ]
    key = plan.leg.source.key
    keys = list({json.dumps([r.get(k) for k in key]): [r.get(k) for k in key] for r in failed}.values())
    primary_id = plan.source.describe(plan.leg.source.entity).primary_id if plan.source_kind == "dataverse" else None
    if primary_id is not None:
        key, keys = [primary_id], [[Guid(r[primary_id])] for r in failed if r.get(primary_id)]
    if plan.source_kind == "blob" or not keys:
        for start in range(0, max(len(failed), 1), page_size):
            yield Page(records=failed[start : start + page_size])
        return
    for start in range(0, len(keys), FAILED_KEYS_PER_READ):
        chosen = any_of(key, keys[start : start + FAILED_KEYS_PER_READ])
        select, expand = plan.source_query()
        request = ReadRequest(
            entity=plan.leg.source.entity, select=select, expand=expand, page_size=page_size,
            filter=chosen,
            company=plan.company if plan.source_kind == "finops" else None,
        )
        for page in plan.source.read_pages(request):
            yield Page(records=page.records)
