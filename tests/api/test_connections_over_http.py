"""On the twin: a Key Vault secret URI pointing elsewhere never receives the app's token, saved or stored."""

from __future__ import annotations

from shared.models import Connection
from shared.settings import StorageSettings
from shared.store import Store
from tests.connectors.hostile import json_answer, serving
from tests.orchestrators.conftest import create_project
from tests.orchestrators.test_sync_project import accounts_project

TENANT = "8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11"


def secret_at(uri: str, url: str) -> dict:
    return {"kind": "dataverse", "url": url,
            "auth": {"type": "clientSecret", "tenantId": TENANT, "clientId": "c", "secretUri": uri}}


def test_saving_a_secret_uri_off_key_vault_is_refused_and_sends_nothing(twin) -> None:
    before = twin.api("GET", "connections").json()
    with serving(json_answer({"value": "stolen"})) as attacker:
        answer = twin.api("PUT", "connections/vaulted", json=secret_at(f"{attacker.url}/secrets/x", twin.systems["cds"].url))
        assert answer.status_code == 400
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert [e["field"] for e in answer.json()["errors"]] == ["auth.secretUri"]
        assert attacker.url not in answer.text
        assert twin.api("GET", "connections").json() == before
        assert attacker.received == []


def test_a_tampered_stored_secret_uri_fails_validation_without_contacting_its_host(twin) -> None:
    cds = twin.systems["cds"].url
    assert twin.api("PUT", "connections/cds-vaulted", json={"kind": "dataverse", "url": cds,
                                                           "auth": {"type": "none"}}).status_code == 201
    project = accounts_project("p-vault")
    project["connections"] = {**project["connections"], "cds": "cds-vaulted"}
    create_project(twin, project)
    storage = Store(StorageSettings(connection_string=twin.storage, table_prefix=twin.table_prefix))
    with serving(json_answer({"value": "stolen"})) as attacker:
        storage.connections.put("cds-vaulted", Connection.model_validate(secret_at(f"{attacker.url}/secrets/x", cds)))
        answer = twin.api("POST", "projects/p-vault/validate")
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["ok"] is False
        assert any("Key Vault secret URI" in p["message"] for p in report["problems"]), report
        assert attacker.url not in answer.text
        assert attacker.received == []
    assert twin.api("DELETE", "projects/p-vault").status_code == 204
    assert twin.api("DELETE", "connections/cds-vaulted").status_code == 204
