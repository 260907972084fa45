"""The app settings this service reads: the only module that looks at the environment.

Storage is reached the way the Functions host reaches it: either a connection string in
`AzureWebJobsStorage` (`UseDevelopmentStorage=true` locally), or an identity-based
connection (`AzureWebJobsStorage__accountName`, or `__tableServiceUri` and
`__blobServiceUri`, with an optional `__clientId` for a user-assigned managed identity).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from shared.errors import SettingError

STORAGE_SETTING = "AzureWebJobsStorage"
FUNCTION_TIMEOUT_SETTING = "AzureFunctionsJobHost__functionTimeout"
"""The app setting that overrides host.json's functionTimeout (Azure's `AzureFunctionsJobHost__` override)."""
DEFAULT_FUNCTION_TIMEOUT = timedelta(minutes=10)
"""The host's own default on Consumption and Flex Consumption, and what an unbounded timeout (-1) is budgeted as."""
HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"

_TIMESPAN = re.compile(r"(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?")


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
        raise SettingError(
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


def function_timeout(env: Mapping[str, str] | None = None, host_json: Path = HOST_JSON) -> timedelta:
    """How long the host lets one invocation run before it restarts the worker under it.

    From the app setting `AzureFunctionsJobHost__functionTimeout` first, else host.json's
    `functionTimeout` (a .NET TimeSpan, `hh:mm:ss` or `d.hh:mm:ss`), else the 10-minute
    default. `-1` (unbounded, Premium and Dedicated plans) is budgeted as the default: the
    service still promises that a system which stays down fails the run within minutes.
    """
    env = os.environ if env is None else env
    value = env.get(FUNCTION_TIMEOUT_SETTING, "").strip()
    where = FUNCTION_TIMEOUT_SETTING
    if not value and host_json.exists():
        try:
            value = str(json.loads(host_json.read_text(encoding="utf-8")).get("functionTimeout") or "").strip()
        except (ValueError, AttributeError) as error:
            raise SettingError(f"{host_json} is not a JSON object: {error}", field="functionTimeout") from error
        where = f"functionTimeout in {host_json.name}"
    if not value:
        return DEFAULT_FUNCTION_TIMEOUT
    return _timespan(value, where)


def _timespan(value: str, where: str) -> timedelta:
    if value == "-1":
        return DEFAULT_FUNCTION_TIMEOUT
    match = _TIMESPAN.fullmatch(value)
    if match is None:
        raise SettingError(f"{where} is {value!r}, not a time span like 00:10:00", field="functionTimeout")
    days, hours, minutes, seconds, fraction = match.groups()
    span = timedelta(
        days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds),
        microseconds=int((fraction or "0").ljust(7, "0")) // 10,
    )
    if span <= timedelta(0):
        raise SettingError(f"{where} must be positive, not {value!r}", field="functionTimeout")
    return span


ROUTE_PREFIX_SETTING = "AzureFunctionsJobHost__extensions__http__routePrefix"
"""The app setting that overrides host.json's `extensions.http.routePrefix`."""
DEFAULT_ROUTE_PREFIX = "api"
EASY_AUTH_SETTING = "WEBSITE_AUTH_ENABLED"
"""Set by App Service when App Service Authentication (Easy Auth) is on for the app."""
REQUIRE_PRINCIPAL_SETTING = "DI_REQUIRE_PRINCIPAL"


def route_prefix(env: Mapping[str, str] | None = None, host_json: Path = HOST_JSON) -> str:
    """The path the app's HTTP routes sit under, without slashes ("" for none), as the Functions host reads it.

    The app setting `AzureFunctionsJobHost__extensions__http__routePrefix` first, else
    host.json's `extensions.http.routePrefix`, else `api`.
    """
    env = os.environ if env is None else env
    value = env.get(ROUTE_PREFIX_SETTING)
    if value is None and host_json.exists():
        try:
            value = json.loads(host_json.read_text(encoding="utf-8")).get("extensions", {}).get("http", {}).get(
                "routePrefix"
            )
        except (ValueError, AttributeError) as error:
            raise SettingError(
                f"{host_json.name} has no readable extensions.http object: {error}", field="routePrefix"
            ) from error
    return (DEFAULT_ROUTE_PREFIX if value is None else str(value)).strip().strip("/")


def principal_required(env: Mapping[str, str] | None = None) -> bool:
    """Whether every caller must come with an Easy Auth principal (`X-MS-CLIENT-PRINCIPAL`), whatever key it has.

    True when App Service Authentication is on (`WEBSITE_AUTH_ENABLED`, `True` in any case) or
    when `DI_REQUIRE_PRINCIPAL` is `true`.
    """
    env = os.environ if env is None else env
    return any(env.get(name, "").strip().lower() == "true" for name in (EASY_AUTH_SETTING, REQUIRE_PRINCIPAL_SETTING))


APPINSIGHTS_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
APPINSIGHTS_AUTH_SETTING = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"
"""`Authorization=AAD` (with `ClientId=<client id>` for a user-assigned identity): ingestion with Entra, not the key."""


@dataclass(frozen=True)
class TelemetrySettings:
    connection_string: str
    entra: bool = False
    """Whether the app signs its telemetry in with its managed identity (Application Insights with local auth off)."""
    client_id: str | None = None
    """The user-assigned identity that signs in (None: the system-assigned one)."""


def telemetry_settings(env: Mapping[str, str] | None = None) -> TelemetrySettings | None:
    """Where telemetry is exported: Application Insights when its connection string is set, else nowhere (None)."""
    env = os.environ if env is None else env
    connection_string = env.get(APPINSIGHTS_SETTING, "").strip()
    if not connection_string:
        return None
    parts = dict(part.split("=", 1) for part in env.get(APPINSIGHTS_AUTH_SETTING, "").split(";") if "=" in part)
    parts = {name.strip().lower(): value.strip() for name, value in parts.items()}
    if parts.get("authorization", "").lower() != "aad":
        return TelemetrySettings(connection_string)
    return TelemetrySettings(connection_string, entra=True, client_id=parts.get("clientid") or None)


SUBSCRIPTION_KEY_SETTING = "DI_SUBSCRIPTION_KEY"
"""The Fernet key(s) that encrypt the callback URLs of run subscriptions at rest, separated by commas."""


def subscription_keys(env: Mapping[str, str] | None = None) -> list[str]:
    """The keys of `DI_SUBSCRIPTION_KEY`, in order: the first encrypts, every one decrypts (so a key can be rotated).

    SettingError naming the setting when it holds none.
    """
    env = os.environ if env is None else env
    keys = [key.strip() for key in env.get(SUBSCRIPTION_KEY_SETTING, "").split(",") if key.strip()]
    if not keys:
        raise SettingError(
            f"app setting {SUBSCRIPTION_KEY_SETTING} is not set: it holds the Fernet key that encrypts subscription "
            "callback URLs (Fernet.generate_key() of the cryptography package makes one)",
            field=SUBSCRIPTION_KEY_SETTING,
        )
    return keys
