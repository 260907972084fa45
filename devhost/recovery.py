"""Rebuild an instance from storage: for every episode (Azure loads the history each time) and
when devhost starts.

The committed history (up to its checkpoint) is the truth. A task row counts as pending when
the history scheduled that task and holds no result for it yet; other task rows are left
over from an episode cut short, or from a finished task whose row was not deleted yet.
Messages accepted but not applied (raised events, termination, suspension) are applied next.
When the history already ended, only the instance row lagged behind: it is corrected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from devhost.history import SCHEDULING_EVENTS, TERMINAL_EVENTS, EventType, OrchestrationStatus, task_id_of
from devhost.orchestration_runner import COMPLETED, FAILED, SUSPENDED, TERMINATED, InstanceState, Message
from devhost.persistence import HubStore, InstanceRecord


@dataclass
class Loaded:
    """An instance as storage holds it: its state, stale task rows and unapplied messages."""

    state: InstanceState
    stale_rows: list[str]
    messages: list[Message]


@dataclass
class Restored:
    """An instance ready to run again: its state (with its pending tasks), its inbox, and
    whether it is suspended."""

    state: InstanceState
    inbox: list[Message]
    suspended: bool


def load(store: HubStore, record: InstanceRecord) -> Loaded:
    """The instance of `record` with its committed history and pending tasks, read from storage."""
    stored = store.load_history(record.instance_id)
    checkpoint = stored.checkpoint
    state = InstanceState(
        record.instance_id, record.name,
        checkpoint.input if checkpoint else record.input,
        checkpoint.generation if checkpoint else record.generation,
        checkpoint.execution_id if checkpoint else record.execution_id,
        record.created_time, record.parent,
        history=stored.events,
        history_json=[json.dumps(event) for event in stored.events],
        next_task_id=checkpoint.next_task_id if checkpoint else 0,
        handled_actions=checkpoint.handled_actions if checkpoint else 0,
        custom_status=record.custom_status,
    )
    tasks, messages = store.load_work(record.instance_id)
    scheduled = {e["EventId"] for e in state.history if EventType(e["EventType"]) in SCHEDULING_EVENTS}
    open_tasks = scheduled - {task_id_of(e) for e in state.history}
    stale = []
    for stored_task in tasks:
        if stored_task.generation == state.generation and stored_task.task.task_id in open_tasks:
            state.pending[stored_task.task.task_id] = stored_task.task
        else:
            stale.append(stored_task.row_key)
    return Loaded(state, stale, messages)


def restore(store: HubStore, record: InstanceRecord) -> Restored | InstanceRecord:
    """The unfinished instance of `record` rebuilt, or its corrected record when its history ended."""
    loaded = load(store, record)
    state = loaded.state
    ended = next((e for e in reversed(state.history) if EventType(e["EventType"]) in TERMINAL_EVENTS), None)
    if ended is not None:
        finished = _record_after(record, ended)
        store.put_instance(finished)
        pending = [HubStore.task_row_key(state.generation, task_id) for task_id in state.pending]
        store.delete_work(record.instance_id, [*pending, *loaded.stale_rows,
                                               *(m.row_key for m in loaded.messages if m.row_key)])
        return finished
    store.delete_work(record.instance_id, loaded.stale_rows)
    start = [] if state.history else [Message(EventType.EXECUTION_STARTED)]
    return Restored(state, start + loaded.messages, record.status == SUSPENDED)


def _record_after(record: InstanceRecord, ended: dict[str, Any]) -> InstanceRecord:
    """The instance record matching a history that ended with `ended`."""
    if EventType(ended["EventType"]) == EventType.EXECUTION_TERMINATED:
        return replace(record, status=TERMINATED, output=json.dumps(ended.get("Input")))
    if ended.get("OrchestrationStatus") == OrchestrationStatus.COMPLETED:
        return replace(record, status=COMPLETED, output=ended.get("Result"))
    return replace(record, status=FAILED, output=json.dumps(ended.get("Result")), failure_details=ended.get("Details"))
