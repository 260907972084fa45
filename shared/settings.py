"""The app settings this service reads: the only module that looks at the environment.

Storage is reached the way the Functions host reaches it: either a connection string in
`AzureWebJobsStorage` (`UseDevelopmentStorage=true` locally), or an identity-based
connection (`AzureWebJobsStorage__accountName`, or `__tableServiceUri` and
`__blobServiceUri`, with an optional `__clientId` for a user-assigned managed identity).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.errors import InvalidInput

STORAGE_SETTING = "AzureWebJobsStorage"


@dataclass(frozen=True)
class StorageSettings:
    connection_string: str | None = None
    table_service_uri: str | None = None
    blob_service_uri: str | None = None
    client_id: str | None = None
    table_prefix: str = ""

    @property
    def uses_identity(self) -> bool:
        return self.connection_string is None


def storage_settings(env: Mapping[str, str] | None = None) -> StorageSettings:
    """Where the service's tables and blobs live, from the app settings."""
    env = os.environ if env is None else env
    prefix = env.get("DI_TABLE_PREFIX", "")
    conn = env.get(STORAGE_SETTING, "").strip()
    if conn:
        return StorageSettings(connection_string=conn, table_prefix=prefix)
    account = env.get(f"{STORAGE_SETTING}__accountName", "").strip()
    table_uri = env.get(f"{STORAGE_SETTING}__tableServiceUri", "").strip()
    blob_uri = env.get(f"{STORAGE_SETTING}__blobServiceUri", "").strip()
    if account:
        table_uri = table_uri or f"https://{account}.table.core.windows.net"
        blob_uri = blob_uri or f"https://{account}.blob.core.windows.net"
    if not (table_uri and blob_uri):
        raise InvalidInput(
            f"storage is not configured: set {STORAGE_SETTING} to a connection string, or "
            f"{STORAGE_SETTING}__accountName for a managed identity",
            field=STORAGE_SETTING,
        )
    client_id = env.get(f"{STORAGE_SETTING}__clientId", "").strip() or None
    return StorageSettings(
        table_service_uri=table_uri, blob_service_uri=blob_uri, client_id=client_id, table_prefix=prefix
    )


def app_setting(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """One app setting by name (secrets referenced by connections are read this way, at use)."""
    env = os.environ if env is None else env
    value = env.get(name)
    return value if value else None


def public_base_url(env: Mapping[str, str] | None = None) -> str | None:
    """`https://<app>.azurewebsites.net` in Azure (from WEBSITE_HOSTNAME), for links sent to others."""
    env = os.environ if env is None else env
    host = env.get("WEBSITE_HOSTNAME", "").strip()
    if not host:
        return None
    return ("http://" if host.startswith(("localhost", "127.0.0.1")) else "https://") + host
