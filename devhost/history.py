"""Orchestration history events in the JSON shape the Durable SDK replays.

Each event is a dict with `EventType` (the SDK's HistoryEventType), `EventId` (the task's
sequence number on scheduling events, -1 otherwise), `IsPlayed` and `Timestamp` (UTC,
`%Y-%m-%dT%H:%M:%S.%fZ`, strictly increasing within an instance: the SDK takes
`current_utc_datetime` from OrchestratorStarted). Completion events point back at their
task with `TaskScheduledId` or `TimerId`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.durable_functions.constants import DATETIME_STRING_FORMAT
from azure.durable_functions.models.history import HistoryEventType

EventType = HistoryEventType


class OrchestrationStatus:
    """DTFx's OrchestrationStatus numbers, as ExecutionCompleted carries them."""

    COMPLETED = 1
    FAILED = 3


SCHEDULING_EVENTS = frozenset({
    EventType.TASK_SCHEDULED, EventType.TIMER_CREATED, EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
})
COMPLETION_EVENTS = {
    EventType.TASK_COMPLETED: "TaskScheduledId",
    EventType.TASK_FAILED: "TaskScheduledId",
    EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED: "TaskScheduledId",
    EventType.SUB_ORCHESTRATION_INSTANCE_FAILED: "TaskScheduledId",
    EventType.TIMER_FIRED: "TimerId",
}
FAILURE_EVENTS = frozenset({EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED})
TERMINAL_EVENTS = frozenset({EventType.EXECUTION_COMPLETED, EventType.EXECUTION_TERMINATED})


def format_time(moment: datetime) -> str:
    """A UTC datetime in the SDK's timestamp format."""
    return moment.astimezone(UTC).strftime(DATETIME_STRING_FORMAT)


def parse_time(text: str) -> datetime:
    """A timestamp written by format_time (or any ISO 8601 UTC time) as an aware datetime."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class EventClock:
    """Hands out strictly increasing UTC timestamps, never earlier than the wall clock."""

    def __init__(self, after: datetime | None = None) -> None:
        self._last = after

    @classmethod
    def after_history(cls, events: Iterable[dict[str, Any]]) -> EventClock:
        """A clock whose first timestamp comes after the last of `events`."""
        last = None
        for event in events:
            last = event["Timestamp"]
        return cls(parse_time(last) if last else None)

    def now(self) -> datetime:
        """The next timestamp: now, or just after the previous one."""
        moment = datetime.now(UTC)
        if self._last is not None and moment <= self._last:
            moment = self._last + timedelta(microseconds=1)
        self._last = moment
        return moment


def new_event(event_type: EventType, clock: EventClock, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    """A history event of `event_type`, stamped by `clock`."""
    return {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_time(clock.now()),
        **fields,
    }


def task_id_of(event: dict[str, Any]) -> int | None:
    """The sequence number a completion event answers, or None for other events."""
    key = COMPLETION_EVENTS.get(EventType(event["EventType"]))
    return event.get(key) if key else None


def public_history(events: list[dict[str, Any]], show_output: bool) -> list[dict[str, Any]]:
    """The `historyEvents` of a status answer, shaped like the extension's.

    Orchestrator episode markers are left out, scheduling events are folded into the events
    that complete them (as FunctionName and ScheduledTime), and results, inputs and outputs
    appear only with showHistoryOutput.
    """
    scheduled = {e["EventId"]: e for e in events if EventType(e["EventType"]) in SCHEDULING_EVENTS}
    answered = {task_id_of(e) for e in events} - {None}
    shown: list[dict[str, Any]] = []
    for event in events:
        kind = EventType(event["EventType"])
        if kind in (EventType.ORCHESTRATOR_STARTED, EventType.ORCHESTRATOR_COMPLETED):
            continue
        if kind in SCHEDULING_EVENTS and event["EventId"] in answered:
            continue
        item: dict[str, Any] = {"EventType": _pascal(kind), "Timestamp": event["Timestamp"]}
        origin = scheduled.get(task_id_of(event)) if task_id_of(event) is not None else None
        if origin is not None:
            if origin.get("Name"):
                item["FunctionName"] = origin["Name"]
            item["ScheduledTime"] = origin["Timestamp"]
        for name in ("Name", "InstanceId", "FireAt", "Reason", "Details", "Data"):
            if event.get(name) is not None:
                item["FunctionName" if name == "Name" and kind != EventType.EVENT_RAISED else name] = event[name]
        if kind == EventType.EXECUTION_COMPLETED:
            item["OrchestrationStatus"] = "Completed" if event["OrchestrationStatus"] == 1 else "Failed"
        if show_output:
            for name in ("Input", "Result"):
                if event.get(name) is not None:
                    item[name] = _parsed(event[name])
        shown.append(item)
    return shown


def _pascal(kind: EventType) -> str:
    return "".join(part.capitalize() for part in kind.name.split("_"))


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text
