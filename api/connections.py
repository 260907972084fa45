"""`/api/connections`: systems and how to reach them, with secret references only.

A saved connection keeps shared/connection_rules.py, and changing the systems of the projects
that use it needs their fresh consent, recorded before the connection is saved.
"""

from __future__ import annotations

import azure.functions as func

from api.blueprint import blueprint
from api.parsing import ADMIN, OPERATOR, object_body, path_name, require
from api.problems import answers_problems, problem
from api.responses import json_response, store, utc_now
from shared.connection_rules import connection_problems, unauthenticated_allowed
from shared.errors import Conflict
from shared.models import Connection, find_raw_secrets
from shared.projects import Projects


def _view(name: str, connection: Connection) -> dict:
    return {"name": name, **connection.model_dump(mode="json", exclude_none=True)}


@blueprint.route(route="connections/{name}", methods=["PUT"])
@answers_problems
def put_connection(req: func.HttpRequest) -> func.HttpResponse:
    require(req, ADMIN)
    name = path_name(req, "name")
    body = object_body(req)
    secrets = find_raw_secrets(body)
    if secrets:
        return problem(
            400, "Secrets are referenced, never stored",
            "give an app setting name (secretSetting) or a Key Vault secret URI (secretUri) instead",
            [{"field": path, "message": "a raw secret is not accepted"} for path in secrets],
        )
    consent_given = body.pop("consent", None)
    connection = Connection.model_validate(body)
    refused = connection_problems(connection, allow_unauthenticated=unauthenticated_allowed())
    if refused:
        return problem(
            400, "The connection could reach what it must not",
            f"{len(refused)} problem(s) in the connection", refused,
        )
    repo = store()
    for record in Projects(repo).reconnect(name, connection, consent_given, utc_now()):
        repo.consents.append(record)
    created = repo.connections.put(name, connection)
    return json_response(_view(name, connection), 201 if created else 200)


@blueprint.route(route="connections", methods=["GET"])
@answers_problems
def list_connections(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    return json_response([_view(name, c) for name, c in store().connections.list()])


@blueprint.route(route="connections/{name}", methods=["GET"])
@answers_problems
def get_connection(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    name = path_name(req, "name")
    return json_response(_view(name, store().connections.get(name)))


@blueprint.route(route="connections/{name}", methods=["DELETE"])
@answers_problems
def delete_connection(req: func.HttpRequest) -> func.HttpResponse:
    require(req, ADMIN)
    name = path_name(req, "name")
    repo = store()
    repo.connections.get(name)
    users = [p.name for p, _ in repo.projects.list() if name in p.systems()]
    if users:
        raise Conflict(f"connection {name!r} is used by project(s) {', '.join(users)}", field="name")
    repo.connections.delete(name)
    return func.HttpResponse(status_code=204)
