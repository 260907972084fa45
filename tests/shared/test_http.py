"""The retry loop over real HTTP: Retry-After honoured, auth errors not retried, budgets kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.errors import RetryableError
from shared.http import AuthenticationError, HttpClient, RetryPolicy, new_session


class Script:
    """The statuses the server answers, in order, then 200 for ever."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.seen: list[dict[str, str]] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            script.seen.append(dict(self.headers))
            status, headers = script.answers.pop(0) if script.answers else (200, {})
            body = b'{"error": {"code": "x", "message": "nope"}}' if status >= 400 else b'{"ok": true}'
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", script
    httpd.shutdown()
    httpd.server_close()


def client(sleeps: list[float], policy: RetryPolicy | None = None) -> HttpClient:
    return HttpClient(new_session(), lambda: {"Authorization": "Bearer t"}, policy or RetryPolicy(), sleep=sleeps.append)


def test_throttling_honours_retry_after_then_succeeds(server) -> None:
    url, script = server
    script.answers = [(429, {"Retry-After": "7"}), (503, {"Retry-After": "2"}), (200, {})]
    sleeps: list[float] = []
    http = client(sleeps)
    assert http.send("GET", url).json() == {"ok": True}
    assert len(script.seen) == 3
    assert sum(sleeps) >= 9 - 0.5
    assert http.throttle.throttled == 1
    ids = {headers["x-ms-client-request-id"] for headers in script.seen}
    assert len(ids) == 3
    assert script.seen[0]["Authorization"] == "Bearer t"


def test_wrong_token_is_an_authentication_error_without_retries(server) -> None:
    url, script = server
    script.answers = [(401, {}), (401, {})]
    with pytest.raises(AuthenticationError, match="401"):
        client([]).send("GET", url)
    assert len(script.seen) == 1


def test_record_level_errors_return_to_the_caller(server) -> None:
    url, script = server
    script.answers = [(400, {})]
    assert client([]).send("GET", url).status_code == 400
    assert len(script.seen) == 1


def test_a_storm_longer_than_the_budget_is_retryable(server) -> None:
    url, script = server
    script.answers = [(503, {"Retry-After": "1"})] * 10
    with pytest.raises(RetryableError, match="503"):
        client([], RetryPolicy(max_attempts=4)).send("GET", url)
    assert len(script.seen) == 4
