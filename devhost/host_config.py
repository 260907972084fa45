"""What the host reads about a function app: host.json, local.settings.json and app settings.

App settings come from the environment first, then from `Values` in local.settings.json,
as `func start` does. host.json values may name an app setting as `%NAME%` (the Functions
syntax), which is how several task hubs share one storage account.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

DEFAULT_HUB_NAME = "TestHubName"
STORAGE_SETTING = "AzureWebJobsStorage"
HOST_JSON_VERSION = "2.0"
# Azure's override of a host.json value from the app settings (`__` for each level of nesting).
FUNCTION_TIMEOUT_SETTING = "AzureFunctionsJobHost__functionTimeout"
ROUTE_PREFIX_SETTING = "AzureFunctionsJobHost__extensions__http__routePrefix"
"""App settings named `AzureFunctionsJobHost__<path>` override that host.json value, as on Azure."""
DEFAULT_FUNCTION_TIMEOUT = timedelta(minutes=10)

_SETTING_REFERENCE = re.compile(r"%([^%]+)%")
_HUB_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,44}")
_TIMESPAN = re.compile(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(\.\d{1,7})?")


class ConfigError(Exception):
    """The app's configuration cannot be used: the message says which value and why."""


@dataclass(frozen=True)
class Strictness:
    """Where devhost behaves as strictly as the Functions host and the Durable extension on Azure Storage.

    Each field models one behaviour of Azure (see README, "How strict devhost is"); the
    defaults are Azure's. `--lenient` turns them all off for debugging; a test that needs
    that is a product bug on Azure.
    """

    reload_history: bool = True
    """Every episode loads the instance's history from Table Storage (no in-memory copy)."""
    max_messages_per_episode: int | None = 32
    """An episode takes at most this many queued messages (None: all of them)."""
    function_timeout: bool = True
    """host.json's functionTimeout is enforced by restarting the worker process, as Azure does."""
    worker_processes: bool = True
    """User functions run in FUNCTIONS_WORKER_PROCESS_COUNT worker processes on one thread pool
    each (PYTHON_THREADPOOL_THREAD_COUNT), not in devhost's own process."""
    custom_status_limit: bool = True
    """Custom status over 16 KB (UTF-16) fails the orchestration after the episode."""
    system_key: bool = True
    """The Durable webhooks take only the generated durabletask_extension system key."""
    poll_ms: int = 0
    """A delay before a queued message is seen, like the Storage queues' polling (0: none)."""

    @classmethod
    def lenient(cls, poll_ms: int = 0) -> Strictness:
        """The kind local host: every strictness off."""
        return cls(
            reload_history=False, max_messages_per_episode=None, function_timeout=False, worker_processes=False,
            custom_status_limit=False, system_key=False, poll_ms=poll_ms,
        )


@dataclass(frozen=True)
class HostConfig:
    """The settings of host.json that devhost honours."""

    app_dir: Path
    hub_name: str
    route_prefix: str
    max_concurrent_activities: int
    max_concurrent_orchestrations: int
    function_timeout: timedelta | None = DEFAULT_FUNCTION_TIMEOUT
    """How long an invocation may run (host.json `functionTimeout`; the Consumption and Flex default;
    None: unbounded, `-1`)."""
    strictness: Strictness = Strictness()


def load_local_settings(app_dir: Path) -> dict[str, str]:
    """The `Values` of app_dir/local.settings.json, or nothing when the file is absent."""
    path = app_dir / "local.settings.json"
    if not path.exists():
        return {}
    try:
        values = json.loads(path.read_text(encoding="utf-8")).get("Values") or {}
    except (ValueError, AttributeError) as error:
        raise ConfigError(f"{path} is not a JSON object with a 'Values' object: {error}") from error
    return {str(name): str(value) for name, value in values.items()}


