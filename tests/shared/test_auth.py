"""Token providers: which one a connection gets, and that secrets are read only when needed.

Entra itself cannot be reached here; these tests stop at the seam (`token_provider`).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.auth import AzureIdentityToken, MsalClientSecret, NoToken, token_provider
from shared.errors import InvalidInput
from shared.models import Connection


def connection(auth: dict) -> Connection:
    return Connection.model_validate({"kind": "dataverse", "url": "https://org.crm.dynamics.com", "auth": auth})


def test_no_auth_sends_no_token() -> None:
    assert isinstance(token_provider(connection({"type": "none"}), "s"), NoToken)
    assert NoToken().token() is None


def test_client_secret_is_read_from_its_app_setting_only_when_a_token_is_needed(monkeypatch) -> None:
    monkeypatch.delenv("SALES_SECRET", raising=False)
    provider = token_provider(
        connection({"type": "clientSecret", "tenantId": "t", "clientId": "c", "secretSetting": "SALES_SECRET"}),
        "https://org.crm.dynamics.com/.default",
    )
    assert isinstance(provider, MsalClientSecret)
    with pytest.raises(InvalidInput, match="SALES_SECRET") as info:
        provider.token()
    assert info.value.field == "auth.secretSetting"


class CountingCredential:
    def __init__(self, lifetime_s: float) -> None:
        self.calls = 0
        self.lifetime_s = lifetime_s

    def get_token(self, scope: str) -> SimpleNamespace:
        import time

        self.calls += 1
        return SimpleNamespace(token=f"token-{self.calls}-{scope}", expires_on=time.time() + self.lifetime_s)


def test_identity_tokens_are_cached_until_close_to_expiry() -> None:
    lasting = CountingCredential(3600)
    provider = AzureIdentityToken(lasting, "scope")
    assert provider.token() == provider.token() == "token-1-scope"
    assert lasting.calls == 1
    expiring = CountingCredential(60)
    short = AzureIdentityToken(expiring, "scope")
    short.token()
    short.token()
    assert expiring.calls == 2


def test_an_identity_that_gets_no_token_is_a_clear_error_naming_auth() -> None:
    from azure.core.exceptions import ClientAuthenticationError

    class Unavailable:
        def get_token(self, scope: str) -> SimpleNamespace:
            raise ClientAuthenticationError(message="ManagedIdentityCredential: no endpoint\nmore detail")

    with pytest.raises(InvalidInput, match=r"no endpoint$") as info:
        AzureIdentityToken(Unavailable(), "scope").token()
    assert info.value.field == "auth"


def test_managed_identity_connection_gets_an_identity_provider() -> None:
    provider = token_provider(connection({"type": "managedIdentity", "clientId": "abc"}), "scope")
    assert isinstance(provider, AzureIdentityToken)
