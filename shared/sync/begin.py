"""The first step of a run: freeze the project, check it can run, and plan the tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.errors import ConsentRequired
from shared.models import RunMode, RunStatus
from shared.store import Store
from shared.sync.workspace import take_snapshot


def begin_run(store: Store, run_id: str, project_id: str, mode: str, now: datetime) -> dict[str, Any]:
    """Snapshot the project for this run, mark it Running, and return the plan the orchestrator follows.

    The plan is small JSON: the tasks in order with their legs, and for `failedOnly` the run
    whose failed records are taken again.
    """
    project, _ = store.projects.get(project_id)
    if not store.consents.list(project_id):
        raise ConsentRequired(f"project {project_id!r} has no consent on record", field="consent")
    take_snapshot(store, run_id, project)
    previous = None
    if mode == RunMode.FAILED_ONLY:
        finished = [r for r in store.runs.list(project_id, top=50) if r.runId != run_id and not r.status.active]
        if finished:
            previous = finished[0].runId
    run = store.runs.get(run_id)
    run.status = RunStatus.RUNNING
    run.lastUpdatedTime = now
    store.runs.update(run)
    return {
        "previousRunId": previous,
        "tasks": [{"name": task.name, "legs": [leg.name for leg in task.legs()]} for task in project.tasks],
    }
