"""The connector definition (Swagger 2.0) built from the app's routes and shared/openapi/operations.py.

    connector_definition(routes, host="contoso-di.azurewebsites.net", base_path="/api", scheme="https")

Function-key security (`x-functions-key`) on every operation but the anonymous ones, and the
connector properties file that asks a maker for that key when they create a connection.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from shared.openapi.operation import Answer, Body, Operation, Param
from shared.openapi.operations import OPERATIONS, PROPERTIES
from shared.openapi.swagger_schema import REF_PREFIX, Models, definitions

TITLE = "Data Integration"
DESCRIPTION = (
    "Sync records between Dataverse, Dynamics 365 Sales and Finance & Operations: start runs, watch them, "
    "read their failed records, settle two-way conflicts, and trigger a flow when a run finishes."
)
VERSION = "1.0"
KEY_HEADER = "x-functions-key"
HEADERS = {
    "Location": {"type": "string", "description": "Where to follow the run (GET) until it answers 200."},
    "Retry-After": {"type": "integer", "description": "Seconds to wait before following Location."},
    "ETag": {"type": "string", "description": "The project's version, for If-Match."},
}
_PATH_PARAMETER = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    """One HTTP function of the app: its function name, route (without the prefix) and methods."""

    name: str
    path: str
    methods: tuple[str, ...]
    anonymous: bool = False


class UndescribedRoute(LookupError):
    """A route without an entry in shared/openapi/operations.py, or a path parameter without its words."""


def connector_definition(routes: list[Route], host: str, base_path: str, scheme: str) -> dict[str, Any]:
    """The Swagger 2.0 definition of `routes`, as a custom connector imports it."""
    refs, defs = definitions(_models())
    for (definition, name), extensions in PROPERTIES.items():
        defs[definition]["properties"][name].update(extensions)
    paths: dict[str, dict[str, Any]] = {}
    for route in sorted(routes, key=lambda r: (r.path, r.methods)):
        operation = OPERATIONS.get(route.name)
        if operation is None:
            raise UndescribedRoute(f"route function {route.name!r} has no entry in shared/openapi/operations.py")
        for method in route.methods:
            paths.setdefault(f"/{route.path}", {})[method.lower()] = _operation(route, operation, refs, defs)
    return {
        "swagger": "2.0",
        "info": {"title": TITLE, "description": DESCRIPTION, "version": VERSION},
        "host": host,
        "basePath": base_path,
        "schemes": [scheme],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {"apiKey": {"type": "apiKey", "in": "header", "name": KEY_HEADER}},
        "security": [{"apiKey": []}],
        "paths": paths,
        "definitions": defs,
    }


def api_properties() -> dict[str, Any]:
    """The custom connector's properties file: the connection asks for a function key, sent as `x-functions-key`."""
    return {
        "properties": {
            "connectionParameters": {
                "api_key": {
                    "type": "securestring",
                    "uiDefinition": {
                        "displayName": "Function key",
                        "description": "A function key of the Data Integration Function App (sent as x-functions-key)",
                        "tooltip": "Azure portal: the Function App, App keys, default (or a key of its own)",
                        "constraints": {"tabIndex": 2, "clearText": False, "required": "true"},
                    },
                }
            },
            "iconBrandColor": "#007ee5",
            "capabilities": [],
            "policyTemplateInstances": [],
        }
    }


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for operation in OPERATIONS.values():
        if operation.body is not None:
            found[(operation.body.model, "validation")] = None
        for answer in operation.answers.values():
            if answer.model is not None:
                found[(answer.model, "serialization")] = None
    return list(found)


def _operation(route: Route, operation: Operation, refs: Models, defs: dict[str, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": operation.description,
        "parameters": _parameters(route, operation, refs, defs),
        "responses": {str(status): _answer(answer, refs) for status, answer in sorted(operation.answers.items())},
    }
    if operation.produces != "application/json":
        described["produces"] = [operation.produces]
    if operation.visibility is not None:
        described["x-ms-visibility"] = operation.visibility
    if operation.trigger:
        described["x-ms-trigger"] = "single"
    if route.anonymous:
        described["security"] = []
    return described


def _parameters(route: Route, operation: Operation, refs: Models, defs: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name in _PATH_PARAMETER.findall(route.path):
        param = operation.params.get(name)
        if param is None:
            raise UndescribedRoute(f"path parameter {name!r} of {route.name!r} has no words in operations.py")
        found.append(_parameter(name, "path", param))
    found += [_parameter(name, "query", param) for name, param in operation.query.items()]
    found += [_parameter(name, "header", param) for name, param in operation.headers.items()]
    if operation.body is not None:
        found.append(_body(operation.body, refs, defs))
    return found


def _parameter(name: str, where: str, param: Param) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": name, "in": where, "required": where == "path" or param.required, "type": param.type,
        "description": param.description, "x-ms-summary": param.summary, "x-ms-visibility": param.visibility,
    }
    if param.default is not None:
        described["default"] = param.default
    if param.enum is not None:
        described["enum"] = list(param.enum)
    if param.example is not None:
        described["x-example"] = param.example
    if param.dropdown is not None:
        described["x-ms-dynamic-values"] = param.dropdown.extension()
    return described


def _body(body: Body, refs: Models, defs: dict[str, Any]) -> dict[str, Any]:
    """The body parameter: its model's definition written out in place, with the example a maker can start from."""
    schema = dict(defs[refs[(body.model, "validation")]["$ref"].removeprefix(REF_PREFIX)])
    if body.example is not None:
        schema["example"] = body.example
    return {
        "name": "body", "in": "body", "required": body.required, "schema": schema,
        "description": body.description, "x-ms-summary": body.summary, "x-ms-visibility": "important",
    }


def _answer(answer: Answer, refs: Models) -> dict[str, Any]:
    described: dict[str, Any] = {"description": answer.description}
    if answer.model is not None:
        ref = refs[(answer.model, "serialization")]
        described["schema"] = {"type": "array", "items": ref} if answer.many else ref
    if answer.headers:
        described["headers"] = {name: HEADERS[name] for name in answer.headers}
    return described
