"""Run notifications: a webhook gets the summary of the runs whose status the project chose."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.orchestrators.conftest import create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account, accounts_project
from twin.local_twin import LocalTwin


class Receiver:
    """A webhook that fails the first `failures` deliveries, then keeps what it receives."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.received: list[dict] = []


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    state = Receiver(failures=2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.attempts += 1
            status = 500 if state.attempts <= state.failures else 200
            if status == 200:
                state.received.append(json.loads(body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", state
    server.shutdown()
    server.server_close()


def test_a_warning_run_is_notified_once_even_after_two_failed_deliveries(receiver, storage_connection_string) -> None:
    url, state = receiver
    with LocalTwin.start(dataset=False, storage=storage_connection_string, settings={"RUN_WEBHOOK": url}) as twin:
        twin.connect_all()
        records = [account(n) for n in range(30)]
        records[4]["address1_country"] = "Narnia"
        seed(twin, "sales", "accounts", records)
        notify = {"on": ["Warning"], "webhookSetting": "RUN_WEBHOOK"}
        create_project(twin, {**accounts_project("notified-warning"), "notify": notify})
        quiet_project = accounts_project("notified-quiet")
        quiet_project["tasks"][0]["source"]["filter"] = "address1_country ne 'Narnia'"
        create_project(twin, {**quiet_project, "notify": notify})
        quiet = sync_now(twin, "notified-quiet")
        assert quiet["runtimeStatus"] == "Succeeded"
        warning = sync_now(twin, "notified-warning")
        assert warning["runtimeStatus"] == "Warning"
        deadline = time.monotonic() + 60
        while not state.received and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
    assert state.attempts == 3
    assert len(state.received) == 1
    summary = state.received[0]
    assert summary["project"] == "notified-warning" and summary["runId"] == warning["runId"]
    assert summary["status"] == "Warning"
    assert summary["counts"]["failed"] == 1 and summary["errorsUri"].endswith(f"/api/runs/{warning['runId']}/errors")
    assert "hook" not in json.dumps(summary)
