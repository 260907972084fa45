"""Token providers: how a connector gets a bearer token for its service.

`token_provider(connection)` is the seam: tests replace the Entra token endpoint by
passing a provider of their own to the connector. Secrets are read when a token is
needed, from the app setting the connection names (Key Vault references in app settings
are resolved by the platform) or from Key Vault by URI with the app's managed identity;
they are never stored, logged or returned. A connection gets a provider only when it keeps
shared/connection_rules.py, and the Key Vault URI is checked again just before the vault
token is requested: a connection saved before those rules, or altered in storage, never
sends the app's token anywhere else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from shared.connection_rules import key_vault_scope, require_safe
from shared.errors import AuthenticationError, RetryableError, SettingError, SystemRefused
from shared.models import ClientSecretAuth, Connection, ManagedIdentityAuth, NoAuth
from shared.settings import app_setting

AUTHORITY_HOST = "https://login.microsoftonline.com"
KEY_VAULT_API_VERSION = "7.4"
_RENEW_BEFORE_EXPIRY_S = 300


class TokenProvider(Protocol):
    def token(self) -> str | None:
        """A bearer token that is valid now, or None when the service needs none."""


class NoToken:
    """For the local sandbox systems started without `--token`."""

    def token(self) -> None:
        return None


class StaticToken:
    """A fixed token: the sandbox's `--token`, or a test's stand-in for Entra."""

    def __init__(self, value: str) -> None:
        self._value = value

    def token(self) -> str:
        return self._value


class MsalClientSecret:
    """Client-credentials flow through MSAL; MSAL's own cache renews the token before it expires.

    The MSAL application is built on first use: building it reaches the authority.
    """

    def __init__(self, tenant_id: str, client_id: str, scope: str, secret: Callable[[], str]) -> None:
        self._tenant_id = tenant_id
        self._client_id = client_id
        self._scope = scope
        self._secret = secret
        self._app: object | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A token for the scope; Entra out of reach is retryable, a tenant it does not know names `auth.tenantId`."""
        import msal
        import requests

        try:
            with self._lock:
                if self._app is None:
                    self._app = msal.ConfidentialClientApplication(
                        self._client_id,
                        authority=f"{AUTHORITY_HOST}/{self._tenant_id}",
                        client_credential=self._secret(),
                    )
                result = self._app.acquire_token_for_client(scopes=[self._scope])  # type: ignore[attr-defined]
        except requests.RequestException as error:
            # The exception's own text repeats the request; its kind is all a reader needs.
            raise RetryableError(
                f"Entra ID at {AUTHORITY_HOST} could not be reached ({type(error).__name__}): no token was issued"
            ) from None
        except ValueError as error:
            # MSAL's answer when the authority's OpenID configuration is not found: an unknown tenant.
            raise AuthenticationError(
                "Entra ID does not know the connection's tenant (its OpenID configuration was not found)",
                field="auth.tenantId",
            ) from error
        if "access_token" not in result:
            reason = f"{result.get('error')}: {result.get('error_description', '')[:200]}"
            raise AuthenticationError(f"Entra refused the client credentials: {reason}", field="auth")
        return result["access_token"]


class AzureIdentityToken:
    """A token from an azure-identity credential (managed identity), cached until near expiry."""

    def __init__(self, credential: object, scope: str) -> None:
        self._credential = credential
        self._scope = scope
        self._cached: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """The cached token, or a new one; a credential that cannot get one is AuthenticationError naming `auth`."""
        from azure.core.exceptions import ClientAuthenticationError

        with self._lock:
            if self._cached is None or self._cached[1] - time.time() < _RENEW_BEFORE_EXPIRY_S:
                try:
                    access = self._credential.get_token(self._scope)  # type: ignore[attr-defined]
                except ClientAuthenticationError as exc:
                    reason = str(exc.message or exc).splitlines()[0][:200]
                    raise AuthenticationError(f"the managed identity got no token: {reason}", field="auth") from None
                self._cached = (access.token, float(access.expires_on))
            return self._cached[0]


def _secret_from_setting(name: str) -> Callable[[], str]:
    def read() -> str:
        value = app_setting(name)
        if not value:
            raise SettingError(f"app setting {name!r} is not set", field="auth.secretSetting")
        return value

    return read


def _default_credential() -> object:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _secret_from_key_vault(uri: str, credential: Callable[[], object]) -> Callable[[], str]:
    def read() -> str:
        from shared.http import TRANSIENT_STATUS, new_session

        scope = key_vault_scope(uri)
        vault_token = AzureIdentityToken(credential(), scope)
        # a redirect would carry the vault token to wherever the answer points
        response = new_session(1).get(
            uri, params={"api-version": KEY_VAULT_API_VERSION},
            headers={"Authorization": f"Bearer {vault_token.token()}"}, timeout=30, allow_redirects=False,
        )
        if response.status_code != 200:
            message = f"Key Vault answered {response.status_code} for the secret URI"
            if response.status_code in TRANSIENT_STATUS:
                raise RetryableError(message, field="auth.secretUri")
            refusal = AuthenticationError if response.status_code in (401, 403) else SystemRefused
            raise refusal(message, field="auth.secretUri")
        return response.json()["value"]

    return read


def token_provider(
    connection: Connection, scope: str, *, vault_credential: Callable[[], object] = _default_credential
) -> TokenProvider:
    """The provider a connection's `auth` asks for; InvalidInput naming the field when the connection breaks a rule.

    Its `token()` raises SettingError when the app setting holding the secret is not set,
    AuthenticationError when Entra, the managed identity or Key Vault refuses the credentials
    (SystemRefused for Key Vault's other refusals), RetryableError when Entra is out of reach or Key
    Vault answers 429 or a 5xx.

    `vault_credential` makes the identity that reads a `secretUri` (the app's, by default).
    """
    require_safe(connection)
    auth = connection.auth
    if isinstance(auth, NoAuth):
        return NoToken()
    if isinstance(auth, ManagedIdentityAuth):
        from azure.identity import ManagedIdentityCredential

        return AzureIdentityToken(ManagedIdentityCredential(client_id=auth.clientId), scope)
    assert isinstance(auth, ClientSecretAuth)
    secret = (
        _secret_from_setting(auth.secretSetting)
        if auth.secretSetting
        else _secret_from_key_vault(auth.secretUri or "", vault_credential)
    )
    return MsalClientSecret(auth.tenantId, auth.clientId, scope, secret)
