"""`sync_twoway` and its windows (`merge_buckets`): one two-way task, in histories of bounded size.

A two-way task goes through three phases, each only once the one before has ended:

1. **source**, then 2. **cds**: `extract_side` steps one after another, each staging a bounded
   number of one side's records in the buckets of their pair identities and saying where the
   next one resumes (shared/twoway/extract.py);
3. **merge**: the buckets cut into ranges of consecutive buckets holding up to a few pages of
   staged records (`merge_ranges`, from the counts the extract steps staged in each bucket), then
   `merge_buckets` sub-orchestrations in parallel, one per window of ranges, each fanning out one
   `merge_range` step per range (shared/twoway/steps.py), which merges the range's pairs and
   writes both ways. A run that changed little merges in one step.

A generation schedules at most CALLS_PER_GENERATION steps or windows, then continues as new
carrying its `cursor` (the phase, where it stands, the counts so far), as `sync_leg` does.
Only counts and the small incremental states cross, never records.

Input: the task's step fields plus `{"batching", "cursor"}` (`new_twoway` builds it). Returns
`{"legs": [the sourceToCds and cdsToSource outcomes], "states": [{"leg", "state"}]}`.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from orchestrators.blueprint import blueprint
from orchestrators.progress import clip, leg_progress
from orchestrators.retry import STEP_RETRY
from orchestrators.sync_leg import TASK_FIELDS
from orchestrators.sync_leg import _stop_on_error as stop_on_error
from shared.outcomes import TWO_WAY_COUNTS, TWO_WAY_LEGS, add_two_way, two_way_leg_outcome
from shared.sync.batching import CALLS_PER_GENERATION, Batching, merge_ranges

SOURCE, CDS, MERGE, DONE = "source", "cds", "merge", "done"
OUTGOING = {SOURCE: TWO_WAY_LEGS[0], CDS: TWO_WAY_LEGS[1]}
"""The leg a side's records are counted on: the direction they flow from it."""


def new_twoway(step: dict[str, Any], batching: dict[str, int]) -> dict[str, Any]:
    """The input of a two-way task's first generation."""
    cursor = {"phase": SOURCE, "step": 1, "resume": None, "states": {}, "next": 0, "tombstones": {},
              "staged": [0] * batching["key_buckets"],
              "legs": {leg: {**dict.fromkeys(TWO_WAY_COUNTS, 0), "skippedReasons": {}} for leg in TWO_WAY_LEGS}}
    return {**step, "batching": batching, "cursor": cursor}


@blueprint.orchestration_trigger(context_name="context")
def sync_twoway(context: df.DurableOrchestrationContext) -> Any:
    job = context.get_input()
    step = {k: job[k] for k in TASK_FIELDS}
    batching, cursor = job["batching"], job["cursor"]
    calls = 0
    while cursor["phase"] != DONE and calls < CALLS_PER_GENERATION:
        context.set_custom_status(_progress(job["task"], cursor))
        if cursor["phase"] in (SOURCE, CDS):
            side = cursor["phase"]
            chunk = yield context.call_activity_with_retry(
                "extract_side", STEP_RETRY,
                {**step, "side": side, "resume": cursor["resume"], "step": cursor["step"], "batching": batching})
            stop_on_error(side, chunk)
            calls += 1
            add_two_way(cursor["legs"][OUTGOING[side]], {
                **dict.fromkeys(TWO_WAY_COUNTS, 0), "read": chunk["read"],
                "skipped": sum(chunk["skippedReasons"].values()), "skippedReasons": chunk["skippedReasons"]})
            cursor["tombstones"][side] = cursor["tombstones"].get(side, 0) + chunk["deleted"]
            cursor["staged"] = [held + more for held, more in zip(cursor["staged"], chunk["staged"], strict=True)]
            cursor.update(step=cursor["step"] + 1, resume=chunk["next"])
            if chunk["next"] is None:
                cursor["states"][side] = chunk["state"]
                cursor.update(phase=CDS if side == SOURCE else MERGE, step=1)
        else:
            ranges = merge_ranges(cursor["staged"], Batching.from_json(batching).merge_size)
            windows = []
            start = cursor["next"]
            while start < len(ranges) and calls + len(windows) < CALLS_PER_GENERATION:
                window = ranges[start : start + batching["pages_per_window"]]
                windows.append(context.call_sub_orchestrator(
                    "merge_buckets", {**step, "batching": batching, "ranges": window},
                    f"{context.instance_id}-buckets{window[0][0]:03d}"))
                start += len(window)
            for counts in (yield context.task_all(windows)):
                for leg in TWO_WAY_LEGS:
                    add_two_way(cursor["legs"][leg], counts[leg])
            calls += len(windows)
            cursor["next"] = start
            if start >= len(ranges):
                cursor["phase"] = DONE
    if cursor["phase"] != DONE:
        context.continue_as_new({**job, "cursor": cursor})
        return None
    context.set_custom_status(_progress(job["task"], cursor))
    legs = [two_way_leg_outcome(leg, cursor["legs"][leg], cursor["tombstones"].get(side, 0))
            for side, leg in OUTGOING.items()]
    states = [] if job["dryRun"] else [{"leg": OUTGOING[side], "state": state}
                                       for side, state in cursor["states"].items() if state is not None]
    return {"legs": legs, "states": states}


def _progress(task: str, cursor: dict[str, Any]) -> dict[str, Any]:
    """Where the task stands, and each direction's counts so far."""
    return {"task": clip(task), "stage": cursor["phase"], "step": cursor["step"], "next": cursor["next"],
            "legs": [leg_progress(task, leg, cursor["phase"], cursor["legs"][leg]) for leg in TWO_WAY_LEGS]}


@blueprint.orchestration_trigger(context_name="context")
def merge_buckets(context: df.DurableOrchestrationContext) -> Any:
    """Merge a window of a two-way task's bucket ranges, one `merge_range` step each, in parallel; return their
    counts summed per leg."""
    window = context.get_input()
    step = {k: window[k] for k in TASK_FIELDS}
    merges = [context.call_activity_with_retry("merge_range", STEP_RETRY,
                                               {**step, "first": first, "last": last, "batching": window["batching"]})
              for first, last in window["ranges"]]
    summed = {leg: {**dict.fromkeys(TWO_WAY_COUNTS, 0), "skippedReasons": {}} for leg in TWO_WAY_LEGS}
    for result in (yield context.task_all(merges)):
        stop_on_error("merge", result)
        for leg in TWO_WAY_LEGS:
            add_two_way(summed[leg], result[leg])
    return summed
