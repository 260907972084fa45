"""The steps of a two-way task: small JSON in and out; the work happens in shared/twoway/.

They take the same decorators as a one-way run's steps (activities/sync.py): a failure a retry
cannot mend comes back as data, and each step keeps within the host's time budget.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from activities.blueprint import blueprint
from activities.sync import errors_as_data, workspaces
from shared.budgets import within_step_budget
from shared.sync.batching import Batching
from shared.sync.fence import ensure_may_write
from shared.twoway.extract import extract_side as extract
from shared.twoway.steps import merge_range as merge


@blueprint.activity_trigger(input_name="step")
@errors_as_data
@within_step_budget
def extract_side(step: dict[str, Any]) -> dict[str, Any]:
    """Stage one extract step of one side ("source" or "cds") of a two-way task."""
    spaces = workspaces()
    ensure_may_write(spaces.store, step["projectId"], step["runId"])
    return extract(spaces.store, spaces.get(step["runId"]), step["task"], step["side"], step["mode"],
                   step.get("resume"), step["step"], Batching.from_json(step["batching"]))


@blueprint.activity_trigger(input_name="step")
@errors_as_data
@within_step_budget
def merge_range(step: dict[str, Any]) -> dict[str, Any]:
    """Merge buckets `first` to `last` of a two-way task's pairs and write both ways (a dry run only counts)."""
    spaces = workspaces()
    return merge(spaces.store, spaces.get(step["runId"]), step["projectId"], step["task"], step["first"],
                 step["last"], step["batching"]["key_buckets"], step["mode"], step["dryRun"],
                 datetime.now(UTC).isoformat())
