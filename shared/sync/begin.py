"""The first step of a run: freeze the project, check it can run, and plan the tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.errors import ConsentRequired
from shared.models import RunMode, RunStatus
from shared.store import Store
from shared.sync.workspace import ConnectorFactory, take_snapshot
from shared.validation import connections_of, validate_project


def begin_run(
    store: Store, run_id: str, project_id: str, mode: str, now: datetime, connectors: ConnectorFactory
) -> dict[str, Any]:
    """Snapshot the project for this run, check it, mark it Running, and return the plan to follow.

    The plan is small JSON: the tasks in order with their legs, for `failedOnly` the run
    whose failed records are taken again, and the problems that stop the run (if any).
    """
    project, _ = store.projects.get(project_id)
    if not store.consents.list(project_id):
        raise ConsentRequired(f"project {project_id!r} has no consent on record", field="consent")
    notify_on = project.notify.on if project.notify else []
    problems = validate_project(project, connections_of(store, project), connectors)
    if problems:
        return {"previousRunId": None, "tasks": [], "problems": problems, "notifyOn": notify_on}
    take_snapshot(store, run_id, project)
    previous = None
    if mode == RunMode.FAILED_ONLY:
        finished = [r for r in store.runs.list(project_id, top=50) if r.runId != run_id and not r.status.active]
        if finished:
            previous = finished[0].runId
    run = store.runs.get(run_id)
    if run.status == RunStatus.PENDING:
        run.status = RunStatus.RUNNING
        run.lastUpdatedTime = now
        store.runs.update(run)
    return {
        "previousRunId": previous,
        "tasks": [{"name": task.name, "legs": [leg.name for leg in task.legs()]} for task in project.tasks],
        "problems": [],
        "notifyOn": notify_on,
    }
