"""Orchestrations run through the SDK's replay engine on devhost: the Durable patterns end to end."""

from __future__ import annotations

import json
from pathlib import Path

from devhost.persistence import HubStore
from devhost.process import DevhostProcess
from devhost.table_keys import encode_key
from tests.devhost.client import events_of, run, start, status, wait_for


def test_fan_out_of_50_activities_returns_results_in_order(devhost: DevhostProcess) -> None:
    body = run(devhost, "fan_out", {"count": 50})

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == [2 * i for i in range(50)]


def test_a_slow_activity_does_not_hold_up_other_instances(devhost: DevhostProcess, tmp_path: Path) -> None:
    slow = start(devhost, "slow_fan_out", {"count": 1, "dir": str(tmp_path), "seconds": 2})["id"]

    quick = run(devhost, "fan_out", {"count": 5})

    assert quick["runtimeStatus"] == "Completed"
    assert status(devhost, slow).json()["runtimeStatus"] == "Running"
    assert wait_for(devhost, slow)["output"] == [0]


def test_retried_activity_fails_twice_then_succeeds(devhost: DevhostProcess, tmp_path: Path) -> None:
    body = run(devhost, "retry_flaky", {"dir": str(tmp_path), "failures": 2}, showHistory=True)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == {"attempts": 3, "after": [2, 4]}
    assert len(list(tmp_path.glob("attempt-*"))) == 3
    assert [e["Reason"] for e in events_of(body, "TaskFailed")] == [
        "Activity function 'flaky' failed: RuntimeError: transient failure number 1",
        "Activity function 'flaky' failed: RuntimeError: transient failure number 2",
    ]
    assert len(events_of(body, "TimerFired")) == 2


def test_retries_exhausted_fail_the_orchestration_with_the_last_message(
    devhost: DevhostProcess, tmp_path: Path
) -> None:
    body = run(devhost, "retry_flaky", {"dir": str(tmp_path), "failures": 3})

    assert body["runtimeStatus"] == "Failed"
    assert "transient failure number 3" in body["output"]
    assert len(list(tmp_path.glob("attempt-*"))) == 3


def test_sub_orchestration_failure_propagates_its_message(devhost: DevhostProcess) -> None:
    parent = run(devhost, "parent_of_failing", "child exploded: 42")

    assert parent["runtimeStatus"] == "Failed"
    assert parent["output"].startswith("Orchestrator function 'parent_of_failing' failed:")
    assert "ValueError: child exploded: 42" in parent["output"]
    child = wait_for(devhost, f"{parent['instanceId']}:0")
    assert child["runtimeStatus"] == "Failed"
    assert "child exploded: 42" in child["output"]


def test_sub_orchestrations_return_their_outputs(devhost: DevhostProcess) -> None:
    body = run(devhost, "parent_with_children")

    assert body["output"] == [[0], [0, 2], [0, 2, 4]]


def test_durable_timers_fire_and_a_cancelled_timer_is_dropped(
    devhost: DevhostProcess, storage_connection_string: str, hub_name: str
) -> None:
    body = run(devhost, "timers", {"seconds": 1}, showHistory=True)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"]["winner"] == 42
    assert body["output"]["elapsed"] >= 2
    assert len(events_of(body, "TimerFired")) == 2
    store = HubStore(storage_connection_string, hub_name)
    assert store.load_work(body["instanceId"]) == ([], [])


def test_continue_as_new_truncates_the_history(
    devhost: DevhostProcess, storage_connection_string: str, hub_name: str
) -> None:
    body = run(devhost, "counter", {"n": 0, "limit": 3}, showHistory=True, showHistoryOutput=True)

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == {"n": 3, "last": 6}
    # The SDK hands continue_as_new's input over as JSON text, which the extension keeps as a string.
    assert json.loads(body["input"]) == {"n": 3, "limit": 3, "last": 4}
    started = events_of(body, "ExecutionStarted")
    assert len(started) == 1 and json.loads(started[0]["Input"]) == {"n": 3, "limit": 3, "last": 4}
    store = HubStore(storage_connection_string, hub_name)
    rows = [row["RowKey"] for row in store.history.query_entities(
        "PartitionKey eq @pk", parameters={"pk": encode_key(body["instanceId"])})]
    assert rows and all(key.startswith("000003.") or key == "checkpoint" for key in rows)


def test_large_payloads_travel_through_blobs(
    devhost: DevhostProcess, storage_connection_string: str, hub_name: str
) -> None:
    text = "é" + "x" * 59_999

    body = run(devhost, "large_payload", {"text": text})

    assert body["runtimeStatus"] == "Completed"
    assert body["output"] == {"length": 120_000, "same": True}
    assert json.loads(body["input"]) == {"text": text}  # the durable client posts its JSON text as a string
    store = HubStore(storage_connection_string, hub_name)
    assert store.large_payloads(body["instanceId"])
