"""The first step of a run: make sure it holds its project's lock, freeze the project, check it can run,
and plan the tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.errors import ConfigurationError, InputError
from shared.models import Run, RunMode, RunStatus
from shared.runs import require_consent
from shared.store import Store
from shared.store.run_lock import Standing
from shared.sync.batching import batching_from_settings
from shared.sync.workspace import ConnectorFactory, take_snapshot
from shared.validation import connections_of, validate_project


def begin_run(
    store: Store, run_id: str, project_id: str, mode: str, now: datetime, connectors: ConnectorFactory
) -> dict[str, Any]:
    """Snapshot the project for this run, check it, mark it Running, and return the plan to follow.

    The plan is small JSON: `held` (whether this run holds the project's run lock), the
    tasks in order with their legs, how the run cuts its legs into pages, steps and windows
    (`batching`, from the app settings), for `failedOnly` the run whose failed records are taken
    again, and the problems that stop the run (if any). A run that does not hold the lock, or
    was told to stop (an orchestration restarted or started by hand under an old or made-up
    run id, or one terminated before it began) gets `held: false` and an empty plan, and
    nothing is written: not its snapshot, not a run record, not the lock.
    """
    if store.run_lock.standing(project_id, run_id) is not Standing.HOLDS:
        return {"held": False, "previousRunId": None, "tasks": [], "problems": [], "notifyOn": [], "batching": None}
    project, _ = store.projects.get(project_id)
    require_consent(store, project_id)
    notify_on = project.notify.on if project.notify else []
    problems = validate_project(project, connections_of(store, project), connectors)
    try:
        batching = batching_from_settings().to_json()
    except (InputError, ConfigurationError) as bad:
        problems.append({"task": "", "leg": None, "field": bad.field, "message": str(bad)})
    if problems:
        return {"held": True, "previousRunId": None, "tasks": [], "problems": problems, "notifyOn": notify_on,
                "batching": None}
    take_snapshot(store, run_id, project)
    previous = None
    if mode == RunMode.FAILED_ONLY:
        finished = [r for r in store.runs.list(project_id, top=50) if r.runId != run_id and not r.status.active]
        if finished:
            previous = finished[0].runId

    def start(run: Run) -> bool:
        if run.status != RunStatus.PENDING:
            return False
        run.status, run.lastUpdatedTime = RunStatus.RUNNING, now
        return True

    store.runs.change(run_id, start)
    return {
        "held": True,
        "previousRunId": previous,
        "tasks": [{"name": task.name, "legs": [leg.name for leg in task.legs()]} for task in project.tasks],
        "problems": [],
        "notifyOn": notify_on,
        "batching": batching,
    }
