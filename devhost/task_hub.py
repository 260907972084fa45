"""The task hub: orchestration instances, their messages and their work, while devhost runs.

Each running instance has an inbox, which plays the part of the hub's control queue.
Whatever arrives for it (its start, activity results, fired timers, a sub-orchestration's
end, raised events, termination, suspension, a restart) lands there, and one episode at a
time runs on the orchestrator pool. An episode is committed to storage (persistence.py)
before its new work starts, so a devhost killed at any point and started again resumes every
unfinished instance from its committed history: pending timers are armed again, pending
sub-orchestrations looked up, and activities that were in flight run again, as Durable's
at-least-once delivery does.

As strict as the extension on Azure Storage (host_config.Strictness):
- every episode loads the instance, its history and its pending work from storage
  (`reload_history`); nothing of an instance's state is kept in memory between episodes;
- an episode takes at most `max_messages_per_episode` messages, the rest wait their turn;
- a message is seen `poll_ms` after it was sent, as a polled Storage queue delivers it;
- a custom status over 16 KB in UTF-16 fails the instance after its episode.

Suspension and resumption are episodes of their own: while an instance is suspended only a
resume, a termination or a restart is taken; results and events wait in its inbox.
"""

from __future__ import annotations

import itertools
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
    CONTROL_EVENTS,
    FAILED,
    PENDING,
    RUNNING,
    SUB_ORCHESTRATION,
    SUSPENDED,
    TERMINAL_STATUSES,
    TERMINATED,
    InstanceState,
    Message,
    ParentLink,
    PendingTask,
    control_episode,
    run_episode,
    stored_input,
)
from devhost.persistence import Checkpoint, HubStore, InstanceRecord
from devhost.recovery import load, restore
from devhost.rewind import REWIND_ONLY_FAILED, plan_rewind
from devhost.table_keys import MAX_KEY_CHARS, encode_key
from devhost.timers import TimerService
from devhost.worker_protocol import OrchestrationTrigger

log = logging.getLogger("devhost")

MAX_INSTANCE_ID_CHARS = 256
RETRY_AFTER_STORAGE_ERROR = timedelta(seconds=1)
STATUS_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class WrongState(Exception):
    """The instance is in a state that does not allow the operation; the message says which."""


class UnknownInstance(ValueError):
    """No instance has that id."""


class UnknownOrchestrator(Exception):
    """No orchestrator function has that name."""


class InvalidInstanceId(ValueError):
    """An instance id Durable would refuse."""


class Delivery(Enum):
    """What became of a request addressed to an instance."""

    ACCEPTED = "accepted"
    NOT_FOUND = "not found"
    GONE = "gone"


WAKING_EVENTS = frozenset({EventType.EXECUTION_RESUMED, EventType.EXECUTION_TERMINATED, EventType.EXECUTION_STARTED})
"""What a suspended instance still takes: its resumption, its termination, a restart."""


@dataclass(eq=False)
class _Running:
    """An unfinished instance as the hub schedules it. `state` is kept between episodes only
    when the strictness allows it; otherwise each episode loads it from storage."""

    instance_id: str
    parent: ParentLink | None
    state: InstanceState | None = None
    inbox: list[Message] = field(default_factory=list)
    busy: bool = False
    suspended: bool = False


