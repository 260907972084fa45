"""`/api/projects`: create with consent, read with ETags, customize with If-Match, delete."""

from __future__ import annotations

import azure.functions as func

from api.blueprint import blueprint
from api.parsing import ADMIN, OPERATOR, if_match, object_body, path_name, require
from api.problems import answers_problems
from api.responses import json_response, store, utc_now
from shared.connectors import connector_for
from shared.errors import InvalidInput
from shared.models import ProjectDefinition
from shared.projects import Projects
from shared.schedules import next_due
from shared.validation import connections_of
from shared.validation import validate_project as validate


def _view(definition: ProjectDefinition) -> dict:
    """The definition, plus when its schedule is next due."""
    body = definition.model_dump(mode="json", exclude_none=True)
    if definition.schedule:
        body["nextRun"] = next_due(definition.schedule, utc_now()).isoformat()
    return body


def _project_response(definition: ProjectDefinition, etag: str, status: int = 200) -> func.HttpResponse:
    return json_response(_view(definition), status, {"ETag": etag})


@blueprint.route(route="projects", methods=["POST"])
@answers_problems
def create_project(req: func.HttpRequest) -> func.HttpResponse:
    require(req, ADMIN)
    definition, etag = Projects(store(), connector_for).create(object_body(req), utc_now())
    return _project_response(definition, etag, 201)


@blueprint.route(route="projects", methods=["GET"])
@answers_problems
def list_projects(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    return json_response([_view(p) for p, _ in store().projects.list()])


@blueprint.route(route="projects/{id}", methods=["GET"])
@answers_problems
def get_project(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    return _project_response(*store().projects.get(path_name(req, "id")))


@blueprint.route(route="projects/{id}", methods=["PUT"])
@answers_problems
def replace_project(req: func.HttpRequest) -> func.HttpResponse:
    require(req, ADMIN)
    name = path_name(req, "id")
    etag = if_match(req)
    body = object_body(req)
    body.pop("nextRun", None)
    if body.get("name", name) != name:
        raise InvalidInput("a project cannot be renamed", field="name")
    return _project_response(*Projects(store(), connector_for).replace(name, body, etag, utc_now()))


@blueprint.route(route="projects/{id}", methods=["DELETE"])
@answers_problems
def delete_project(req: func.HttpRequest) -> func.HttpResponse:
    require(req, ADMIN)
    Projects(store()).delete(path_name(req, "id"))
    return func.HttpResponse(status_code=204)


@blueprint.route(route="projects/{id}/consent", methods=["GET"])
@answers_problems
def get_consent(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    name = path_name(req, "id")
    records = store().consents.list(name)
    if not records:
        store().projects.get(name)
    return json_response([r.model_dump(mode="json", by_alias=True) for r in records])


@blueprint.route(route="projects/{id}/validate", methods=["POST"])
@answers_problems
def validate_project(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    repo = store()
    project, _ = repo.projects.get(path_name(req, "id"))
    problems = validate(project, connections_of(repo, project), connector_for)
    return json_response({"ok": not problems, "problems": problems})
