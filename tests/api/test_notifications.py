"""Run notifications: a webhook gets the summary of the runs whose status the project chose."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.orchestrators.conftest import create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account, accounts_project
from tests.webhooks import Hook, serving
from twin.local_twin import LocalTwin


@pytest.fixture
def receiver() -> Iterator[tuple[str, Hook]]:
    """A webhook that fails the first two deliveries, then keeps what it receives."""
    hook = Hook(failures=2)
    with serving(hook, "/hook") as url:
        yield url, hook


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
        while not state.delivered and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
    assert state.attempts == 3
    assert len(state.delivered) == 1
    summary = state.delivered[0]
    assert summary["project"] == "notified-warning" and summary["runId"] == warning["runId"]
    assert summary["status"] == "Warning"
    assert summary["counts"]["failed"] == 1 and summary["errorsUri"].endswith(f"/api/runs/{warning['runId']}/errors")
    assert "hook" not in json.dumps(summary)
