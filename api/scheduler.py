"""`start_due_runs`: every minute, start the runs of the projects whose schedule is due.

A due project whose previous run is still active gets a Skipped entry in its history
instead; runs never overlap.
"""

from __future__ import annotations

import asyncio
import logging

import azure.durable_functions as df
import azure.functions as func

from api.blueprint import blueprint
from api.responses import store, utc_now
from api.starting import start
from shared.errors import RunActive
from shared.runs import RunRequest
from shared.schedules import claim_due, record_skipped

log = logging.getLogger(__name__)
EVERY_MINUTE = "0 * * * * *"


@blueprint.timer_trigger(schedule=EVERY_MINUTE, arg_name="timer", run_on_startup=False, use_monitor=False)
@blueprint.durable_client_input(client_name="client")
async def start_due_runs(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    repo = store()
    for project, _ in await asyncio.to_thread(repo.projects.list):
        due = await asyncio.to_thread(claim_due, repo, project, utc_now())
        if due is None:
            continue
        try:
            run = await start(client, repo, project.name, RunRequest(mode=project.scheduleMode))
        except RunActive as active:
            await asyncio.to_thread(record_skipped, repo, project, due, active.run_id, utc_now())
            log.info("project %s due at %s: skipped, run %s still active", project.name, due, active.run_id)
        else:
            log.info("project %s due at %s: started run %s", project.name, due, run.runId)
