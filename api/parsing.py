"""Reading a request: names in paths, JSON bodies, If-Match, and the caller's roles."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import azure.functions as func

from shared.errors import Forbidden, InvalidInput, Unauthorized
from shared.limits import MAX_BODY_BYTES, check_json_depth, check_sizes
from shared.settings import principal_required

NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
ADMIN = "DataIntegration.Admin"
OPERATOR = "DataIntegration.Operator"


def path_name(req: func.HttpRequest, param: str) -> str:
    value = req.route_params.get(param, "")
    if not NAME.fullmatch(value):
        raise InvalidInput(f"{param} must be 1-64 characters of A-Z a-z 0-9 . _ -", field=param)
    return value


def json_body(req: func.HttpRequest, *, optional: bool = False) -> Any:
    """The body as JSON, held to the bounds of shared/limits.py (depth checked before parsing); InvalidInput if not."""
    raw = req.get_body() or b""
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"the body is larger than {MAX_BODY_BYTES} bytes", field="body")
    if not raw.strip():
        if optional:
            return None
        raise InvalidInput("a JSON body is required", field="body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the body is not UTF-8", field="body") from exc
    check_json_depth(text)
    try:
        data = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", field="body") from exc
    except ValueError as exc:
        # what the parser's number conversion refuses: an integer past Python's 4,300 digits, NaN, Infinity
        raise InvalidInput(f"the body is not JSON: {exc}", field="body") from exc
    broken = _lone_surrogate_at(data)
    if broken is not None:
        raise InvalidInput("a \\uD800-\\uDFFF escape without its pair is not text", field=broken)
    check_sizes(data)
    return data


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def object_body(req: func.HttpRequest) -> dict[str, Any]:
    data = json_body(req)
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    return data


def if_match(req: func.HttpRequest) -> str:
    """The ETag in `If-Match`, as sent: the store compares it with the current one before using it."""
    value = req.headers.get("If-Match", "").strip()
    if not value:
        raise InvalidInput("If-Match with the project's ETag is required", field="If-Match")
    return value


def _lone_surrogate_at(data: Any, path: str = "body") -> str | None:
    """The JSON path of the first string holding half a UTF-16 surrogate pair, if any (for a property
    name, the object holding it: the name itself cannot be written back).

    JSON lets `"\\ud800"` through, but such a string cannot be written as UTF-8 or read back
    from storage, so it is refused before anything is saved.
    """
    if isinstance(data, str):
        return path if _SURROGATE.search(data) else None
    if isinstance(data, dict):
        if any(_SURROGATE.search(key) for key in data):
            return path
        items = [(str(key), value) for key, value in data.items()]
    elif isinstance(data, list):
        items = [(str(n), value) for n, value in enumerate(data)]
    else:
        return None
    for key, value in items:
        found = _lone_surrogate_at(value, key if path == "body" else f"{path}.{key}")
        if found is not None:
            return found
    return None


def roles(req: func.HttpRequest) -> set[str] | None:
    """The caller's roles from Easy Auth's `X-MS-CLIENT-PRINCIPAL`, or None without Easy Auth."""
    header = req.headers.get("X-MS-CLIENT-PRINCIPAL")
    if not header:
        return None
    try:
        principal = json.loads(base64.b64decode(header + "=" * (-len(header) % 4)))
        claims = principal.get("claims", [])
        role_types = {principal.get("role_typ", "roles"), "roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}
        return {c.get("val", "") for c in claims if c.get("typ") in role_types}
    except (ValueError, AttributeError, TypeError) as exc:
        raise Forbidden("X-MS-CLIENT-PRINCIPAL cannot be read") from exc


def require(req: func.HttpRequest, role: str) -> None:
    """Admins may do everything; operators may start runs and read.

    Without Easy Auth the function key alone decides. With it (or DI_REQUIRE_PRINCIPAL), a
    request without a principal is refused whatever key it has: Easy Auth lets such requests
    through when the app allows anonymous callers, and a leaked function key must not be enough.
    """
    held = roles(req)
    if held is None:
        if principal_required():
            raise Unauthorized(
                "sign in: with App Service Authentication on, a function key alone is not enough",
                field="X-MS-CLIENT-PRINCIPAL",
            )
        return
    allowed = {ADMIN} if role == ADMIN else {ADMIN, OPERATOR}
    if not held & allowed:
        raise Forbidden(f"this needs the {role} role")
