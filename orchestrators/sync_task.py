"""`sync_task`: one task's legs in order, each a `sync_leg` sub-orchestration (orchestrators/sync_leg.py);
a two-way task (legs `sourceToCds` and `cdsToSource`) as one `sync_twoway` (orchestrators/sync_twoway.py).

Input: the run's input plus `{"task", "legs", "previousRunId", "batching"}`. Returns `{"legs":
[each leg's counts], "states": [{"leg", "state"}]}`: where the next incremental read of each
leg resumes, which `finish_run` saves (a dry run saves none). A leg's instance id is the
task's with `-leg{n}`, so a task replayed after a crash finds the legs it started, and every
instance of a run starts with the run's task prefix (terminate finds them all); a two-way task's
is the task's with `-twoway`.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from orchestrators.blueprint import blueprint
from orchestrators.sync_leg import TASK_FIELDS, new_leg
from orchestrators.sync_twoway import new_twoway
from shared.outcomes import TWO_WAY_LEGS


@blueprint.orchestration_trigger(context_name="context")
def sync_task(context: df.DurableOrchestrationContext) -> Any:
    job = context.get_input()
    step = {k: job[k] for k in TASK_FIELDS}
    if tuple(job["legs"]) == TWO_WAY_LEGS:
        result = yield context.call_sub_orchestrator(
            "sync_twoway", new_twoway(step, job["batching"]), f"{context.instance_id}-twoway")
        return result
    outcomes = []
    states = []
    for index, leg in enumerate(job["legs"]):
        result = yield context.call_sub_orchestrator(
            "sync_leg", new_leg(step, leg, job["batching"]), f"{context.instance_id}-leg{index}")
        outcomes.append(result["outcome"])
        if result["state"] is not None and not job["dryRun"]:
            states.append({"leg": leg, "state": result["state"]})
    return {"legs": outcomes, "states": states}
