"""Connections, templates and projects through the real HTTP functions, over a real Azurite."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

TENANT = "8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11"
SALES = {"kind": "dataverse", "url": "https://sales.crm.dynamics.com",
         "auth": {"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "secretSetting": "SALES_SECRET"}}
CDS = {"kind": "dataverse", "url": "https://cds.crm.dynamics.com", "auth": {"type": "managedIdentity"}}
OPS = {"kind": "finops", "url": "https://ops.operations.dynamics.com",
       "auth": {"type": "clientSecret", "tenantId": TENANT, "clientId": "c",
                "secretUri": "https://contoso-kv.vault.azure.net/secrets/ops"}}
CONSENT = {"accepted": True, "acceptedBy": "admin@contoso.com", "noticeVersion": "2026-01",
           "dataResidency": {"from": "EU", "to": "US"}}
PROJECT = {"name": "accounts-sync", "template": "accounts",
           "connections": {"source": "sales", "cds": "cds", "destination": "operations"},
           "companyCode": "USMF", "consent": CONSENT}


def principal(*roles: str) -> dict[str, str]:
    claims = [{"typ": "roles", "val": r} for r in roles]
    encoded = base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()
    return {"X-MS-CLIENT-PRINCIPAL": encoded}


@pytest.fixture
def connected(api):
    for name, body in (("sales", SALES), ("cds", CDS), ("operations", OPS)):
        assert api("put_connection", "PUT", f"connections/{name}", body, route={"name": name}).status == 201
    return api


def create(api, body: dict[str, Any], **kwargs):
    return api("create_project", "POST", "projects", body, **kwargs)


def test_connection_put_replace_get_list(api) -> None:
    assert api("put_connection", "PUT", "connections/sales", SALES, route={"name": "sales"}).status == 201
    again = api("put_connection", "PUT", "connections/sales", CDS, route={"name": "sales"})
    assert again.status == 200
    got = api("get_connection", "GET", "connections/sales", route={"name": "sales"})
    assert got.body == {"name": "sales", **CDS}
    assert [c["name"] for c in api("list_connections", "GET", "connections").body] == ["sales"]


@pytest.mark.parametrize(
    "auth",
    [
        {"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "clientSecret": "hunter2"},
        {"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "secretSetting": "S", "password": "p"},
    ],
)
def test_raw_secret_is_refused_and_nothing_is_stored(api, auth) -> None:
    answer = api("put_connection", "PUT", "connections/sales", {**SALES, "auth": auth}, route={"name": "sales"})
    assert answer.status == 400
    assert answer.mimetype == "application/problem+json"
    assert "hunter2" not in json.dumps(answer.body) and '"p"' not in json.dumps(answer.body)
    assert answer.body["errors"][0]["field"].startswith("auth.")
    assert api("get_connection", "GET", "connections/sales", route={"name": "sales"}).status == 404


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"kind": "dataverse", ', "body"),
        (b"\xff\xfe", "body"),
        (b"[1, 2]", "body"),
        (json.dumps({**SALES, "colour": "red"}).encode(), "colour"),
        (json.dumps({**SALES, "kind": "salesforce"}).encode(), "kind"),
    ],
)
def test_bad_connection_bodies_name_the_problem(api, raw: bytes, field: str) -> None:
    answer = api("put_connection", "PUT", "connections/sales", raw=raw, route={"name": "sales"})
    assert answer.status == 400, answer.body
    assert answer.body["status"] == 400 and answer.body["title"]
    assert field in [e["field"] for e in answer.body["errors"]]
    assert api("list_connections", "GET", "connections").body == []


@pytest.mark.parametrize("name", ["bad name", "a/b", "x' or PartitionKey ne '", "é", "x" * 65, ""])
def test_odd_names_in_paths_are_refused(api, name: str) -> None:
    answer = api("put_connection", "PUT", f"connections/{name}", SALES, route={"name": name})
    assert answer.status == 400
    assert answer.body["errors"][0]["field"] == "name"
    assert api("get_project", "GET", "projects/x", route={"id": name}).status == 400


def test_project_without_consent_is_refused_with_422_and_not_created(connected) -> None:
    no_consent = {k: v for k, v in PROJECT.items() if k != "consent"}
    answer = create(connected, no_consent)
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "consent"
    refused = create(connected, {**PROJECT, "consent": {**CONSENT, "accepted": False}})
    assert refused.status == 422
    assert connected("list_projects", "GET", "projects").body == []
    assert connected("get_consent", "GET", "projects/accounts-sync/consent", route={"id": "accounts-sync"}).status == 404


def test_project_from_template_with_consent(connected) -> None:
    answer = create(connected, PROJECT)
    assert answer.status == 201, answer.body
    assert answer.headers["ETag"]
    assert answer.body["tasks"][0]["name"] == "Accounts"
    assert answer.body["template"] == "accounts"
    got = connected("get_project", "GET", "projects/accounts-sync", route={"id": "accounts-sync"})
    assert got.body == answer.body and got.headers["ETag"] == answer.headers["ETag"]
    consent = connected("get_consent", "GET", "projects/accounts-sync/consent", route={"id": "accounts-sync"}).body
    assert len(consent) == 1
    assert consent[0]["acceptedBy"] == "admin@contoso.com"
    assert consent[0]["dataResidency"] == {"from": "EU", "to": "US"}
    assert consent[0]["systems"][0] == "source=sales (dataverse https://sales.crm.dynamics.com)"
    assert consent[0]["definitionHash"].startswith("sha256:")
    assert create(connected, PROJECT).status == 409


def test_project_errors_name_the_field_and_write_nothing(connected) -> None:
    cases = [
        ({**PROJECT, "connections": {"source": "nowhere", "cds": "cds"}}, "connections.destination"),
        ({**PROJECT, "connections": {**PROJECT["connections"], "source": "nowhere"}}, "connections.source"),
        ({**PROJECT, "template": "no-such-template"}, "template"),
        ({**PROJECT, "colour": "red"}, "colour"),
        ({**PROJECT, "name": "bad name"}, "name"),
        ({**PROJECT, "tasks": []}, "body"),
    ]
    for body, field in cases:
        answer = create(connected, body)
        assert answer.status in (400, 404), answer.body
        fields = [e["field"] for e in answer.body["errors"]]
        assert any(field in f for f in fields) or field == "body", (field, answer.body)
    assert connected("list_projects", "GET", "projects").body == []


def test_project_with_own_tasks_unicode_and_large_value_map(connected) -> None:
    task = copy.deepcopy(connected("get_template", "GET", "templates/accounts", route={"name": "accounts"}).body["tasks"][0])
    task["name"] = "Comptes clients ✓ 😀"
    big_map = {f"land {i} \u00e9 “{i}”": f"C{i}" for i in range(3_000)}
    country = next(i for i, m in enumerate(task["sourceToCds"]) if m["target"] == "address1_country")
    task["sourceToCds"][country]["transforms"][0]["valueMap"] = big_map
    body = {**PROJECT, "template": None, "tasks": [task], "description": "Ünïcødé"}
    del body["template"]
    answer = create(connected, body)
    assert answer.status == 201, answer.body
    got = connected("get_project", "GET", "projects/accounts-sync", route={"id": "accounts-sync"}).body
    assert got["tasks"][0]["name"] == "Comptes clients ✓ 😀"
    assert got["tasks"][0]["sourceToCds"][country]["transforms"][0]["valueMap"] == big_map


def test_put_with_stale_etag_is_412_and_changes_nothing(connected) -> None:
    created = create(connected, PROJECT)
    etag = created.headers["ETag"]
    changed = {k: v for k, v in created.body.items()}
    changed["description"] = "first change"
    first = connected("replace_project", "PUT", "projects/accounts-sync", changed,
                      route={"id": "accounts-sync"}, headers={"If-Match": etag})
    assert first.status == 200 and first.headers["ETag"] != etag
    changed["description"] = "second change from a stale copy"
    stale = connected("replace_project", "PUT", "projects/accounts-sync", changed,
                      route={"id": "accounts-sync"}, headers={"If-Match": etag})
    assert stale.status == 412
    got = connected("get_project", "GET", "projects/accounts-sync", route={"id": "accounts-sync"}).body
    assert got["description"] == "first change"
    no_etag = connected("replace_project", "PUT", "projects/accounts-sync", changed, route={"id": "accounts-sync"})
    assert no_etag.status == 400 and no_etag.body["errors"][0]["field"] == "If-Match"


def test_changing_systems_needs_fresh_consent(connected) -> None:
    created = create(connected, PROJECT)
    reversed_flow = dict(created.body)
    reversed_flow["connections"] = {"source": "operations", "cds": "cds", "destination": "sales"}
    route, headers = {"id": "accounts-sync"}, {"If-Match": created.headers["ETag"]}
    refused = connected("replace_project", "PUT", "projects/accounts-sync", reversed_flow, route=route, headers=headers)
    assert refused.status == 422
    with_consent = connected("replace_project", "PUT", "projects/accounts-sync", {**reversed_flow, "consent": CONSENT},
                             route=route, headers=headers)
    assert with_consent.status == 200, with_consent.body
    consents = connected("get_consent", "GET", "projects/accounts-sync/consent", route=route).body
    assert len(consents) == 2
    assert consents[1]["systems"][0].startswith("source=operations")


def test_delete_project_keeps_consent_and_frees_connections(connected) -> None:
    create(connected, PROJECT)
    in_use = connected("delete_connection", "DELETE", "connections/sales", route={"name": "sales"})
    assert in_use.status == 409
    assert connected("delete_project", "DELETE", "projects/accounts-sync", route={"id": "accounts-sync"}).status == 204
    assert connected("get_project", "GET", "projects/accounts-sync", route={"id": "accounts-sync"}).status == 404
    consent = connected("get_consent", "GET", "projects/accounts-sync/consent", route={"id": "accounts-sync"})
    assert consent.status == 200 and len(consent.body) == 1
    assert connected("delete_connection", "DELETE", "connections/sales", route={"name": "sales"}).status == 204


def test_roles_from_easy_auth(connected) -> None:
    operator = principal("DataIntegration.Operator")
    assert create(connected, PROJECT, headers=operator).status == 403
    assert connected("list_projects", "GET", "projects", headers=operator).status == 200
    assert connected("list_projects", "GET", "projects", headers=principal("Someone.Else")).status == 403
    assert create(connected, PROJECT, headers=principal("DataIntegration.Admin")).status == 201


def test_templates_are_listed_with_their_tasks(api) -> None:
    listed = api("list_templates", "GET", "templates").body
    accounts = next(t for t in listed if t["name"] == "accounts")
    assert accounts["tasks"] == [{"name": "Accounts", "source": "accounts", "destination": "CustomersV3"}]
    assert api("get_template", "GET", "templates/nope", route={"name": "nope"}).status == 404


@pytest.mark.parametrize(
    "sent",
    ['"stale-etag"', "garbage", "*x", "*", 'W/"datetime\'2020-01-01T00%3A00%3A00.0000000Z\'"', "W/", '""', "\u00e9"],
)
def test_put_with_an_etag_this_service_did_not_issue_is_412_and_changes_nothing(connected, sent: str) -> None:
    created = create(connected, PROJECT)
    changed = {**created.body, "description": "never saved"}
    answer = connected("replace_project", "PUT", "projects/accounts-sync", changed,
                       route={"id": "accounts-sync"}, headers={"If-Match": sent})
    assert answer.status == 412, answer.body
    assert answer.mimetype == "application/problem+json"
    assert answer.body["errors"] == [{"field": "If-Match", "message": answer.body["detail"]}]
    got = connected("get_project", "GET", "projects/accounts-sync", route={"id": "accounts-sync"})
    assert got.body == created.body and got.headers["ETag"] == created.headers["ETag"]


def test_an_etag_of_another_project_is_412(connected) -> None:
    create(connected, PROJECT)
    other = create(connected, {**PROJECT, "name": "other-sync"})
    answer = connected("replace_project", "PUT", "projects/accounts-sync", {**other.body, "name": "accounts-sync"},
                       route={"id": "accounts-sync"}, headers={"If-Match": other.headers["ETag"]})
    assert answer.status == 412


def own_task(connected, name: str) -> dict[str, Any]:
    task = copy.deepcopy(connected("get_template", "GET", "templates/accounts", route={"name": "accounts"}).body["tasks"][0])
    return {**task, "name": name}


LONGEST_TASK_NAMES = ["表" * 128, "🚀" * 128, "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 25 + "ééé",
                      ('say "hi" / a\\b #1? ' * 6).ljust(128, "!")]


def test_task_names_of_the_longest_length_in_any_script_save_and_read_back(connected) -> None:
    tasks = [own_task(connected, name) for name in LONGEST_TASK_NAMES]
    assert all(len(task["name"]) == 128 for task in tasks)
    body = {k: v for k, v in PROJECT.items() if k != "template"} | {"tasks": tasks}
    answer = create(connected, body)
    assert answer.status == 201, answer.body
    got = connected("get_project", "GET", "projects/accounts-sync", route={"id": "accounts-sync"}).body
    assert [task["name"] for task in got["tasks"]] == LONGEST_TASK_NAMES


def test_a_task_name_over_the_limit_is_refused_naming_it(connected) -> None:
    body = {k: v for k, v in PROJECT.items() if k != "template"} | {"tasks": [own_task(connected, "表" * 129)]}
    answer = create(connected, body)
    assert answer.status == 400
    assert [e["field"] for e in answer.body["errors"]] == ["tasks.0.name"]
    assert connected("list_projects", "GET", "projects").body == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"name": "accounts-sync", "description": "half \\ud800 a pair"}', "description"),
        (b'{"tasks": [{"name": "\\udc00"}]}', "tasks.0.name"),
        (b'{"connections": {"\\ud83d": "sales"}}', "connections"),
        (b'"\\ud800"', "body"),
    ],
)
def test_half_a_surrogate_pair_anywhere_in_a_body_is_refused_naming_its_field(connected, raw: bytes, field: str) -> None:
    answer = connected("create_project", "POST", "projects", raw=raw)
    assert answer.status == 400
    assert [e["field"] for e in answer.body["errors"]] == [field]
    assert connected("list_projects", "GET", "projects").body == []
