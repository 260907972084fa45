"""Easy Auth fails closed: when it is on, a function key without a principal opens no route but health."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from typing import Any

import azure.functions as func
import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from api.parsing import ADMIN, OPERATOR
from devhost.client_binding import DurableUrls
from shared.settings import (
    EASY_AUTH_SETTING,
    REQUIRE_PRINCIPAL_SETTING,
    StorageSettings,
    principal_required,
    storage_settings,
)
from tests.api.conftest import Api
from tests.api.test_connections_and_projects import SALES, principal

ROUTE_PARAMETER = re.compile(r"{(\w+)}")
UNREACHABLE_CLIENT = DurableUrls("http://127.0.0.1:9", "hub", "system-key").client_binding()
"""A Durable client whose every call fails: no route may reach it before checking the caller."""
OPERATOR_ACTIONS = {"runs", "validate", "terminate", "resolve"}
"""The last path segment of the POST routes an Operator may call: start, validate and terminate runs, settle conflicts."""


def http_functions(functions: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """`(name, method, route, takes a Durable client)` of every HTTP-triggered function of the app."""
    found = []
    for name, function in functions.items():
        trigger = function.get_trigger()
        if trigger.type != "httpTrigger":
            continue
        takes_client = any(binding.type == "durableClient" for binding in function.get_bindings())
        for method in trigger.methods:
            found.append((name, str(getattr(method, "value", method)), trigger.route, takes_client))
    return found


def call(functions: dict[str, Any], name: str, method: str, route: str, takes_client: bool,
         headers: dict[str, str]) -> func.HttpResponse:
    values = {parameter: "x1" for parameter in ROUTE_PARAMETER.findall(route)}
    path = ROUTE_PARAMETER.sub("x1", route)
    request = func.HttpRequest(method, f"http://127.0.0.1:7071/api/{path}", headers=headers, route_params=values,
                               body=json.dumps(SALES).encode())
    arguments = {"client": UNREACHABLE_CLIENT} if takes_client else {}
    result = functions[name].get_user_function()(request, **arguments)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def stored(settings: StorageSettings) -> dict[str, list[Any]]:
    """Every entity and blob (with its ETag) in the tables and containers of these settings' prefix."""
    connection_string, prefix = settings.connection_string or "", settings.table_prefix
    found: dict[str, list[Any]] = {}
    with TableServiceClient.from_connection_string(connection_string) as tables:
        for table in tables.list_tables():
            if table.name.startswith(prefix):
                rows = tables.get_table_client(table.name).list_entities()
                found[f"table {table.name}"] = sorted(
                    (row["PartitionKey"], row["RowKey"], row.metadata["etag"]) for row in rows
                )
    with BlobServiceClient.from_connection_string(connection_string) as blobs:
        for container in blobs.list_containers(name_starts_with=prefix.lower()):
            listed = blobs.get_container_client(container.name).list_blobs()
            found[f"container {container.name}"] = sorted((blob.name, blob.etag) for blob in listed)
    return found


def operator_may(method: str, route: str) -> bool:
    """The API's rule for Operators: read anything, the run actions, and subscribe to runs (the connector's
    trigger tells what they may read); everything else is the Admin's."""
    return (method == "GET" or (method == "POST" and route.rsplit("/", 1)[-1] in OPERATOR_ACTIONS)
            or route.split("/", 1)[0] == "subscriptions")


@pytest.mark.parametrize(
    ("setting", "value"),
    [(EASY_AUTH_SETTING, "True"), (EASY_AUTH_SETTING, "true"), (EASY_AUTH_SETTING, "TRUE"),
     (REQUIRE_PRINCIPAL_SETTING, "true")],
)
def test_every_route_but_health_refuses_a_caller_without_a_principal(
    api: Api, functions: dict[str, Any], monkeypatch: pytest.MonkeyPatch, setting: str, value: str
) -> None:
    monkeypatch.setenv(setting, value)
    routes = http_functions(functions)
    assert {name for name, *_ in routes} >= {"put_connection", "create_project", "start_run", "terminate", "health"}
    before = stored(storage_settings())
    for name, method, route, takes_client in routes:
        answer = call(functions, name, method, route, takes_client, {"x-functions-key": "a valid key"})
        if name == "health":
            assert answer.status_code == 200, answer.get_body()
            continue
        assert answer.status_code == 401, (name, answer.get_body())
        assert stored(storage_settings()) == before, name
        assert answer.mimetype == "application/problem+json" and answer.headers["WWW-Authenticate"] == "Bearer"
        problem = json.loads(answer.get_body())
        assert problem["status"] == 401 and [e["field"] for e in problem["errors"]] == ["X-MS-CLIENT-PRINCIPAL"]
    monkeypatch.delenv(setting)
    assert api("get_connection", "GET", "connections/x1", route={"name": "x1"}).status == 404


def test_with_easy_auth_a_principal_still_needs_a_role(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EASY_AUTH_SETTING, "True")
    put = ("put_connection", "PUT", "connections/sales")
    assert api(*put, SALES, route={"name": "sales"}, headers=principal("Someone.Else")).status == 403
    assert api(*put, SALES, route={"name": "sales"}, headers=principal(OPERATOR)).status == 403
    assert api(*put, SALES, route={"name": "sales"}, headers=principal(ADMIN)).status == 201
    assert api("list_connections", "GET", "connections", headers=principal(OPERATOR)).status == 200


def test_every_route_answers_each_role_as_the_api_promises_and_a_refusal_writes_nothing(
    api: Api, functions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Admin may do all, Operator reads and acts on runs, a principal without either role gets 403; health is open.

    The routes come from the app itself, so a route added later is held to the same rule.
    """
    monkeypatch.setenv(REQUIRE_PRINCIPAL_SETTING, "true")
    storage = storage_settings()
    routes = http_functions(functions)
    assert {(name, operator_may(method, route)) for name, method, route, _ in routes} >= {
        ("start_run", True), ("validate_project", True), ("terminate", True), ("list_projects", True),
        ("put_connection", False), ("create_project", False), ("replace_project", False), ("delete_project", False),
    }
    callers = {"no role": principal("Someone.Else"), "Operator": principal(OPERATOR), "Admin": principal(ADMIN)}
    for name, method, route, takes_client in routes:
        for caller, headers in callers.items():
            before = stored(storage)
            answer = call(functions, name, method, route, takes_client, {"x-functions-key": "a valid key", **headers})
            allowed = name == "health" or caller == "Admin" or (caller == "Operator" and operator_may(method, route))
            if allowed:
                assert answer.status_code not in (401, 403), (name, caller, answer.get_body())
                continue
            assert answer.status_code == 403, (name, caller, answer.get_body())
            assert answer.mimetype == "application/problem+json", (name, caller)
            assert stored(storage) == before, (name, caller)


def test_without_easy_auth_the_function_key_alone_decides(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EASY_AUTH_SETTING, "False")
    monkeypatch.setenv(REQUIRE_PRINCIPAL_SETTING, "no")
    assert api("put_connection", "PUT", "connections/sales", SALES, route={"name": "sales"}).status == 201


@pytest.mark.parametrize(
    ("env", "required"),
    [({}, False), ({EASY_AUTH_SETTING: "False"}, False), ({EASY_AUTH_SETTING: " True "}, True),
     ({EASY_AUTH_SETTING: "tRuE"}, True), ({REQUIRE_PRINCIPAL_SETTING: "TRUE"}, True),
     ({REQUIRE_PRINCIPAL_SETTING: "1"}, False)],
)
def test_when_a_principal_is_required(env: dict[str, str], required: bool) -> None:
    assert principal_required(env) is required
