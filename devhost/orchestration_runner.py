"""One orchestration episode: the host's half of Durable's replay protocol.

An episode appends what arrived (results, timers, events) to the instance's history, replays
the whole history through the orchestrator with the SDK's own engine, and turns the new
actions it answers with into scheduling events and pending work. The SDK decides everything
about the orchestration itself (task_all, task_any, retries, determinism); the host only
numbers and schedules the work, as the Durable extension does.

Sequence numbers. The SDK numbers each task as it is first yielded, and a retried call
consumes more numbers than its one action: when an attempt fails the SDK numbers a retry
timer, and when that timer fires with attempts left, it numbers the next attempt. So the
count of handled actions and the next sequence number are kept apart, and in every episode
the host appends such retry bookkeeping first, before results that let the orchestrator move
on; then the numbers of the retry timers and attempts come first, followed by the new
actions in order, exactly as the SDK hands them out while it replays. A retry pause's
TimerCreated and a retried attempt's scheduling event name the task they follow in
`RetryOf` (the SDK ignores the field), so a rewind can find where a retried call ended.

Inputs are kept as the extension keeps them: the JSON of the value the instance was started
with. The SDK hands the orchestrator its own JSON text (a JSON string), so a sub-orchestration's
or a continue-as-new's input is stored as that string, and the trigger's `input` is the
stored value itself, which the SDK decodes once more when it is a string.

Custom status is limited as the host limits it: after the orchestrator returns, a status
whose JSON is over 16 KB in UTF-16 fails the instance from outside (the orchestrator cannot
catch it), with the extension's message, and nothing of that episode is scheduled.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from azure.durable_functions.models.actions import ActionType

from devhost import actions as action_kinds
from devhost.history import (
    FAILURE_EVENTS,
    EventClock,
    EventType,
    OrchestrationStatus,
    format_time,
    new_event,
    parse_time,
)
from devhost.invoker import InvocationAborted, user_traceback

OUT_OF_PROC_MARKER = "$OutOfProcData$:"
MAX_CUSTOM_STATUS_UTF16_BYTES = 16 * 1024
# What the Durable extension announces for Azure Storage: longer timers are split by the SDK.
CONTEXT_SETTINGS = {
    "upperSchemaVersion": 1,
    "upperSchemaVersionNew": 2,
    "maximumShortTimerDuration": "6.00:00:00",
    "longRunningTimerIntervalDuration": "3.00:00:00",
}

ACTIVITY = "activity"
TIMER = "timer"
SUB_ORCHESTRATION = "suborchestration"
RETRY_TIMER = "retrytimer"

PENDING, RUNNING, COMPLETED, FAILED, TERMINATED = "Pending", "Running", "Completed", "Failed", "Terminated"
SUSPENDED, CONTINUED_AS_NEW = "Suspended", "ContinuedAsNew"
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED, TERMINATED})
UNFINISHED_STATUSES = frozenset({PENDING, RUNNING, SUSPENDED})
CONTROL_EVENTS = frozenset({EventType.EXECUTION_SUSPENDED, EventType.EXECUTION_RESUMED})
"""Messages an episode applies alone, without replaying the orchestrator."""


@dataclass(frozen=True)
class RetryPolicy:
    """A `-WithRetry` call's options; the delay before attempt n+1 grows by the backoff coefficient."""

    first_interval_ms: int
    max_attempts: int
    backoff: float = 1.0
    max_interval_ms: int | None = None

    @classmethod
    def from_action(cls, options: dict[str, Any]) -> RetryPolicy:
        """The policy of an action's `retryOptions`."""
        return cls(
            first_interval_ms=int(options["firstRetryIntervalInMilliseconds"]),
            max_attempts=int(options["maxNumberOfAttempts"]),
            backoff=float(options.get("backoffCoefficient", 1.0)),
            max_interval_ms=options.get("maxRetryIntervalInMilliseconds"),
        )

    def delay_after(self, attempt: int) -> timedelta:
        """How long to wait after failed attempt number `attempt` (from 1)."""
        millis = self.first_interval_ms * self.backoff ** (attempt - 1)
        if self.max_interval_ms is not None:
            millis = min(millis, self.max_interval_ms)
        return timedelta(milliseconds=millis)


