"""Kept-alive connections: the sandbox answers over-limit clients with 429s and never resets them.

These use `http.client` on purpose: one connection, no pool, no transparent reconnect, so a
connection the server closed or reset shows as an exception instead of being papered over.
"""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from sandbox.process import SandboxProcess, start_sandbox
from tests.sandbox.test_protection import configure

PATH = "/api/data/v9.2/accounts?$top=1"


def connect(server: SandboxProcess) -> http.client.HTTPConnection:
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.connect()
    return connection


def get(connection: http.client.HTTPConnection) -> http.client.HTTPResponse:
    connection.request("GET", PATH)
    response = connection.getresponse()
    response.read()
    return response


def local_port(connection: http.client.HTTPConnection) -> int:
    assert connection.sock is not None, "the connection was closed"
    return connection.sock.getsockname()[1]


def test_a_client_that_waits_out_retry_after_is_answered_on_the_same_connection(dataverse, http):
    configure(http, dataverse, requests_per_window=1, window_s=6)
    connection = connect(dataverse)
    try:
        port = local_port(connection)
        assert get(connection).status == 200
        throttled = get(connection)
        assert throttled.status == 429
        wait = int(throttled.getheader("Retry-After"))
        assert wait > 5, "the wait must outlast a 5-second keep-alive for this test to mean anything"
        time.sleep(wait)
        assert get(connection).status == 200
        assert local_port(connection) == port
    finally:
        connection.close()


def test_kept_alive_clients_hammering_over_the_concurrency_limit_get_429s_and_no_resets(dataverse, http):
    configure(http, dataverse, max_concurrency=3, latency_ms=40)
    throttled_before = http.get(dataverse.url + "/_sandbox/stats").json()["throttled"]

    def hammer(_: int) -> tuple[list[int], list[str], bool]:
        connection = connect(dataverse)
        try:
            port = local_port(connection)
            statuses, waits = [], []
            for _ in range(15):
                response = get(connection)
                statuses.append(response.status)
                if response.status == 429:
                    waits.append(response.getheader("Retry-After") or "")
            return statuses, waits, local_port(connection) == port
        finally:
            connection.close()

    with ThreadPoolExecutor(12) as pool:
        clients = list(pool.map(hammer, range(12)))
    statuses = [status for client, _, _ in clients for status in client]
    assert len(statuses) == 12 * 15
    assert set(statuses) == {200, 429}
    assert {wait for _, waits, _ in clients for wait in waits} == {"1"}
    assert all(same for _, _, same in clients), "a client had to reconnect"
    stats = http.get(dataverse.url + "/_sandbox/stats").json()
    assert stats["throttled"] - throttled_before == statuses.count(429)


def test_an_idle_connection_is_closed_cleanly_after_keep_alive_s_and_a_pooled_client_carries_on():
    with start_sandbox("dataverse", keep_alive_s=1) as server, requests.Session() as pooled:
        connection = connect(server)
        try:
            assert get(connection).status == 200
            assert connection.sock is not None
            connection.sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                connection.sock.recv(1)  # still open right after the answer: only idleness ends it
            connection.sock.settimeout(5)
            assert connection.sock.recv(1) == b"", "the server ends an idle connection with a FIN, not a reset"
        finally:
            connection.close()
        assert pooled.get(server.url + PATH, timeout=10).status_code == 200
        time.sleep(1.5)
        assert pooled.get(server.url + PATH, timeout=10).status_code == 200
