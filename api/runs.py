"""Runs: Sync Now, the asynchronous polling pattern, the history, the error records, terminate."""

from __future__ import annotations

import asyncio
import base64

import azure.durable_functions as df
import azure.functions as func
from pydantic import ValidationError

from api.blueprint import blueprint
from api.links import run_errors_link, run_link
from api.parsing import OPERATOR, json_body, path_name, require
from api.problems import answers_problems
from api.responses import json_response, store, utc_now
from api.starting import start
from shared.errors import InvalidInput
from shared.models import Run
from shared.run_ids import task_instance_id, task_instance_prefix
from shared.runs import (
    ErrorFilter,
    ErrorPageToken,
    RunRequest,
    error_page,
    live_legs,
    observed_status,
    run_view,
    settle_stopped,
)
from shared.store import Store

RETRY_AFTER_S = "2"
STOP_REASON = "terminated over the API"
_GOING = (df.OrchestrationRuntimeStatus.Pending, df.OrchestrationRuntimeStatus.Running,
          df.OrchestrationRuntimeStatus.Suspended)
ERRORS_PER_PAGE = 100
MAX_HISTORY = 500


@blueprint.route(route="projects/{id}/runs", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
@answers_problems
async def start_run(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    require(req, OPERATOR)
    project_id = path_name(req, "id")
    body = json_body(req, optional=True)
    if body is not None and not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    request = RunRequest.model_validate(body or {})
    run = await start(client, store(), project_id, request)
    # only the status endpoint: the other management URLs carry the task hub's system key
    status_uri = client.get_client_response_links(req, run.runId)["statusQueryGetUri"]
    payload = {"id": run.runId, "runId": run.runId, "statusQueryGetUri": status_uri}
    return json_response(payload, 202, {"Location": run_link(req, run.runId), "Retry-After": RETRY_AFTER_S})


@blueprint.route(route="runs/{runId}", methods=["GET"])
@blueprint.durable_client_input(client_name="client")
@answers_problems
async def get_run(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    require(req, OPERATOR)
    run_id = path_name(req, "runId")
    run = await asyncio.to_thread(store().runs.get, run_id)
    durable = await client.get_status(run_id)
    runtime = durable.runtime_status.name if durable and durable.runtime_status else None
    run, status = await asyncio.to_thread(observed_status, store(), run, runtime, utc_now())
    body = run_view(run, status, durable.custom_status if durable else None, run_errors_link(req, run_id))
    if status.active:
        # tasks run one after another: only the first one the run has no outcome for is going
        going = await client.get_status_by(instance_id_prefix=task_instance_id(run_id, len(run.tasks)))
        body["liveLegs"] = live_legs(run_id, [(t.instance_id, t.custom_status) for t in going], len(run.tasks))
        return json_response(body, 202, {"Location": run_link(req, run_id), "Retry-After": RETRY_AFTER_S})
    return json_response(body, 200)


@blueprint.route(route="projects/{id}/runs", methods=["GET"])
@answers_problems
def list_runs(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    project_id = path_name(req, "id")
    top = _top(req.params.get("top", "50"))
    repo = store()
    repo.projects.get(project_id)
    runs = repo.runs.list(project_id, top=top)
    return json_response([run_view(r, r.status, None, run_errors_link(req, r.runId)) for r in runs])


@blueprint.route(route="runs/{runId}/errors", methods=["GET"])
@answers_problems
def list_errors(req: func.HttpRequest) -> func.HttpResponse:
    """A page of a run's error records, narrowed by the optional `task`, `leg`, `field` and `code` parameters."""
    require(req, OPERATOR)
    run_id = path_name(req, "runId")
    token = _read_token(req.params.get("continuationToken"))
    wanted = ErrorFilter.of(req.params)
    repo = store()
    repo.runs.get(run_id)
    records, following = error_page(repo, run_id, token, ERRORS_PER_PAGE, wanted)
    body = {"value": records, "continuationToken": _write_token(following) if following else None}
    return json_response(body)


@blueprint.route(route="runs/{runId}/terminate", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
@answers_problems
async def terminate(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    require(req, OPERATOR)
    run_id = path_name(req, "runId")
    repo = store()
    run = await asyncio.to_thread(repo.runs.get, run_id)
    status = run.status.value
    if run.status.active:
        status = "Terminated" if await _stop(client, repo, run) else "Terminating"
    return json_response({"runId": run_id, "status": status}, 202, {"Location": run_link(req, run_id)})


async def _stop(client: df.DurableOrchestrationClient, repo: Store, run: Run) -> bool:
    """Stop the whole run (shared/runs.py): the stop mark first, then every orchestration of the run still
    going, then a first try at settling; whether the run has ended already."""
    await asyncio.to_thread(repo.run_lock.stop, run.projectId, run.runId)
    parent = await client.get_status(run.runId)
    if parent.runtime_status in _GOING:
        await client.terminate(run.runId, STOP_REASON)
    tasks = await client.get_status_by(runtime_status=list(_GOING), instance_id_prefix=task_instance_prefix(run.runId))
    for task in tasks:
        await client.terminate(task.instance_id, STOP_REASON)
    return await asyncio.to_thread(settle_stopped, repo, run.projectId, run.runId, utc_now())


def _top(text: str) -> int:
    """`top` as a number of runs; InvalidInput unless it is written in ASCII digits and in range."""
    # str.isdigit takes "²" and other digits int() refuses, and int() refuses more than 4,300 digits
    digits = text.lstrip("0") or "0"
    if not (text.isascii() and text.isdigit() and len(digits) <= len(str(MAX_HISTORY))) or not (
        1 <= int(digits) <= MAX_HISTORY
    ):
        raise InvalidInput(f"top must be a whole number from 1 to {MAX_HISTORY}", field="top")
    return int(digits)


def _read_token(text: str | None) -> ErrorPageToken:
    if not text:
        return ErrorPageToken(page=0, offset=0)
    try:
        return ErrorPageToken.model_validate_json(base64.urlsafe_b64decode(text.encode() + b"=="))
    except (ValueError, ValidationError) as exc:
        raise InvalidInput("continuationToken is not one this API gave", field="continuationToken") from exc


def _write_token(token: ErrorPageToken) -> str:
    return base64.urlsafe_b64encode(token.model_dump_json().encode()).decode().rstrip("=")
