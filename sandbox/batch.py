"""OData `$batch` (multipart/mixed): parse the request, run its operations in order, compose the reply.

A change set runs in one transaction: the first failing operation rolls the whole change
set back and is its only response. Without `Prefer: odata.continue-on-error` the batch
stops after the first failure (a failed change set counts as one); with it every item gets
its response. Operations reach the service exactly as direct requests would, and a change
set can refer to a record created earlier in it by Content-ID (`$1`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from sandbox.messages import ApiRequest, ApiResponse, ServiceError
from sandbox.odata_query import parse_prefer

MAX_OPERATIONS = 1000
_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.IGNORECASE)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


@dataclass
class Operation:
    """One HTTP request inside a batch."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    operations: list[Operation] = field(default_factory=list)


def boundary_of(content_type: str | None) -> str:
    match = _BOUNDARY.search(content_type or "")
    if match is None or not (content_type or "").lower().startswith("multipart/mixed"):
        raise ServiceError(400, "The batch request must have a multipart/mixed Content-Type with a boundary.")
    return match.group(1).strip()


def _split(body: bytes, boundary: str) -> list[bytes]:
    delimiter = re.compile(rb"(?:^|\r?\n)--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*(?:\r?\n|$)")
    parts: list[bytes] = []
    position: int | None = None
    for match in delimiter.finditer(body):
        if position is not None:
            parts.append(body[position : match.start()])
        position = match.end()
        if match.group(1):
            return parts
    raise ServiceError(400, f"The batch body does not end with the closing boundary '--{boundary}--'.")


def _head_and_body(part: bytes) -> tuple[list[str], bytes]:
    if part.startswith((b"\r\n", b"\n")):
        return [], part.lstrip(b"\r\n")
    match = _BLANK_LINE.search(part)
    head, body = (part[: match.start()], part[match.end() :]) if match else (part, b"")
    return head.decode("utf-8", "replace").splitlines(), body


def _headers(lines: list[str]) -> dict[str, str]:
    headers = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _operation(part: bytes) -> Operation:
    mime_lines, content = _head_and_body(part)
    mime = _headers(mime_lines)
    if not mime.get("content-type", "").lower().startswith("application/http"):
        raise ServiceError(400, "Every batch part must have Content-Type: application/http.")
    lines, body = _head_and_body(content.lstrip(b"\r\n"))
    if not lines:
        raise ServiceError(400, "A batch part has no request line.")
    request_line = lines[0].split()
    if len(request_line) < 2:
        raise ServiceError(400, f"The batch request line '{lines[0]}' is not valid.")
    headers = _headers(lines[1:])
    content_id = mime.get("content-id") or headers.get("content-id")
    return Operation(request_line[0].upper(), request_line[1], headers, body if body.strip() else b"", content_id)


def parse_batch(content_type: str | None, body: bytes) -> list[Operation | ChangeSet]:
    """The operations and change sets of a batch body, in order."""
    items: list[Operation | ChangeSet] = []
    for part in _split(body, boundary_of(content_type)):
        lines, content = _head_and_body(part)
        part_type = _headers(lines).get("content-type", "")
        if part_type.lower().startswith("multipart/mixed"):
            items.append(ChangeSet([_operation(p) for p in _split(content, boundary_of(part_type))]))
        else:
            items.append(_operation(part))
    return items


class _RolledBack(Exception):
    def __init__(self, response: ApiResponse) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class BatchRunner:
    """Runs a batch against one service."""

    handle: Callable[[ApiRequest], ApiResponse]
    transaction: Callable[[], AbstractContextManager[None]]
    error_response: Callable[[ServiceError], ApiResponse]
    root_path: str

    def run(self, request: ApiRequest) -> ApiResponse:
        items = parse_batch(request.header("content-type"), request.body)
        count = sum(len(item.operations) if isinstance(item, ChangeSet) else 1 for item in items)
        if count > MAX_OPERATIONS:
            raise ServiceError(
                400,
                f"The batch has {count} operations; the maximum number of operations in a batch is {MAX_OPERATIONS}.",
            )
        keep_going = parse_prefer(request.header("prefer")).continue_on_error
        results: list[ApiResponse | list[tuple[str | None, ApiResponse]]] = []
        written = 0
        for item in items:
            if isinstance(item, ChangeSet):
                outcome = self._change_set(request, item)
                results.append(outcome)
                failed = isinstance(outcome, ApiResponse)
                written += 0 if failed else sum(r.records_written for _, r in outcome)
            else:
                response = self._one(request, item, {})
                results.append(response)
                failed = response.status >= 400
                written += 0 if failed else response.records_written
            if failed and not keep_going:
                break
        content_type, body = compose(results)
        headers = {"Content-Type": content_type, "OData-Version": "4.0"}
        if keep_going:
            headers["Preference-Applied"] = "odata.continue-on-error"
        return ApiResponse(200, headers, body, written)

    def _one(self, batch: ApiRequest, operation: Operation, references: Mapping[str, str]) -> ApiResponse:
        url = operation.url
        if url.startswith("$"):
            content_id, _, rest = url[1:].partition("/")
            if content_id in references:
                url = references[content_id] + (f"/{rest}" if rest else "")
        parts = urlsplit(url)
        path = parts.path
        if self.root_path in path:
            path = path.split(self.root_path, 1)[1]
        return self.handle(
            ApiRequest(
                method=operation.method,
                path=path.lstrip("/"),
                query=parse_qsl(parts.query, keep_blank_values=True),
                headers=operation.headers,
                body=operation.body,
                base_url=batch.base_url,
                references=references,
            )
        )

    def _change_set(
        self, batch: ApiRequest, change_set: ChangeSet
    ) -> ApiResponse | list[tuple[str | None, ApiResponse]]:
        references: dict[str, str] = {}
        responses: list[tuple[str | None, ApiResponse]] = []
        try:
            with self.transaction():
                for operation in change_set.operations:
                    if operation.method == "GET":
                        raise _RolledBack(self.error_response(ServiceError(400, "A change set cannot contain GET.")))
                    response = self._one(batch, operation, references)
                    if response.status >= 400:
                        raise _RolledBack(response)
                    entity_id = response.headers.get("OData-EntityId")
                    if operation.content_id and entity_id:
                        references[operation.content_id] = entity_id.split(batch.base_url, 1)[-1]
                    responses.append((operation.content_id, response))
        except _RolledBack as rolled_back:
            return rolled_back.response
        return responses


def _http_part(response: ApiResponse, content_id: str | None) -> bytes:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        head.append(f"Content-ID: {content_id}")
    lines = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode() + response.body + b"\r\n"


def compose(results: list[ApiResponse | list[tuple[str | None, ApiResponse]]]) -> tuple[str, bytes]:
    """The multipart/mixed body of a batch response."""
    boundary = f"batchresponse_{uuid.uuid4()}"
    out = bytearray()
    for item in results:
        out += f"--{boundary}\r\n".encode()
        if isinstance(item, list):
            change_set = f"changesetresponse_{uuid.uuid4()}"
            out += f"Content-Type: multipart/mixed; boundary={change_set}\r\n\r\n".encode()
            for content_id, response in item:
                out += f"--{change_set}\r\n".encode() + _http_part(response, content_id)
            out += f"--{change_set}--\r\n".encode()
        else:
            out += _http_part(item, None)
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/mixed; boundary={boundary}", bytes(out)
