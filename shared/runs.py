"""Starting and reading runs: the run lock, the run record, and how a run looks to its watchers."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from shared.errors import ConsentRequired, NotFound, RunActive
from shared.models import Run, RunMode, RunStatus, Strict
from shared.store import Store


class RunRequest(Strict):
    """The optional body of Sync Now."""

    mode: Literal["full", "incremental", "failedOnly"] = "full"
    dryRun: bool = False


class ErrorPageToken(Strict):
    page: int = Field(ge=0)
    offset: int = Field(ge=0)


def new_run_id(now: datetime) -> str:
    """Sortable by start time, unique, and safe as a Durable instance id and a table key."""
    return f"r{now:%Y%m%d%H%M%S}{secrets.token_hex(4)}"


ENDED = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
START_GRACE = timedelta(minutes=5)
"""How long a Pending run may go unseen by Durable before its lock counts as abandoned."""


def reserve_run(
    store: Store, project_id: str, request: RunRequest, now: datetime, seen: dict[str, str | None]
) -> Run:
    """Take the project's run lock for a new run and record the run as Pending.

    `seen` maps a lock holder's run id to what Durable says of it (None: unknown). A lock
    left by a run that Durable says ended, or that Durable never saw long after it was
    reserved (its starter crashed), is taken over; any other holder makes this RunActive.
    """
    store.projects.get(project_id)
    if not store.consents.list(project_id):
        raise ConsentRequired(f"project {project_id!r} has no consent on record", field="consent")
    run_id = new_run_id(now)
    try:
        store.run_lock.acquire(project_id, run_id)
    except RunActive as active:
        if active.run_id not in seen or not _abandoned(store, active.run_id, seen[active.run_id], now):
            raise
        store.run_lock.release(project_id, active.run_id)
        _mark_ended(store, active.run_id, RunStatus.FAILED, "the run ended without releasing its lock", now)
        store.run_lock.acquire(project_id, run_id)
    run = Run(
        runId=run_id, projectId=project_id, status=RunStatus.PENDING, mode=RunMode(request.mode),
        dryRun=request.dryRun, createdTime=now, lastUpdatedTime=now,
    )
    store.runs.create(run)
    return run


def _abandoned(store: Store, run_id: str, runtime: str | None, now: datetime) -> bool:
    if runtime in ENDED:
        return True
    if runtime is not None:
        return False
    try:
        return now - store.runs.get(run_id).createdTime > START_GRACE
    except NotFound:
        return True


def _mark_ended(store: Store, run_id: str, status: RunStatus, message: str, now: datetime) -> None:
    try:
        run = store.runs.get(run_id)
    except NotFound:
        return
    if run.status.active:
        run.status, run.message, run.lastUpdatedTime = status, message, now
        store.runs.update(run)


def abandon_run(store: Store, run: Run, message: str, now: datetime) -> None:
    """A run that could not start: Failed on record, lock freed."""
    _mark_ended(store, run.runId, RunStatus.FAILED, message, now)
    store.run_lock.release(run.projectId, run.runId)


def terminate_run(store: Store, run: Run, reason: str, now: datetime) -> None:
    """After Durable terminated the instance: Terminated on record, lock freed, staging dropped."""
    _mark_ended(store, run.runId, RunStatus.TERMINATED, reason, now)
    store.run_lock.release(run.projectId, run.runId)
    store.staging.delete_run(run.runId)


def effective_status(run: Run, durable_status: str | None) -> RunStatus:
    """The run record decides once it is final; before that, Durable's own status."""
    if not run.status.active:
        return run.status
    if durable_status in ("Failed", "Terminated"):
        return RunStatus(durable_status)
    if durable_status == "Running":
        return RunStatus.RUNNING
    return run.status


def run_view(run: Run, status: RunStatus, custom_status: Any, errors_uri: str) -> dict[str, Any]:
    return {
        "runId": run.runId,
        "projectId": run.projectId,
        "runtimeStatus": status.value,
        "createdTime": run.createdTime.isoformat(),
        "lastUpdatedTime": run.lastUpdatedTime.isoformat(),
        "mode": run.mode.value,
        "dryRun": run.dryRun,
        "tasks": [
            {k: v for k, v in t.model_dump(mode="json").items() if k != "message" or v}
            for t in run.tasks
        ],
        "message": run.message,
        "customStatus": custom_status,
        "errorsUri": errors_uri,
    }


def error_page(store: Store, run_id: str, token: ErrorPageToken, limit: int) -> tuple[list[dict[str, Any]], Any]:
    """Up to `limit` error records of a run from `token` on, and the token of what follows (or None)."""
    pages = store.errors.list_pages(run_id)
    found: list[dict[str, Any]] = []
    page, offset = token.page, token.offset
    while page < len(pages) and len(found) < limit:
        records = store.errors.read_page(pages[page])
        take = records[offset : offset + limit - len(found)]
        found.extend(take)
        offset += len(take)
        if offset >= len(records):
            page, offset = page + 1, 0
    following = ErrorPageToken(page=page, offset=offset) if page < len(pages) else None
    return found, following