@dataclass(frozen=True)
class PendingTask:
    """Work an instance waits for, under its sequence number: an activity attempt, a timer, a
    sub-orchestration attempt, or the pause before a retry (`retried_kind` says of what)."""

    task_id: int
    kind: str
    name: str | None = None
    input: str | None = None
    fire_at: datetime | None = None
    instance_id: str | None = None
    requested_instance_id: str | None = None
    action_index: int | None = None
    retry: RetryPolicy | None = None
    attempt: int = 1
    retried_kind: str | None = None
    retry_of: int | None = None


@dataclass(frozen=True)
class Message:
    """Something that arrived for an instance; its next episode makes it history.

    Results carry the sequence number and generation of the task they answer; messages kept
    in storage until applied (raised events, termination) carry their row key.
    """

    event_type: EventType
    fields: dict[str, Any] = field(default_factory=dict)
    task_id: int | None = None
    generation: int | None = None
    row_key: str | None = None


@dataclass(frozen=True)
class ParentLink:
    """Where a sub-orchestration reports: the parent instance, its generation and the task's number."""

    instance_id: str
    generation: int
    task_id: int


@dataclass
class InstanceState:
    """What the host knows of one running instance's current generation."""

    instance_id: str
    name: str
    input: str | None
    generation: int
    execution_id: str
    created_time: datetime
    parent: ParentLink | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    history_json: list[str] = field(default_factory=list)
    next_task_id: int = 0
    handled_actions: int = 0
    pending: dict[int, PendingTask] = field(default_factory=dict)
    custom_status: str | None = None

    def advance(self, result: EpisodeResult) -> list[PendingTask]:
        """Take in a committed episode; returns the tasks that are no longer pending."""
        self.history.extend(result.events)
        self.history_json.extend(json.dumps(event) for event in result.events)
        self.next_task_id = result.next_task_id
        self.handled_actions = result.handled_actions
        self.custom_status = result.custom_status
        done = list(self.pending) if result.outcome is not None else result.resolved + result.canceled
        dropped = [self.pending.pop(task_id) for task_id in done if task_id in self.pending]
        self.pending.update((task.task_id, task) for task in result.scheduled)
        return dropped


@dataclass(frozen=True)
class Outcome:
    """How a generation ended. `output` is JSON text: the result, or the reason as a JSON string."""

    status: str
    output: str | None = None
    details: str | None = None
    new_input: str | None = None


@dataclass
class EpisodeResult:
    """What one episode produced, for the task hub to persist and then act on."""

    events: list[dict[str, Any]]
    new_actions: list[dict[str, Any]]
    scheduled: list[PendingTask]
    resolved: list[int]
    canceled: list[int]
    next_task_id: int
    handled_actions: int
    custom_status: str | None
    outcome: Outcome | None


