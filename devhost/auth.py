"""Host keys: which requests may call a function, the Durable webhooks or the durable client's RPC base.

As on Azure there are two kinds of key:

- the function key, `DEVHOST_FUNCTION_KEY` (an app setting, so local.settings.json may set
  it), else `local-dev-key`: it opens every function whose auth level is not anonymous;
- the Durable extension's system key (`durabletask_extension`): `DEVHOST_SYSTEM_KEY`, else a
  random key made at start. Only it opens the management webhooks and the RPC base, and it is
  what the management URLs carry, so whoever holds one of those URLs can manage every instance
  of the task hub. It is never logged.

Callers present a key in the `x-functions-key` header or the `code` query parameter. With
`--lenient` (`Strictness.system_key` off) the function key stands for the system key too.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from devhost.host_config import ConfigError

KEY_SETTING = "DEVHOST_FUNCTION_KEY"
SYSTEM_KEY_SETTING = "DEVHOST_SYSTEM_KEY"
DEFAULT_KEY = "local-dev-key"
KEY_HEADER = "x-functions-key"
KEY_QUERY = "code"
ANONYMOUS = "anonymous"
SYSTEM_KEY_BYTES = 32


def function_key(environ: Mapping[str, str] | None = None) -> str:
    """The function key, from the app settings."""
    environ = os.environ if environ is None else environ
    return environ.get(KEY_SETTING) or DEFAULT_KEY


def new_system_key() -> str:
    """A fresh random system key, URL-safe like the host's generated keys."""
    return secrets.token_urlsafe(SYSTEM_KEY_BYTES)


@dataclass(frozen=True)
class HostKeys:
    """The keys of one devhost: `function` for the app's functions, `system` for the Durable webhooks."""

    function: str
    system: str

    def __repr__(self) -> str:
        return "HostKeys(function=..., system=...)"

    @classmethod
    def from_settings(cls, environ: Mapping[str, str] | None = None, separate_system_key: bool = True) -> HostKeys:
        """The keys the app settings give; a random system key unless DEVHOST_SYSTEM_KEY sets one.

        Without `separate_system_key` (lenient) the function key is the system key as well;
        with it, a system key equal to the function key is a ConfigError.
        """
        environ = os.environ if environ is None else environ
        function = function_key(environ)
        if not separate_system_key:
            return cls(function, function)
        system = environ.get(SYSTEM_KEY_SETTING) or new_system_key()
        if same_key(system, function):
            raise ConfigError(f"{SYSTEM_KEY_SETTING} must differ from the function key, or function keys would "
                              "open the Durable webhooks")
        return cls(function, system)


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key a request carries, header first; `headers` must be case-insensitive."""
    return headers.get(KEY_HEADER) or query.get(KEY_QUERY)


def is_authorized(auth_level: str, key: str | None, expected: str) -> bool:
    """Whether a request with `key` may call something protected at `auth_level`."""
    if auth_level.lower() == ANONYMOUS:
        return True
    return key is not None and same_key(key, expected)


def same_key(presented: str, expected: str) -> bool:
    """Compare keys in constant time."""
    return hmac.compare_digest(presented.encode(), expected.encode())
