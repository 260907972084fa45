"""Connections that could be turned against the service are refused, with nothing stored, recorded or sent."""

from __future__ import annotations

import json

import pytest

from shared.connection_rules import ALLOW_UNAUTHENTICATED_SETTING
from tests.api.test_connections_and_projects import CONSENT, PROJECT, SALES
from tests.connectors.hostile import json_answer, serving

TENANT = "8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11"
IDENTITY = {"type": "managedIdentity"}


@pytest.fixture
def locked(api, monkeypatch):
    """The API as deployed: connections without credentials not allowed beyond loopback."""
    monkeypatch.delenv(ALLOW_UNAUTHENTICATED_SETTING, raising=False)
    return api


def put(api, name: str, body: dict):
    return api("put_connection", "PUT", f"connections/{name}", body, route={"name": name})


def listed(api) -> list[dict]:
    answer = api("list_connections", "GET", "connections")
    assert answer.status == 200
    return answer.body


def consents(api, project: str) -> list[dict]:
    return api("get_consent", "GET", f"projects/{project}/consent", route={"id": project}).body


def refused(answer, field: str, *hidden: str) -> None:
    assert answer.status == 400, answer.body
    assert answer.mimetype == "application/problem+json"
    assert field in [error["field"] for error in answer.body["errors"]]
    text = json.dumps(answer.body)
    for value in hidden:
        assert value not in text


def vaulted(uri: str) -> dict:
    return {"kind": "dataverse", "url": "https://sales.crm.dynamics.com",
            "auth": {"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "secretUri": uri}}


def test_a_secret_uri_off_key_vault_is_refused_on_save_and_contacted_never(locked) -> None:
    before = listed(locked)
    with serving(json_answer({"value": "stolen"})) as attacker:
        for uri in (f"{attacker.url}/secrets/x", "https://attacker.example/secrets/x",
                    "https://contoso-kv.vault.azure.net.attacker.example/secrets/x",
                    "https://contoso-kv.vault.azure.net:8443/secrets/x",
                    "https://contoso-kv.vault.azure.net/secrets/x?redirect=1"):
            refused(put(locked, "sales", vaulted(uri)), "auth.secretUri")
            assert listed(locked) == before
        assert attacker.received == []
    assert put(locked, "sales", vaulted("https://contoso-kv.vault.azure.net/secrets/sales")).status == 201


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("https://user:hunter2@sales.crm.dynamics.com", "hunter2"),
        ("https://acct.blob.core.windows.net/files?sv=2022-11-02&sp=rl&se=2030-01-01&sig=c2lnbmF0dXJl", "c2lnbmF0dXJl"),
        ("https://acct.blob.core.windows.net/files?se=2030-01-01&sp=rwdl", "rwdl"),
        ("https://sales.crm.dynamics.com/?code=ZnVuY3Rpb25rZXk", "ZnVuY3Rpb25rZXk"),
        ("https://sales.crm.dynamics.com/?access_token=eyJhbGciOi", "eyJhbGciOi"),
    ],
)
def test_credentials_inside_the_url_are_raw_secrets(locked, url: str, hidden: str) -> None:
    kind = "blob" if ".blob." in url else "dataverse"
    refused(put(locked, "sales", {"kind": kind, "url": url, "auth": IDENTITY}), "url", hidden)
    assert listed(locked) == []


def test_no_credentials_reach_only_loopback_unless_the_app_allows_it(locked, monkeypatch) -> None:
    internal = {"kind": "dataverse", "url": "https://internal.contoso.example", "auth": {"type": "none"}}
    refused(put(locked, "inside", internal), "auth.type")
    clear = {"kind": "finops", "url": "http://ops.contoso.example", "auth": IDENTITY}
    refused(put(locked, "clear", clear), "url")
    own_storage = {"kind": "blob", "url": "http://127.0.0.1:10000/devstoreaccount1/files", "auth": {"type": "none"}}
    refused(put(locked, "files", own_storage), "auth.type")
    assert listed(locked) == []
    sandbox = {"kind": "dataverse", "url": "http://127.0.0.1:5001", "auth": {"type": "none"}}
    assert put(locked, "sandbox", sandbox).status == 201
    monkeypatch.setenv(ALLOW_UNAUTHENTICATED_SETTING, "true")
    for name, body in (("inside", internal), ("clear", clear), ("files", own_storage)):
        assert put(locked, name, body).status == 201


@pytest.fixture
def in_use(locked):
    """Project `accounts-sync` over connections sales, cds and operations, with its first consent."""
    for name, body in (("sales", SALES),
                       ("cds", {"kind": "dataverse", "url": "https://cds.crm.dynamics.com", "auth": IDENTITY}),
                       ("operations", {"kind": "finops", "url": "https://ops.operations.dynamics.com",
                                       "auth": IDENTITY})):
        assert put(locked, name, body).status == 201
    assert locked("create_project", "POST", "projects", PROJECT).status == 201
    return locked


@pytest.mark.parametrize(
    "change",
    [{"url": "https://other-tenant.crm4.dynamics.com"}, {"kind": "finops", "url": "https://sales.operations.dynamics.com"}],
)
def test_retargeting_a_connection_in_use_needs_fresh_consent(in_use, change: dict) -> None:
    before, recorded = listed(in_use), consents(in_use, "accounts-sync")
    moved = {**SALES, **change}
    for body in (moved, {**moved, "consent": {**CONSENT, "accepted": False}}):
        answer = put(in_use, "sales", body)
        assert answer.status == 422, answer.body
        assert answer.body["errors"][0]["field"].startswith("consent")
        assert "accounts-sync" in answer.body["detail"]
        assert listed(in_use) == before
        assert consents(in_use, "accounts-sync") == recorded
    given = {**CONSENT, "acceptedBy": "second-admin@contoso.com"}
    assert put(in_use, "sales", {**moved, "consent": given}).status == 200
    after = consents(in_use, "accounts-sync")
    assert len(after) == len(recorded) + 1
    assert after[-1]["acceptedBy"] == "second-admin@contoso.com"
    assert after[-1]["systems"][0] == f"source=sales ({moved['kind']} {moved['url']})"
    assert next(c for c in listed(in_use) if c["name"] == "sales")["url"] == moved["url"]


def test_changing_only_credentials_or_an_unused_connection_needs_no_consent(in_use) -> None:
    recorded = consents(in_use, "accounts-sync")
    assert put(in_use, "sales", {**SALES, "auth": IDENTITY}).status == 200
    assert put(in_use, "spare", SALES).status == 201
    assert put(in_use, "spare", {**SALES, "url": "https://elsewhere.crm.dynamics.com"}).status == 200
    assert consents(in_use, "accounts-sync") == recorded
