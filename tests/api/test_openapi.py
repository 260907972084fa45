"""The connector definition: valid Swagger 2.0, the custom connector rules of FACTS.md one by one, every route of the
app described, the committed files current, and `GET /api/openapi.json` naming the caller's host."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator, validate

from api.openapi import app_routes
from api.openapi_files import CONNECTOR_DIR, connector_files
from shared.openapi import Route, UndescribedRoute, connector_definition, render
from shared.openapi.operation import Answer, Operation
from shared.openapi.operations import OPERATIONS
from tests.api.test_connections_and_projects import principal

HOST = "contoso-di.azurewebsites.net"
ALLOWED_EXTENSIONS = {"x-ms-summary", "x-ms-visibility", "x-ms-dynamic-values", "x-ms-trigger", "x-ms-notification-url"}
"""FACTS.md, "Power Automate / Logic Apps custom connectors": an unknown x-ms-* is refused."""
VISIBILITIES = {"important", "advanced", "internal"}
PASCAL_CASE = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*$")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return connector_definition(app_routes(), HOST, "/api", "https")


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def by_id(spec: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    return next(found for found in operations(spec) if found[2]["operationId"] == operation_id)


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (where, key, value) of a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from walk(value, f"{path}/{n}")


def schema_of(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return spec["definitions"][schema["$ref"].removeprefix("#/definitions/")] if "$ref" in schema else schema


def http_routes(functions: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(function, route, method) of every HTTP function the app indexes, as the Functions host loads them."""
    found = set()
    for name, function in functions.items():
        for binding in json.loads(function.get_function_json())["bindings"]:
            if binding["type"] == "httpTrigger":
                found |= {(name, binding["route"], method.upper()) for method in binding["methods"]}
    return found


def test_the_definition_is_valid_swagger_2(spec) -> None:
    validate(spec, cls=OpenAPIV2SpecValidator)
    assert spec["swagger"] == "2.0"


def test_the_definition_is_under_one_megabyte(spec) -> None:
    assert len(render(spec).encode()) < 1_000_000


def test_function_keys_secure_every_operation_but_the_anonymous_health_check(spec) -> None:
    assert spec["securityDefinitions"] == {"apiKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"}}
    assert spec["security"] == [{"apiKey": []}]
    unsecured = [operation["operationId"] for _, _, operation in operations(spec) if "security" in operation]
    assert unsecured == ["GetHealth"] and by_id(spec, "GetHealth")[2]["security"] == []


def test_operation_ids_are_pascal_case_and_unique(spec) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert [i for i in ids if not PASCAL_CASE.fullmatch(i) or "-" in i or "_" in i] == []
    assert len(ids) == len(set(ids))


def test_every_operation_has_a_summary_and_a_different_description(spec) -> None:
    for _, _, operation in operations(spec):
        assert operation["summary"].strip() and operation["description"].strip(), operation["operationId"]
        assert operation["summary"] != operation["description"], operation["operationId"]
        assert len(operation["summary"]) <= 80, operation["operationId"]


def test_every_parameter_has_x_ms_summary_and_a_visibility(spec) -> None:
    for _, _, operation in operations(spec):
        for parameter in operation["parameters"]:
            where = f"{operation['operationId']} {parameter['name']}"
            assert parameter.get("x-ms-summary", "").strip(), where
            assert parameter.get("x-ms-visibility") in VISIBILITIES, where
            assert parameter.get("description", "").strip(), where


def test_only_extensions_the_connector_platform_knows(spec) -> None:
    used = {key for _, key, _ in walk(spec) if key.startswith("x-ms-")}
    assert used <= ALLOWED_EXTENSIONS
    assert {"x-ms-summary", "x-ms-visibility", "x-ms-dynamic-values", "x-ms-trigger", "x-ms-notification-url"} <= used
    assert {value for _, key, value in walk(spec) if key == "x-ms-visibility"} <= VISIBILITIES


def test_an_internal_required_parameter_has_a_default(spec) -> None:
    for _, _, operation in operations(spec):
        for parameter in operation["parameters"]:
            if parameter["x-ms-visibility"] == "internal" and parameter["required"]:
                assert "default" in parameter, (operation["operationId"], parameter["name"])
    for name, definition in spec["definitions"].items():
        for field, prop in definition.get("properties", {}).items():
            # the platform fills a notification URL itself: the one internal required field without a default
            if prop.get("x-ms-visibility") == "internal" and not prop.get("x-ms-notification-url"):
                assert field not in definition.get("required", []) or "default" in prop, (name, field)


def test_dropdowns_point_at_operations_whose_answers_hold_the_value(spec) -> None:
    dropdowns = [value for _, key, value in walk(spec) if key == "x-ms-dynamic-values"]
    assert {d["operationId"] for d in dropdowns} == {"ListProjects", "ListTemplates", "ListConnections"}
    for dropdown in dropdowns:
        path, method, operation = by_id(spec, dropdown["operationId"])
        assert method == "get" and [p for p in operation["parameters"] if p["required"]] == [], path
        answer = operation["responses"]["200"]["schema"]
        assert answer["type"] == "array"
        item = schema_of(spec, answer["items"])
        assert {dropdown["value-path"], dropdown["value-title"]} <= set(item["properties"])


