"""A project scheduled every minute on devhost runs on its own, never two runs at once."""

from __future__ import annotations

import time
from datetime import datetime
from itertools import pairwise

import requests

from shared.connectors.dataverse import bulk_size
from tests.orchestrators.conftest import create_project, seed
from tests.orchestrators.test_sync_project import account, accounts_project

RECORDS = 500
SLOW_MS_PER_RECORD = 75_000 // bulk_size(RECORDS)
"""Every bulk write takes 75 s however the connector splits the records, so the first run spans a due time."""


def runs_of(twin, project: str) -> list[dict]:
    return twin.api("GET", f"projects/{project}/runs").json()


def wait_for(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_project_scheduled_every_minute_runs_twice_and_skips_a_due_time_while_busy(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(RECORDS)])
    cds = twin.systems["cds"].url
    requests.post(f"{cds}/_sandbox/config", json={"record_cost_ms": SLOW_MS_PER_RECORD}, timeout=10)
    project = accounts_project("scheduled-e2e")
    project["tasks"][0].pop("destination")
    project["tasks"][0].pop("cdsToDestination")
    project["connections"].pop("destination")
    created = create_project(twin, {**project, "schedule": "0 * * * * *", "scheduleMode": "full"})
    assert datetime.fromisoformat(created["nextRun"]).second == 0

    wait_for(lambda: any(r["runtimeStatus"] == "Skipped" for r in runs_of(twin, "scheduled-e2e")), 200,
             "a due time skipped while the first run is still going")
    requests.post(f"{cds}/_sandbox/config", json={"record_cost_ms": 0}, timeout=10)
    history = wait_for(
        lambda: (found := runs_of(twin, "scheduled-e2e"))
        and len([r for r in found if r["runtimeStatus"] == "Succeeded"]) >= 2 and found,
        200, "a second scheduled run",
    )
    real = sorted((r for r in history if r["runtimeStatus"] != "Skipped"), key=lambda r: r["createdTime"])
    skipped = [r for r in history if r["runtimeStatus"] == "Skipped"]
    assert len(real) >= 2 and skipped
    assert real[0]["runId"] in skipped[0]["message"]
    for earlier, later in pairwise(real):
        assert earlier["lastUpdatedTime"] <= later["createdTime"], "two runs overlapped"
    assert all(r["mode"] == "full" for r in real)