def run_episode(
    state: InstanceState, messages: list[Message], call_orchestrator: Callable[[str], str],
    limit_custom_status: bool = True,
) -> EpisodeResult:
    """Run one episode of `state` with `messages`; `state` itself is left unchanged.

    With `limit_custom_status`, a custom status over 16 KB in UTF-16 fails the instance.
    """
    clock = EventClock.after_history(state.history)
    events = [new_event(EventType.ORCHESTRATOR_STARTED, clock)]
    now = parse_time(events[0]["Timestamp"])
    if not state.history:
        events.append(_execution_started(state, clock))
    terminate = next((m for m in messages if m.event_type == EventType.EXECUTION_TERMINATED), None)
    if terminate is not None:
        events.append(new_event(EventType.EXECUTION_TERMINATED, clock, **terminate.fields))
        events.append(new_event(EventType.ORCHESTRATOR_COMPLETED, clock))
        outcome = Outcome(TERMINATED, json.dumps(terminate.fields.get("Input")))
        return EpisodeResult(events, [], [], [], [], state.next_task_id, state.handled_actions, None, outcome)

    results, follow_ups = _order_arrivals(state, messages, now)
    events.extend(new_event(m.event_type, clock, **m.fields) for m in results)
    answer, error = _replay(state, events, call_orchestrator)
    leaves = action_kinds.flatten(answer.get("actions") or [])
    new_actions = leaves[state.handled_actions:]
    custom_status = None if answer.get("customStatus") is None else json.dumps(answer["customStatus"])
    refusal = custom_status_refusal(answer.get("customStatus")) if limit_custom_status else None
    if refusal is not None:
        outcome: Outcome | None = _refused_custom_status(state.name, refusal, orchestrator_failed=error is not None)
        custom_status = state.custom_status
    else:
        if error is None:
            error = _unsupported(new_actions)
        outcome = _outcome(state.name, answer, new_actions, error)
    scheduled: list[PendingTask] = []
    next_task_id = state.next_task_id
    if outcome is None:
        for task in follow_ups:
            scheduled.append(_numbered(task, next_task_id, state.instance_id))
            next_task_id += 1
        for index, action in enumerate(new_actions, start=state.handled_actions):
            if action_kinds.takes_sequence_number(action):
                scheduled.append(_task_for(action, next_task_id, index, state.instance_id))
                next_task_id += 1
    events.extend(_scheduling_event(task, clock) for task in scheduled)
    if outcome is not None and outcome.status in (COMPLETED, FAILED):
        events.append(_execution_completed(outcome, clock))
    events.append(new_event(EventType.ORCHESTRATOR_COMPLETED, clock))

    canceled = [t.task_id for t in scheduled if t.kind == TIMER and leaves[t.action_index].get("isCanceled")]
    canceled += [
        t.task_id for t in state.pending.values()
        if t.kind == TIMER and t.action_index is not None and t.action_index < len(leaves)
        and leaves[t.action_index].get("isCanceled")
    ]
    return EpisodeResult(
        events=events,
        new_actions=new_actions,
        scheduled=scheduled,
        resolved=[m.task_id for m in results if m.task_id is not None],
        canceled=canceled,
        next_task_id=next_task_id,
        handled_actions=len(leaves) if outcome is None else state.handled_actions + len(new_actions),
        custom_status=custom_status,
        outcome=outcome,
    )


def control_episode(state: InstanceState, message: Message) -> EpisodeResult:
    """An episode that suspends or resumes the instance: its event goes into the history, and
    the orchestrator is not called (nothing it waits for has arrived)."""
    clock = EventClock.after_history(state.history)
    events = [
        new_event(EventType.ORCHESTRATOR_STARTED, clock),
        new_event(message.event_type, clock, **message.fields),
        new_event(EventType.ORCHESTRATOR_COMPLETED, clock),
    ]
    return EpisodeResult(
        events, [], [], [], [], state.next_task_id, state.handled_actions, state.custom_status, None
    )


def custom_status_refusal(custom_status: Any) -> str | None:
    """The host's refusal of a custom status over 16 KB of UTF-16, or None when it fits.

    The size is that of the JSON the extension writes (Newtonsoft, unindented, non-ASCII
    characters as themselves), not of the SDK's ASCII-escaped JSON.
    """
    if custom_status is None:
        return None
    size = len(json.dumps(custom_status, ensure_ascii=False, separators=(",", ":")).encode("utf-16-le"))
    if size <= MAX_CUSTOM_STATUS_UTF16_BYTES:
        return None
    return (
        f"The UTF-16 size of the JSON-serialized payload must not exceed {MAX_CUSTOM_STATUS_UTF16_BYTES // 1024:,} KB. "
        f"The current payload size is {size // 1024:,} KB."
    )


def _refused_custom_status(name: str, refusal: str, orchestrator_failed: bool) -> Outcome:
    """How the extension fails an instance whose custom status it refuses. It sets the status
    before it schedules anything; after a normal return the refusal is wrapped like any error
    of the orchestrator, after a failed one it escapes to the framework, which fails the
    instance with the bare message."""
    if orchestrator_failed:
        details = f"Unhandled exception while executing orchestration: System.ArgumentException: {refusal}"
        return Outcome(FAILED, json.dumps(refusal), details)
    return Outcome(FAILED, json.dumps(f"Orchestrator function '{name}' failed: {refusal}"),
                   f"System.ArgumentException: {refusal}")


