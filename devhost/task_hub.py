"""The task hub: orchestration instances, their messages and their work, while devhost runs.

Each running instance has an inbox. Whatever arrives for it (its start, activity results,
fired timers, a sub-orchestration's end, raised events, a termination) lands there, and one
episode at a time runs on the orchestrator pool with everything the inbox holds. An episode
is committed to storage (persistence.py) before its new work starts, so a devhost killed at
any point and started again resumes every unfinished instance from its committed history:
pending timers are armed again, pending sub-orchestrations looked up, and activities that
were in flight run again, as Durable's at-least-once delivery does.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from devhost.activity_runner import ActivityResult, ActivityRunner, ActivityWork
from devhost.app_index import AppIndex
from devhost.history import EventType, format_time, public_history
from devhost.host_config import HostConfig
from devhost.invoker import REASON_DURABLE, FunctionInvoker
from devhost.orchestration_runner import (
    ACTIVITY,
    COMPLETED,
    CONTINUED_AS_NEW,
    PENDING,
    RUNNING,
    SUB_ORCHESTRATION,
    TERMINAL_STATUSES,
    TERMINATED,
    EpisodeResult,
    InstanceState,
    Message,
    ParentLink,
    PendingTask,
    run_episode,
)
from devhost.persistence import Checkpoint, HubStore, InstanceRecord
from devhost.recovery import restore
from devhost.table_keys import MAX_KEY_CHARS, encode_key
from devhost.timers import TimerService
from devhost.worker_protocol import OrchestrationTrigger

log = logging.getLogger("devhost")

MAX_INSTANCE_ID_CHARS = 256
RETRY_AFTER_STORAGE_ERROR = timedelta(seconds=1)
STATUS_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class InstanceExists(Exception):
    """An instance with that id is still Pending or Running."""


class UnknownOrchestrator(Exception):
    """No orchestrator function has that name."""


class InvalidInstanceId(ValueError):
    """An instance id Durable would refuse."""


class Delivery(Enum):
    """What became of a request addressed to an instance."""

    ACCEPTED = "accepted"
    NOT_FOUND = "not found"
    GONE = "gone"


@dataclass(eq=False)
class _Running:
    state: InstanceState
    inbox: list[Message] = field(default_factory=list)
    busy: bool = False


def validate_instance_id(instance_id: str) -> None:
    """Refuse ids Durable refuses: empty, over 256 characters, `/ \\ # ?` or control characters."""
    bad = [c for c in instance_id if c in "/\\#?" or ord(c) < 32 or 127 <= ord(c) < 160]
    if not instance_id or len(instance_id) > MAX_INSTANCE_ID_CHARS or bad:
        raise InvalidInstanceId(
            "an instance id is 1-256 characters without '/', '\\', '#', '?' or control characters"
        )
    if len(encode_key(instance_id)) > MAX_KEY_CHARS:
        raise InvalidInstanceId("this instance id is too long once encoded as a table key")


class TaskHub:
    """Runs one task hub's orchestrations and answers the management API about them."""

    def __init__(
        self, index: AppIndex, store: HubStore, invoker: FunctionInvoker, timers: TimerService, config: HostConfig
    ) -> None:
        self._index = index
        self._store = store
        self._invoker = invoker
        self._timers = timers
        self._lock = threading.RLock()
        self._running: dict[str, _Running] = {}
        self._stopping = False
        self._episodes = ThreadPoolExecutor(config.max_concurrent_orchestrations, thread_name_prefix="orchestrator")
        self._activities = ActivityRunner(
            index.activities, invoker, config.max_concurrent_activities, self._activity_finished
        )

    # Lifecycle

    def recover(self) -> int:
        """Resume every unfinished instance from storage; returns how many were resumed."""
        resumed: list[_Running] = []
        finished: list[InstanceRecord] = []
        for record in self._store.unfinished_instances():
            restored = restore(self._store, record)
            if isinstance(restored, InstanceRecord):
                finished.append(restored)
            else:
                resumed.append(_Running(restored.state, restored.inbox))
        with self._lock:
            for running in resumed:
                self._running[running.state.instance_id] = running
        for record in finished:
            self._report_to_parent(record)
        for running in resumed:
            for task in list(running.state.pending.values()):
                self._dispatch(running.state, task)
            with self._lock:
                self._schedule(running)
        return len(resumed)

    def stop(self) -> None:
        """Stop taking work; episodes under way finish their commit, queued ones wait for the next start."""
        with self._lock:
            self._stopping = True
        self._episodes.shutdown(wait=True, cancel_futures=True)
        self._activities.stop()

    # Client operations

    def start_new(self, name: str, instance_id: str | None, input_json: str | None) -> str:
        """Start orchestrator `name`; returns the instance id (a new one when none is given)."""
        if name not in self._index.orchestrators:
            known = ", ".join(sorted(self._index.orchestrators)) or "none"
            raise UnknownOrchestrator(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
                f"Known orchestrator functions: {known}."
            )
        instance_id = instance_id or uuid.uuid4().hex
        validate_instance_id(instance_id)
        with self._lock:
            if instance_id in self._running:
                raise InstanceExists(f"An instance with ID '{instance_id}' already exists.")
            existing = self._store.get_instance(instance_id)
            if existing is not None and existing.status not in TERMINAL_STATUSES:
                raise InstanceExists(f"An instance with ID '{instance_id}' already exists.")
            if existing is not None:
                self._store.purge(instance_id)
            self._create(instance_id, name, input_json, None)
        return instance_id

    def status(
        self, instance_id: str, show_history: bool = False, show_history_output: bool = False, show_input: bool = True
    ) -> dict[str, Any] | None:
        """The instance's status as the webhook answers it, or None when unknown."""
        record = self._store.get_instance(instance_id)
        if record is None:
            return None
        body = status_body(record, show_input)
        if show_history:
            body["historyEvents"] = public_history(self._store.load_history(instance_id).events, show_history_output)
        return body

    def list_instances(
        self,
        statuses: list[str],
        created_from: datetime | None,
        created_to: datetime | None,
        id_prefix: str | None,
        top: int | None,
        continuation: str | None,
        show_input: bool,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of instance statuses and the continuation token of the next."""
        records, following = self._store.query_instances(
            statuses, created_from, created_to, id_prefix, top, continuation
        )
        return [status_body(record, show_input) for record in records], following

    def terminate(self, instance_id: str, reason: str | None) -> Delivery:
        """Ask a Pending or Running instance to end as Terminated with `reason` as its output."""
        return self._send(instance_id, Message(EventType.EXECUTION_TERMINATED, {"Input": reason}))

    def raise_event(self, instance_id: str, event_name: str, data_json: str | None) -> Delivery:
        """Deliver an external event (JSON text) to a Pending or Running instance."""
        return self._send(instance_id, Message(EventType.EVENT_RAISED, {"Name": event_name, "Input": data_json}))

    def purge(self, instance_id: str) -> bool:
        """Delete a finished instance's state; False when unknown or still running."""
        with self._lock:
            if instance_id in self._running:
                return False
        record = self._store.get_instance(instance_id)
        if record is None or record.status not in TERMINAL_STATUSES:
            return False
        self._store.purge(instance_id)
        return True

    def purge_where(self, statuses: list[str], created_from: datetime, created_to: datetime | None) -> int:
        """Purge every finished instance created in the window (with one of `statuses` when given)."""
        wanted = [s for s in (statuses or sorted(TERMINAL_STATUSES)) if s in TERMINAL_STATUSES]
        purged, token = 0, None
        while wanted:
            records, token = self._store.query_instances(wanted, created_from, created_to, None, 100, token)
            purged += sum(self.purge(record.instance_id) for record in records)
            if token is None:
                break
        return purged

    # Instances and episodes

    def _create(self, instance_id: str, name: str, input_json: str | None, parent: ParentLink | None) -> None:
        now = datetime.now(UTC)
        execution_id = uuid.uuid4().hex
        self._store.put_instance(InstanceRecord(
            instance_id, name, PENDING, input_json, now, now, execution_id=execution_id, parent=parent
        ))
        state = InstanceState(instance_id, name, input_json, 0, execution_id, now, parent)
        running = _Running(state, [Message(EventType.EXECUTION_STARTED)])
        with self._lock:
            self._running[instance_id] = running
            self._schedule(running)

    def _send(self, instance_id: str, message: Message) -> Delivery:
        with self._lock:
            running = instance_id in self._running
        if not running:
            return Delivery.NOT_FOUND if self._store.get_instance(instance_id) is None else Delivery.GONE
        row_key = self._store.put_message(instance_id, message)
        self._deliver(instance_id, replace(message, row_key=row_key))
        return Delivery.ACCEPTED

    def _deliver(self, instance_id: str, message: Message) -> None:
        with self._lock:
            running = self._running.get(instance_id)
            if running is not None:
                running.inbox.append(message)
                self._schedule(running)
                return
        if message.row_key is not None:
            self._store.delete_work(instance_id, [message.row_key])

    def _schedule(self, running: _Running) -> None:
        """Queue an episode when the instance has messages and none is under way (hold the lock)."""
        if running.busy or not running.inbox or self._stopping:
            return
        running.busy = True
        self._episodes.submit(self._run_episode, running)

    def _run_episode(self, running: _Running) -> None:
        with self._lock:
            messages, running.inbox = running.inbox, []
        try:
            self._episode(running, messages)
        except Exception:
            log.exception("Episode of instance %s could not be committed; retrying", running.state.instance_id)
            with self._lock:
                running.inbox[:0] = messages
            self._timers.schedule(
                ("retry", running.state.instance_id), datetime.now(UTC) + RETRY_AFTER_STORAGE_ERROR,
                lambda: self._release(running),
            )
            return
        self._release(running)

    def _release(self, running: _Running) -> None:
        with self._lock:
            running.busy = False
            if self._running.get(running.state.instance_id) is running:
                self._schedule(running)

    def _episode(self, running: _Running, messages: list[Message]) -> None:
        state = running.state
        result = run_episode(state, messages, lambda payload: self._call_orchestrator(state.name, payload))
        consumed = [m.row_key for m in messages if m.row_key is not None]
        outcome = result.outcome
        if outcome is not None and outcome.status == CONTINUED_AS_NEW:
            self._continue_as_new(running, result, consumed)
            return
        done_tasks = list(state.pending) if outcome is not None else result.resolved + result.canceled
        now = datetime.now(UTC)
        record = InstanceRecord(
            state.instance_id, state.name, outcome.status if outcome else RUNNING, state.input,
            state.created_time, now,
            output=outcome.output if outcome else None,
            custom_status=result.custom_status,
            failure_details=outcome.details if outcome else None,
            generation=state.generation, execution_id=state.execution_id, parent=state.parent,
        )
        checkpoint = Checkpoint(
            state.generation, len(state.history) + len(result.events), result.next_task_id,
            result.handled_actions, state.execution_id, state.input,
        )
        self._store.commit_episode(
            record, checkpoint, result.events, result.new_actions, result.scheduled,
            [HubStore.task_row_key(state.generation, task_id) for task_id in done_tasks], consumed,
        )

        for task in state.advance(result):
            self._cancel_timer(state, task)
        if outcome is not None:
            self._finish(running, record)
            return
        for task in result.scheduled:
            self._dispatch(state, task)

    def _continue_as_new(self, running: _Running, result: EpisodeResult, consumed: list[str]) -> None:
        state = running.state
        new_input = result.outcome.new_input if result.outcome else None
        execution_id = uuid.uuid4().hex
        record = InstanceRecord(
            state.instance_id, state.name, RUNNING, new_input, state.created_time, datetime.now(UTC),
            custom_status=result.custom_status, generation=state.generation + 1, execution_id=execution_id,
            parent=state.parent,
        )
        self._store.start_generation(record, Checkpoint(record.generation, 0, 0, 0, execution_id, new_input))
        self._store.delete_work(state.instance_id, consumed)
        for task in state.pending.values():
            self._cancel_timer(state, task)
        running.state = InstanceState(
            state.instance_id, state.name, new_input, record.generation, execution_id, state.created_time,
            state.parent, custom_status=result.custom_status,
        )
        with self._lock:
            running.inbox.insert(0, Message(EventType.EXECUTION_STARTED))

    def _cancel_timer(self, state: InstanceState, task: PendingTask) -> None:
        if task.fire_at is not None:
            self._timers.cancel((state.instance_id, state.generation, task.task_id))

    def _finish(self, running: _Running, record: InstanceRecord) -> None:
        with self._lock:
            self._running.pop(record.instance_id, None)
            leftovers, running.inbox = running.inbox, []
        self._store.delete_work(record.instance_id, [m.row_key for m in leftovers if m.row_key is not None])
        log.info("Orchestration '%s' (%s) %s", record.name, record.instance_id, record.status)
        self._report_to_parent(record)

    def _call_orchestrator(self, name: str, payload: str) -> str:
        orchestrator = self._index.orchestrators.get(name)
        if orchestrator is None:
            raise LookupError(f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function.")
        context = OrchestrationTrigger(payload)
        return self._invoker.call(orchestrator, {orchestrator.trigger_param: context}, REASON_DURABLE, False)

    # Work

    def _dispatch(self, state: InstanceState, task: PendingTask) -> None:
        """Start a pending task; a failure is logged, and the task starts again on the next recovery."""
        try:
            self._start_task(state, task)
        except Exception:
            log.exception("Could not start task %d of instance %s", task.task_id, state.instance_id)

    def _start_task(self, state: InstanceState, task: PendingTask) -> None:
        if task.kind == ACTIVITY:
            self._activities.submit(ActivityWork(state.instance_id, state.generation, task.task_id, task.name or "",
                                                 task.input))
        elif task.kind == SUB_ORCHESTRATION:
            self._start_child(ParentLink(state.instance_id, state.generation, task.task_id), task)
        elif task.fire_at is not None:
            message = Message(
                EventType.TIMER_FIRED, {"TimerId": task.task_id, "FireAt": format_time(task.fire_at)},
                task.task_id, state.generation,
            )
            self._timers.schedule(
                (state.instance_id, state.generation, task.task_id), task.fire_at,
                lambda: self._deliver(state.instance_id, message),
            )

    def _activity_finished(self, work: ActivityWork, result: ActivityResult) -> None:
        if result.succeeded:
            fields: dict[str, Any] = {"TaskScheduledId": work.task_id, "Result": result.result}
            event_type = EventType.TASK_COMPLETED
        else:
            fields = {"TaskScheduledId": work.task_id, "Reason": result.reason, "Details": result.details}
            event_type = EventType.TASK_FAILED
        self._deliver(work.instance_id, Message(event_type, fields, work.task_id, work.generation))

    def _start_child(self, link: ParentLink, task: PendingTask) -> None:
        child_id = task.instance_id or ""
        refusal = None
        if task.name not in self._index.orchestrators:
            refusal = f"The function '{task.name}' doesn't exist, is disabled, or is not an orchestrator function."
        with self._lock:
            if refusal is None and child_id in self._running:
                if self._running[child_id].state.parent == link:
                    return
                refusal = f"An orchestration with instance ID '{child_id}' already exists."
            if refusal is None:
                existing = self._store.get_instance(child_id)
                if existing is not None and existing.parent == link and existing.status in TERMINAL_STATUSES:
                    self._report_to_parent(existing)
                    return
                if existing is not None and existing.status not in TERMINAL_STATUSES:
                    refusal = f"An orchestration with instance ID '{child_id}' already exists."
                else:
                    if existing is not None:
                        self._store.purge(child_id)
                    self._create(child_id, task.name or "", task.input, link)
                    return
        self._deliver(link.instance_id, Message(
            EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
            {"TaskScheduledId": link.task_id, "Reason": refusal, "Details": ""}, link.task_id, link.generation,
        ))

    def _report_to_parent(self, record: InstanceRecord) -> None:
        link = record.parent
        if link is None:
            return
        if record.status == COMPLETED:
            fields: dict[str, Any] = {"TaskScheduledId": link.task_id, "Result": record.output}
            event_type = EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED
        else:
            reason = json.loads(record.output) if record.output else record.status
            if record.status == TERMINATED:
                reason = f"Orchestration '{record.name}' ({record.instance_id}) was terminated: {reason}"
            fields = {"TaskScheduledId": link.task_id, "Reason": reason, "Details": record.failure_details or ""}
            event_type = EventType.SUB_ORCHESTRATION_INSTANCE_FAILED
        self._deliver(link.instance_id, Message(event_type, fields, link.task_id, link.generation))


def status_body(record: InstanceRecord, show_input: bool) -> dict[str, Any]:
    """An instance's status in the webhook's JSON shape."""
    return {
        "name": record.name,
        "instanceId": record.instance_id,
        "runtimeStatus": record.status,
        "input": _json(record.input) if show_input else None,
        "customStatus": _json(record.custom_status),
        "output": _json(record.output),
        "createdTime": record.created_time.astimezone(UTC).strftime(STATUS_TIME_FORMAT),
        "lastUpdatedTime": record.last_updated_time.astimezone(UTC).strftime(STATUS_TIME_FORMAT),
    }


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
