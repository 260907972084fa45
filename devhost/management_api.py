"""The Durable Functions HTTP management API, answered as the extension's HttpApiHandler answers it.

Paths are relative to `/runtime/webhooks/durabletask/` (or the durable client's RPC base):

    POST   orchestrators/{functionName}[/{instanceId}][?timeout=S&pollingInterval=S]
                                                      start: 202 + check-status payload, Location,
                                                      Retry-After 10; 400 unknown orchestrator or bad JSON;
                                                      with timeout and pollingInterval, 200 + output when it
                                                      completes in time (a failure: its status)
    GET    instances/{instanceId}?showHistory&showHistoryOutput&showInput&returnInternalServerErrorOnFailure
                                                      202 + Location + Retry-After 5 while Pending, Running or
                                                      Suspended; 200 finished (500 Failed when asked); 404
    GET    instances?runtimeStatus=&createdTimeFrom=&createdTimeTo=&instanceIdPrefix=&top=
                                                      200 + list, `x-ms-continuation-token` for more
    POST   instances/{instanceId}/terminate?reason=   202, 404 unknown, 410 finished
    POST   instances/{instanceId}/suspend?reason=     202, 404, 410 finished, 500 when not Pending/Running
    POST   instances/{instanceId}/resume?reason=      202, 404, 410 finished, 500 when not Suspended
    POST   instances/{instanceId}/rewind?reason=      202, 404, 410 Completed/Terminated, 500 when not Failed
    POST   instances/{instanceId}/restart?restartWithNewInstanceId=
                                                      202 + check-status payload; 400 unknown instance
    POST   instances/{instanceId}/raiseEvent/{name}   202, 404, 410 finished, 400 not application/json
    DELETE instances/{instanceId}                     purge: 200 {"instancesDeleted": n}, 404 unknown
    DELETE instances?createdTimeFrom=&...             purge many: 200 with the count, 404 for none
    GET    entities/{name}[/{key}]                    devhost runs no entities: 404 for one, [] for a list
    POST   entities/{name}/{key}                      400, the extension's answer for an unknown entity function

Bodies are decoded once, as the extension decodes them: a start body's value is the input, a
raise-event body's value is the event's data (`"9361"` is the string "9361"). Errors the
extension reports through its handler's catch-all carry its words: 400 "One or more of the
arguments submitted is incorrect", 500 "Something went wrong while processing your request".
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from devhost import actions as action_kinds
from devhost.client_binding import DurableUrls
from devhost.history import parse_time
from devhost.orchestration_runner import COMPLETED, FAILED, UNFINISHED_STATUSES
from devhost.task_hub import (
    Delivery,
    InvalidInstanceId,
    TaskHub,
    UnknownInstance,
    UnknownOrchestrator,
    WrongState,
)

CONTINUATION_HEADER = "x-ms-continuation-token"
START_RETRY_AFTER_S = "10"
STATUS_RETRY_AFTER_S = "5"
DELIVERY_STATUS = {Delivery.ACCEPTED: 202, Delivery.NOT_FOUND: 404, Delivery.GONE: 410}
BAD_ARGUMENTS = "One or more of the arguments submitted is incorrect"
SERVER_ERROR = "Something went wrong while processing your request"
INVALID_JSON = "Invalid JSON content"
CHECK_STATUS_URLS = (
    "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "restartPostUri",
    "suspendPostUri", "resumePostUri",
)
"""What the extension's check-status response lists (its management payload without rewind)."""


