"""What a connection may point at: Key Vault hosts for secrets, loopback for `none` and `http` unless allowed."""

from __future__ import annotations

import pytest

from shared.connection_rules import connection_problems, is_loopback, key_vault_scope, key_vault_secret_problem
from shared.errors import InvalidInput
from shared.models import Connection


@pytest.mark.parametrize(
    "uri",
    [
        "https://contoso-kv.vault.azure.net/secrets/sales",
        "https://contoso-kv.vault.azure.net/secrets/sales-secret/",
        "https://Contoso-KV.Vault.Azure.Net/secrets/sales/0123456789abcdef0123456789abcdef",
        "https://contoso-kv.vault.azure.cn/secrets/s",
        "https://contoso-kv.vault.usgovcloudapi.net/secrets/s",
        "https://contoso-kv.vault.microsoftazure.de/secrets/s",
    ],
)
def test_key_vault_secret_uris_are_accepted(uri: str) -> None:
    assert key_vault_secret_problem(uri) is None


@pytest.mark.parametrize(
    "uri",
    [
        "https://attacker.example/secrets/x",
        "https://kv.vault.azure.net/secrets/x",
        "http://kv.vault.azure.net/secrets/x",
        "https://contoso-kv.vault.azure.net.attacker.example/secrets/x",
        "https://attacker.example/kv.vault.azure.net/secrets/x",
        "https://vault.azure.net/secrets/x",
        "https://a.b.vault.azure.net/secrets/x",
        "https://contoso-kv.vault.azure.net:8443/secrets/x",
        "https://user@kv.vault.azure.net/secrets/x",
        "https://attacker.example#@kv.vault.azure.net/secrets/x",
        "https://contoso-kv.vault.azure.net/secrets/x?api-version=1",
        "https://contoso-kv.vault.azure.net/secrets/x#frag",
        "https://contoso-kv.vault.azure.net/keys/x",
        "https://contoso-kv.vault.azure.net/secrets/../keys/x",
        "https://contoso-kv.vault.azure.net/secrets/x\n",
        "https://\u212aontoso-kv.vault.azure.net/secrets/x",
        "https://contoso-kv.managedhsm.azure.net/secrets/x",
    ],
)
def test_other_secret_uris_are_refused_without_echoing_them(uri: str) -> None:
    problem = key_vault_secret_problem(uri)
    assert problem is not None and uri not in problem
    with pytest.raises(InvalidInput) as info:
        key_vault_scope(uri)
    assert info.value.field == "auth.secretUri"


def test_the_vault_token_is_for_the_cloud_that_holds_the_secret() -> None:
    assert key_vault_scope("https://contoso-kv.vault.azure.net/secrets/x") == "https://vault.azure.net/.default"
    assert key_vault_scope("https://Contoso-KV.Vault.Azure.CN/secrets/x") == "https://vault.azure.cn/.default"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True), ("http://127.1.2.3", True), ("http://localhost:7071/x", True),
        ("http://[::1]:80", True), ("https://org.crm.dynamics.com", False), ("http://10.0.0.4", False),
        ("http://127.0.0.1.attacker.example", False), ("http://localhost.attacker.example", False),
        ("http://0.0.0.0", False),
    ],
)
def test_loopback_hosts(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def fields(body: dict, allow: bool) -> list[str]:
    return [p["field"] for p in connection_problems(Connection.model_validate(body), allow_unauthenticated=allow)]


NONE = {"type": "none"}
IDENTITY = {"type": "managedIdentity"}


@pytest.mark.parametrize(
    ("kind", "url", "auth", "refused", "allowed"),
    [
        ("dataverse", "https://org.crm.dynamics.com", IDENTITY, [], []),
        ("dataverse", "http://127.0.0.1:5001", NONE, [], []),
        ("dataverse", "https://org.crm.dynamics.com", NONE, ["auth.type"], []),
        ("finops", "http://10.0.0.4", NONE, ["auth.type", "url"], []),
        ("dataverse", "http://org.crm.dynamics.com", IDENTITY, ["url"], []),
        ("blob", "http://127.0.0.1:10000/devstoreaccount1/files", NONE, ["auth.type"], []),
        ("blob", "https://acct.blob.core.windows.net/files", IDENTITY, [], []),
        ("dataverse", "https://org.crm.dynamics.com",
         {"type": "clientSecret", "tenantId": "contoso.onmicrosoft.com", "clientId": "c", "secretUri": "https://attacker.example/secrets/x"},
         ["auth.secretUri"], ["auth.secretUri"]),
    ],
)
def test_connection_rules_with_and_without_the_app_setting(
    kind: str, url: str, auth: dict, refused: list[str], allowed: list[str]
) -> None:
    body = {"kind": kind, "url": url, "auth": auth}
    assert fields(body, allow=False) == refused
    assert fields(body, allow=True) == allowed


def test_a_stored_blob_connection_without_credentials_reads_nothing_unless_the_app_allows_it(monkeypatch) -> None:
    from shared.connection_rules import ALLOW_UNAUTHENTICATED_SETTING
    from shared.connectors import build_connector

    monkeypatch.delenv(ALLOW_UNAUTHENTICATED_SETTING, raising=False)
    stored = Connection.model_validate({"kind": "blob", "url": "http://127.0.0.1:10000/devstoreaccount1/files",
                                        "auth": {"type": "none"}})

    with pytest.raises(InvalidInput) as raised:
        build_connector(stored)
    assert raised.value.field == "auth.type"