def validate_instance_id(instance_id: str) -> None:
    """Refuse ids Durable refuses: empty, over 256 characters, `/ \\ # ?` or control characters,
    or starting with `@` (entity ids)."""
    bad = [c for c in instance_id if c in "/\\#?" or ord(c) < 32 or 127 <= ord(c) < 160]
    if not instance_id or len(instance_id) > MAX_INSTANCE_ID_CHARS or bad:
        raise InvalidInstanceId(
            "an instance id is 1-256 characters without '/', '\\', '#', '?' or control characters"
        )
    if instance_id.startswith("@"):
        raise InvalidInstanceId("Orchestration instance ids must not start with @.")
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
        self._strictness = config.strictness
        self._lock = threading.RLock()
        self._running: dict[str, _Running] = {}
        self._stopping = False
        self._polls = itertools.count()
        self._episodes = ThreadPoolExecutor(config.max_concurrent_orchestrations, thread_name_prefix="orchestrator")
        self._activities = ActivityRunner(
            index.activities, invoker, config.max_concurrent_activities, self._activity_finished
        )

    @property
    def has_orchestrators(self) -> bool:
        """Whether the app has any orchestrator function."""
        return bool(self._index.orchestrators)

    # Lifecycle

    def recover(self) -> int:
        """Resume every unfinished instance from storage; returns how many were resumed."""
        resumed: list[tuple[_Running, InstanceState]] = []
        finished: list[InstanceRecord] = []
        for record in self._store.unfinished_instances():
            restored = restore(self._store, record)
            if isinstance(restored, InstanceRecord):
                finished.append(restored)
                continue
            running = _Running(record.instance_id, record.parent, inbox=restored.inbox, suspended=restored.suspended)
            resumed.append((running, restored.state))
        with self._lock:
            for running, _ in resumed:
                self._running[running.instance_id] = running
        for record in finished:
            self._report_to_parent(record)
        for running, state in resumed:
            for task in list(state.pending.values()):
                self._dispatch(state, task)
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
        """Start orchestrator `name` with `input_json` (the JSON of its input); returns the instance id
        (a new one when none is given).

        As with the extension's default `overridableExistingInstanceStates` (AnyState), an id in
        use starts over: a finished instance is replaced, an unfinished one restarts with a new
        execution (its pending work is dropped; sub-orchestrations it started go on).
        """
        if name not in self._index.orchestrators:
            known = "', '".join(sorted(self._index.orchestrators))
            raise UnknownOrchestrator(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
                + (f"Additional info: The following are the known orchestrator functions: '{known}'."
                   if known else "Additional info: No orchestrator functions are currently registered!")
            )
        instance_id = instance_id or uuid.uuid4().hex
        validate_instance_id(instance_id)
        with self._lock:
            if instance_id in self._running:
                restart = Message(EventType.EXECUTION_STARTED, {"Name": name, "Input": input_json})
                self._send(instance_id, restart)
                return instance_id
            existing = self._store.get_instance(instance_id)
            if existing is not None:
                self._store.purge(instance_id)
            self._create(instance_id, name, input_json, None)
        return instance_id

    def restart(self, instance_id: str, new_instance_id: bool) -> str:
        """Run an instance's orchestrator again with its input: under the same id, or a new one."""
        record = self._store.get_instance(instance_id)
        if record is None:
            raise UnknownInstance(f"An orchestrastion with the instanceId {instance_id} was not found.")
        return self.start_new(record.name, None if new_instance_id else instance_id, record.input)

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
        """Ask an unfinished instance to end as Terminated with `reason` as its output."""
        return self._send(instance_id, Message(EventType.EXECUTION_TERMINATED, {"Input": reason}))

    def raise_event(self, instance_id: str, event_name: str, data_json: str | None) -> Delivery:
        """Deliver an external event (the JSON of its data) to an unfinished instance."""
        return self._send(instance_id, Message(EventType.EVENT_RAISED, {"Name": event_name, "Input": data_json}))

    def suspend(self, instance_id: str, reason: str | None) -> Delivery:
        """Suspend a Pending or Running instance: what arrives for it waits until it is resumed."""
        return self._send_if(instance_id, (PENDING, RUNNING), "suspend",
                             Message(EventType.EXECUTION_SUSPENDED, {"Reason": reason}))

    def resume(self, instance_id: str, reason: str | None) -> Delivery:
        """Resume a Suspended instance."""
        return self._send_if(instance_id, (SUSPENDED,), "resume",
                             Message(EventType.EXECUTION_RESUMED, {"Reason": reason}))

    def rewind(self, instance_id: str, reason: str | None) -> Delivery:
        """Run a Failed instance's failed work again (see rewind.py)."""
        record = self._store.get_instance(instance_id)
        if record is None:
            return Delivery.NOT_FOUND
        if record.status in (COMPLETED, TERMINATED):
            return Delivery.GONE
        if record.status != FAILED:
            raise WrongState(REWIND_ONLY_FAILED)
        self._rewind(record, reason)
        return Delivery.ACCEPTED

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
        running = _Running(instance_id, parent)
        if not self._strictness.reload_history:
            running.state = InstanceState(instance_id, name, input_json, 0, execution_id, now, parent)
        with self._lock:
            self._running[instance_id] = running
        self._deliver(instance_id, Message(EventType.EXECUTION_STARTED))

    def _send_if(self, instance_id: str, allowed: tuple[str, ...], verb: str, message: Message) -> Delivery:
        record = self._store.get_instance(instance_id)
        if record is None:
            return Delivery.NOT_FOUND
        if record.status in TERMINAL_STATUSES:
            return Delivery.GONE
        if record.status not in allowed:
            raise WrongState(f"Cannot {verb} the orchestration instance {instance_id} because instance is in the "
                             f"{record.status} state.")
        return self._send(instance_id, message)

    def _send(self, instance_id: str, message: Message) -> Delivery:
        with self._lock:
            running = instance_id in self._running
        if not running:
            return Delivery.NOT_FOUND if self._store.get_instance(instance_id) is None else Delivery.GONE
        row_key = self._store.put_message(instance_id, message)
        self._deliver(instance_id, replace(message, row_key=row_key))
        return Delivery.ACCEPTED

    def _deliver(self, instance_id: str, message: Message) -> None:
        """Hand `message` to the instance, after the polling delay when there is one."""
        if self._strictness.poll_ms > 0:
            seen_at = datetime.now(UTC) + timedelta(milliseconds=self._strictness.poll_ms)
            self._timers.schedule(("poll", next(self._polls)), seen_at, lambda: self._enqueue(instance_id, message))
        else:
            self._enqueue(instance_id, message)

    def _enqueue(self, instance_id: str, message: Message) -> None:
        with self._lock:
            running = self._running.get(instance_id)
            if running is not None:
                running.inbox.append(message)
                self._schedule(running)
                return
        if message.row_key is not None:
            self._store.delete_work(instance_id, [message.row_key])

    def _schedule(self, running: _Running) -> None:
        """Queue an episode when the instance has messages it takes and none is under way (hold the lock)."""
        if running.busy or self._stopping or not self._takeable(running):
            return
        running.busy = True
        self._episodes.submit(self._run_episode, running)

    @staticmethod
    def _takeable(running: _Running) -> bool:
        if running.suspended:
            return any(m.event_type in WAKING_EVENTS for m in running.inbox)
        return bool(running.inbox)

    def _take(self, running: _Running) -> list[Message]:
        """The messages of the next episode, taken from the inbox (hold the lock).

        A suspension, a resumption or a restart goes alone; so does a start, which must find
        the history empty. A suspended instance takes only what wakes it.
        """
        inbox = running.inbox
        if running.suspended:
            index = next((i for i, m in enumerate(inbox) if m.event_type in WAKING_EVENTS), None)
            return [] if index is None else [inbox.pop(index)]
        if not inbox:
            return []
        if _alone(inbox[0]):
            return [inbox.pop(0)]
        limit = self._strictness.max_messages_per_episode or len(inbox)
        taken: list[Message] = []
        for message in inbox:
            if _alone(message) or len(taken) == limit:
                break
            taken.append(message)
        del inbox[:len(taken)]
        return taken

    def _run_episode(self, running: _Running) -> None:
        with self._lock:
            messages = self._take(running)
        try:
            if messages:
                self._episode(running, messages)
        except Exception:
            log.exception("Episode of instance %s could not be committed; retrying", running.instance_id)
            with self._lock:
                running.inbox[:0] = messages
                running.state = None
            self._timers.schedule(
                ("retry", running.instance_id), datetime.now(UTC) + RETRY_AFTER_STORAGE_ERROR,
                lambda: self._release(running),
            )
            return
        self._release(running)

    def _release(self, running: _Running) -> None:
        with self._lock:
            running.busy = False
            if self._running.get(running.instance_id) is running:
                self._schedule(running)

    def _current_state(self, running: _Running) -> InstanceState:
        """The instance's state: loaded from storage, unless the strictness lets devhost keep it."""
        if running.state is not None:
            return running.state
        record = self._store.get_instance(running.instance_id)
        if record is None:
            raise LookupError(f"instance {running.instance_id} has no row in storage")
        return load(self._store, record).state

    def _episode(self, running: _Running, messages: list[Message]) -> None:
        first = messages[0]
        if first.event_type == EventType.EXECUTION_STARTED and first.fields:
            self._new_generation(running, self._current_state(running), first.fields.get("Input"),
                                 [first.row_key] if first.row_key else [], restarted_as=first.fields.get("Name"))
            return
        state = self._current_state(running)
        if first.event_type in CONTROL_EVENTS:
            result = control_episode(state, first)
        else:
            result = run_episode(state, messages, lambda payload: self._call_orchestrator(state.name, payload),
                                 self._strictness.custom_status_limit)
        consumed = [m.row_key for m in messages if m.row_key is not None]
        outcome = result.outcome
        if outcome is not None and outcome.status == CONTINUED_AS_NEW:
            self._new_generation(running, state, stored_input(outcome.new_input), consumed,
                                 custom_status=result.custom_status)
            return
        suspended = first.event_type == EventType.EXECUTION_SUSPENDED or (
            running.suspended and first.event_type != EventType.EXECUTION_RESUMED)
        done_tasks = list(state.pending) if outcome is not None else result.resolved + result.canceled
        now = datetime.now(UTC)
        record = InstanceRecord(
            state.instance_id, state.name, outcome.status if outcome else SUSPENDED if suspended else RUNNING,
            state.input, state.created_time, now,
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
        with self._lock:
            running.suspended = suspended
            running.state = None if self._strictness.reload_history else state
        if outcome is not None:
            self._finish(running, record)
            return
        for task in result.scheduled:
            self._dispatch(state, task)

    def _new_generation(
        self, running: _Running, state: InstanceState, new_input: str | None, consumed: list[str],
        custom_status: str | None = None, restarted_as: str | None = None,
    ) -> None:
        """Start the instance's next execution: continue-as-new, or a restart under the same id
        (`restarted_as` names its orchestrator; it starts afresh, with no parent)."""
        now = datetime.now(UTC)
        name = restarted_as or state.name
        created = now if restarted_as else state.created_time
        parent = None if restarted_as else state.parent
        execution_id = uuid.uuid4().hex
        record = InstanceRecord(
            state.instance_id, name, PENDING if restarted_as else RUNNING, new_input, created, now,
            custom_status=custom_status, generation=state.generation + 1, execution_id=execution_id, parent=parent,
        )
        self._store.start_generation(record, Checkpoint(record.generation, 0, 0, 0, execution_id, new_input))
        self._store.delete_work(state.instance_id, consumed)
        for task in state.pending.values():
            self._cancel_timer(state, task)
        with self._lock:
            running.parent = parent
            running.suspended = False
            running.state = None
            if not self._strictness.reload_history:
                running.state = InstanceState(
                    state.instance_id, name, new_input, record.generation, execution_id, created, parent,
                    custom_status=custom_status,
                )
            running.inbox.insert(0, Message(EventType.EXECUTION_STARTED))

    def _rewind(self, record: InstanceRecord, reason: str | None) -> None:
        """Rewind a Failed instance and its failed sub-orchestrations, then run their failed work again."""
        stored = self._store.load_history(record.instance_id)
        if stored.checkpoint is None:
            raise WrongState(REWIND_ONLY_FAILED)
        plan = plan_rewind(stored.events, stored.actions, stored.checkpoint.next_task_id)
        running_record = replace(record, status=RUNNING, output=None, failure_details=None,
                                 last_updated_time=datetime.now(UTC))
        self._store.rewind(running_record, replace(stored.checkpoint, next_task_id=plan.next_task_id),
                           plan.rewritten, plan.tasks)
        state = load(self._store, running_record).state
        running = _Running(record.instance_id, record.parent, state=None if self._strictness.reload_history else state)
        with self._lock:
            self._running[record.instance_id] = running
        for task in plan.tasks:
            child = self._store.get_instance(task.instance_id) if task.kind == SUB_ORCHESTRATION else None
            if child is not None and child.status == FAILED and child.parent == ParentLink(
                    record.instance_id, state.generation, task.task_id):
                self._rewind(child, reason)
        for task in state.pending.values():
            self._dispatch(state, task)
        self._send(record.instance_id, Message(EventType.GENERIC_EVENT, {"Data": reason}))

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
                if self._running[child_id].parent == link:
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
                    self._create(child_id, task.name or "", stored_input(task.input), link)
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


def _alone(message: Message) -> bool:
    """Whether a message makes an episode of its own."""
    return message.event_type in CONTROL_EVENTS or message.event_type == EventType.EXECUTION_STARTED


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
