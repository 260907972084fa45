"""`sync_leg` and its windows (`load_pages`): one leg of a task, in histories of bounded size.

A leg (source -> CDS, or CDS -> destination) goes through three phases, each only once the
one before has ended, so a leg's duplicates are resolved before any of its pages load:

1. **extract**: `extract_chunk` steps one after another, each staging a bounded number of
   pages and saying where the next one resumes;
2. **resolve**: when the leg took several extract steps, one `resolve_bucket` step per hash
   bucket of keys, in parallel (a leg read in one step resolved its duplicates in it);
3. **load**: `load_pages` sub-orchestrations in parallel, one per window of pages, each
   fanning out one `load_page` step per page.

A generation of `sync_leg` schedules at most CALLS_PER_GENERATION steps or windows, then
continues as new carrying its `cursor` (the phase, where it stands in it, the counts so far),
and a window holds a bounded number of pages: no instance's history grows with the number of
records (shared/sync/batching.py). Window instance ids derive from the leg's and the first
page's, so a generation replayed after a crash finds the windows it started. Only page
numbers, counts and the small incremental state cross, never records. A step of a run told
to stop comes back as an error (shared/sync/fence.py), so the leg ends at its next step.

Input: the task's step fields plus `{"leg", "batching", "cursor"}` (`new_leg` builds it).
Returns `{"outcome": the leg's counts, "state": where its next incremental read resumes}`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import azure.durable_functions as df

from orchestrators.blueprint import blueprint
from orchestrators.progress import leg_progress
from orchestrators.retry import STEP_RETRY
from shared.errors import StepFailed
from shared.outcomes import COUNTS, leg_outcome
from shared.sync.batching import CALLS_PER_GENERATION

TASK_FIELDS = ("runId", "projectId", "task", "mode", "dryRun", "previousRunId")
"""What every step of a task's run is told."""
STEP_FIELDS = (*TASK_FIELDS, "leg")
EXTRACT, RESOLVE, LOAD, DONE = "extract", "resolve", "load", "done"


def new_leg(step: dict[str, Any], leg: str, batching: dict[str, int]) -> dict[str, Any]:
    """The input of a leg's first generation."""
    cursor = {"phase": EXTRACT, "pages": 0, "resume": None, "state": None, "deleted": 0, "filtered": 0,
              "next": 0, "totals": dict.fromkeys(COUNTS, 0), "reasons": {}}
    return {**step, "leg": leg, "batching": batching, "cursor": cursor}


@blueprint.orchestration_trigger(context_name="context")
def sync_leg(context: df.DurableOrchestrationContext) -> Any:
    job = context.get_input()
    step = {k: job[k] for k in STEP_FIELDS}
    batching, cursor = job["batching"], job["cursor"]
    calls = 0
    while cursor["phase"] != DONE and calls < CALLS_PER_GENERATION:
        context.set_custom_status(leg_progress(job["task"], job["leg"], cursor["phase"], cursor["totals"],
                                               pages=cursor["pages"]))
        if cursor["phase"] == EXTRACT:
            chunk = yield context.call_activity_with_retry(
                "extract_chunk", STEP_RETRY,
                {**step, "resume": cursor["resume"], "firstPage": cursor["pages"] + 1, "batching": batching},
            )
            _stop_on_error(job["leg"], chunk)
            calls += 1
            cursor.update(pages=cursor["pages"] + chunk["pages"], deleted=cursor["deleted"] + chunk["deleted"],
                          filtered=cursor["filtered"] + chunk["filtered"], resume=chunk["next"],
                          state=chunk["state"])
            if chunk["next"] is None:
                several_steps = cursor["pages"] and not chunk["indexed"]
                cursor.update(phase=RESOLVE if several_steps else LOAD, next=0 if several_steps else 1)
        elif cursor["phase"] == RESOLVE:
            buckets = range(cursor["next"], min(batching["key_buckets"], cursor["next"] + CALLS_PER_GENERATION - calls))
            found = yield context.task_all([
                context.call_activity_with_retry("resolve_bucket", STEP_RETRY, {**step, "bucket": bucket})
                for bucket in buckets
            ])
            for result in found:
                _stop_on_error(job["leg"], result)
            calls += len(buckets)
            cursor["next"] = buckets.stop
            if cursor["next"] >= batching["key_buckets"]:
                cursor.update(phase=LOAD, next=1)
        else:
            windows = []
            first = cursor["next"]
            while first <= cursor["pages"] and calls + len(windows) < CALLS_PER_GENERATION:
                last = min(first + batching["pages_per_window"] - 1, cursor["pages"])
                windows.append(context.call_sub_orchestrator(
                    "load_pages", {**step, "first": first, "last": last}, f"{context.instance_id}-pages{first:07d}"))
                first = last + 1
            if windows:
                for counts in (yield context.task_all(windows)):
                    _add(cursor, counts)
            calls += len(windows)
            cursor["next"] = first
            if first > cursor["pages"]:
                cursor["phase"] = DONE
    if cursor["phase"] != DONE:
        context.continue_as_new({**job, "cursor": cursor})
        return None
    context.set_custom_status(leg_progress(job["task"], job["leg"], DONE, cursor["totals"], pages=cursor["pages"]))
    outcome = leg_outcome(job["leg"], cursor["totals"], cursor["reasons"], cursor["filtered"], cursor["deleted"])
    return {"outcome": outcome, "state": cursor["state"]}


@blueprint.orchestration_trigger(context_name="context")
def load_pages(context: df.DurableOrchestrationContext) -> Any:
    """Load pages `first` to `last` of a leg, one `load_page` step each, in parallel; return their counts summed."""
    window = context.get_input()
    step = {k: window[k] for k in STEP_FIELDS}
    loads = [context.call_activity_with_retry("load_page", STEP_RETRY, {**step, "page": page})
             for page in range(window["first"], window["last"] + 1)]
    summed: dict[str, Any] = {"totals": dict.fromkeys(COUNTS, 0), "reasons": {}}
    for result in (yield context.task_all(loads)):
        _stop_on_error(window["leg"], result)
        _add(summed, {**{k: result[k] for k in COUNTS}, "skippedReasons": result["skippedReasons"]})
    return {**summed["totals"], "skippedReasons": summed["reasons"]}


def _add(into: dict[str, Any], counts: dict[str, Any]) -> None:
    """Add a page's or a window's `counts` to the running `totals` and `reasons` of `into`."""
    into["totals"] = {k: into["totals"][k] + counts[k] for k in COUNTS}
    into["reasons"] = dict(Counter(into["reasons"]) + Counter(counts["skippedReasons"]))


def _stop_on_error(leg: str, result: dict[str, Any]) -> None:
    """A step that handed back an error (a retry cannot mend it) stops the leg, its task and the run."""
    if "error" in result:
        raise StepFailed(f"{leg}: {result['error']}")
