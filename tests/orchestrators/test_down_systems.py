"""A system that stays down fails the run, saying why; once it is back, the next run completes.

devhost runs the app with functionTimeout 20 s (the app setting Azure uses to override
host.json), so the budgets derived from it are small: a run against a system that stays
down ends Failed, and its failure reports a request that gave up within `Budgets.request_s`.
How long such a run takes end to end is a figure for `make bench`, not a test threshold.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from shared.budgets import Budgets
from tests.orchestrators.conftest import create_project, seed
from twin.local_twin import LocalTwin

TIMEOUT = "00:00:20"
BUDGETS = Budgets(20)
GAVE_UP = re.compile(r", (\d+) attempts? over (\d+) s")
RECORDS = 300


@pytest.fixture(scope="module")
def tight(storage_connection_string: str) -> Iterator[LocalTwin]:
    settings = {"AzureFunctionsJobHost__functionTimeout": TIMEOUT}
    with LocalTwin.start(dataset=False, storage=storage_connection_string, settings=settings) as started:
        started.connect_all()
        yield started


def knobs(twin: LocalTwin, system: str, **values: Any) -> None:
    requests.post(f"{twin.systems[system].url}/_sandbox/config", json=values, timeout=30).raise_for_status()


def project(name: str, source: str = "sales") -> dict[str, Any]:
    task = {
        "name": "Accounts",
        "source": {"entity": "accounts", "key": ["accountnumber"]},
        "cds": {"entity": "accounts", "key": ["accountnumber"]},
        "sourceToCds": [{"source": "accountnumber", "target": "accountnumber"}, {"source": "name", "target": "name"}],
    }
    return {"name": name, "connections": {"source": source, "cds": "cds"}, "tasks": [task]}


def run_to_end(twin: LocalTwin, name: str, timeout_s: float) -> dict[str, Any]:
    """Sync Now, then poll the run until it ends (giving up after `timeout_s`, so a hung run fails the test)."""
    deadline = time.monotonic() + timeout_s
    started = twin.api("POST", f"projects/{name}/runs")
    assert started.status_code == 202, started.text
    run_id = started.json()["runId"]
    while time.monotonic() < deadline:
        answer = twin.api("GET", f"runs/{run_id}")
        if answer.status_code == 200:
            return answer.json()
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} still going after {timeout_s} s: {twin.api('GET', f'runs/{run_id}').text}")


def assert_gave_up_within_a_request_budget(message: str) -> None:
    """The failure names the attempts of the request that gave up, and they kept to one request's budget."""
    found = GAVE_UP.search(message)
    assert found is not None, message
    assert int(found[1]) >= 1 and int(found[2]) <= round(BUDGETS.request_s), message


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_target_answering_only_errors_fails_the_run_in_time_and_the_next_run_loses_nothing(tight) -> None:
    seed(tight, "sales", "accounts", [{"accountnumber": f"A-{n:04d}", "name": f"Account {n}"} for n in range(RECORDS)])
    create_project(tight, project("down-target"))
    knobs(tight, "cds", fault_rate=1.0)
    try:
        failed = run_to_end(tight, "down-target", 120)
    finally:
        knobs(tight, "cds", fault_rate=0.0)
    assert failed["runtimeStatus"] == "Failed", failed
    message = failed["message"]
    assert "from connection 'cds' (dataverse): " in message, message
    assert "/api/data/v9.2/" in message and "?" not in message, message
    assert message.split(" from connection")[0].split(": ")[-1] in (
        "503 Service Unavailable", "connection dropped mid-answer", "connection closed without an answer",
        "connection reset"), message
    assert_gave_up_within_a_request_budget(message)

    done = run_to_end(tight, "down-target", 120)
    assert done["runtimeStatus"] == "Succeeded", done
    assert done["tasks"][0]["written"] == RECORDS
    numbers = [record["accountnumber"] for record in tight.records("cds", "accounts")]
    assert sorted(numbers) == [f"A-{n:04d}" for n in range(RECORDS)]


def test_a_source_refusing_connections_fails_the_run_in_time_naming_it(tight) -> None:
    gone = {"kind": "dataverse", "url": f"http://127.0.0.1:{closed_port()}", "auth": {"type": "none"}}
    tight.api("PUT", "connections/gone", json=gone).raise_for_status()
    create_project(tight, project("down-source", source="gone"))
    failed = run_to_end(tight, "down-source", 120)
    assert failed["runtimeStatus"] == "Failed", failed
    message = failed["message"]
    assert "connection refused from connection 'gone' (dataverse): GET http://127.0.0.1:" in message, message
    assert_gave_up_within_a_request_budget(message)
    assert tight.api("POST", "projects/down-source/runs").status_code == 202