def test_project_template_and_run_mode_are_dropdowns(spec) -> None:
    _, _, start = by_id(spec, "StartRun")
    project = next(p for p in start["parameters"] if p["name"] == "id")
    assert project["x-ms-dynamic-values"]["operationId"] == "ListProjects"
    body = next(p for p in start["parameters"] if p["in"] == "body")
    mode = body["schema"]["properties"]["mode"]
    assert mode["enum"] == ["full", "incremental", "failedOnly"] and mode["default"] == "full"
    _, _, get_template = by_id(spec, "GetTemplate")
    assert get_template["parameters"][0]["x-ms-dynamic-values"]["operationId"] == "ListTemplates"
    _, _, create = by_id(spec, "CreateProject")
    template = next(p for p in create["parameters"] if p["in"] == "body")["schema"]["properties"]["template"]
    assert template["x-ms-dynamic-values"]["operationId"] == "ListTemplates"


def test_every_operation_defines_its_2xx_answers(spec) -> None:
    for _, _, operation in operations(spec):
        assert any(200 <= int(status) < 300 for status in operation["responses"]), operation["operationId"]


def test_sync_now_is_an_asynchronous_action(spec) -> None:
    path, method, start = by_id(spec, "StartRun")
    assert (path, method) == ("/projects/{id}/runs", "post")
    assert set(start["responses"]["202"]["headers"]) == {"Location", "Retry-After"}
    assert start["responses"]["200"]["schema"] == {"$ref": "#/definitions/RunView"}
    _, _, get_run = by_id(spec, "GetRun")
    assert set(get_run["responses"]["202"]["headers"]) == {"Location", "Retry-After"}


def test_when_a_run_finishes_is_a_webhook_trigger(spec) -> None:
    triggers = [(path, method, op) for path, method, op in operations(spec) if "x-ms-trigger" in op]
    assert [(path, method) for path, method, _ in triggers] == [("/subscriptions", "post")]
    trigger = triggers[0][2]
    assert trigger["x-ms-trigger"] == "single" and trigger["summary"] == "When a run finishes"
    body = next(p for p in trigger["parameters"] if p["in"] == "body")
    callback = body["schema"]["properties"]["callbackUrl"]
    assert callback["x-ms-notification-url"] is True and callback["x-ms-visibility"] == "internal"
    created = trigger["responses"]["201"]
    assert created["schema"] == {"$ref": "#/definitions/RunSummary"} and "Location" in created["headers"]
    assert "delete" in spec["paths"]["/subscriptions/{id}"]


def test_every_route_of_the_app_is_in_the_definition(spec, functions) -> None:
    described = {(path.removeprefix("/"), method.upper()) for path, method, _ in operations(spec)}
    indexed = http_routes(functions)
    assert described == {(route, method) for _, route, method in indexed}
    assert {(r.name, r.path, m) for r in app_routes() for m in r.methods} == indexed


def test_every_route_has_words_and_every_entry_names_a_route(functions) -> None:
    assert set(OPERATIONS) == {name for name, _, _ in http_routes(functions)}


def test_a_route_without_words_is_refused() -> None:
    with pytest.raises(UndescribedRoute, match="no_such_route"):
        connector_definition([Route("no_such_route", "nowhere", ("GET",))], HOST, "/api", "https")
    with pytest.raises(UndescribedRoute, match="'other'"):
        connector_definition([Route("get_run", "runs/{runId}/{other}", ("GET",))], HOST, "/api", "https")


def test_every_body_example_is_a_valid_body() -> None:
    for name, operation in OPERATIONS.items():
        if operation.body is not None:
            assert operation.body.example is not None, name
            operation.body.model.model_validate(operation.body.example)


def test_the_committed_connector_files_are_current() -> None:
    for name, text in connector_files().items():
        assert (CONNECTOR_DIR / name).read_text(encoding="utf-8") == text, f"connector/{name} is stale: make connector"
    properties = json.loads((CONNECTOR_DIR / "apiProperties.json").read_text(encoding="utf-8"))
    assert properties["properties"]["connectionParameters"]["api_key"]["type"] == "securestring"


def test_the_api_serves_the_definition_for_the_callers_host(api) -> None:
    answer = api("get_openapi", "GET", "openapi.json", params={"code": "a-function-key"})

    assert answer.status == 200
    assert (answer.body["host"], answer.body["basePath"], answer.body["schemes"]) == ("127.0.0.1:7071", "/api", ["http"])
    assert answer.body == json.loads(json.dumps(connector_definition(app_routes(), "127.0.0.1:7071", "/api", "http")))
    assert "a-function-key" not in json.dumps(answer.body)


def test_the_base_path_follows_the_route_prefix(api, monkeypatch) -> None:
    monkeypatch.setenv("AzureFunctionsJobHost__extensions__http__routePrefix", "di")

    assert api("get_openapi", "GET", "openapi.json").body["basePath"] == "/di"


def test_a_principal_without_a_role_does_not_get_the_definition(api) -> None:
    assert api("get_openapi", "GET", "openapi.json", headers=principal("Reader")).status == 403
    assert api("get_openapi", "GET", "openapi.json", headers=principal("DataIntegration.Operator")).status == 200


def test_a_page_says_it_answers_html(monkeypatch) -> None:
    page = Operation("GetPage", "Open a page", "An HTML page for people.", {200: Answer("The page.")},
                     visibility="internal", produces="text/html")
    monkeypatch.setitem(OPERATIONS, "page", page)

    spec = connector_definition([Route("page", "page", ("GET",))], HOST, "/api", "https")

    assert spec["paths"]["/page"]["get"]["produces"] == ["text/html"]
    validate(spec, cls=OpenAPIV2SpecValidator)
