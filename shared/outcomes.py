"""How a run's outcome follows from its counts: the rules in one place, pure, so orchestrators use them too.

    leg_outcome(leg, totals, reasons, filtered, deleted)   a leg's counts, as the JSON of `LegOutcome`
    two_way_leg_outcome(leg, totals, tombstones)            a two-way task's leg, with its conflicts and deletes
    task_outcome(name, legs, error)                         a task's counts and status, as the JSON of `TaskOutcome`
    run_status(tasks, planned, message)                     a run's final status from its tasks' outcomes

A leg succeeds when no record failed, warns when some failed and others were written, and
fails when records failed and none was written. A task fails when a leg failed or the task
stopped with an error, else warns when a leg warned or left conflicts open (a two-way task). A
run fails when a task failed, when fewer tasks ran than were planned, or when it stopped with a
message before any task ended; else it warns when a task warned.

The outcomes cross the activity boundary as the JSON built here, and are validated once, where
they are stored (shared/sync/finish.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.models import RunStatus

COUNTS = ("read", "written", "skipped", "failed")
"""What every outcome counts; read = written + skipped + failed."""
FILTERED = "filtered"
"""The skip reason of records the task's filter leaves out (counted by extraction, never staged)."""
TWO_WAY_LEGS = ("sourceToCds", "cdsToSource")
"""A two-way task's legs: the records each side read, counted on the direction they flow from."""
TWO_WAY_COUNTS = (*COUNTS, "conflicts", "deleted")
"""What a two-way leg counts besides: conflicts left open for a person, records it deleted on its target."""
MAX_MESSAGE = 2000
"""Characters of a failure message an outcome keeps."""


def leg_outcome(
    leg: str, totals: Mapping[str, int], reasons: Mapping[str, int], filtered: int, deleted: int
) -> dict[str, Any]:
    """A leg's outcome from the counts of its loaded pages, the records its filter left out and those the
    source says were deleted; the filtered records count as read and skipped."""
    counts, skipped_reasons = {k: totals[k] for k in COUNTS}, dict(reasons)
    if filtered:
        counts.update(read=counts["read"] + filtered, skipped=counts["skipped"] + filtered)
        skipped_reasons[FILTERED] = skipped_reasons.get(FILTERED, 0) + filtered
    return {**counts, "leg": leg, "skippedReasons": skipped_reasons, "deletedInSource": deleted}


def two_way_leg_outcome(leg: str, totals: Mapping[str, Any], tombstones: int) -> dict[str, Any]:
    """A two-way task's leg from its summed counts (`add_two_way`) and the deletions its side reported."""
    outcome = leg_outcome(leg, totals, totals["skippedReasons"], 0, tombstones)
    return {**outcome, "conflicts": totals["conflicts"], "deleted": totals["deleted"]}


def add_two_way(into: dict[str, Any], counts: Mapping[str, Any]) -> None:
    """Add a step's or a window's counts of one two-way leg to the running `into`."""
    for name in TWO_WAY_COUNTS:
        into[name] += counts[name]
    reasons = into["skippedReasons"]
    for reason, count in counts["skippedReasons"].items():
        reasons[reason] = reasons.get(reason, 0) + count


def leg_status(counts: Mapping[str, Any]) -> RunStatus:
    """Succeeded; Warning when some records failed; Failed when records failed and none was written."""
    if counts["failed"] == 0:
        return RunStatus.SUCCEEDED
    return RunStatus.FAILED if counts["written"] == 0 else RunStatus.WARNING


def task_outcome(name: str, legs: Sequence[Mapping[str, Any]], error: str | None = None) -> dict[str, Any]:
    """A task's outcome from its legs' outcomes; an `error` that stopped the task makes it Failed."""
    statuses = [leg_status(leg) for leg in legs]
    if error is not None or RunStatus.FAILED in statuses:
        status = RunStatus.FAILED
    elif RunStatus.WARNING in statuses or any(leg.get("conflicts") for leg in legs):
        status = RunStatus.WARNING
    else:
        status = RunStatus.SUCCEEDED
    return {**{k: sum(leg[k] for leg in legs) for k in COUNTS}, "name": name, "status": status.value,
            "legs": [dict(leg) for leg in legs], "message": error[:MAX_MESSAGE] if error else None}


def run_status(tasks: Sequence[Mapping[str, Any]], planned: int, message: str | None = None) -> RunStatus:
    """A run's final status from the outcomes of the tasks that ran, of `planned`, and what stopped it (if anything)."""
    if message and not tasks:
        return RunStatus.FAILED
    statuses = [RunStatus(task["status"]) for task in tasks]
    if len(tasks) < planned or RunStatus.FAILED in statuses:
        return RunStatus.FAILED
    return RunStatus.WARNING if RunStatus.WARNING in statuses else RunStatus.SUCCEEDED
