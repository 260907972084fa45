"""Two-way conflicts: listed per run and per project, settled by a person, applied by the next run."""

from __future__ import annotations

import re

import azure.functions as func

from api.blueprint import blueprint
from api.links import conflict_resolve_link
from api.parsing import OPERATOR, object_body, path_name, require
from api.problems import answers_problems
from api.responses import json_response, store, utc_now
from shared.errors import InvalidInput
from shared.models import Conflict, ConflictResolution, ConflictState

STATES: dict[str, ConflictState] = {"open": "open", "resolved": "resolved"}
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@blueprint.route(route="runs/{runId}/conflicts", methods=["GET"])
@answers_problems
def list_run_conflicts(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    run = store().runs.get(path_name(req, "runId"))
    page = store().conflicts.list_run(run.projectId, run.runId, _after(req))
    return _page(req, run.projectId, *page)


@blueprint.route(route="projects/{id}/conflicts", methods=["GET"])
@answers_problems
def list_project_conflicts(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    project_id = path_name(req, "id")
    state = STATES.get(req.params.get("state", "open"))
    if state is None:
        raise InvalidInput("state must be open or resolved", field="state")
    store().projects.etag(project_id)
    return _page(req, project_id, *store().conflicts.list_project(project_id, state, _after(req)))


@blueprint.route(route="projects/{id}/conflicts/{conflictId}/resolve", methods=["POST"])
@answers_problems
def resolve_conflict(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    project_id = path_name(req, "id")
    conflict_id = path_name(req, "conflictId")
    resolution = ConflictResolution.model_validate(object_body(req))
    store().projects.etag(project_id)
    conflict = store().conflicts.resolve(project_id, conflict_id, resolution, utc_now())
    return json_response(_view(req, project_id, conflict))


def _after(req: func.HttpRequest) -> str | None:
    """The conflict id a page continues after: what the previous page gave as its continuationToken."""
    token = req.params.get("continuationToken") or None
    if token is not None and _TOKEN.fullmatch(token) is None:
        raise InvalidInput("continuationToken is not one this API gave", field="continuationToken")
    return token


def _page(req: func.HttpRequest, project_id: str, conflicts: list[Conflict], after: str | None) -> func.HttpResponse:
    return json_response({"value": [_view(req, project_id, c) for c in conflicts], "continuationToken": after})


def _view(req: func.HttpRequest, project_id: str, conflict: Conflict) -> dict:
    """The conflict as API.md shows it (the pair's matching identity stays inside), with where to settle it."""
    body = conflict.model_dump(mode="json", exclude={"identity"})
    return {**body, "resolveUri": conflict_resolve_link(req, project_id, conflict.conflictId)}
