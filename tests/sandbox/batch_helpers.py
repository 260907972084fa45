"""Build `$batch` request bodies and read the statuses of a batch response."""

from __future__ import annotations

import json
import re

import requests


def part(method: str, url: str, body: dict | None = None, content_id: str | None = None) -> str:
    """One application/http part."""
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    request = f"{method} {url} HTTP/1.1\r\n"
    if body is not None:
        request += "Content-Type: application/json\r\n\r\n" + json.dumps(body)
    else:
        request += "\r\n"
    return head + "\r\n" + request + "\r\n"


def batch_body(items: list[str | list[str]]) -> tuple[str, str]:
    """Content-Type and body of a batch; a list of parts is a change set."""
    lines = []
    for n, item in enumerate(items):
        lines.append("--batch_b\r\n")
        if isinstance(item, list):
            lines.append(f"Content-Type: multipart/mixed; boundary=changeset_{n}\r\n\r\n")
            lines += [f"--changeset_{n}\r\n{p}" for p in item]
            lines.append(f"--changeset_{n}--\r\n")
        else:
            lines.append(item)
    lines.append("--batch_b--\r\n")
    return "multipart/mixed; boundary=batch_b", "".join(lines)


def statuses(response: requests.Response) -> list[int]:
    """The status of every operation answered in a batch response, in order."""
    assert response.status_code == 200
    return [int(s) for s in re.findall(r"HTTP/1\.1 (\d{3})", response.text)]
