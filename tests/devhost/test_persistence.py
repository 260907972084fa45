"""The hub's tables and blobs: keys, large values, and episodes cut short by a crash."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from devhost.orchestration_runner import ACTIVITY, PendingTask, RetryPolicy
from devhost.persistence import Checkpoint, HubStore, InstanceRecord
from devhost.table_keys import decode_key, encode_key


@pytest.fixture
def store(storage_connection_string: str) -> Iterator[HubStore]:
    hub = HubStore(storage_connection_string, "t" + uuid.uuid4().hex[:12])
    hub.create()
    yield hub
    hub.close()


@pytest.mark.parametrize("text", ["plain-id_1.2:3@x", "a b~c%d'e", "ümlaut→✓", "~7E"])
def test_keys_encode_reversibly_into_safe_characters(text: str) -> None:
    key = encode_key(text)

    assert decode_key(key) == text
    assert all(c.isalnum() or c in "-_.:@~" for c in key)


@pytest.mark.parametrize("size", [10, 40_000, 200_000])
def test_values_of_any_size_round_trip(store: HubStore, size: int) -> None:
    now = datetime.now(UTC)
    text = '"é' + "x" * size + '"'
    store.put_instance(InstanceRecord("big one", "orchestrator", "Running", text, now, now, custom_status='"s"'))

    record = store.get_instance("big one")

    assert record is not None and record.input == text and record.custom_status == '"s"'
    assert bool(store.large_payloads("big one")) == (size > 40_000)


def test_rows_past_the_checkpoint_of_a_cut_short_episode_are_ignored(store: HubStore) -> None:
    now = datetime.now(UTC)
    record = InstanceRecord("i-1", "orchestrator", "Running", "null", now, now)
    events = [{"EventType": 12, "EventId": -1, "Timestamp": "t"}, {"EventType": 0, "EventId": -1, "Timestamp": "t"}]
    task = PendingTask(0, ACTIVITY, "double", "1", retry=RetryPolicy(100, 3, 2.0), action_index=0)
    store.commit_episode(record, Checkpoint(0, 2, 1, 1, "e", "null"), events, [{"actionType": 0}], [task], [], [])
    store.history.upsert_entity({"PartitionKey": "i-1", "RowKey": "000000.00000002", "EventType": 5,
                                 "Event": '{"EventType": 5}'})

    stored = store.load_history("i-1")
    tasks, messages = store.load_work("i-1")

    assert stored.checkpoint == Checkpoint(0, 2, 1, 1, "e", "null")
    assert stored.events == events
    assert stored.actions == [{"actionType": 0}]
    assert [t.task for t in tasks] == [task] and messages == []
    store.purge("i-1")
    assert store.get_instance("i-1") is None and store.load_history("i-1").events == []


def test_finished_task_rows_go_in_one_sweep_when_the_instance_ends(store: HubStore) -> None:
    now = datetime.now(UTC)
    running = InstanceRecord("fan/out 'ü'", "orchestrator", "Running", "null", now, now)
    tasks = [PendingTask(n, ACTIVITY, "double", str(n), action_index=n) for n in range(3)]
    row = [HubStore.task_row_key(0, n) for n in range(3)]
    events = [{"EventType": 12, "EventId": -1, "Timestamp": "t"}]
    store.commit_episode(running, Checkpoint(0, 1, 3, 3, "e", "null"), events, [], tasks, [], [])
    store.commit_episode(running, Checkpoint(0, 2, 3, 3, "e", "null"), events, [], [], [row[0]], [])
    store.commit_episode(running, Checkpoint(0, 3, 3, 3, "e", "null"), events, [], [], [row[1]], [])
    store.settle()

    assert [t.task.task_id for t in store.load_work("fan/out 'ü'")[0]] == [0, 1, 2]  # kept while it runs

    done = InstanceRecord("fan/out 'ü'", "orchestrator", "Completed", "null", now, now, output="6")
    store.commit_episode(done, Checkpoint(0, 4, 3, 3, "e", "null"), events, [], [], [row[2]], [])
    store.settle()

    assert store.load_work("fan/out 'ü'") == ([], [])
    assert store.get_instance("fan/out 'ü'").status == "Completed"
