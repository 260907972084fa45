"""What binds saved state to a connection: its kind, URL and identity, never how its secret is referenced."""

from __future__ import annotations

from typing import Any

import pytest

from shared.connectors.identity import connection_fingerprint
from shared.models import Connection

BASE: dict[str, Any] = {
    "kind": "dataverse", "url": "https://org.crm.dynamics.com",
    "auth": {"type": "clientSecret", "tenantId": "contoso.onmicrosoft.com", "clientId": "client-1", "secretSetting": "CDS_SECRET"},
}


def fingerprint(**changes: Any) -> str:
    return connection_fingerprint(Connection.model_validate({**BASE, **changes}))


@pytest.mark.parametrize("changes", [
    {"url": "https://ORG.crm.dynamics.com/"},
    {"url": "https://org.crm.dynamics.com:443"},
    {"auth": {**BASE["auth"], "secretSetting": "ROTATED_SECRET"}},
])
def test_the_same_system_and_identity_keep_the_fingerprint(changes: dict[str, Any]) -> None:
    assert fingerprint(**changes) == fingerprint()


@pytest.mark.parametrize("changes", [
    {"url": "https://other.crm.dynamics.com"},
    {"url": "https://org.crm4.dynamics.com"},
    {"url": "https://org.crm.dynamics.com:8443"},
    {"url": "https://org.crm.dynamics.com/other"},
    {"kind": "finops"},
    {"auth": {**BASE["auth"], "tenantId": "fabrikam.onmicrosoft.com"}},
    {"auth": {**BASE["auth"], "clientId": "client-2"}},
    {"auth": {"type": "managedIdentity", "clientId": "client-1"}},
    {"auth": {"type": "none"}},
])
def test_another_system_or_identity_changes_the_fingerprint(changes: dict[str, Any]) -> None:
    assert fingerprint(**changes) != fingerprint()


def test_the_fingerprint_holds_no_secret_reference() -> None:
    assert "CDS_SECRET" not in fingerprint() and fingerprint().startswith("sha256:")
