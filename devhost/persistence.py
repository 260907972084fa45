"""A task hub's durable state in Table Storage, with large payloads in Blob Storage.

Tables, named after the hub as Durable names its own, so several hubs share one account:

- `{hub}Instances`: one row per instance (PartitionKey = encoded instance id, RowKey ""):
  name, status, input, output, custom status, created/updated times, generation, parent.
- `{hub}History`: the current generation's events, RowKey `{generation:06}.{index:08}`;
  the OrchestratorCompleted row of each episode also keeps the actions the orchestrator
  produced first in that episode (for the determinism guard). The `checkpoint` row says how
  many events the last committed episode left, the next sequence number, the count of
  handled actions and the generation's input; it is written in the same transaction as the
  episode's last events, so rows past it (from an episode cut short) are ignored.
- `{hub}WorkItems`: pending work, RowKey `task.{generation:06}.{number:08}` (activities,
  timers with their fire time, sub-orchestrations, retry pauses), and messages accepted but
  not yet applied, RowKey `message.{ns}.{random}` (raised events, termination requests).

Large values go through large_values.py (blobs in the `{hub}-largemessages` container), and
instance ids through table_keys.py.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode
from azure.storage.blob import BlobServiceClient, ContainerClient

from devhost.large_values import LargeValues
from devhost.orchestration_runner import (
    TERMINAL_STATUSES,
    UNFINISHED_STATUSES,
    Message,
    ParentLink,
    PendingTask,
    RetryPolicy,
)
from devhost.table_keys import encode_key

MAX_BATCH_OPERATIONS = 100
MAX_BATCH_CHARS = 1_500_000
PARALLEL_TRANSACTIONS = 4
CHECKPOINT_ROW = "checkpoint"
TASK_ROWS = "task."
MESSAGE_ROWS = "message."
TIMER_STATUS_CONTAINER = "azure-webjobs-hosts"

log = logging.getLogger("devhost")

@dataclass
class InstanceRecord:
    """An instance as status queries see it."""

    instance_id: str
    name: str
    status: str
    input: str | None
    created_time: datetime
    last_updated_time: datetime
    output: str | None = None
    custom_status: str | None = None
    failure_details: str | None = None
    generation: int = 0
    execution_id: str = ""
    parent: ParentLink | None = None


@dataclass(frozen=True)
class Checkpoint:
    """Where the last committed episode of an instance left its current generation."""

    generation: int
    event_count: int
    next_task_id: int
    handled_actions: int
    execution_id: str
    input: str | None


@dataclass
class StoredHistory:
    """An instance's committed history: checkpoint, events, and the actions recorded per episode."""

    checkpoint: Checkpoint | None
    events: list[dict[str, Any]]
    actions: list[dict[str, Any]]


@dataclass(frozen=True)
class StoredTask:
    """A pending task row and the generation that scheduled it."""

    row_key: str
    generation: int
    task: PendingTask