def stored_input(json_text: str | None) -> str | None:
    """How the extension stores an input the SDK hands over as JSON text: as a JSON string."""
    return None if json_text is None else json.dumps(json_text)


def context_json(state: InstanceState, history_json: list[str]) -> str:
    """The orchestration trigger's payload, as the Durable extension sends it."""
    rest = json.dumps({
        "instanceId": state.instance_id,
        "isReplaying": False,
        "parentInstanceId": state.parent.instance_id if state.parent else None,
        "input": None if state.input is None else json.loads(state.input),
        **CONTEXT_SETTINGS,
    })
    return '{"history": [' + ",".join(history_json) + "], " + rest[1:]


def _execution_started(state: InstanceState, clock: EventClock) -> dict[str, Any]:
    parent = None
    if state.parent is not None:
        parent = {
            "OrchestrationInstance": {"InstanceId": state.parent.instance_id},
            "TaskScheduleId": state.parent.task_id,
        }
    return new_event(
        EventType.EXECUTION_STARTED, clock,
        Name=state.name, Version="", Input=state.input,
        OrchestrationInstance={"InstanceId": state.instance_id, "ExecutionId": state.execution_id},
        ParentInstance=parent,
    )


def _order_arrivals(
    state: InstanceState, messages: list[Message], now: datetime
) -> tuple[list[Message], list[PendingTask]]:
    """The messages to append, retry bookkeeping first, and the retry work they call for."""
    bookkeeping: list[Message] = []
    progress: list[Message] = []
    follow_ups: list[PendingTask] = []
    seen: set[int] = set()
    for message in messages:
        if message.event_type in (EventType.EVENT_RAISED, EventType.GENERIC_EVENT):
            progress.append(message)
            continue
        if message.task_id is None or message.generation != state.generation:
            continue
        task = state.pending.get(message.task_id)
        if task is None or message.task_id in seen:
            continue
        seen.add(message.task_id)
        follow_up = _retry_follow_up(task, message, now)
        if follow_up is None:
            progress.append(message)
        else:
            bookkeeping.append(message)
            follow_ups.append(follow_up)
    return bookkeeping + progress, follow_ups


def _retry_follow_up(task: PendingTask, message: Message, now: datetime) -> PendingTask | None:
    """The pause after a failed attempt, or the attempt after a pause with attempts left."""
    if task.retry is None:
        return None
    if message.event_type in FAILURE_EVENTS and task.kind in (ACTIVITY, SUB_ORCHESTRATION):
        return replace(
            task, task_id=-1, kind=RETRY_TIMER, retried_kind=task.kind, instance_id=None,
            fire_at=now + task.retry.delay_after(task.attempt), retry_of=task.task_id,
        )
    attempts_left = task.attempt < task.retry.max_attempts
    if message.event_type == EventType.TIMER_FIRED and task.kind == RETRY_TIMER and attempts_left:
        return replace(
            task, task_id=-1, kind=task.retried_kind, retried_kind=None, fire_at=None, attempt=task.attempt + 1,
            retry_of=task.task_id,
        )
    return None


def _replay(
    state: InstanceState, new_events: list[dict[str, Any]], call_orchestrator: Callable[[str], str]
) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """The orchestrator's answer to the history, and (reason, details) when it failed."""
    payload = context_json(state, state.history_json + [json.dumps(e) for e in new_events])
    try:
        return json.loads(call_orchestrator(payload)), None
    except InvocationAborted:
        # The runtime ended the invocation (functionTimeout, a worker process that exited), not
        # the orchestrator: as the extension aborts such a session, the episode runs again.
        raise
    except Exception as error:
        text = str(error)
        details = user_traceback(error.__cause__ or error)
        if OUT_OF_PROC_MARKER not in text:
            return {}, (text or type(error).__name__, details)
        head, _, tail = text.partition(OUT_OF_PROC_MARKER)
        answer = json.loads(tail)
        return answer, (answer.get("error") or head.strip(), details)


