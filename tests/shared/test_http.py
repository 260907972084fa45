"""The retry loop over real HTTP: Retry-After honoured, auth errors not retried, budgets kept, bodies
read whole (compressed or cut short) on connections that are kept."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.errors import AuthenticationError, RetryableError
from shared.http import HttpClient, RetryPolicy, new_session

BIG = {"value": [{"name": f"Account {n} ✓", "description": "x" * 200} for n in range(15_000)]}


class Script:
    """The statuses the server answers, in order, then 200 for ever."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.seen: list[dict[str, str]] = []
        self.ports: list[int] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep connections open, as the services do

        def do_GET(self) -> None:
            script.seen.append(dict(self.headers))
            script.ports.append(self.client_address[1])
            status, headers = script.answers.pop(0) if script.answers else (200, {})
            body = b'{"error": {"code": "x", "message": "nope"}}' if status >= 400 else b'{"ok": true}'
            if self.path == "/big":
                body = gzip.compress(json.dumps(BIG).encode())
                headers = {**headers, "Content-Encoding": "gzip"}
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if headers.get("X-Cut"):  # promise more than is sent, then hang up
                self.send_header("Content-Length", str(len(body) + 100))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[:5])
                self.close_connection = True
                return
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
    assert http.throttle.holding()
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


def test_a_body_cut_short_is_retried(server) -> None:
    url, script = server
    script.answers = [(200, {"X-Cut": "yes"}), (200, {})]
    assert client([]).send("GET", url).json() == {"ok": True}
    assert len(script.seen) == 2


def test_a_large_compressed_body_arrives_whole_and_decoded(server) -> None:
    url, _ = server
    answer = client([]).send("GET", url + "big")
    assert answer.json() == BIG
    assert answer.text.startswith('{"value"')
    assert len(answer.content) > 3_000_000


def test_connections_are_kept_between_requests(server) -> None:
    url, script = server
    http = client([])
    for _ in range(5):
        assert http.send("GET", url).json() == {"ok": True}
    assert http.send("GET", url + "big").json() == BIG
    assert http.send("GET", url).json() == {"ok": True}
    assert len(set(script.ports)) == 1
