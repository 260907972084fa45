"""`/api/templates`: the project templates a user can start from."""

from __future__ import annotations

import azure.functions as func

from api.blueprint import blueprint
from api.parsing import OPERATOR, path_name, require
from api.problems import answers_problems
from api.responses import json_response
from shared.templates import template, templates


@blueprint.route(route="templates", methods=["GET"])
@answers_problems
def list_templates(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    return json_response(
        [
            {
                "name": t.name,
                "description": t.description,
                "tasks": [
                    {"name": task.name, "source": task.source.entity,
                     "destination": (task.destination or task.cds).entity,
                     **({"direction": task.direction} if task.bidirectional else {})}
                    for task in t.tasks
                ],
            }
            for t in templates()
        ]
    )


@blueprint.route(route="templates/{name}", methods=["GET"])
@answers_problems
def get_template(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    return json_response(template(path_name(req, "name")).model_dump(mode="json", exclude_none=True))
