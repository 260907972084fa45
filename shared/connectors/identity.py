"""What identifies the system a connection reaches, and the user it signs in as.

Both are read from the saved connection alone (kind, URL, auth), never from a secret or a
secret's reference, so rotating a secret changes neither.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlsplit

from shared.http import origin_of
from shared.models import Connection


def user_identity(connection: Connection) -> str:
    """Who the service counts a connection's requests against: the environment and the user it signs in as."""
    auth = connection.auth
    user = getattr(auth, "clientId", None) or auth.type
    return f"{connection.kind} {short_origin(connection.url)} {user}"


def connection_fingerprint(connection: Connection) -> str:
    """What identifies the system and the identity a connection reaches, as a digest."""
    path = urlsplit(connection.url).path.rstrip("/")
    identity = {
        "kind": connection.kind,
        "url": origin_of(connection.url) + path,
        "auth": connection.auth.type,
        "tenantId": getattr(connection.auth, "tenantId", None),
        "clientId": getattr(connection.auth, "clientId", None),
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def short_origin(url: str) -> str:
    """`scheme://host[:port]` of `url` as the connection writes it, the host lower-cased (names in messages)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"
