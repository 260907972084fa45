"""A run stops when told and only runs with its lock, end to end on devhost (strict) over Azurite and the sandbox:
terminate mid-load, orchestrations started by hand through the Durable webhooks, and a project of many
long-named tasks whose custom status stays bounded."""

from __future__ import annotations

import time
from typing import Any

import requests

from orchestrators.progress import CUSTOM_STATUS_LIMIT, status_size
from tests.orchestrators.conftest import create_project, seed, sync_now
from tests.orchestrators.test_sync_project import account, accounts_project
from twin.local_twin import LocalTwin

QUIET_S = 6.0
"""How long the target's write count must stay still after the run reads Terminated (a page takes ~4 s)."""


def knobs(twin: LocalTwin, system: str, **values: Any) -> None:
    requests.post(f"{twin.systems[system].url}/_sandbox/config", json=values, timeout=30).raise_for_status()


def durable(twin: LocalTwin, instance: str) -> dict[str, Any]:
    """What Durable's own status endpoint says of an instance (the system key opens it)."""
    answer = requests.get(f"{twin.url}/runtime/webhooks/durabletask/instances/{instance}",
                          params={"code": twin.host.system_key}, timeout=30)
    assert answer.status_code in (200, 202), answer.text
    return answer.json()


def start_by_hand(twin: LocalTwin, instance: str, run: dict[str, Any]) -> None:
    """Start `sync_project` through the Durable webhook, as `restartPostUri` or a holder of the system key can."""
    answer = requests.post(f"{twin.url}/runtime/webhooks/durabletask/orchestrators/sync_project/{instance}",
                           params={"code": twin.host.system_key}, json=run, timeout=30)
    assert answer.status_code == 202, answer.text


