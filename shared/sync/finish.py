"""The last step of a run: where incremental reads resume, its outcome on record, its lock free, its
staged pages gone; and each task's outcome on record as the run goes.

Task outcomes arrive as the JSON shared/outcomes.py builds; they are validated here, where they are stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.models import Run, TaskOutcome, TaskState
from shared.outcomes import MAX_MESSAGE, run_status
from shared.runs import settle_stopped
from shared.store import Store
from shared.store.run_lock import Standing
from shared.sync.state_binding import joined


def finish_run(
    store: Store, run_id: str, project: str, tasks: list[dict[str, Any]], planned: int, message: str | None,
    now: datetime, states: Sequence[dict[str, Any]] = (),
) -> str:
    """End the run as far as it still holds its project's run lock; return the status it now has.

    Holding the lock: save where the finished tasks' incremental reads resume (`states`:
    `{"task", "leg", "state"}`, bound to their connections by the extract steps), record the
    outcome, release the lock, delete the staged pages. Told to stop: record the tasks'
    counts and leave the rest to `settle_stopped`, which ends the run as Terminated once none
    of its steps can still write. Not holding the lock (an orchestration rewound or restarted
    under an old run id): change nothing.
    """
    standing = store.run_lock.standing(project, run_id)
    if standing is Standing.NONE:
        return store.runs.get(run_id).status.value
    outcomes = [TaskOutcome.model_validate(task) for task in tasks]
    status = run_status(tasks, planned, message)

    def record(run: Run) -> bool:
        if not run.status.active:
            return False
        run.tasks, run.lastUpdatedTime = outcomes, now
        if standing is Standing.HOLDS:
            run.status = status
            # notices the steps left (a saved state discarded) stay beside the run's own message
            run.message = (joined(message, run.message) or "")[:MAX_MESSAGE] or None
        return True

    if standing is Standing.STOPPING:
        store.runs.change(run_id, record)
        settle_stopped(store, project, run_id, now)
        return store.runs.get(run_id).status.value
    try:
        for saved in states:
            store.task_state.save(TaskState(project=project, task=saved["task"], leg=saved["leg"],
                                            state=saved["state"], runId=run_id, savedAt=now))
        store.runs.change(run_id, record)
    finally:
        store.run_lock.release(project, run_id)
    store.staging.delete_run(run_id)
    return status.value


def record_task(store: Store, run_id: str, index: int, task: dict[str, Any], now: datetime) -> None:
    """Put the outcome of task `index` (from 0) on the run's record while the run goes on.

    Watchers read every finished task's counts from the record, also when the run is
    terminated before it finishes. A final record is left alone, and recording the same
    task again replaces its outcome, so a repeated step changes nothing.
    """
    outcome = TaskOutcome.model_validate(task)

    def record(run: Run) -> bool:
        if not run.status.active or index > len(run.tasks):
            return False
        run.tasks[index:index + 1] = [outcome]
        run.lastUpdatedTime = now
        return True

    store.runs.change(run_id, record)
