"""`sync_project`: run a project's tasks strictly in order, then record the outcome and free the lock.

Input: `{"runId", "projectId", "mode", "dryRun"}`. Each task is a `sync_task`
sub-orchestration. A task error stops the tasks after it and fails the run; failed records
only make it a Warning. `finish_run` runs whatever happened, so the run lock is always freed;
it also saves where the next incremental read of each finished task's legs resumes.
When the run ends with a status the project asked to hear about, `notify_run` posts a
summary to its webhook; a notification that cannot be delivered never changes the outcome.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from orchestrators.blueprint import blueprint
from orchestrators.retry import NOTIFY_RETRY, STEP_RETRY
from shared.errors import failure_reason
from shared.sync.finish import task_outcome


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
        notify_on = plan["notifyOn"]
        if plan["problems"]:
            message = "the project failed its checks: " + "; ".join(_describe(p) for p in plan["problems"])
        planned = len(plan["tasks"])
        for index, task in enumerate(plan["tasks"]):
            context.set_custom_status(_progress(run, plan, index, done))
            child = {**run, "task": task["name"], "legs": task["legs"], "previousRunId": plan["previousRunId"]}
            try:
                result = yield context.call_sub_orchestrator("sync_task", child, f"{run['runId']}-task{index:03d}")
            except Exception as error:
                message = f"{task['name']}: {_reason(error)}"
                done.append(task_outcome(task["name"], [], _reason(error)).model_dump(mode="json"))
                break
            done.append(task_outcome(task["name"], result["legs"]).model_dump(mode="json"))
            states.extend({"task": task["name"], **saved} for saved in result["states"])
    except Exception as error:
        message = _reason(error)
    finished = {"runId": run["runId"], "projectId": run["projectId"], "tasks": done, "planned": planned,
                "message": message, "states": states}
    result = yield context.call_activity_with_retry("finish_run", STEP_RETRY, finished)
    context.set_custom_status({"runId": run["runId"], "status": result["status"], "tasks": _summary(done)})
    if result["status"] in notify_on:
        try:
            yield context.call_activity_with_retry("notify_run", NOTIFY_RETRY, {**run, "status": result["status"]})
        except Exception:
            context.set_custom_status({"runId": run["runId"], "status": result["status"], "tasks": _summary(done),
                                       "notification": "not delivered"})
    return {"status": result["status"], "tasks": _summary(done)}


def _progress(run: dict[str, Any], plan: dict[str, Any], index: int, done: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runId": run["runId"],
        "task": plan["tasks"][index]["name"],
        "taskNumber": index + 1,
        "taskCount": len(plan["tasks"]),
        "tasks": _summary(done),
    }


def _summary(done: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = ("name", "status", "read", "written", "skipped", "failed")
    return [{k: task[k] for k in fields} for task in done]


def _describe(problem: dict[str, Any]) -> str:
    return f"{problem['task']} {problem['leg'] or ''} {problem['field']}: {problem['message']}"


def _reason(error: Exception) -> str:
    return failure_reason(str(error))[:2000] or type(error).__name__