def ended(twin: LocalTwin, instance: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while (status := durable(twin, instance))["runtimeStatus"] in ("Pending", "Running"):
        assert time.monotonic() < deadline, status
        time.sleep(0.3)
    return status


def written(twin: LocalTwin) -> tuple[int, int]:
    return twin.records_written("cds"), twin.records_written("operations")


def test_a_run_terminated_mid_load_writes_nothing_once_it_reads_terminated(clean) -> None:
    twin = clean
    count = 12_000
    seed(twin, "sales", "accounts", [account(n) for n in range(count)])
    knobs(twin, "cds", record_cost_ms=4)
    create_project(twin, accounts_project("stop-e2e"))
    started = twin.api("POST", "projects/stop-e2e/runs")
    assert started.status_code == 202, started.text
    run_id = started.json()["runId"]
    deadline = time.monotonic() + 120
    while twin.records_written("cds") == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    stopped = twin.api("POST", f"runs/{run_id}/terminate")
    assert stopped.status_code == 202
    assert stopped.json() == {"runId": run_id, "status": "Terminating"}  # load steps were still writing
    refusals = 0
    probe = None  # a dry run (it writes nothing), in case the run settles between a poll and a Sync Now
    while (polled := twin.api("GET", f"runs/{run_id}")).status_code == 202:
        assert polled.json()["runtimeStatus"] == "Running"
        probe = twin.api("POST", "projects/stop-e2e/runs", json={"dryRun": True})
        if probe.status_code == 202:
            break
        assert probe.status_code == 409 and probe.json()["runId"] == run_id, probe.text
        refusals += 1
        time.sleep(0.2)
    polled = twin.api("GET", f"runs/{run_id}")
    assert polled.status_code == 200 and polled.json()["runtimeStatus"] == "Terminated", polled.text
    assert refusals > 0
    at_end = written(twin)
    time.sleep(QUIET_S)
    assert written(twin) == at_end
    if probe is not None and probe.status_code == 202:
        assert twin.follow(probe, timeout_s=300)["runtimeStatus"] == "Succeeded"
    assert 0 < at_end[0] < count and at_end[1] == 0
    assert durable(twin, run_id)["runtimeStatus"] == "Terminated"
    assert durable(twin, f"{run_id}-task000")["runtimeStatus"] == "Terminated"

    knobs(twin, "cds", record_cost_ms=0)
    again = twin.api("POST", "projects/stop-e2e/runs")
    assert again.status_code == 202, again.text
    assert twin.follow(again, timeout_s=300)["runtimeStatus"] == "Succeeded"
    for system, entity, key in (("cds", "accounts", "accountnumber"), ("operations", "CustomersV3", "CustomerAccount")):
        keys = [r[key] for r in twin.records(system, entity)]
        assert len(keys) == len(set(keys)) == count, system
    history = twin.api("GET", "projects/stop-e2e/runs").json()
    assert [r["runtimeStatus"] for r in history if not r["dryRun"]] == ["Succeeded", "Terminated"]


def test_sync_project_started_by_hand_without_the_lock_writes_nothing(clean) -> None:
    twin = clean
    count = 3_000
    seed(twin, "sales", "accounts", [account(n) for n in range(count)])
    create_project(twin, accounts_project("hand-e2e"))
    first = sync_now(twin, "hand-e2e")
    assert first["runtimeStatus"] == "Succeeded"
    first_input = {"runId": first["runId"], "projectId": "hand-e2e", "mode": "full", "dryRun": False}
    made_up = {**first_input, "runId": "r20990101000000deadbeef"}

    knobs(twin, "cds", record_cost_ms=5)  # the current run outlasts the ones started by hand
    before = written(twin)
    current = twin.api("POST", "projects/hand-e2e/runs")
    assert current.status_code == 202, current.text
    start_by_hand(twin, first["runId"], first_input)  # what restartPostUri does: the old run id, its old input
    start_by_hand(twin, "by-hand-1", made_up)
    for instance in (first["runId"], "by-hand-1"):
        status = ended(twin, instance)
        assert status["runtimeStatus"] == "Completed" and status["output"]["status"] == "NotHeld", status
    probe = twin.api("POST", "projects/hand-e2e/runs", json={"dryRun": True})
    assert probe.status_code == 409 and probe.json()["runId"] == current.json()["runId"]  # the lock is still its

    run = twin.follow(current, timeout_s=300)
    assert run["runtimeStatus"] == "Succeeded"
    assert [leg["written"] for leg in run["tasks"][0]["legs"]] == [count, count]
    after = written(twin)
    assert (after[0] - before[0], after[1] - before[1]) == (count, count)
    on_record = twin.api("GET", f"runs/{first['runId']}").json()
    assert on_record.pop("customStatus")["status"] == "NotHeld"  # Durable's status is the restarted instance's
    assert on_record == {k: v for k, v in first.items() if k != "customStatus"}  # the record is untouched
    assert twin.api("GET", f"runs/{made_up['runId']}").status_code == 404
    history = twin.api("GET", "projects/hand-e2e/runs").json()
    assert [r["runId"] for r in history] == [run["runId"], first["runId"]]


def test_many_tasks_with_long_unicode_names_complete_with_a_bounded_custom_status(clean) -> None:
    twin = clean
    seed(twin, "sales", "accounts", [account(n) for n in range(2)])
    base = accounts_project("names-e2e")["tasks"][0]
    names = [f"{n:02d} " + ("Счёт-語-😀-é" * 20)[:125] for n in range(24)]
    tasks = [{k: v for k, v in base.items() if k not in ("destination", "cdsToDestination")} | {"name": name}
             for name in names]
    create_project(twin, {"name": "names-e2e", "connections": {"source": "sales", "cds": "cds"}, "tasks": tasks})
    largest = 0

    def watch(polled: dict[str, Any]) -> None:
        nonlocal largest
        largest = max(largest, status_size(polled["customStatus"]))

    started = twin.api("POST", "projects/names-e2e/runs")
    assert started.status_code == 202, started.text
    run = twin.follow(started, timeout_s=300, on_poll=watch)
    assert run["runtimeStatus"] == "Succeeded", run
    assert [(t["name"], t["read"], t["written"]) for t in run["tasks"]] == [(name, 2, 2) for name in names]
    final = ended(twin, run["runId"])  # the run record is final a step before the orchestration completes
    assert final["runtimeStatus"] == "Completed" and final["customStatus"]["tasksFinished"] == len(names)
    largest = max(largest, status_size(final["customStatus"]))
    assert 0 < largest < CUSTOM_STATUS_LIMIT
