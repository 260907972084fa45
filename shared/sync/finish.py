"""The last step of a run: where incremental reads resume, its outcome on record, its lock free, its
staged pages gone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.models import Counts, LegOutcome, RunStatus, TaskOutcome, TaskState
from shared.store import Store

MAX_MESSAGE = 2000


def leg_status(outcome: Counts) -> RunStatus:
    """Succeeded; Warning when some records failed; Failed when records failed and none was written."""
    if outcome.failed == 0:
        return RunStatus.SUCCEEDED
    return RunStatus.FAILED if outcome.written == 0 else RunStatus.WARNING


def task_outcome(name: str, legs: list[dict[str, Any]], error: str | None = None) -> TaskOutcome:
    """A task's outcome from its legs' counts; a task error makes it Failed whatever the counts."""
    leg_outcomes = [LegOutcome.model_validate(leg) for leg in legs]
    task = TaskOutcome(
        name=name,
        legs=leg_outcomes,
        read=sum(leg.read for leg in leg_outcomes),
        written=sum(leg.written for leg in leg_outcomes),
        skipped=sum(leg.skipped for leg in leg_outcomes),
        failed=sum(leg.failed for leg in leg_outcomes),
    )
    statuses = [leg_status(leg) for leg in leg_outcomes]
    if error is not None or RunStatus.FAILED in statuses:
        task.status = RunStatus.FAILED
    elif RunStatus.WARNING in statuses:
        task.status = RunStatus.WARNING
    else:
        task.status = RunStatus.SUCCEEDED
    task.message = error[:MAX_MESSAGE] if error else None
    return task


def run_status(tasks: list[TaskOutcome], planned: int) -> RunStatus:
    if len(tasks) < planned or any(t.status == RunStatus.FAILED for t in tasks):
        return RunStatus.FAILED
    return RunStatus.WARNING if any(t.status == RunStatus.WARNING for t in tasks) else RunStatus.SUCCEEDED


def finish_run(
    store: Store, run_id: str, project: str, tasks: list[dict[str, Any]], planned: int, message: str | None,
    now: datetime, states: Sequence[dict[str, Any]] = (),
) -> str:
    """Save where the finished tasks' incremental reads resume (`states`: `{"task", "leg", "state"}`),
    record the outcome of the run, release the project's run lock, and delete the run's staged pages."""
    outcomes = [TaskOutcome.model_validate(task) for task in tasks]
    status = RunStatus.FAILED if message and not outcomes else run_status(outcomes, planned)
    try:
        for saved in states:
            store.task_state.save(TaskState(project=project, task=saved["task"], leg=saved["leg"],
                                            state=saved["state"], runId=run_id, savedAt=now))
        run = store.runs.get(run_id)
        run.status = status
        run.tasks = outcomes
        run.message = message[:MAX_MESSAGE] if message else None
        run.lastUpdatedTime = now
        store.runs.update(run)
    finally:
        store.run_lock.release(project, run_id)
    store.staging.delete_run(run_id)
    return status.value