@dataclass
class ApiResponse:
    """A status code, an optional JSON body and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(ValueError):
    """A request the API cannot read; `message` is the extension's answer."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


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
            return _error(400, str(error), error.detail)
        except WrongState as error:
            return _error(500, SERVER_ERROR, str(error))

    def _route(self, method: str, parts: list[str], query: Mapping[str, str], headers: Mapping[str, str],
               body: bytes) -> ApiResponse:
        if parts[:1] == ["orchestrators"] and len(parts) in (2, 3):
            if method != "POST":
                return ApiResponse(404)
            return self._start(parts[1], parts[2] if len(parts) == 3 else None, query, body)
        if parts[:1] == ["entities"] and 2 <= len(parts) <= 3:
            return self._entity(method, parts[1], parts[2] if len(parts) == 3 else None)
        if parts[:1] != ["instances"] or len(parts) > 4:
            return ApiResponse(404)
        if len(parts) == 1:
            if method == "GET":
                return self._list(query, headers)
            return self._purge_where(query) if method == "DELETE" else ApiResponse(404)
        instance_id = parts[1]
        if len(parts) == 2:
            if method == "GET":
                return self._status(instance_id, query)
            return self._purge(instance_id) if method == "DELETE" else ApiResponse(404)
        if method != "POST":
            return ApiResponse(404)
        if len(parts) == 4:
            if parts[2].lower() != "raiseevent":
                return ApiResponse(404)
            return self._raise_event(instance_id, parts[3], headers, body)
        return self._operation(instance_id, parts[2].lower(), query)

    def _operation(self, instance_id: str, operation: str, query: Mapping[str, str]) -> ApiResponse:
        reason = query.get("reason")
        if operation == "terminate":
            return ApiResponse(DELIVERY_STATUS[self._hub.terminate(instance_id, reason)])
        if operation == "suspend":
            return ApiResponse(DELIVERY_STATUS[self._hub.suspend(instance_id, reason)])
        if operation == "resume":
            return ApiResponse(DELIVERY_STATUS[self._hub.resume(instance_id, reason)])
        if operation == "rewind":
            return ApiResponse(DELIVERY_STATUS[self._hub.rewind(instance_id, reason)])
        if operation == "restart":
            try:
                restarted = self._hub.restart(instance_id, _flag(query, "restartWithNewInstanceId", False))
            except UnknownInstance as error:
                raise BadRequest("InstanceId does not match a valid orchestration instance.", str(error)) from error
            return self._answer_started(restarted, query)
        return ApiResponse(404)

    def _start(self, name: str, instance_id: str | None, query: Mapping[str, str], body: bytes) -> ApiResponse:
        try:
            instance_id = self._hub.start_new(name, instance_id, _body_json(body))
        except (UnknownOrchestrator, InvalidInstanceId) as error:
            raise BadRequest(BAD_ARGUMENTS, str(error)) from error
        return self._answer_started(instance_id, query)

    def _answer_started(self, instance_id: str, query: Mapping[str, str]) -> ApiResponse:
        """The check-status response, or with `timeout` and `pollingInterval` the outcome when it
        comes in time (the extension's WaitForCompletionOrCreateCheckStatusResponse)."""
        timeout, interval = _seconds(query, "timeout"), _seconds(query, "pollingInterval")
        if timeout is None or interval is None:
            return self._check_status_response(instance_id)
        if interval > timeout:
            raise BadRequest(BAD_ARGUMENTS, f"Total timeout {timeout:g} should be bigger than retry timeout "
                                            f"{interval:g}")
        deadline = time.monotonic() + timeout
        while True:
            known = self._hub.status(instance_id)
            if known is not None and known["runtimeStatus"] == COMPLETED:
                return ApiResponse(200, known["output"])
            if known is not None and known["runtimeStatus"] not in UNFINISHED_STATUSES:
                return self._status(instance_id, query)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._check_status_response(instance_id)
            time.sleep(min(interval, remaining))

    def _check_status_response(self, instance_id: str) -> ApiResponse:
        payload = self._urls.management_payload(instance_id)
        body = {"id": instance_id, **{name: payload[name] for name in CHECK_STATUS_URLS}}
        return ApiResponse(202, body, {"Location": payload["statusQueryGetUri"], "Retry-After": START_RETRY_AFTER_S})

    def _status(self, instance_id: str, query: Mapping[str, str]) -> ApiResponse:
        body = self._hub.status(
            instance_id,
            show_history=_flag(query, "showHistory", False),
            show_history_output=_flag(query, "showHistoryOutput", False),
            show_input=_flag(query, "showInput", True),
        )
        if body is None:
            return ApiResponse(404)
        if body["runtimeStatus"] in UNFINISHED_STATUSES:
            location = self._urls.management_payload(instance_id)["statusQueryGetUri"]
            return ApiResponse(202, body, {"Location": location, "Retry-After": STATUS_RETRY_AFTER_S})
        failed = body["runtimeStatus"] == FAILED and _flag(query, "returnInternalServerErrorOnFailure", False)
        return ApiResponse(500 if failed else 200, body)

    def _raise_event(self, instance_id: str, event_name: str, headers: Mapping[str, str], body: bytes) -> ApiResponse:
        known = self._hub.status(instance_id, show_input=False)
        if known is None:
            return ApiResponse(404)
        if known["runtimeStatus"] not in UNFINISHED_STATUSES:
            return ApiResponse(410)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise BadRequest("Only application/json request content is supported")
        return ApiResponse(DELIVERY_STATUS[self._hub.raise_event(instance_id, event_name, _body_json(body))])

    def _purge(self, instance_id: str) -> ApiResponse:
        if self._hub.status(instance_id, show_input=False) is None:
            return ApiResponse(404)
        return ApiResponse(200, {"instancesDeleted": int(self._hub.purge(instance_id))})

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
            return ApiResponse(400, "Please provide value for 'createdTimeFrom' parameter.")
        deleted = self._hub.purge_where(statuses, created_from, created_to)
        return ApiResponse(200 if deleted else 404, {"instancesDeleted": deleted})

    def _entity(self, method: str, name: str, key: str | None) -> ApiResponse:
        """Entities as the extension answers them when it knows no entity function: devhost runs none."""
        if method == "GET":
            return ApiResponse(200, []) if key is None else ApiResponse(404)
        if method in ("POST", "DELETE"):
            return _error(400, action_kinds.unknown_entity_message(name, self._hub.has_orchestrators))
        return ApiResponse(404)


def _error(status: int, message: str, exception_message: str | None = None) -> ApiResponse:
    """An error body as ASP.NET's CreateErrorResponse writes it."""
    body = {"Message": message}
    if exception_message is not None:
        body["ExceptionMessage"] = exception_message
    return ApiResponse(status, body)


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


def _seconds(query: Mapping[str, str], name: str) -> float | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _flag(query: Mapping[str, str], name: str, default: bool) -> bool:
    text = query.get(name)
    return default if text is None else text.lower() == "true"


def _body_json(body: bytes) -> str | None:
    """The JSON of a request body's value, decoded once: None for an empty body."""
    if not body.strip():
        return None
    try:
        return json.dumps(json.loads(body))
    except ValueError as error:
        raise BadRequest(INVALID_JSON, str(error)) from error
