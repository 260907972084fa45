"""Token providers: which one a connection gets, and that secrets are read only when needed.

Entra itself cannot be reached here; these tests stop at the seam (`token_provider`).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests

from shared.auth import AzureIdentityToken, MsalClientSecret, NoToken, token_provider
from shared.connection_rules import ALLOW_UNAUTHENTICATED_SETTING
from shared.errors import AuthenticationError, ConfigurationError, InvalidInput, SettingError, SystemRefused
from shared.models import Connection
from tests.connectors.hostile import json_answer, serving


def connection(auth: dict, url: str = "https://org.crm.dynamics.com") -> Connection:
    return Connection.model_validate({"kind": "dataverse", "url": url, "auth": auth})


def test_no_auth_sends_no_token_to_a_loopback_host(monkeypatch) -> None:
    monkeypatch.delenv(ALLOW_UNAUTHENTICATED_SETTING, raising=False)
    assert isinstance(token_provider(connection({"type": "none"}, "http://127.0.0.1:8080"), "s"), NoToken)
    assert NoToken().token() is None


def test_a_stored_connection_without_auth_elsewhere_is_refused_unless_the_app_allows_it(monkeypatch) -> None:
    monkeypatch.delenv(ALLOW_UNAUTHENTICATED_SETTING, raising=False)
    with pytest.raises(InvalidInput) as info:
        token_provider(connection({"type": "none"}), "s")
    assert info.value.field == "auth.type"
    monkeypatch.setenv(ALLOW_UNAUTHENTICATED_SETTING, "true")
    assert isinstance(token_provider(connection({"type": "none"}), "s"), NoToken)


class GenerousCredential:
    """An identity that would hand out a Key Vault token to anyone who asked."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, scope: str) -> SimpleNamespace:
        import time

        self.scopes.append(scope)
        return SimpleNamespace(token="vault-token", expires_on=time.time() + 3600)


def test_a_stored_secret_uri_off_key_vault_never_gets_a_token_nor_a_request() -> None:
    with serving(json_answer({"value": "stolen"})) as attacker:
        requests.get(f"{attacker.url}/control", timeout=10)
        assert len(attacker.received) == 1, "the stand-in must record what reaches it"
        identity = GenerousCredential()
        for uri in (f"{attacker.url}/secrets/x", "https://attacker.example/secrets/x",
                    "https://contoso-kv.vault.azure.net.attacker.example/secrets/x"):
            tampered = connection({"type": "clientSecret", "tenantId": "8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11", "clientId": "c", "secretUri": uri})
            with pytest.raises(InvalidInput) as info:
                token_provider(tampered, "https://org.crm.dynamics.com/.default", vault_credential=lambda: identity)
            assert info.value.field == "auth.secretUri"
            assert uri not in info.value.message
        assert identity.scopes == []
        assert len(attacker.received) == 1


def test_client_secret_is_read_from_its_app_setting_only_when_a_token_is_needed(monkeypatch) -> None:
    monkeypatch.delenv("SALES_SECRET", raising=False)
    provider = token_provider(
        connection({"type": "clientSecret", "tenantId": "8f0e2f86-3b4a-4c3e-9a51-2f4f0d6c1a11", "clientId": "c", "secretSetting": "SALES_SECRET"}),
        "https://org.crm.dynamics.com/.default",
    )
    assert isinstance(provider, MsalClientSecret)
    with pytest.raises(SettingError, match="SALES_SECRET") as info:
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

    with pytest.raises(AuthenticationError, match=r"no endpoint$") as info:
        AzureIdentityToken(Unavailable(), "scope").token()
    assert info.value.field == "auth"


def test_managed_identity_connection_gets_an_identity_provider() -> None:
    provider = token_provider(connection({"type": "managedIdentity", "clientId": "abc"}), "scope")
    assert isinstance(provider, AzureIdentityToken)


def test_entra_out_of_reach_is_retryable_and_says_so_without_the_raw_request(monkeypatch) -> None:
    from shared import auth as auth_module
    from shared.errors import RetryableError

    monkeypatch.setattr(auth_module, "AUTHORITY_HOST", "https://127.0.0.1:9")
    provider = auth_module.MsalClientSecret("contoso.onmicrosoft.com", "client-id", "https://org/.default",
                                            lambda: "not-a-real-secret")

    with pytest.raises(RetryableError) as raised:
        provider.token()

    assert "could not be reached" in str(raised.value)
    assert "not-a-real-secret" not in str(raised.value) and "127.0.0.1:9/" not in str(raised.value)


@pytest.mark.parametrize(("status", "refusal"), [(403, AuthenticationError), (401, AuthenticationError),
                                                 (404, SystemRefused)])
def test_key_vault_refusing_the_secret_is_a_configuration_error_naming_the_uri_field(monkeypatch, status, refusal) -> None:
    from shared import http as http_module

    class Vault(requests.adapters.BaseAdapter):
        def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
            answer = requests.Response()
            answer.status_code, answer.url, answer.request = status, request.url, request
            return answer

        def close(self) -> None:
            pass

    def vault_session(*args, **kwargs) -> requests.Session:
        session = requests.Session()
        session.mount("https://", Vault())
        return session

    monkeypatch.setattr(http_module, "new_session", vault_session)
    vaulted = connection({"type": "clientSecret", "tenantId": "contoso.onmicrosoft.com", "clientId": "c",
                          "secretUri": "https://contoso-kv.vault.azure.net/secrets/sales"})
    provider = token_provider(vaulted, "https://org.crm.dynamics.com/.default", vault_credential=GenerousCredential)
    with pytest.raises(refusal, match=f"Key Vault answered {status}") as info:
        provider.token()
    assert info.value.field == "auth.secretUri"
    assert isinstance(info.value, ConfigurationError)
