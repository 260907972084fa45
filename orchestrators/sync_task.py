"""`sync_task`: one task's legs in order: extract and stage, find duplicates, fan out the loads.

Duplicates are found by their own step only when the leg took several extract steps; one
step finds them itself (`indexed`). Records the task's filter leaves out are counted by the
extract steps and reported as skipped (`filtered`).

Input: the run's input plus `{"task", "legs", "previousRunId"}`. Returns `{"legs": [each leg's
counts], "states": [{"leg", "state"}]}`: where the next incremental read of each leg resumes,
which `finish_run` saves (a dry run saves none). Only page numbers, counts and those small
states cross this orchestrator, never records. A step of a run told to stop comes back as
an error (the fence of shared/sync/fence.py), so the task ends at its next step.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import azure.durable_functions as df

from orchestrators.blueprint import blueprint
from orchestrators.progress import clip
from orchestrators.retry import STEP_RETRY

COUNTS = ("read", "written", "skipped", "failed")
FILTERED = "filtered"
"""The skip reason of records the task's filter leaves out (counted by extraction, never staged)."""


@blueprint.orchestration_trigger(context_name="context")
def sync_task(context: df.DurableOrchestrationContext) -> Any:
    job = context.get_input()
    step = {k: job[k] for k in ("runId", "projectId", "task", "mode", "dryRun", "previousRunId")}
    outcomes = []
    states = []
    for leg in job["legs"]:
        pages: list[int] = []
        resume = None
        deleted = filtered = 0
        state = None
        indexed = False
        while True:
            context.set_custom_status({"task": clip(job["task"]), "leg": leg, "stage": "extract", "pages": len(pages)})
            chunk = yield context.call_activity_with_retry(
                "extract_chunk", STEP_RETRY, {**step, "leg": leg, "resume": resume, "firstPage": len(pages) + 1}
            )
            _stop_on_error(leg, chunk)
            pages.extend(chunk["pages"])
            deleted += chunk["deleted"]
            filtered += chunk.get("filtered", 0)
            resume, state = chunk["next"], chunk["state"]
            indexed = chunk.get("indexed", False)
            if resume is None:
                break
        totals: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        if pages:
            if not indexed:
                yield context.call_activity_with_retry("find_duplicates", STEP_RETRY, {**step, "leg": leg})
            context.set_custom_status({"task": clip(job["task"]), "leg": leg, "stage": "load", "pages": len(pages)})
            loads = [context.call_activity_with_retry("load_page", STEP_RETRY, {**step, "leg": leg, "page": page})
                     for page in pages]
            for result in (yield context.task_all(loads)):
                _stop_on_error(leg, result)
                totals.update({k: result[k] for k in COUNTS})
                reasons.update(result["skippedReasons"])
        if filtered:
            totals.update(read=filtered, skipped=filtered)
            reasons[FILTERED] += filtered
        if state is not None and not job["dryRun"]:
            states.append({"leg": leg, "state": state})
        outcomes.append({"leg": leg, **{k: totals[k] for k in COUNTS}, "skippedReasons": dict(reasons),
                         "deletedInSource": deleted})
    return {"legs": outcomes, "states": states}


class TaskError(Exception):
    """A step failed in a way no retry mends: the task stops and the run fails."""


def _stop_on_error(leg: str, result: dict[str, Any]) -> None:
    if "error" in result:
        raise TaskError(f"{leg}: {result['error']}")
