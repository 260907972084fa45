"""A whole run while every system throttles: it waits as told, completes, and writes each record once."""

from __future__ import annotations

from typing import Any

import requests

from tests.orchestrators.conftest import assert_balanced, create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account, accounts_project
from twin.local_twin import LocalTwin

RECORDS = 400
THROTTLING = {"requests_per_window": 8, "window_s": 1, "throttle_rate": 0.25}
"""A request window small enough that the run outpaces it, and a share of requests refused at random besides."""
UNLIMITED = {"requests_per_window": 0, "throttle_rate": 0}


def configure(twin: LocalTwin, knobs: dict[str, Any]) -> None:
    for system in twin.systems.values():
        requests.post(f"{system.url}/_sandbox/config", json=knobs, timeout=30).raise_for_status()


def stats(twin: LocalTwin) -> dict[str, dict[str, Any]]:
    return {name: requests.get(f"{system.url}/_sandbox/stats", timeout=30).json()
            for name, system in twin.systems.items()}


def test_a_run_under_throttling_succeeds_and_writes_every_record_exactly_once(clean: LocalTwin) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(RECORDS)])
    create_project(twin, accounts_project("p-throttled"))
    configure(twin, THROTTLING)
    try:
        run = sync_now(twin, "p-throttled")
        seen = stats(twin)
    finally:
        configure(twin, UNLIMITED)

    assert run["runtimeStatus"] == "Succeeded", run
    assert_balanced(run)
    [task] = run["tasks"]
    assert [(leg["read"], leg["written"], leg["failed"]) for leg in task["legs"]] == [(RECORDS, RECORDS, 0)] * 2
    expected = sorted(f"A-{n:05d}" for n in range(RECORDS))
    assert sorted(record["accountnumber"] for record in twin.records("cds", "accounts")) == expected
    assert sorted(record["CustomerAccount"] for record in twin.records("operations", "CustomersV3")) == expected
    # a record sent again after a 429 would count twice: throttled requests write nothing, so each lands once
    assert seen["cds"]["records_written"] == RECORDS and seen["operations"]["records_written"] == RECORDS
    assert all(seen[name]["throttled"] > 0 for name in ("sales", "cds", "operations")), seen
