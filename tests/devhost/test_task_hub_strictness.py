"""devhost's task hub as strict as the Durable extension on Azure Storage, and `--lenient` as before.

Episodes load the history from Table Storage, take at most 32 messages, see messages only
after the polling delay, and a custom status over 16 KB of UTF-16 fails the instance.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

from azure.data.tables import UpdateMode

from devhost.history import EventType
from devhost.persistence import HubStore
from devhost.process import DevhostProcess
from devhost.table_keys import encode_key
from tests.devhost.client import events_of, post, run, start, wait_for, wait_until
from tests.devhost.conftest import StartHost

CUSTOM_STATUS_REFUSAL = (
    "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB."
)


def edit_task_result(store: HubStore, instance_id: str, result: str) -> None:
    """Change the committed TaskCompleted event of an instance in its History table."""
    rows = store.history.query_entities("PartitionKey eq @pk", parameters={"pk": encode_key(instance_id)})
    row = next(r for r in rows if r.get("EventType") == EventType.TASK_COMPLETED)
    event = json.loads(row["Event"])
    event["Result"] = result
    store.history.upsert_entity({**row, "Event": json.dumps(event)}, mode=UpdateMode.MERGE)


def results_per_episode(store: HubStore, instance_id: str) -> list[int]:
    """How many activity results each committed episode of the instance applied, in order."""
    counts: list[int] = []
    for event in store.load_history(instance_id).events:
        if event["EventType"] == EventType.ORCHESTRATOR_STARTED:
            counts.append(0)
        elif event["EventType"] == EventType.TASK_COMPLETED:
            counts[-1] += 1
    return [count for count in counts if count]


def test_each_episode_replays_the_history_as_storage_holds_it(
    start_host: StartHost, hub_name: str, storage_connection_string: str
) -> None:
    store = HubStore(storage_connection_string, hub_name)
    strict = start_host(hub_name)
    lenient = start_host(hub_name + "l", lenient=True)
    outputs = {}
    for host, hub in ((strict, store), (lenient, HubStore(storage_connection_string, hub_name + "l"))):
        instance_id = start(host, "double_then_wait", 21)["id"]
        wait_until(host, instance_id, "TaskCompleted")
        edit_task_result(hub, instance_id, "99")
        assert post(host, instance_id, "raiseEvent/go", True).status_code == 202
        outputs[host.url] = wait_for(host, instance_id)["output"]

    assert outputs[strict.url] == 99  # the next episode read the edited row
    assert outputs[lenient.url] == 42  # --lenient replays the copy it kept in memory


def test_an_episode_takes_at_most_32_of_100_waiting_results(
    start_host: StartHost, hub_name: str, storage_connection_string: str, tmp_path: Path
) -> None:
    threads = {"PYTHON_THREADPOOL_THREAD_COUNT": "25"}
    counts = {}
    for lenient in (False, True):
        hub = hub_name + ("l" if lenient else "")
        host = start_host(hub, env=threads, lenient=lenient)
        marks = tmp_path / hub
        marks.mkdir()
        instance_id = start(host, "slow_fan_out", {"count": 100, "dir": str(marks), "seconds": 0.3})["id"]
        assert post(host, instance_id, "suspend").status_code == 202
        suspended = wait_until(host, instance_id, "Suspended")
        assert suspended["runtimeStatus"] == "Suspended"
        deadline = time.monotonic() + 60
        while len(list(marks.glob("done-*"))) < 100:
            assert time.monotonic() < deadline, "the activities did not finish"
            time.sleep(0.05)
        time.sleep(1)  # the last results reach the suspended instance's queue
        assert post(host, instance_id, "resume").status_code == 202

        body = wait_for(host, instance_id, timeout_s=60)
        assert body["output"] == [i * i for i in range(100)]
        counts[lenient] = results_per_episode(HubStore(storage_connection_string, hub), instance_id)

    assert counts[False] == [32, 32, 32, 4]
    assert counts[True] == [100]


def test_a_custom_status_over_16_kb_of_utf16_fails_the_instance_from_outside(devhost: DevhostProcess) -> None:
    ascii_9k = "x" * 9_000  # 9 KB of UTF-8, 18 KB of UTF-16
    cjk_6k = "中" * 6_000  # 18 KB of UTF-8, 12 KB of UTF-16

    refused = run(devhost, "sets_custom_status", ascii_9k, showHistory=True)
    accepted = run(devhost, "sets_custom_status", cjk_6k)

    assert refused["runtimeStatus"] == "Failed"
    assert refused["output"] == f"Orchestrator function 'sets_custom_status' failed: {CUSTOM_STATUS_REFUSAL}"
    assert refused["customStatus"] is None  # the refused status is never stored
    assert not [e for e in refused["historyEvents"] if e["EventType"] == "TaskCompleted"]  # nothing was scheduled
    assert accepted["runtimeStatus"] == "Completed"
    assert accepted["customStatus"] == cjk_6k


def test_a_parent_sees_its_sub_orchestration_fail_on_its_custom_status(devhost: DevhostProcess) -> None:
    parent = run(devhost, "parent_of_custom_status", "x" * 9_000)

    assert parent["runtimeStatus"] == "Failed"
    assert CUSTOM_STATUS_REFUSAL in parent["output"]
    assert wait_for(devhost, f"{parent['instanceId']}:0")["output"].endswith(CUSTOM_STATUS_REFUSAL)


def test_the_polling_delay_holds_every_message(start_host: StartHost, hub_name: str) -> None:
    host = start_host(hub_name, poll_ms=700)

    body = run(host, "fan_out", {"count": 3}, showHistory=True)

    assert body["output"] == [0, 2, 4]
    results = events_of(body, "TaskCompleted")
    assert len(results) == 3
    for result in results:  # the host's own record: each result was taken a polling delay after it was sent
        taken = datetime.fromisoformat(result["Timestamp"]) - datetime.fromisoformat(result["ScheduledTime"])
        assert taken >= timedelta(milliseconds=700), result