class HubStore:
    """Reads and writes one task hub's tables and blobs; safe to share between threads."""

    def __init__(self, connection_string: str, hub_name: str) -> None:
        self.hub_name = hub_name
        self._tables_service = TableServiceClient.from_connection_string(connection_string)
        self._blob_service = BlobServiceClient.from_connection_string(connection_string)
        self.instances = self._tables_service.get_table_client(f"{hub_name}Instances")
        self.history = self._tables_service.get_table_client(f"{hub_name}History")
        self.work = self._tables_service.get_table_client(f"{hub_name}WorkItems")
        self._large = self._blob_service.get_container_client(f"{hub_name.lower()}-largemessages")
        self._values = LargeValues(self._large)
        self._writers = ThreadPoolExecutor(PARALLEL_TRANSACTIONS, thread_name_prefix="storage")
        self._deleter = ThreadPoolExecutor(1, thread_name_prefix="storage-cleanup")
        self._finished_lock = threading.Lock()
        self._finished: dict[str, list[str]] = {}

    def create(self) -> None:
        """Create the hub's tables and container when missing."""
        for table in (self.instances, self.history, self.work):
            with contextlib.suppress(ResourceExistsError):
                table.create_table()
        _create_container(self._large)

    def close(self) -> None:
        """Finish background deletions and close the clients."""
        with self._finished_lock:
            finished, self._finished = self._finished, {}
        for instance_id, row_keys in finished.items():
            self._deleter.submit(self._delete_logged, instance_id, row_keys)
        self._deleter.shutdown(wait=True)
        self._writers.shutdown(wait=True)
        self._tables_service.close()
        self._blob_service.close()

    # Instances

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """The instance's row, or None when unknown."""
        try:
            row = self.instances.get_entity(encode_key(instance_id), "")
        except ResourceNotFoundError:
            return None
        return self._record(row)

    def put_instance(self, record: InstanceRecord) -> None:
        """Write the instance's row, replacing what was there."""
        key = encode_key(record.instance_id)
        row: dict[str, Any] = {
            "PartitionKey": key,
            "RowKey": "",
            "InstanceId": record.instance_id,
            "Name": record.name,
            "RuntimeStatus": record.status,
            "CreatedTime": record.created_time,
            "LastUpdatedTime": record.last_updated_time,
            "Generation": record.generation,
            "ExecutionId": record.execution_id,
            **self._values.pack(key, "Input", record.input),
            **self._values.pack(key, "Output", record.output),
            **self._values.pack(key, "CustomStatus", record.custom_status),
            **self._values.pack(key, "FailureDetails", record.failure_details),
        }
        if record.parent is not None:
            row.update(
                ParentInstanceId=record.parent.instance_id,
                ParentGeneration=record.parent.generation,
                ParentTaskId=record.parent.task_id,
            )
        self.instances.upsert_entity(row, mode=UpdateMode.REPLACE)

    def query_instances(
        self,
        statuses: Iterable[str] = (),
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        id_prefix: str | None = None,
        top: int | None = None,
        continuation: str | None = None,
    ) -> tuple[list[InstanceRecord], str | None]:
        """One page of instances matching every given condition, and the token of the next page."""
        clauses: list[str] = []
        parameters: dict[str, Any] = {}
        statuses = list(statuses)
        if statuses:
            # The SDK substitutes parameters in whitespace-separated words: keep ")" apart.
            clauses.append("(" + " or ".join(f"RuntimeStatus eq @s{i}" for i in range(len(statuses))) + " )")
            parameters.update({f"s{i}": status for i, status in enumerate(statuses)})
        if created_from is not None:
            clauses.append("CreatedTime ge @createdFrom")
            parameters["createdFrom"] = created_from
        if created_to is not None:
            clauses.append("CreatedTime le @createdTo")
            parameters["createdTo"] = created_to
        if id_prefix:
            low = encode_key(id_prefix)
            clauses.append("PartitionKey ge @low and PartitionKey lt @high")
            parameters.update(low=low, high=low[:-1] + chr(ord(low[-1]) + 1))
        token = json.loads(base64.urlsafe_b64decode(continuation)) if continuation else None
        if clauses:
            pages = self.instances.query_entities(
                " and ".join(clauses), parameters=parameters, results_per_page=top
            ).by_page(continuation_token=token)
        else:
            pages = self.instances.list_entities(results_per_page=top).by_page(continuation_token=token)
        rows = list(next(pages, []))
        following = pages.continuation_token
        encoded = base64.urlsafe_b64encode(json.dumps(following).encode()).decode() if following else None
        return [self._record(row) for row in rows], encoded

    def unfinished_instances(self) -> list[InstanceRecord]:
        """Every instance still Pending, Running or Suspended."""
        statuses = sorted(UNFINISHED_STATUSES)
        rows = self.instances.query_entities(
            " or ".join(f"RuntimeStatus eq @s{i}" for i in range(len(statuses))),
            parameters={f"s{i}": status for i, status in enumerate(statuses)},
        )
        return [self._record(row) for row in rows]

    def _record(self, row: dict[str, Any]) -> InstanceRecord:
        parent = None
        if row.get("ParentInstanceId"):
            parent = ParentLink(row["ParentInstanceId"], row["ParentGeneration"], row["ParentTaskId"])
        return InstanceRecord(
            instance_id=row["InstanceId"],
            name=row["Name"],
            status=row["RuntimeStatus"],
            input=self._values.unpack(row, "Input"),
            created_time=row["CreatedTime"],
            last_updated_time=row["LastUpdatedTime"],
            output=self._values.unpack(row, "Output"),
            custom_status=self._values.unpack(row, "CustomStatus"),
            failure_details=self._values.unpack(row, "FailureDetails"),
            generation=row.get("Generation", 0),
            execution_id=row.get("ExecutionId", ""),
            parent=parent,
        )

    # History

    def load_history(self, instance_id: str) -> StoredHistory:
        """The committed history of the instance's current generation."""
        key = encode_key(instance_id)
        rows = sorted(self._partition(self.history, key), key=lambda row: row["RowKey"])
        checkpoint_row = next((row for row in rows if row["RowKey"] == CHECKPOINT_ROW), None)
        if checkpoint_row is None:
            return StoredHistory(None, [], [])
        checkpoint = Checkpoint(
            generation=checkpoint_row["Generation"],
            event_count=checkpoint_row["EventCount"],
            next_task_id=checkpoint_row["NextTaskId"],
            handled_actions=checkpoint_row["HandledActions"],
            execution_id=checkpoint_row["ExecutionId"],
            input=self._values.unpack(checkpoint_row, "Input"),
        )
        events: list[dict[str, Any]] = []
        actions: list[dict[str, Any]] = []
        for row in rows:
            if row["RowKey"] == CHECKPOINT_ROW:
                continue
            generation, index = (int(part) for part in row["RowKey"].split("."))
            if generation != checkpoint.generation or index >= checkpoint.event_count:
                continue
            events.append(json.loads(self._values.unpack(row, "Event") or "{}"))
            actions.extend(json.loads(self._values.unpack(row, "Actions") or "[]"))
        return StoredHistory(checkpoint, events, actions)

    def commit_episode(
        self,
        record: InstanceRecord,
        checkpoint: Checkpoint,
        events: list[dict[str, Any]],
        new_actions: list[dict[str, Any]],
        new_work: list[PendingTask],
        done_tasks: list[str],
        done_messages: list[str],
    ) -> None:
        """Persist an episode: its new work and history (the checkpoint last), then the instance
        row, then remove the messages it applied; the rows of finished tasks go in the background,
        a transaction's worth at a time or all of them once the instance ends (recovery ignores a
        task row whose result is in the history)."""
        key = encode_key(record.instance_id)
        first = checkpoint.event_count - len(events)
        rows = []
        for offset, event in enumerate(events):
            row = {
                "PartitionKey": key,
                "RowKey": f"{checkpoint.generation:06d}.{first + offset:08d}",
                "EventType": event["EventType"],
                **self._values.pack(key, "Event", json.dumps(event)),
            }
            rows.append(row)
        if rows and new_actions:
            rows[-1].update(self._values.pack(key, "Actions", json.dumps(new_actions)))
        rows.append(self._checkpoint_row(key, checkpoint))
        work = [self._task_row(key, checkpoint.generation, task) for task in new_work]
        *leading, closing = list(_batches(rows))
        transactions = [(self.work, batch) for batch in _batches(work)] + [(self.history, batch) for batch in leading]
        for done in [self._writers.submit(self._upsert_batch, table, batch) for table, batch in transactions]:
            done.result()
        self._upsert_batch(self.history, closing)
        self.put_instance(record)
        self._delete(self.work, key, done_messages)
        self.delete_work_later(record.instance_id, done_tasks, ended=record.status in TERMINAL_STATUSES)

    def rewind(
        self, record: InstanceRecord, checkpoint: Checkpoint, rewritten: dict[int, dict[str, Any]],
        tasks: list[PendingTask],
    ) -> None:
        """Persist a rewind: the history events replaced by position, the tasks to run again, the
        checkpoint, then the instance row (so a rewind cut short leaves the instance Failed)."""
        key = encode_key(record.instance_id)
        rows = []
        for index, event in sorted(rewritten.items()):
            row_key = f"{checkpoint.generation:06d}.{index:08d}"
            kept = {name: value for name, value in self.history.get_entity(key, row_key).items()
                    if name.startswith("Actions")}  # what the episode scheduled, for the determinism guard
            rows.append({
                "PartitionKey": key, "RowKey": row_key, "EventType": event["EventType"],
                **self._values.pack(key, "Event", json.dumps(event)), **kept,
            })
        self._upsert(self.work, [self._task_row(key, checkpoint.generation, task) for task in tasks])
        self._upsert(self.history, [*rows, self._checkpoint_row(key, checkpoint)])
        self.put_instance(record)

    def start_generation(self, record: InstanceRecord, checkpoint: Checkpoint) -> None:
        """Begin a new generation (continue-as-new): drop the old history and pending work."""
        key = encode_key(record.instance_id)
        with self._finished_lock:
            self._finished.pop(record.instance_id, None)  # every task row of the old generation goes below
        self._upsert(self.history, [self._checkpoint_row(key, checkpoint)])
        self.put_instance(record)
        old = [row_key for row_key in self._row_keys(self.history, key) if row_key != CHECKPOINT_ROW]
        self._delete(self.history, key, old)
        self._delete(self.work, key, self._row_keys(self.work, key, TASK_ROWS))

    def _checkpoint_row(self, key: str, checkpoint: Checkpoint) -> dict[str, Any]:
        return {
            "PartitionKey": key,
            "RowKey": CHECKPOINT_ROW,
            "Generation": checkpoint.generation,
            "EventCount": checkpoint.event_count,
            "NextTaskId": checkpoint.next_task_id,
            "HandledActions": checkpoint.handled_actions,
            "ExecutionId": checkpoint.execution_id,
            **self._values.pack(key, "Input", checkpoint.input),
        }

    # Work items

    def put_message(self, instance_id: str, message: Message) -> str:
        """Keep a message until an episode applies it; returns its row key."""
        key = encode_key(instance_id)
        row_key = f"{MESSAGE_ROWS}{time.time_ns():020d}.{secrets.token_hex(4)}"
        fields = json.dumps({"EventType": int(message.event_type), "Fields": message.fields})
        self.work.upsert_entity({"PartitionKey": key, "RowKey": row_key, **self._values.pack(key, "Message", fields)})
        return row_key

    def load_work(self, instance_id: str) -> tuple[list[StoredTask], list[Message]]:
        """An instance's pending task rows and its unapplied messages, oldest first."""
        key = encode_key(instance_id)
        tasks: list[StoredTask] = []
        messages: list[Message] = []
        for row in sorted(self._partition(self.work, key), key=lambda r: r["RowKey"]):
            if row["RowKey"].startswith(TASK_ROWS):
                tasks.append(StoredTask(row["RowKey"], row["Generation"], self._task(row)))
            else:
                body = json.loads(self._values.unpack(row, "Message") or "{}")
                messages.append(Message(body["EventType"], body["Fields"], row_key=row["RowKey"]))
        return tasks, messages

    def delete_work(self, instance_id: str, row_keys: list[str]) -> None:
        """Delete work rows now (rows already gone are fine)."""
        self._delete(self.work, encode_key(instance_id), row_keys)

    def delete_work_later(self, instance_id: str, row_keys: list[str], ended: bool = False) -> None:
        """Delete finished work rows in the background, in order with purges: gathered until they fill
        a transaction or the instance has `ended`, so a fan-out of many tasks costs few requests."""
        with self._finished_lock:
            gathered = self._finished.pop(instance_id, []) + row_keys
            if not ended and len(gathered) < MAX_BATCH_OPERATIONS:
                if gathered:
                    self._finished[instance_id] = gathered
                return
        if gathered:
            self._deleter.submit(self._delete_logged, instance_id, gathered)

    def settle(self) -> None:
        """Wait until the background deletions asked for so far are done."""
        self._deleter.submit(lambda: None).result()

    def _delete_logged(self, instance_id: str, row_keys: list[str]) -> None:
        try:
            self.delete_work(instance_id, row_keys)
        except Exception:
            log.exception("Could not delete finished work of instance %s", instance_id)

    @staticmethod
    def task_row_key(generation: int, task_id: int) -> str:
        """The WorkItems row key of a task."""
        return f"{TASK_ROWS}{generation:06d}.{task_id:08d}"

    def _task_row(self, key: str, generation: int, task: PendingTask) -> dict[str, Any]:
        row: dict[str, Any] = {
            "PartitionKey": key,
            "RowKey": self.task_row_key(generation, task.task_id),
            "Generation": generation,
            "TaskId": task.task_id,
            "Kind": task.kind,
            "Attempt": task.attempt,
            **self._values.pack(key, "Input", task.input),
        }
        optional = {
            "Name": task.name,
            "FireAt": task.fire_at,
            "InstanceId": task.instance_id,
            "RequestedInstanceId": task.requested_instance_id,
            "ActionIndex": task.action_index,
            "RetriedKind": task.retried_kind,
            "RetryOf": task.retry_of,
            "Retry": json.dumps(asdict(task.retry)) if task.retry else None,
        }
        row.update({name: value for name, value in optional.items() if value is not None})
        return row

    def _task(self, row: dict[str, Any]) -> PendingTask:
        return PendingTask(
            task_id=row["TaskId"],
            kind=row["Kind"],
            name=row.get("Name"),
            input=self._values.unpack(row, "Input"),
            fire_at=datetime.fromtimestamp(row["FireAt"].timestamp(), UTC) if "FireAt" in row else None,
            instance_id=row.get("InstanceId"),
            requested_instance_id=row.get("RequestedInstanceId"),
            action_index=row.get("ActionIndex"),
            retry=RetryPolicy(**json.loads(row["Retry"])) if "Retry" in row else None,
            attempt=row["Attempt"],
            retried_kind=row.get("RetriedKind"),
            retry_of=row.get("RetryOf"),
        )

    # Purge

    def purge(self, instance_id: str) -> None:
        """Delete everything the hub keeps about an instance."""
        with self._finished_lock:
            self._finished.pop(instance_id, None)  # every row of the instance goes below
        self.settle()  # background deletions first: they may hit a reused id
        key = encode_key(instance_id)
        for table in (self.work, self.history):
            self._delete(table, key, self._row_keys(table, key))
        self._values.delete(key)
        with contextlib.suppress(ResourceNotFoundError):
            self.instances.delete_entity(key, "")

    def large_payloads(self, instance_id: str) -> list[str]:
        """The names of the blobs holding the instance's large values."""
        return self._values.blobs(encode_key(instance_id))

    # Timer trigger schedule status, where the Functions host keeps it (one blob per function)

    def read_timer_status(self, function_name: str) -> dict[str, str] | None:
        """A timer function's last recorded schedule status (Last, Next, LastUpdated)."""
        container = self._blob_service.get_container_client(TIMER_STATUS_CONTAINER)
        try:
            return json.loads(container.download_blob(self._timer_status_blob(function_name)).readall())
        except ResourceNotFoundError:
            return None

    def write_timer_status(self, function_name: str, status: dict[str, str]) -> None:
        """Record a timer function's schedule status."""
        container = self._blob_service.get_container_client(TIMER_STATUS_CONTAINER)
        _create_container(container)
        container.upload_blob(self._timer_status_blob(function_name), json.dumps(status), overwrite=True)

    def _timer_status_blob(self, function_name: str) -> str:
        return f"timers/devhost-{self.hub_name.lower()}/{function_name}/status"

    # Table helpers

    def _partition(self, table: TableClient, key: str) -> Iterator[dict[str, Any]]:
        return table.query_entities("PartitionKey eq @pk", parameters={"pk": key})

    def _row_keys(self, table: TableClient, key: str, row_prefix: str = "") -> list[str]:
        if not row_prefix:
            rows = table.query_entities("PartitionKey eq @pk", parameters={"pk": key}, select=["RowKey"])
        else:
            rows = table.query_entities(
                "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high", select=["RowKey"],
                parameters={"pk": key, "low": row_prefix, "high": row_prefix[:-1] + chr(ord(row_prefix[-1]) + 1)},
            )
        return [row["RowKey"] for row in rows]

    def _upsert(self, table: TableClient, rows: list[dict[str, Any]]) -> None:
        for batch in _batches(rows):
            self._upsert_batch(table, batch)

    @staticmethod
    def _upsert_batch(table: TableClient, batch: list[dict[str, Any]]) -> None:
        if len(batch) == 1:  # one row is atomic by itself, and a plain request is far cheaper than a transaction
            table.upsert_entity(batch[0], mode=UpdateMode.REPLACE)
        else:
            table.submit_transaction([("upsert", row, {"mode": UpdateMode.REPLACE}) for row in batch])

    def _delete(self, table: TableClient, key: str, row_keys: list[str]) -> None:
        rows = [{"PartitionKey": key, "RowKey": row_key} for row_key in row_keys]
        for batch in _batches(rows):
            try:
                if len(batch) == 1:
                    with contextlib.suppress(ResourceNotFoundError):
                        table.delete_entity(key, batch[0]["RowKey"])
                else:
                    table.submit_transaction([("delete", row) for row in batch])
            except TableTransactionError:
                # A row already gone fails the whole transaction; delete this batch one by one.
                for row in batch:
                    with contextlib.suppress(ResourceNotFoundError):
                        table.delete_entity(row["PartitionKey"], row["RowKey"])


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Transactions of at most 100 rows and well under the 4 MiB request limit."""
    batch: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        row_size = sum(len(v) if isinstance(v, str) else 16 for v in row.values())
        if batch and (len(batch) == MAX_BATCH_OPERATIONS or size + row_size > MAX_BATCH_CHARS):
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += row_size
    if batch:
        yield batch


def _create_container(container: ContainerClient) -> None:
    with contextlib.suppress(ResourceExistsError):
        container.create_container()
