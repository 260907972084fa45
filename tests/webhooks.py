"""A webhook receiver on a loopback port, for the tests of notifications and run subscriptions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Hook:
    """Answers 500 to the first `failures` requests, then `status` (a 3xx with a Location to `/elsewhere`); keeps
    every request's path and body, and the bodies it answered with a 2xx (`delivered`)."""

    def __init__(self, status: int = 200, failures: int = 0) -> None:
        self.status, self.failures = status, failures
        self.paths: list[str] = []
        self.bodies: list[Any] = []
        self.delivered: list[Any] = []
        self.arrived = threading.Event()
        """Set once a request was answered with a 2xx."""

    @property
    def attempts(self) -> int:
        return len(self.paths)

    def answer(self, path: str, body: Any) -> int:
        self.paths.append(path)
        self.bodies.append(body)
        status = 500 if self.attempts <= self.failures else self.status
        if 200 <= status < 300:
            self.delivered.append(body)
            self.arrived.set()
        return status


@contextmanager
def serving(hook: Hook, path: str) -> Iterator[str]:
    """`hook` listening on a loopback port; yields its URL with `path` (and query) appended."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status = hook.answer(self.path, body)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()
