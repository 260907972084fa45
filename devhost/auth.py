"""Function keys: which requests may call a function or the Durable webhooks.

devhost has one key, `DEVHOST_FUNCTION_KEY` (an app setting, so local.settings.json may set
it), else `local-dev-key`. It stands for the function keys, the master key and the Durable
extension's system key alike. Callers present it in the `x-functions-key` header or the
`code` query parameter, as with Azure Functions.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

KEY_SETTING = "DEVHOST_FUNCTION_KEY"
DEFAULT_KEY = "local-dev-key"
KEY_HEADER = "x-functions-key"
KEY_QUERY = "code"
ANONYMOUS = "anonymous"


def function_key(environ: Mapping[str, str] | None = None) -> str:
    """The key devhost accepts, from the app settings."""
    environ = os.environ if environ is None else environ
    return environ.get(KEY_SETTING) or DEFAULT_KEY


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key a request carries, header first; `headers` must be case-insensitive."""
    return headers.get(KEY_HEADER) or query.get(KEY_QUERY)


def is_authorized(auth_level: str, key: str | None, expected: str) -> bool:
    """Whether a request with `key` may call something protected at `auth_level`."""
    if auth_level.lower() == ANONYMOUS:
        return True
    return key is not None and hmac.compare_digest(key.encode(), expected.encode())