def apply_app_settings(values: Mapping[str, str], environ: MutableMapping[str, str] | None = None) -> None:
    """Make `values` app settings, leaving any setting the environment already has."""
    environ = os.environ if environ is None else environ
    for name, value in values.items():
        environ.setdefault(name, value)


def resolve_setting_references(text: str, environ: Mapping[str, str], what: str) -> str:
    """Replace each `%NAME%` in `text` by the app setting NAME; `what` names the value in errors."""

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{what} refers to the app setting {name!r}, which is not set")
        return environ[name]

    return _SETTING_REFERENCE.sub(setting, text)


def read_host_config(app_dir: Path, environ: Mapping[str, str] | None = None) -> HostConfig:
    """The host configuration of the app in app_dir (defaults where host.json is silent)."""
    environ = os.environ if environ is None else environ
    path = app_dir / "host.json"
    try:
        host = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except ValueError as error:
        raise ConfigError(f"{path} is not valid JSON: {error}") from error
    if path.exists():
        _check_version(host, path)
    extensions = host.get("extensions") or {}
    durable = extensions.get("durableTask") or {}
    http = extensions.get("http") or {}
    hub = resolve_setting_references(str(durable.get("hubName") or DEFAULT_HUB_NAME), environ, "hubName")
    if _HUB_NAME.fullmatch(hub) is None:
        raise ConfigError(f"task hub name {hub!r} must be 3-45 letters and digits, starting with a letter")
    cores = os.cpu_count() or 1
    return HostConfig(
        app_dir=app_dir,
        hub_name=hub,
        route_prefix=str(environ.get(ROUTE_PREFIX_SETTING, http.get("routePrefix", "api"))).strip("/"),
        max_concurrent_activities=_positive(durable, "maxConcurrentActivityFunctions", 10 * cores),
        max_concurrent_orchestrations=_positive(durable, "maxConcurrentOrchestratorFunctions", 10 * cores),
        function_timeout=_function_timeout(environ.get(FUNCTION_TIMEOUT_SETTING) or host.get("functionTimeout")),
    )


def _check_version(host: object, path: Path) -> None:
    """Refuse a host.json the Functions host (v4) refuses: not an object, or without version 2.0.

    Without host.json the host writes a default one, so only an existing file is checked.
    """
    if not isinstance(host, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    version = host.get("version")
    if not version:
        raise ConfigError(f"{path} is missing the required 'version' property: the Functions host refuses it; "
                          f"add \"version\": \"{HOST_JSON_VERSION}\"")
    if version != HOST_JSON_VERSION:
        raise ConfigError(f"{version!r} is an invalid value for the 'version' property of {path}: "
                          f"the Functions host takes only {HOST_JSON_VERSION!r}")


def _positive(section: Mapping[str, object], name: str, default: int) -> int:
    value = section.get(name, default)
    if not isinstance(value, int) or value < 1:
        raise ConfigError(f"host.json extensions.durableTask.{name} must be a positive integer, not {value!r}")
    return value


def _function_timeout(value: object) -> timedelta | None:
    """functionTimeout as a duration: a TimeSpan such as "00:10:00" or "1.00:00:00" (absent: the default).

    `-1` is unbounded, which the Premium and Dedicated plans allow: None.
    """
    if value is None:
        return DEFAULT_FUNCTION_TIMEOUT
    if str(value).strip() == "-1":
        return None
    found = _TIMESPAN.fullmatch(str(value).strip())
    if found is None:
        raise ConfigError(f"functionTimeout {value!r} is not a time span like \"00:10:00\" (hh:mm:ss)")
    days, hours, minutes, seconds, fraction = found.groups()
    timeout = timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes),
                        seconds=int(seconds) + float(fraction or 0))
    if timeout <= timedelta(0) or int(hours) > 23 or int(minutes) > 59 or int(seconds) > 59:
        raise ConfigError(f"functionTimeout {value!r} must be a positive time span like \"00:10:00\"")
    return timeout
