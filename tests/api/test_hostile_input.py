"""Hostile input over real HTTP on devhost: bodies too deep or too large, names that would inject, patterns
that would backtrack, odd query values and stored documents that no longer read. Each is a 4xx naming the
field (or a run that completes), with nothing stored."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import azure.functions as func
import pytest
import requests
from azure.data.tables import TableClient, UpdateMode

from api.problems import from_exception
from tests.orchestrators.conftest import CONSENT, create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account, accounts_project

TENANT = "8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11"


def nested(depth: int, bottom: Any = "x") -> Any:
    value = bottom
    for _ in range(depth):
        value = [value]
    return value


def refused(answer: requests.Response, field: str) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert field in [e["field"] for e in answer.json()["errors"]], answer.text


def project_names(twin) -> list[str]:
    listed = twin.api("GET", "projects")
    assert listed.status_code == 200, listed.text
    return [p["name"] for p in listed.json()]


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000, b"[" * 33 + b"]" * 33],
    ids=["past-the-recursion-limit", "objects-deep", "one-past-the-bound"],
)
def test_a_body_nested_too_deep_is_400_before_parsing(twin, raw: bytes) -> None:
    for method, path in (("POST", "projects"), ("PUT", "connections/deep"), ("PUT", "projects/deep")):
        answer = twin.api(method, path, data=raw, headers={"Content-Type": "application/json", "If-Match": '"x"'})
        refused(answer, "body")
    assert twin.api("GET", "connections/deep").status_code == 404


@pytest.mark.parametrize(
    "raw", [b"1" * 5_000, b'{"name": NaN}', b'{"name": -Infinity}'], ids=["long-integer", "nan", "infinity"]
)
def test_numbers_json_does_not_have_are_400(twin, raw: bytes) -> None:
    refused(twin.api("POST", "projects", data=raw, headers={"Content-Type": "application/json"}), "body")


def with_transform(name: str, transform: dict[str, Any]) -> dict[str, Any]:
    body = accounts_project(name)
    body["tasks"][0]["sourceToCds"][1]["transforms"] = [transform]
    return {**body, "consent": CONSENT}


AT = "tasks.0.sourceToCds.1.transforms.0"


@pytest.mark.parametrize(
    ("transform", "field"),
    [
        # past the body's depth bound: refused before the body is parsed
        ({"transformType": "Default", "defaultValue": nested(200)}, "body"),
        ({"transformType": "ValueMap", "valueMap": {"us": nested(200)}}, "body"),
        ({"transformType": "Conditional", "isEmpty": True, "then": nested(200)}, "body"),
        ({"transformType": "Conditional", "equals": "a", "then": "b", "else": nested(200)}, "body"),
        # within it, but past a value's own bound
        ({"transformType": "Default", "defaultValue": nested(20)}, f"{AT}.defaultValue"),
        ({"transformType": "ValueMap", "valueMap": {"us": nested(20)}}, f"{AT}.valueMap.us"),
        ({"transformType": "Conditional", "isEmpty": True, "then": nested(20)}, f"{AT}.then"),
        ({"transformType": "Conditional", "equals": "a", "then": "b", "else": nested(20)}, f"{AT}.else"),
        ({"transformType": "Replace", "pattern": "(a)\\1"}, f"{AT}.pattern"),
        ({"transformType": "Replace", "pattern": "a(?=b)"}, f"{AT}.pattern"),
        ({"transformType": "Replace", "pattern": "a" * 1_001}, f"{AT}.pattern"),
    ],
)
def test_values_nested_deep_and_patterns_re2_cannot_run_are_refused_on_save(twin, transform, field) -> None:
    refused(twin.api("POST", "projects", json=with_transform("p-refused", transform)), field)
    assert twin.api("GET", "projects/p-refused").status_code == 404
    assert "p-refused" not in project_names(twin)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("source", "entity"), "accounts?$top=1"),
        (("source", "entity"), "imports/accounts.csv"),
        (("destination", "entity"), "Customers.V3"),
        (("cds", "entity"), "accounts(00000000-0000-0000-0000-000000000001)"),
        (("destination", "entity"), "CustomersV3 HTTP/1.1\r\nHost: evil.example"),
        (("destination", "key", 1), "CustomerAccount eq 'x' or true"),
        (("sourceToCds", 1, "source"), "name,telephone1"),
        (("sourceToCds", 1, "target"), "name&$filter=true"),
        (("cdsToDestination", 0, "target"), "CustomerAccount/../x"),
    ],
)
def test_names_that_would_inject_are_refused_on_save(twin, path: tuple, value: str) -> None:
    body = {**accounts_project("p-inject"), "consent": CONSENT}
    node: Any = body["tasks"][0]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    refused(twin.api("POST", "projects", json=body), ".".join(["tasks", "0", *map(str, path)]))
    assert twin.api("GET", "projects/p-inject").status_code == 404


def test_bounds_on_counts_name_the_field(twin) -> None:
    body = {**accounts_project("p-counts"), "consent": CONSENT}
    too_many_tasks = copy.deepcopy(body)
    too_many_tasks["tasks"] = [{**body["tasks"][0], "name": f"task {n}"} for n in range(101)]
    refused(twin.api("POST", "projects", json=too_many_tasks), "tasks")
    long_text = copy.deepcopy(body)
    long_text["description"] = "x" * 100_001
    refused(twin.api("POST", "projects", json=long_text), "description")
    assert twin.api("GET", "projects/p-counts").status_code == 404


def test_a_backtracking_pattern_runs_to_the_end_of_a_crafted_value(clean) -> None:
    twin = clean
    crafted = "Account" + " " * 50_000 + "!"
    seed(twin, "sales", "accounts", [account(1), account(2, name=crafted)])
    body = accounts_project("p-redos")
    body["tasks"][0]["sourceToCds"][1]["transforms"] = [
        {"transformType": "Replace", "pattern": "(\\s*)+$", "replaceWith": ""},
        {"transformType": "Replace", "pattern": "\\s+", "replaceWith": " "},
    ]
    create_project(twin, body)
    run = sync_now(twin, "p-redos", mode="full")
    assert run["runtimeStatus"] == "Succeeded", run
    names = {r["accountnumber"]: r["name"] for r in twin.records("cds", "accounts")}
    assert names["A-00002"] == "Account !"


def test_an_unreadable_stored_project_does_not_take_down_the_list(twin) -> None:
    create_project(twin, accounts_project("p-readable"))
    create_project(twin, accounts_project("p-unreadable"))
    stored = {**accounts_project("p-unreadable"), "scheduleMode": "incremental"}
    stored["tasks"][0]["sourceToCds"][1]["transforms"] = [{"transformType": "Default", "defaultValue": nested(200)}]
    table = TableClient.from_connection_string(twin.storage, twin.table_prefix + "projects")
    with table:
        table.upsert_entity({"PartitionKey": "project", "RowKey": "p-unreadable", "Json0": json.dumps(stored)},
                            mode=UpdateMode.REPLACE)

    names = project_names(twin)
    assert "p-readable" in names and "p-unreadable" not in names
    unreadable = twin.api("GET", "projects/p-unreadable")
    assert unreadable.status_code == 409 and unreadable.json()["errors"][0]["field"] == "name"
    assert twin.api("DELETE", "projects/p-unreadable").status_code == 204
    assert twin.api("GET", "projects/p-unreadable").status_code == 404


@pytest.mark.parametrize("top", ["²", "٣", "1e2", "-1", "0", "501", "9" * 5_000, " 5", "\uff15"])
def test_odd_top_values_are_400(twin, top: str) -> None:
    if twin.api("GET", "projects/p-top").status_code == 404:
        create_project(twin, accounts_project("p-top"))
    refused(twin.api("GET", "projects/p-top/runs", params={"top": top}), "top")


@pytest.mark.parametrize(
    "tenant", ["t", "common/oauth2", "../evil.example", "contoso.com?x=1", "contoso.com#", "c\u00f6ntoso.com", "x" * 300]
)
def test_a_malformed_tenant_is_400_and_nothing_is_stored(twin, tenant: str) -> None:
    body = {"kind": "dataverse", "url": "https://sales.crm.dynamics.com",
            "auth": {"type": "clientSecret", "tenantId": tenant, "clientId": "c", "secretSetting": "SALES_SECRET"}}
    refused(twin.api("PUT", "connections/tenant-x", json=body), "auth.tenantId")
    assert twin.api("GET", "connections/tenant-x").status_code == 404


ODD = ["'", "a'b", "a%2Fb", "a%00b", "%E2%80%AE", "%F0%9F%98%80", "..", "x" * 300, "%22%3E%3C"]


@pytest.mark.parametrize("odd", ODD)
def test_odd_values_on_every_route_are_never_5xx(twin, odd: str) -> None:
    routes = [
        ("GET", f"connections/{odd}"), ("PUT", f"connections/{odd}"), ("DELETE", f"connections/{odd}"),
        ("GET", f"projects/{odd}"), ("PUT", f"projects/{odd}"), ("DELETE", f"projects/{odd}"),
        ("GET", f"projects/{odd}/consent"), ("POST", f"projects/{odd}/validate"),
        ("POST", f"projects/{odd}/runs"), ("GET", f"projects/{odd}/runs"), ("GET", f"runs/{odd}"),
        ("GET", f"runs/{odd}/errors"), ("POST", f"runs/{odd}/terminate"), ("GET", f"templates/{odd}"),
        ("GET", "projects?top=" + odd), ("GET", "runs/r1/errors?continuationToken=" + odd),
    ]
    for method, path in routes:
        answer = twin.api(method, path, data=json.dumps({odd: odd, "name": odd}).encode(),
                          headers={"Content-Type": "application/json", "If-Match": odd[:100]})
        assert answer.status_code < 500, (method, path, answer.status_code, answer.text)


ODD_BODIES: list[Any] = [
    [], "x", 1.5, {"": ""}, {"name": None}, {"tasks": "x"}, {"tasks": [None]}, {"tasks": [{"sourceToCds": [1]}]},
    {"consent": []}, {"consent": {"accepted": True, "acceptedBy": [1], "noticeVersion": {}}},
    {"template": ["accounts"]}, {"template": "accounts", "tasks": None, "connections": "x"},
    {"kind": "dataverse", "url": "https://" + "a" * 3_000, "auth": {"type": "managedIdentity"}},
    {"kind": "blob", "url": "https://x.example", "auth": None}, {"mode": "²"}, {"dryRun": "maybe"},
    {"name": "\u202eevil", "connections": {"source": "sales", "cds": "cds"}, "tasks": [{}]},
]


@pytest.mark.parametrize("body", ODD_BODIES, ids=lambda b: json.dumps(b)[:40])
def test_odd_bodies_on_every_route_that_takes_one_are_never_5xx(twin, body: Any) -> None:
    if twin.api("GET", "projects/p-odd").status_code == 404:
        create_project(twin, accounts_project("p-odd"))
    etag = twin.api("GET", "projects/p-odd").headers["ETag"]
    for method, path in (("POST", "projects"), ("PUT", "projects/p-odd"), ("PUT", "connections/odd"),
                         ("POST", "projects/p-odd/runs"), ("POST", "projects/p-odd/validate")):
        answer = twin.api(method, path, json=body, headers={"If-Match": etag})
        assert 400 <= answer.status_code < 500 or path.endswith("validate"), (method, path, answer.text)
        assert answer.status_code < 500, (method, path, answer.status_code, answer.text)
    assert twin.api("GET", "connections/odd").status_code == 404


def test_an_unexpected_error_is_logged_with_its_route_but_not_its_query(caplog: pytest.LogCaptureFixture) -> None:
    request = func.HttpRequest("GET", "https://app.example/api/projects/p1/runs?code=s3cr3t-key&top=5", body=b"")
    with caplog.at_level(logging.ERROR, logger="api.problems"):
        answer = from_exception(RuntimeError("boom"), request)
    assert answer.status_code == 500
    assert "GET https://app.example/api/projects/p1/runs" in caplog.text
    assert "s3cr3t-key" not in caplog.text and "s3cr3t-key" not in answer.get_body().decode()
