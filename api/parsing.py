"""Reading a request: names in paths, JSON bodies, If-Match, and the caller's roles."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import azure.functions as func

from shared.errors import DomainError, InvalidInput

NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_BODY_BYTES = 4 * 1024 * 1024
ADMIN = "DataIntegration.Admin"
OPERATOR = "DataIntegration.Operator"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


def path_name(req: func.HttpRequest, param: str) -> str:
    value = req.route_params.get(param, "")
    if not NAME.fullmatch(value):
        raise InvalidInput(f"{param} must be 1-64 characters of A-Z a-z 0-9 . _ -", field=param)
    return value


def json_body(req: func.HttpRequest, *, optional: bool = False) -> Any:
    raw = req.get_body() or b""
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"the body is larger than {MAX_BODY_BYTES} bytes", field="body")
    if not raw.strip():
        if optional:
            return None
        raise InvalidInput("a JSON body is required", field="body")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput("the body is not UTF-8", field="body") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", field="body") from exc


def object_body(req: func.HttpRequest) -> dict[str, Any]:
    data = json_body(req)
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    return data


def if_match(req: func.HttpRequest) -> str:
    value = req.headers.get("If-Match", "").strip()
    if not value:
        raise InvalidInput("If-Match with the project's ETag is required", field="If-Match")
    return value


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
    """Admins may do everything; operators may start runs and read."""
    held = roles(req)
    if held is None:
        return
    allowed = {ADMIN} if role == ADMIN else {ADMIN, OPERATOR}
    if not held & allowed:
        raise Forbidden(f"this needs the {role} role")
