"""The steps of a run. Each takes and returns small JSON; the work happens in shared/sync/.

Per-record failures come back as data. Only transient errors (throttling that outlived the
connector's own retries, storage hiccups) are raised, for the orchestrator's retry policy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache, wraps
from typing import Any

from activities.blueprint import blueprint
from shared.budgets import within_step_budget
from shared.connectors import connector_for
from shared.errors import ConfigurationError, InputError
from shared.notify import notify
from shared.settings import StorageSettings, public_base_url, storage_settings
from shared.store import store_for
from shared.sync.batching import Batching
from shared.sync.begin import begin_run as begin
from shared.sync.dedupe import resolve_bucket as resolve
from shared.sync.extract import extract_chunk as extract
from shared.sync.fence import ensure_may_write, writing
from shared.sync.finish import finish_run as finish
from shared.sync.finish import record_task as record
from shared.sync.load import load_page as load
from shared.sync.workspace import Workspaces
from shared.telemetry import count_run


@lru_cache(maxsize=4)
def _workspaces(settings: StorageSettings) -> Workspaces:
    return Workspaces(store_for(settings), connector_for)


def workspaces() -> Workspaces:
    return _workspaces(storage_settings())


def _now() -> datetime:
    return datetime.now(UTC)


@blueprint.activity_trigger(input_name="step")
@within_step_budget
def begin_run(step: dict[str, Any]) -> dict[str, Any]:
    return begin(workspaces().store, step["runId"], step["projectId"], step["mode"], _now(), connector_for)


def errors_as_data(step: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A failure that a retry cannot mend (bad filter, missing entity, refused credentials) comes back as
    `{"error": ...}`, so the task fails at once instead of retrying; anything else is raised for a retry."""

    @wraps(step)
    def run(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return step(*args, **kwargs)
        except (InputError, ConfigurationError) as failure:
            return {"error": f"{type(failure).__name__}: {failure}"}

    return run


@blueprint.activity_trigger(input_name="step")
@errors_as_data
@within_step_budget
def extract_chunk(step: dict[str, Any]) -> dict[str, Any]:
    spaces = workspaces()
    ensure_may_write(spaces.store, step["projectId"], step["runId"])
    return extract(
        spaces.store, spaces.get(step["runId"]), step["task"], step["leg"], step["mode"],
        step.get("resume"), step["firstPage"], step.get("previousRunId"), Batching.from_json(step["batching"]),
    )


@blueprint.activity_trigger(input_name="step")
@errors_as_data
@within_step_budget
def resolve_bucket(step: dict[str, Any]) -> dict[str, Any]:
    """Find the superseded records among one bucket of a leg's keys."""
    spaces = workspaces()
    ensure_may_write(spaces.store, step["projectId"], step["runId"])
    return resolve(spaces.store, step["runId"], step["task"], step["leg"], step["bucket"])


@blueprint.activity_trigger(input_name="step")
@errors_as_data
@within_step_budget
def load_page(step: dict[str, Any]) -> dict[str, Any]:
    """Load one staged page; a real run writes it only inside the fence of its run (a dry run writes nothing)."""
    spaces = workspaces()
    if step["dryRun"]:
        return load(spaces.store, spaces.get(step["runId"]), step["task"], step["leg"], step["page"], True)
    with writing(spaces.store, step["projectId"], step["runId"], f"{step['task']} {step['leg']} page {step['page']}"):
        return load(spaces.store, spaces.get(step["runId"]), step["task"], step["leg"], step["page"], False)


@blueprint.activity_trigger(input_name="step")
def notify_run(step: dict[str, Any]) -> dict[str, Any]:
    store = workspaces().store
    project, _ = store.projects.get(step["projectId"])
    if project.notify is None:
        return {"sent": False}
    status = notify(store, step["runId"], project.notify.webhookSetting, public_base_url())
    return {"sent": True, "status": status}


@blueprint.activity_trigger(input_name="step")
def record_task(step: dict[str, Any]) -> dict[str, Any]:
    record(workspaces().store, step["runId"], step["index"], step["task"], _now())
    return {}


@blueprint.activity_trigger(input_name="step")
def finish_run(step: dict[str, Any]) -> dict[str, Any]:
    status = finish(
        workspaces().store, step["runId"], step["projectId"], step["tasks"], step["planned"], step.get("message"),
        _now(), step.get("states", []),
    )
    count_run(step["runId"], step["projectId"], status, step["tasks"])
    return {"status": status}
