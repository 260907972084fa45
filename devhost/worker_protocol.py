"""What crosses between devhost and its worker processes: invocations and their outcomes, as plain data.

The host sends one `Invocation` per call and gets one `Outcome` back, each pickled once over
the worker's pipe, as the Functions host and the Python worker exchange gRPC messages. A
trigger's data travels in the form the host has it (the orchestration context JSON, the
activity input JSON, the timer payload, the HTTP request's fields); the worker turns it into
the argument the function declares (`decode`) and the function's return value back into
plain data (`encode_result`), with azure-functions' own converters where it has them.
Other inputs, such as the durable client binding, are plain strings already.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import azure.functions as func
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter, OrchestrationTriggerConverter
from azure.functions.timer import TimerRequestConverter

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"


class TriggerData(Protocol):
    """A trigger's data as the host holds it."""

    def decode(self) -> Any:
        """The argument the function receives."""

    def encode_result(self, value: Any) -> Any:
        """The function's return value as plain data for the host."""


@dataclass(frozen=True)
class OrchestrationTrigger:
    """An orchestrator episode: the context JSON the host builds; the SDK's answer is JSON text."""

    payload: str

    def decode(self) -> Any:
        """The context object the SDK's orchestrator handler takes."""
        return OrchestrationTriggerConverter.decode(meta.Datum(self.payload, "json"), trigger_metadata=None)

    def encode_result(self, value: Any) -> str:
        """The handler's JSON answer, unchanged."""
        return value


@dataclass(frozen=True)
class ActivityTrigger:
    """An activity attempt: its input as the JSON text Durable stores (None: no input)."""

    input: str | None

    def decode(self) -> Any:
        """The input value, decoded by the activity trigger's converter."""
        datum = meta.Datum(self.input if self.input is not None else "null", "json")
        return ActivityTriggerConverter.decode(datum, trigger_metadata=None)

    def encode_result(self, value: Any) -> str:
        """The result as JSON text (a value JSON cannot hold fails the attempt)."""
        return ActivityTriggerConverter.encode(value, expected_type=None).value


@dataclass(frozen=True)
class TimerTrigger:
    """A timer firing: the JSON payload the host passes (schedule, status, past due)."""

    payload: str

    def decode(self) -> func.TimerRequest:
        """The `func.TimerRequest` the function receives."""
        return TimerRequestConverter.decode(meta.Datum(self.payload, "json"), trigger_metadata=None)

    def encode_result(self, value: Any) -> None:
        """Timer functions return nothing the host uses."""
        return None


@dataclass(frozen=True)
class HttpResponseData:
    """An HTTP function's answer: status, headers and body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, value: Any) -> HttpResponseData:
        """What the host answers for a function's return value; TypeError when it is no HTTP response."""
        if isinstance(value, func.HttpResponse):
            headers = dict(value.headers)
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = f"{value.mimetype}; charset={value.charset}"
            return cls(value.status_code, headers, value.get_body())
        if value is None:
            return cls(204, {}, b"")
        if isinstance(value, str):
            return cls(200, {"Content-Type": TEXT_TYPE}, value.encode())
        if isinstance(value, bytes):
            return cls(200, {"Content-Type": TEXT_TYPE}, value)
        try:
            return cls(200, {"Content-Type": JSON_TYPE}, json.dumps(value).encode())
        except TypeError as error:
            raise TypeError(f"the function returned a {type(value).__name__}, which is no HTTP response") from error


@dataclass(frozen=True)
class HttpTrigger:
    """An HTTP request as the front received it (repeated headers and parameters already joined)."""

    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, str]
    route_params: dict[str, str]
    body: bytes

    def decode(self) -> func.HttpRequest:
        """The `func.HttpRequest` the function receives."""
        return func.HttpRequest(
            self.method, self.url, headers=self.headers, params=self.params, route_params=self.route_params,
            body=self.body,
        )

    def encode_result(self, value: Any) -> HttpResponseData:
        """The response the host writes."""
        return HttpResponseData.of(value)


@dataclass(frozen=True)
class Invocation:
    """One call of a function, by name, with its trigger data under `trigger_param` and plain-string inputs."""

    invocation_id: str
    function_name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    """Why an invocation failed: the exception's type, message and traceback.

    `aborted` marks failures of the runtime rather than of the function (a timeout, a worker
    process that exited): Durable retries an orchestrator episode aborted that way instead of
    failing the orchestration.
    """

    type_name: str
    message: str
    traceback: str = ""
    aborted: bool = False


@dataclass(frozen=True)
class Outcome:
    """An invocation's encoded result, or its failure."""

    invocation_id: str
    value: Any = None
    failure: Failure | None = None


@dataclass(frozen=True)
class WorkerReady:
    """A worker process imported the app and takes invocations."""

    pid: int


@dataclass(frozen=True)
class WorkerInitFailed:
    """A worker process could not import or index the app; it exits after saying so."""

    message: str
