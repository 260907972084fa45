"""Connections: which system, where, and how to authenticate, by reference only; and the scan for raw secrets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from shared.models.common import SettingName, Strict, exactly_one
from shared.url_credentials import credentials_in_url

SecretUri = Annotated[str, StringConstraints(pattern=r"^https?://\S{1,2000}$")]
"""Where the secret is: which hosts may be named is shared/connection_rules.py's to say, on save and before a token
is sent, so a connection stored before that rule (or altered in storage) still loads, and never gets a token."""

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_DOMAIN = r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
TenantId = Annotated[str, StringConstraints(max_length=253, pattern=rf"^({_GUID}|{_DOMAIN})$")]
"""A Microsoft Entra tenant: its id, or one of its verified domains (`contoso.onmicrosoft.com`). It becomes a path
segment of the token authority's URL, where anything else would name another endpoint or fail inside MSAL."""


class ClientSecretAuth(Strict):
    """A client secret referenced by an app setting name or a Key Vault secret URI, never the secret."""

    type: Literal["clientSecret"]
    tenantId: TenantId
    clientId: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    secretSetting: SettingName | None = None
    secretUri: SecretUri | None = None

    @model_validator(mode="after")
    def _exactly_one_reference(self) -> ClientSecretAuth:
        exactly_one(self, "secretSetting", "secretUri")
        return self


class ManagedIdentityAuth(Strict):
    type: Literal["managedIdentity"]
    clientId: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class NoAuth(Strict):
    """No credentials: only for the local sandbox systems."""

    type: Literal["none"]


Auth = Annotated[ClientSecretAuth | ManagedIdentityAuth | NoAuth, Field(discriminator="type")]
AUTH_TYPES = frozenset({"clientSecret", "managedIdentity", "none"})
"""The `type` tags of `Auth`'s members."""


class Connection(Strict):
    kind: Literal["dataverse", "finops", "blob"]
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")]
    auth: Auth


SECRET_FIELD_NAMES = frozenset(
    {
        "secret", "clientsecret", "password", "pwd", "secretvalue", "accountkey", "apikey",
        "token", "accesstoken", "connectionstring", "sas", "sastoken",
    }
)


def find_raw_secrets(data: Any, path: str = "") -> list[str]:
    """Paths of every property in `data` whose name says it holds a secret value, or whose URL carries one."""
    found: list[str] = []
    if isinstance(data, str) and credentials_in_url(data):
        found.append(path)
    elif isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).replace("_", "").replace("-", "").casefold() in SECRET_FIELD_NAMES:
                found.append(here)
            found.extend(find_raw_secrets(value, here))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.extend(find_raw_secrets(value, f"{path}.{i}" if path else str(i)))
    return found
