"""`GET /api/openapi.json`: this API as a Power Automate / Logic Apps custom connector (shared/openapi/).

The definition names the host and scheme the caller reached and the host's route prefix, so
a maker can import it from their own app's URL as it is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import azure.functions as func
from azure.functions.decorators.http import HttpTrigger

from api.blueprint import blueprint
from api.parsing import OPERATOR, require
from api.problems import answers_problems
from api.responses import json_response
from shared.openapi import Route, connector_definition
from shared.settings import route_prefix


@blueprint.route(route="openapi.json", methods=["GET"])
@answers_problems
def get_openapi(req: func.HttpRequest) -> func.HttpResponse:
    require(req, OPERATOR)
    called = urlsplit(req.url)
    return json_response(connector_definition(app_routes(), called.netloc, base_path(), called.scheme))


def base_path() -> str:
    """`/api`, or whatever the host's routePrefix makes it."""
    return "/" + route_prefix()


def app_routes() -> list[Route]:
    """The app's HTTP functions, as the Functions host indexes them: every route registers on the API blueprint.

    A function is built the way `FunctionApp.get_functions()` builds it, with the app's default
    auth level (function) where a route names none.
    """
    routes = []
    for builder in blueprint._function_builders:
        function = builder.build(func.AuthLevel.FUNCTION)
        trigger = function.get_trigger()
        if isinstance(trigger, HttpTrigger):
            methods = tuple(sorted(str(getattr(m, "value", m)).upper() for m in trigger.methods or ()))
            routes.append(Route(function.get_function_name(), str(trigger.route), methods,
                                trigger.auth_level == func.AuthLevel.ANONYMOUS))
    return routes
