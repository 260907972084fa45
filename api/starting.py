"""Starting a run: the one path Sync Now and the scheduler both take."""

from __future__ import annotations

import asyncio

import azure.durable_functions as df

from api.responses import utc_now
from shared.models import Run
from shared.runs import RunRequest, abandon_run, reserve_run
from shared.store import Store


async def start(client: df.DurableOrchestrationClient, store: Store, project_id: str, request: RunRequest) -> Run:
    """Take the project's run lock, record the run, start `sync_project`; RunActive when a run holds the lock.

    A lock whose holder Durable says has ended (or never saw) is taken over. Storage calls run
    on a worker thread, so the event loop keeps serving other requests.
    """
    seen: dict[str, str | None] = {}
    holder = await asyncio.to_thread(store.run_lock.holder, project_id)
    if holder is not None:
        status = await client.get_status(holder)
        seen[holder] = status.runtime_status.name if status and status.runtime_status else None
    run = await asyncio.to_thread(reserve_run, store, project_id, request, utc_now(), seen)
    try:
        await client.start_new(
            "sync_project", run.runId,
            {"runId": run.runId, "projectId": project_id, "mode": request.mode, "dryRun": request.dryRun},
        )
    except Exception:
        await asyncio.to_thread(abandon_run, store, run, "the orchestration could not be started", utc_now())
        raise
    return run
