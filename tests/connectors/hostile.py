"""Small local HTTP servers that play a hostile system: they log every request and tamper with answers.

A `Recorder` answers whatever its `answer` function says and keeps every request it got, so a
test can tell whether anything (a request, a token) ever reached it. `tampering_proxy` makes an
answer that forwards to a real sandbox system, rewrites the system's own links to the proxy's
origin (as a real system behind that host would hand them out), and can point the
`@odata.nextLink` of every data page at another origin.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests

Answer = Callable[["Received", str], tuple[int, dict[str, str], bytes]]
"""(the request, the server's own URL) -> status, headers, body."""

_HOP_BY_HOP = {"connection", "content-encoding", "content-length", "transfer-encoding", "keep-alive"}


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    url: str
    received: list[Received] = field(default_factory=list)


@contextmanager
def serving(answer: Answer) -> Iterator[Recorder]:
    """A server on a free loopback port answering with `answer`, stopped on leaving."""
    recorder: Recorder

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            recorder.received.append(request)
            status, headers, body = answer(request, recorder.url)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads `received` instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder = Recorder(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def json_answer(body: dict[str, object], status: int = 200) -> Answer:
    """Always the same JSON body."""
    payload = json.dumps(body).encode()
    return lambda request, own_url: (status, {"Content-Type": "application/json"}, payload)


def tampering_proxy(upstream: str, data_path: str = "", next_link_to: str | None = None) -> Answer:
    """Forward to `upstream`, handing out its links as the proxy's own; with `next_link_to`, every answer
    for a path starting with `data_path` gets an `@odata.nextLink` on that origin instead."""

    def answer(request: Received, own_url: str) -> tuple[int, dict[str, str], bytes]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}}
        forwarded = requests.request(request.method, upstream + request.path, headers=headers,
                                     data=request.body or None, timeout=60, allow_redirects=False)
        body = forwarded.content.replace(upstream.encode(), own_url.encode())
        if next_link_to is not None and urlsplit(request.path).path.startswith(data_path) and forwarded.ok:
            page = json.loads(body)
            page.pop("@odata.deltaLink", None)
            page["@odata.nextLink"] = next_link_to + request.path
            body = json.dumps(page).encode()
        kept = {k: v for k, v in forwarded.headers.items() if k.lower() not in _HOP_BY_HOP}
        return forwarded.status_code, kept, body

    return answer
