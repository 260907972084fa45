"""Credentials inside URLs: user-info, shared access signatures, credential query parameters.

A URL is returned by the API, written into consent records and named in logs; one that
carries a credential would leak it everywhere it goes, so it is refused as a raw secret.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

_CREDENTIAL_PARAMETERS = frozenset(
    {
        "code", "key", "token", "accesstoken", "idtoken", "refreshtoken", "clientsecret", "secret", "password",
        "pwd", "passwd", "apikey", "subscriptionkey", "sig", "signature", "sas", "sastoken", "accountkey",
        "sharedaccesskey", "sharedaccesssignature", "xamzsignature", "xamzcredential", "xgoogsignature",
        "authorization", "auth",
    }
)
"""Query parameter names (case-folded, without `_` and `-`) whose values are credentials."""

_SAS_FIELDS = frozenset({"sv", "se", "sp", "sr", "ss", "srt", "st", "spr", "skoid"})
"""Shared access signature fields: two of them together are a SAS even without its `sig`."""


def credentials_in_url(value: str) -> bool:
    """True when `value` is a URL carrying a credential: user-info, a SAS, or a credential query parameter."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    if not parts.scheme or not parts.netloc:
        return False
    if "@" in parts.netloc:
        return True
    names = {_folded(name) for text in (parts.query, parts.fragment) for name, _ in parse_qsl(text, True)}
    return bool(names & _CREDENTIAL_PARAMETERS) or len(names & _SAS_FIELDS) >= 2


def _folded(name: str) -> str:
    return name.replace("_", "").replace("-", "").casefold()
