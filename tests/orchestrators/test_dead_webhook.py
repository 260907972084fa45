"""A notification webhook that accepts the connection and never answers costs the run nothing.

The run keeps its outcome, the notification is tried as often as its retry policy allows and
reported as not delivered, and the orchestration then ends: nothing waits on the webhook.
"""

from __future__ import annotations

import time
from typing import Any

from orchestrators.retry import NOTIFY_RETRY
from tests.orchestrators.conftest import create_project, seed
from tests.orchestrators.silent_server import silent_server
from tests.orchestrators.test_sync_project import account, accounts_project
from twin.local_twin import LocalTwin

RECORDS = 20


def orchestration_status(twin: LocalTwin, status_uri: str, timeout_s: float) -> dict[str, Any]:
    """The Durable status once the orchestration has ended (giving up after `timeout_s`, so a hang fails the test)."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = twin.session.get(status_uri, timeout=60).json()
        if status["runtimeStatus"] not in ("Pending", "Running"):
            return status
        assert time.monotonic() < deadline, f"the orchestration still runs after {timeout_s} s: {status}"
        time.sleep(1)


def test_a_webhook_that_never_answers_leaves_the_run_succeeded_and_the_notification_not_delivered(
    storage_connection_string: str,
) -> None:
    with silent_server() as webhook:
        settings = {"RUN_WEBHOOK": f"{webhook.url}/hook"}
        with LocalTwin.start(dataset=False, storage=storage_connection_string, settings=settings) as twin:
            twin.connect_all()
            seed(twin, "sales", "accounts", [account(n) for n in range(RECORDS)])
            notify = {"on": ["Succeeded"], "webhookSetting": "RUN_WEBHOOK"}
            create_project(twin, {**accounts_project("p-dead-webhook"), "notify": notify})
            started = twin.api("POST", "projects/p-dead-webhook/runs")
            assert started.status_code == 202, started.text
            ended = orchestration_status(twin, started.json()["statusQueryGetUri"], timeout_s=600)
            run = twin.api("GET", f"runs/{started.json()['runId']}").json()
            history = twin.api("GET", "projects/p-dead-webhook/runs").json()
            written = len(twin.records("cds", "accounts"))
        posts = [sent for sent in webhook.requests if sent.startswith(b"POST /hook ")]

    assert ended["runtimeStatus"] == "Completed", ended
    assert ended["customStatus"]["status"] == "Succeeded" and ended["customStatus"]["notification"] == "not delivered"
    assert run["runtimeStatus"] == "Succeeded" and run["customStatus"]["notification"] == "not delivered"
    assert [(entry["runId"], entry["runtimeStatus"]) for entry in history] == [(run["runId"], "Succeeded")]
    assert written == RECORDS
    assert len(posts) == NOTIFY_RETRY.max_number_of_attempts
