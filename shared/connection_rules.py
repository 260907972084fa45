"""What a connection may point at, so that saving one cannot turn the service against itself.

- A `secretUri` names a secret in Azure Key Vault, on a vault host of a public or sovereign
  cloud, over https, without port, user or query: the app's identity sends its Key Vault
  token there. Checked on save and again just before a token is requested.
- Credentials never travel inside a URL (shared/url_credentials.py, checked with the other
  raw secrets of a request body).
- `auth: none` and plain `http` reach only loopback hosts unless the app setting
  `DI_ALLOW_UNAUTHENTICATED_CONNECTIONS=true` allows them (the local twin sets it). A blob
  connection with `none` reads the app's own storage account, so it needs that setting whatever
  its host.

Messages name what is wrong, never the value: a refused URL may hold a secret.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from shared.errors import InvalidInput
from shared.models import ClientSecretAuth, Connection, NoAuth
from shared.settings import app_setting

ALLOW_UNAUTHENTICATED_SETTING = "DI_ALLOW_UNAUTHENTICATED_CONNECTIONS"

KEY_VAULT_SUFFIXES = ("vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net", "vault.microsoftazure.de")
"""Key Vault's DNS suffixes: Azure public, China, US Government, Germany. Managed HSM holds keys, not secrets."""

# A vault name is 3-24 letters, digits and dashes, from a letter. re.ASCII: with Unicode case folding
# the Kelvin sign would match "k" and a look-alike host would pass.
_SECRET_URI = re.compile(
    r"https://(?P<vault>[a-z][a-z0-9-]{1,22}[a-z0-9])\.(?P<suffix>"
    + "|".join(re.escape(suffix) for suffix in KEY_VAULT_SUFFIXES)
    + r")/secrets/[a-z0-9-]{1,127}(?:/[0-9a-f]{32})?/?",
    re.ASCII | re.IGNORECASE,
)

def key_vault_secret_problem(uri: str) -> str | None:
    """Why `uri` is not a Key Vault secret URI this service may send a token to, or None when it is."""
    if _SECRET_URI.fullmatch(uri) is None:
        return (
            "must be a Key Vault secret URI, https://<vault>.vault.azure.net/secrets/<name>[/<version>] "
            f"(or a vault host of another Azure cloud: {', '.join(KEY_VAULT_SUFFIXES[1:])}), "
            "without port, user-info, query or fragment"
        )
    return None


def key_vault_scope(uri: str) -> str:
    """The token scope of the Key Vault that holds `uri` (each Azure cloud's vaults have their own audience)."""
    match = _SECRET_URI.fullmatch(uri)
    if match is None:
        raise InvalidInput(key_vault_secret_problem(uri) or "", field="auth.secretUri")
    return f"https://{match['suffix'].lower()}/.default"


def is_loopback(url: str) -> bool:
    """True when `url`'s host is this machine: `localhost`, 127.0.0.0/8 or ::1."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unauthenticated_allowed() -> bool:
    """Whether the app setting lets connections use `auth: none` and `http` beyond loopback."""
    return (app_setting(ALLOW_UNAUTHENTICATED_SETTING) or "").strip().lower() == "true"


def connection_problems(connection: Connection, *, allow_unauthenticated: bool) -> list[dict[str, str]]:
    """`[{"field", "message"}]` for every way `connection` could reach what it must not; empty when it is safe."""
    found: list[dict[str, str]] = []
    auth = connection.auth
    if isinstance(auth, ClientSecretAuth) and auth.secretUri is not None:
        problem = key_vault_secret_problem(auth.secretUri)
        if problem is not None:
            found.append({"field": "auth.secretUri", "message": problem})
    if allow_unauthenticated:
        return found
    setting = f"app setting {ALLOW_UNAUTHENTICATED_SETTING}=true"
    loopback = is_loopback(connection.url)
    if isinstance(auth, NoAuth) and connection.kind == "blob":
        found.append({"field": "auth.type", "message": (
            f"a blob connection without credentials reads the app's own storage account: only with the {setting}; "
            "use a managed identity"
        )})
    elif isinstance(auth, NoAuth) and not loopback:
        found.append({"field": "auth.type", "message": f"none reaches only a loopback host without the {setting}"})
    insecure = plain_http_problem(connection.url, allow_unauthenticated=False)
    if insecure is not None:
        found.append({"field": "url", "message": insecure})
    return found


def plain_http_problem(url: str, *, allow_unauthenticated: bool) -> str | None:
    """Why the service may not send requests to `url` over plain http, or None (https, loopback, or allowed)."""
    if allow_unauthenticated or urlsplit(url).scheme.lower() != "http" or is_loopback(url):
        return None
    return f"http reaches only a loopback host without the app setting {ALLOW_UNAUTHENTICATED_SETTING}=true; use https"


def require_safe(connection: Connection) -> None:
    """Raise InvalidInput naming the first rule `connection` breaks under the app's settings (a stored one too)."""
    found = connection_problems(connection, allow_unauthenticated=unauthenticated_allowed())
    if found:
        raise InvalidInput(found[0]["message"], field=found[0]["field"])

