"""Requests and responses as the services see them, independent of the web framework.

A service (`DataverseService`, `FinOpsService`) maps an `ApiRequest` to an `ApiResponse`
synchronously on the database thread; the Starlette layer and the `$batch` executor both
build `ApiRequest`s, so an operation inside a batch runs exactly like a direct request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlencode

ODATA_HEADERS = {"OData-Version": "4.0"}
JSON_TYPE = "application/json; odata.metadata=minimal"


class ServiceError(Exception):
    """An error the service answers with: HTTP status, the service's code and message."""

    def __init__(self, status: int, message: str, code: str = "", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


@dataclass
class ApiRequest:
    """One request to a service root. `path` is still percent-encoded, relative to the root.

    `references` maps the Content-IDs of earlier operations in the same `$batch` change set
    to the paths of the records they created (`$1` in a URL or an @odata.bind).
    """

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes
    base_url: str
    references: Mapping[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        """The first value of a query option, matched case-insensitively as the services do."""
        lowered = name.lower()
        for key, value in self.query:
            if key.lower() == lowered:
                return value
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def link(self, path: str, replace: Mapping[str, str], keep: frozenset[str] | None = None) -> str:
        """An absolute URL to `path` with this request's query options (or those in `keep`),
        the options in `replace` set anew: next links and delta links."""
        names = {name.lower() for name in replace}
        kept = [(k, v) for k, v in self.query if k.lower() not in names and (keep is None or k.lower() in keep)]
        query = urlencode([*kept, *replace.items()], quote_via=quote, safe="$,()'=")
        return f"{self.base_url}{path}?{query}"

    def json_body(self) -> Any:
        """The JSON payload; like the services, refuses a body not declared as application/json."""
        if not self.body.strip():
            raise ServiceError(400, "The request body is empty; a JSON payload is required.")
        media_type = (self.header("content-type") or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            shown = media_type or "application/octet-stream"
            raise ServiceError(
                415, f"The media type '{shown}' is not supported for this resource; use application/json."
            )
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ServiceError(400, f"The request payload is not valid JSON: {exc}") from None


@dataclass
class ApiResponse:
    """A service's answer; `records_written` feeds the per-record cost and the stats."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    records_written: int = 0


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> ApiResponse:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return ApiResponse(status, {**ODATA_HEADERS, "Content-Type": JSON_TYPE, **(headers or {})}, body)


def empty_response(status: int, headers: Mapping[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status, {**ODATA_HEADERS, **(headers or {})})


class Service(Protocol):
    """What the web layer and the admin endpoints need from a system's sandbox."""

    system: str
    root: str

    def handle(self, request: ApiRequest) -> ApiResponse: ...

    def error_response(self, error: ServiceError) -> ApiResponse: ...

    def throttle_error(self, reason: str, limit: int, window_s: float, retry_after: int) -> ServiceError: ...

    def auth_error(self) -> ServiceError: ...

    def unavailable_error(self) -> ServiceError: ...

    def seed_system_records(self) -> None: ...