def _unsupported(new_actions: list[dict[str, Any]]) -> tuple[str, str] | None:
    """The failure of an action devhost does not run: entity operations fail as the extension fails
    them for an unknown entity function; `call_http` has no counterpart there and says so."""
    for action in new_actions:
        kind = action_kinds.kind(action)
        if kind in action_kinds.ENTITY_OPERATIONS:
            return action_kinds.unknown_entity_message(action_kinds.entity_name(action), True), ""
        if kind not in action_kinds.SUPPORTED:
            return f"devhost does not run {kind.name} actions (the Durable extension does)", ""
    return None


def _outcome(
    name: str, answer: dict[str, Any], new_actions: list[dict[str, Any]], error: tuple[str, str] | None
) -> Outcome | None:
    if error is not None:
        return Outcome(FAILED, json.dumps(f"Orchestrator function '{name}' failed: {error[0]}"), error[1])
    if not answer.get("isDone"):
        return None
    restart = next((a for a in new_actions if action_kinds.kind(a) == ActionType.CONTINUE_AS_NEW), None)
    if restart is not None:
        return Outcome(CONTINUED_AS_NEW, new_input=restart.get("input"))
    return Outcome(COMPLETED, json.dumps(answer.get("output")))


def _task_for(action: dict[str, Any], task_id: int, index: int, instance_id: str) -> PendingTask:
    kind = action_kinds.kind(action)
    retry = RetryPolicy.from_action(action["retryOptions"]) if "retryOptions" in action else None
    if kind in action_kinds.ACTIVITIES:
        return PendingTask(
            task_id, ACTIVITY, action["functionName"], action.get("input"), action_index=index, retry=retry
        )
    if kind in action_kinds.SUB_ORCHESTRATIONS:
        task = PendingTask(
            task_id, SUB_ORCHESTRATION, action["functionName"], action.get("input"),
            requested_instance_id=action.get("instanceId"), action_index=index, retry=retry,
        )
        return _numbered(task, task_id, instance_id)
    return PendingTask(task_id, TIMER, fire_at=parse_time(action["fireAt"]), action_index=index)


def _numbered(task: PendingTask, task_id: int, parent_instance_id: str) -> PendingTask:
    """`task` under its sequence number; a sub-orchestration without a requested id is parent:number."""
    if task.kind != SUB_ORCHESTRATION:
        return replace(task, task_id=task_id)
    return replace(task, task_id=task_id, instance_id=task.requested_instance_id or f"{parent_instance_id}:{task_id}")


def _scheduling_event(task: PendingTask, clock: EventClock) -> dict[str, Any]:
    retry_of = {} if task.retry_of is None else {"RetryOf": task.retry_of}
    if task.kind == ACTIVITY:
        return new_event(
            EventType.TASK_SCHEDULED, clock, task.task_id, Name=task.name, Version="", Input=task.input, **retry_of
        )
    if task.kind == SUB_ORCHESTRATION:
        return new_event(
            EventType.SUB_ORCHESTRATION_INSTANCE_CREATED, clock, task.task_id,
            Name=task.name, Version="", InstanceId=task.instance_id, Input=task.input, **retry_of,
        )
    return new_event(EventType.TIMER_CREATED, clock, task.task_id, FireAt=format_time(task.fire_at), **retry_of)


def _execution_completed(outcome: Outcome, clock: EventClock) -> dict[str, Any]:
    if outcome.status == COMPLETED:
        return new_event(
            EventType.EXECUTION_COMPLETED, clock, OrchestrationStatus=OrchestrationStatus.COMPLETED,
            Result=outcome.output,
        )
    return new_event(
        EventType.EXECUTION_COMPLETED, clock, OrchestrationStatus=OrchestrationStatus.FAILED,
        Result=json.loads(outcome.output or "null"), Details=outcome.details,
    )
