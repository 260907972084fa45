"""The part of the Durable Functions HTTP management API that the durable client calls.

Paths are relative to `/runtime/webhooks/durabletask/` (or the RPC base `/durabletask/`):

    POST   orchestrators/{functionName}[/{instanceId}]   start: 202 + management payload, 409 if running
    GET    instances/{instanceId}?showHistory&showHistoryOutput&showInput
                                                      202 Pending/Running, 200 finished, 404 unknown
    GET    instances?runtimeStatus=&createdTimeFrom=&createdTimeTo=&instanceIdPrefix=&top=
                                                      200 + list, `x-ms-continuation-token` for more
    POST   instances/{instanceId}/terminate?reason=   202, 404 unknown, 410 finished
    POST   instances/{instanceId}/raiseEvent/{name}   202, 404 unknown, 410 finished
    DELETE instances/{instanceId}                     purge: 200 {"instancesDeleted": 1}, 404
    DELETE instances?createdTimeFrom=&...             purge many: 200 with the count, 404 for none

Rewind, suspend, resume, restart and entities answer 501.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from devhost.client_binding import DurableUrls
from devhost.history import parse_time
from devhost.orchestration_runner import PENDING, RUNNING
from devhost.task_hub import Delivery, InstanceExists, InvalidInstanceId, TaskHub, UnknownOrchestrator

CONTINUATION_HEADER = "x-ms-continuation-token"
UNSUPPORTED_OPERATIONS = frozenset({"rewind", "suspend", "resume", "restart"})
DELIVERY_STATUS = {Delivery.ACCEPTED: 202, Delivery.NOT_FOUND: 404, Delivery.GONE: 410}


@dataclass
class ApiResponse:
    """A status code, an optional JSON body and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(ValueError):
    """A request the API cannot read; the message says what is wrong."""


class ManagementApi:
    """Answers management requests about one task hub."""

    def __init__(self, hub: TaskHub, urls: DurableUrls) -> None:
        self._hub = hub
        self._urls = urls

    def handle(self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
               body: bytes) -> ApiResponse:
        """Answer `method` on `path` (below the API's base); `headers` must be case-insensitive."""
        parts = [part for part in path.split("/") if part]
        try:
            return self._route(method.upper(), parts, query, headers, body)
        except BadRequest as error:
            return ApiResponse(400, {"Message": str(error)})

    def _route(self, method: str, parts: list[str], query: Mapping[str, str], headers: Mapping[str, str],
               body: bytes) -> ApiResponse:
        if method == "POST" and parts[:1] == ["orchestrators"] and len(parts) in (2, 3):
            return self._start(parts[1], parts[2] if len(parts) == 3 else None, body)
        if parts == ["instances"] and method == "GET":
            return self._list(query, headers)
        if parts == ["instances"] and method == "DELETE":
            return self._purge_where(query)
        if parts[:1] != ["instances"] or len(parts) < 2:
            return _not_implemented(parts) if parts[:1] == ["entities"] else ApiResponse(404)
        instance_id = parts[1]
        if len(parts) == 2 and method == "GET":
            return self._status(instance_id, query)
        if len(parts) == 2 and method == "DELETE":
            purged = self._hub.purge(instance_id)
            return ApiResponse(200 if purged else 404, {"instancesDeleted": int(purged)})
        if len(parts) == 3 and parts[2] == "terminate" and method == "POST":
            return ApiResponse(DELIVERY_STATUS[self._hub.terminate(instance_id, query.get("reason"))])
        if len(parts) == 4 and parts[2] == "raiseEvent" and method == "POST":
            delivery = self._hub.raise_event(instance_id, parts[3], _input_json(body))
            return ApiResponse(DELIVERY_STATUS[delivery])
        if len(parts) == 3 and parts[2] in UNSUPPORTED_OPERATIONS:
            return _not_implemented(parts)
        return ApiResponse(404)

    def _start(self, name: str, instance_id: str | None, body: bytes) -> ApiResponse:
        try:
            instance_id = self._hub.start_new(name, instance_id, _input_json(body))
        except UnknownOrchestrator as error:
            return ApiResponse(400, {"Message": "One or more of the arguments submitted is incorrect",
                                     "ExceptionMessage": str(error)})
        except InvalidInstanceId as error:
            return ApiResponse(400, {"Message": str(error), "ExceptionMessage": str(error)})
        except InstanceExists as error:
            return ApiResponse(409, {"Message": str(error), "ExceptionMessage": str(error)})
        payload = self._urls.management_payload(instance_id)
        return ApiResponse(202, payload, {"Location": payload["statusQueryGetUri"], "Retry-After": "10"})

    def _status(self, instance_id: str, query: Mapping[str, str]) -> ApiResponse:
        body = self._hub.status(
            instance_id,
            show_history=_flag(query, "showHistory", False),
            show_history_output=_flag(query, "showHistoryOutput", False),
            show_input=_flag(query, "showInput", True),
        )
        if body is None:
            return ApiResponse(404)
        if body["runtimeStatus"] in (PENDING, RUNNING):
            location = self._urls.management_payload(instance_id)["statusQueryGetUri"]
            return ApiResponse(202, body, {"Location": location, "Retry-After": "10"})
        return ApiResponse(200, body)

    def _list(self, query: Mapping[str, str], headers: Mapping[str, str]) -> ApiResponse:
        top = query.get("top")
        if top is not None and not top.isdigit():
            raise BadRequest("top must be a positive integer")
        statuses, created_from, created_to = _filters(query)
        items, following = self._hub.list_instances(
            statuses, created_from, created_to, query.get("instanceIdPrefix"),
            int(top) if top else None, headers.get(CONTINUATION_HEADER) or None, _flag(query, "showInput", True),
        )
        return ApiResponse(200, items, {CONTINUATION_HEADER: following} if following else {})

    def _purge_where(self, query: Mapping[str, str]) -> ApiResponse:
        statuses, created_from, created_to = _filters(query)
        if created_from is None:
            raise BadRequest("createdTimeFrom is required to purge instances by filter")
        deleted = self._hub.purge_where(statuses, created_from, created_to)
        return ApiResponse(200 if deleted else 404, {"instancesDeleted": deleted})


def _filters(query: Mapping[str, str]) -> tuple[list[str], datetime | None, datetime | None]:
    statuses = [s.strip() for s in query.get("runtimeStatus", "").split(",") if s.strip()]
    return statuses, _time(query, "createdTimeFrom"), _time(query, "createdTimeTo")


def _time(query: Mapping[str, str], name: str) -> datetime | None:
    text = query.get(name)
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError as error:
        raise BadRequest(f"{name} must be an ISO 8601 time, not {text!r}") from error


def _flag(query: Mapping[str, str], name: str, default: bool) -> bool:
    text = query.get(name)
    return default if text is None else text.lower() == "true"


def _input_json(body: bytes) -> str | None:
    """The JSON text of a request's input. The durable client posts its JSON text as a JSON string."""
    if not body.strip():
        return None
    try:
        value = json.loads(body)
    except ValueError as error:
        raise BadRequest("the request body must be JSON") from error
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return json.dumps(value)
        return value
    return json.dumps(value)


def _not_implemented(parts: list[str]) -> ApiResponse:
    return ApiResponse(501, {"Message": f"devhost does not implement '{'/'.join(parts)}'"})
