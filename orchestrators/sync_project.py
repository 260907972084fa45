"""`sync_project`: run a project's tasks strictly in order, then record the outcome and free the lock.

Input: `{"runId", "projectId", "mode", "dryRun"}`. The first step checks that the run holds
its project's run lock: an orchestration started or restarted under a run id that does not
hold it (or that was told to stop) ends there, having written nothing. Each task is a
`sync_task` sub-orchestration under `task_instance_id(runId, index)`, and its outcome
(shared/outcomes.py) goes on the run record as soon as it ends. A task error stops the tasks
after it and fails the run; failed records only make it a Warning. `finish_run` runs
whatever happened, so the run lock is freed; it also saves where the next incremental read
of each finished task's legs resumes. When the run ends with a status the project asked to
hear about, `notify_run` posts a summary to its webhook; a notification that cannot be
delivered never changes the outcome. Then every run subscription that asked for that status
(the connector's "When a run finishes" trigger) is called back, one after the other, and
never changes it either. Custom status is a bounded summary (orchestrators/progress.py).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import azure.durable_functions as df

from orchestrators.blueprint import blueprint
from orchestrators.progress import run_outcome, task_progress
from orchestrators.retry import NOTIFY_RETRY, STEP_RETRY
from shared.errors import failure_reason
from shared.outcomes import task_outcome
from shared.run_ids import task_instance_id

NOT_HELD = "NotHeld"
"""The outcome of an orchestration whose run id does not hold the project's run lock."""


@blueprint.orchestration_trigger(context_name="context")
def sync_project(context: df.DurableOrchestrationContext) -> Any:
    run = context.get_input()
    done: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    planned = 0
    message = None
    notify_on: list[str] = []
    try:
        plan = yield context.call_activity_with_retry("begin_run", STEP_RETRY, run)
        if not plan["held"]:
            outcome = {"runId": run["runId"], "status": NOT_HELD,
                       "reason": "this run id does not hold the project's run lock: nothing was done"}
            context.set_custom_status(outcome)
            return outcome
        notify_on = plan["notifyOn"]
        if plan["problems"]:
            message = "the project failed its checks: " + "; ".join(_describe(p) for p in plan["problems"])
        planned = len(plan["tasks"])
        for index, task in enumerate(plan["tasks"]):
            context.set_custom_status(task_progress(run["runId"], task["name"], index + 1, planned, done))
            child = {**run, "task": task["name"], "legs": task["legs"], "previousRunId": plan["previousRunId"],
                     "batching": plan["batching"]}
            error = None
            try:
                result = yield context.call_sub_orchestrator("sync_task", child, task_instance_id(run["runId"], index))
            except Exception as failure:
                error = _reason(failure)
                outcome = task_outcome(task["name"], [], error)
            else:
                outcome = task_outcome(task["name"], result["legs"])
                states.extend({"task": task["name"], **saved} for saved in result["states"])
            done.append(outcome)
            yield context.call_activity_with_retry(
                "record_task", STEP_RETRY, {"runId": run["runId"], "index": index, "task": outcome}
            )
            if error is not None:
                message = f"{task['name']}: {error}"
                break
    except Exception as error:
        message = _reason(error)
    finished = {"runId": run["runId"], "projectId": run["projectId"], "tasks": done, "planned": planned,
                "message": message, "states": states}
    result = yield context.call_activity_with_retry("finish_run", STEP_RETRY, finished)
    outcome = run_outcome(run["runId"], result["status"], done)
    context.set_custom_status(outcome)
    if result["status"] in notify_on:
        try:
            yield context.call_activity_with_retry("notify_run", NOTIFY_RETRY, {**run, "status": result["status"]})
        except Exception:
            context.set_custom_status({**outcome, "notification": "not delivered"})
    yield from _call_subscribers(context, {**run, "status": result["status"]})
    return outcome


def _call_subscribers(context: df.DurableOrchestrationContext, ended: dict[str, Any]) -> Any:
    """Call back, one by one, every subscription that asked for this run's end; none of them can fail the run."""
    try:
        found = yield context.call_activity_with_retry("find_subscribers", STEP_RETRY, ended)
    except Exception:
        return
    for subscription_id in found["ids"]:
        with suppress(Exception):
            yield context.call_activity_with_retry(
                "call_subscriber", NOTIFY_RETRY, {**ended, "subscriptionId": subscription_id}
            )


def _describe(problem: dict[str, Any]) -> str:
    return f"{problem['task']} {problem['leg'] or ''} {problem['field']}: {problem['message']}"


def _reason(error: Exception) -> str:
    return failure_reason(str(error))[:2000] or type(error).__name__
