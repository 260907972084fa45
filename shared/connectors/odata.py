"""What Dataverse and F&O share of OData: key literals, filters, and `$batch` multipart bodies."""

from __future__ import annotations

import email.utils
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from shared.errors import InvalidInput, SystemRefused

_ERROR_MESSAGE_LIMIT = 1000
WATERMARK_MARGIN = timedelta(minutes=2)
"""Read back a little before the previous read began: rows written during it are not missed."""


def server_watermark(date_header: str | None) -> str | None:
    """The watermark for the next incremental read: the service's own clock (`Date`), less a margin."""
    if not date_header:
        return None
    moment = email.utils.parsedate_to_datetime(date_header) - WATERMARK_MARGIN
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Guid(str):
    """A GUID value: written bare in OData (`accountid eq 5d1c…`), not as a quoted string."""


def literal(value: Any) -> str:
    """An OData literal: strings quoted with inner quotes doubled; numbers, booleans and GUIDs bare."""
    if isinstance(value, Guid):
        return str(uuid.UUID(value))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return "'" + str(value).replace("'", "''") + "'"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,255}")
_REQUEST_LINE_SAFE = "/:?#[]@!$&'()*+,;=%~"
"""What a URL keeps as it is on a `$batch` request line: the URL's own syntax and its escapes."""


def odata_name(name: str, field: str = "entity") -> str:
    """`name` if it is an OData identifier (letters, digits, `_`), else InvalidInput naming `field`.

    Definitions are checked when saved (shared/models/); this check sits where names meet
    URL paths, keys, `$select` and `$expand`, so a name that got past it cannot change the request.
    """
    if _NAME.fullmatch(name) is None:
        raise InvalidInput(f"{name[:100]!r} is not an OData name (letters, digits and _)", field=field)
    return name


def path_segment(name: str) -> str:
    """An entity set name as a URL path segment."""
    return quote(odata_name(name), safe="")


def name_list(names: Iterable[str], field: str = "select") -> str:
    """Names joined for `$select` (or inside `$expand`), each checked by `odata_name`."""
    return ",".join(odata_name(name, field) for name in names)


def key_segment(fields: Sequence[str], values: Sequence[Any]) -> str:
    """`(field='value',other=2)`, percent-encoded for a URL path."""
    inner = ",".join(f"{odata_name(f, 'key')}={literal(v)}" for f, v in zip(fields, values, strict=True))
    return "(" + quote(inner, safe="=',()") + ")"


def any_of(fields: Sequence[str], keys: Sequence[Sequence[Any]]) -> str:
    """A `$filter` matching any of `keys` (`in` is not supported everywhere)."""
    clauses = []
    for values in keys:
        parts = [f"{odata_name(f, 'key')} eq {literal(v)}" for f, v in zip(fields, values, strict=True)]
        clauses.append(parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")")
    return " or ".join(clauses)


def error_of(status: int, body: str) -> tuple[str, str]:
    """The service's error code and message from an error body (both services' shapes)."""
    try:
        error = json.loads(body).get("error", {})
    except (ValueError, AttributeError):
        return str(status), body[:_ERROR_MESSAGE_LIMIT]
    if not isinstance(error, dict):
        return str(status), body[:_ERROR_MESSAGE_LIMIT]
    message = error.get("message", "")
    if isinstance(message, dict):
        message = message.get("value", "")
    return str(error.get("code") or status), str(message)[:_ERROR_MESSAGE_LIMIT]


_QUOTED = re.compile(r"'([^']{1,128})'")


def field_named(message: str, fields: Iterable[str]) -> str | None:
    """The first quoted name in a service's error message that is a field of the entity."""
    known = set(fields)
    return next((name for name in _QUOTED.findall(message) if name in known), None)


@dataclass(frozen=True)
class BatchOperation:
    method: str
    url: str
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BatchResponse:
    status: int
    body: str
    headers: dict[str, str]


def batch_body(operations: Sequence[BatchOperation], own_change_sets: bool) -> tuple[str, bytes]:
    """A multipart `$batch` body; with `own_change_sets` every write is its own atomic change set."""
    boundary = f"batch_{uuid.uuid4().hex}"
    lines: list[str] = []
    for index, op in enumerate(operations, start=1):
        part = _request_part(op, index)
        if own_change_sets:
            changeset = f"changeset_{uuid.uuid4().hex}"
            lines += [f"--{boundary}", f"Content-Type: multipart/mixed; boundary={changeset}", "",
                      f"--{changeset}", *part, f"--{changeset}--"]
        else:
            lines += [f"--{boundary}", *part]
    lines.append(f"--{boundary}--")
    lines.append("")
    return f"multipart/mixed; boundary={boundary}", "\r\n".join(lines).encode("utf-8")


def _request_part(op: BatchOperation, content_id: int) -> list[str]:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary", f"Content-ID: {content_id}", "",
             f"{op.method} {quote(op.url, safe=_REQUEST_LINE_SAFE)} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in op.headers]
    if op.body is not None:
        lines += ["Content-Type: application/json; charset=utf-8", "",
                  json.dumps(op.body, ensure_ascii=False, separators=(",", ":"))]
    else:
        lines += [""]
    return lines


def parse_batch_response(content_type: str, payload: bytes) -> list[BatchResponse]:
    """The responses inside a multipart `$batch` answer, in order, change sets flattened."""
    boundary = _boundary(content_type)
    responses: list[BatchResponse] = []
    for part in _parts(payload, boundary):
        head, _, rest = part.partition(b"\r\n\r\n")
        part_type = _header(head, "content-type")
        if part_type.startswith("multipart/mixed"):
            responses.extend(parse_batch_response(part_type, rest))
        elif rest:
            responses.append(_http_response(rest))
    return responses


def _boundary(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary":
            return value.strip('"')
    raise ValueError(f"no boundary in {content_type!r}")


def _parts(payload: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode()
    parts = []
    for chunk in payload.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        parts.append(chunk.strip(b"\r\n"))
    return parts


def _header(head: bytes, name: str) -> str:
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return ""


def _http_response(raw: bytes) -> BatchResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return BatchResponse(status, body.decode("utf-8", "replace").strip(), headers)


def send_batch(
    http: Any, url: str, operations: Sequence[BatchOperation], own_change_sets: bool,
    check: Callable[[int, str], None],
) -> list[BatchResponse]:
    """Send `operations` as one `$batch` with continue-on-error; one answer per operation, in order.

    `check(status, text)` is the connector's own verdict on the batch request as a whole.
    """
    content_type, body = batch_body(operations, own_change_sets)
    response = http.send(
        "POST", url, data=body,
        headers={"Content-Type": content_type, "Accept": "application/json", "Prefer": "odata.continue-on-error"},
    )
    check(response.status_code, response.text)
    answers = parse_batch_response(response.headers.get("Content-Type", ""), response.content)
    if len(answers) != len(operations):
        raise SystemRefused(f"$batch answered {len(answers)} of {len(operations)} operations", field="entity")
    return answers
