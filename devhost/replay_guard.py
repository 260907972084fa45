"""A determinism guard for tests: replay finished instances and compare what the orchestrator does.

    divergences = check_hub(connection_string, "myhub", AppIndex.build(app))
    assert not divergences, divergences

For every Completed or Failed instance of the hub, the orchestrator replays the instance's
recorded history through the SDK (as devhost ran it) and must produce the actions recorded
when the run scheduled them, in order, and the same output. An orchestrator that reads the
clock, random numbers or anything outside its history schedules something else on replay
and is reported; a second replay watches for I/O (files, sockets, processes) through
Python's audit hooks and reports any, even when it did not change the outcome.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from azure.functions import meta
from azure.functions.durable_functions import OrchestrationTriggerConverter

from devhost import actions as action_kinds
from devhost.app_index import AppIndex, IndexedFunction
from devhost.orchestration_runner import COMPLETED, FAILED, OUT_OF_PROC_MARKER, InstanceState, context_json
from devhost.persistence import HubStore, InstanceRecord

IO_EVENTS = frozenset({
    "open", "os.listdir", "os.scandir", "os.remove", "os.rename", "os.mkdir", "glob.glob",
    "socket.connect", "socket.getaddrinfo", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
    "sqlite3.connect",
})


@dataclass(frozen=True)
class Divergence:
    """An instance whose replay differs from its run, and how."""

    instance_id: str
    orchestrator: str
    problem: str


def check_hub(connection_string: str, hub_name: str, index: AppIndex) -> list[Divergence]:
    """Replay every Completed or Failed instance of the hub; the divergences found."""
    store = HubStore(connection_string, hub_name)
    try:
        found: list[Divergence] = []
        token = None
        while True:
            records, token = store.query_instances([COMPLETED, FAILED], continuation=token)
            for record in records:
                problem = check_instance(store, record, index)
                if problem:
                    found.append(Divergence(record.instance_id, record.name, problem))
            if token is None:
                return found
    finally:
        store.close()


def check_instance(store: HubStore, record: InstanceRecord, index: AppIndex) -> str | None:
    """What is wrong with replaying one finished instance, or None."""
    orchestrator = index.orchestrators.get(record.name)
    if orchestrator is None:
        return f"no orchestrator named {record.name!r} in the app"
    stored = store.load_history(record.instance_id)
    state = InstanceState(
        record.instance_id, record.name, stored.checkpoint.input if stored.checkpoint else record.input,
        record.generation, record.execution_id, record.created_time, record.parent,
    )
    payload = context_json(state, [json.dumps(event) for event in stored.events])
    answer, error = _replay(orchestrator, payload)
    replayed = action_kinds.flatten(answer.get("actions") or [])
    for position, recorded in enumerate(stored.actions):
        if position >= len(replayed):
            return f"the run scheduled {len(stored.actions)} actions, the replay only {len(replayed)}"
        if not action_kinds.same_action(recorded, replayed[position]):
            return f"action {position} was {recorded} in the run, {replayed[position]} on replay"
    if len(replayed) > len(stored.actions):
        return f"the replay schedules {len(replayed) - len(stored.actions)} actions the run never did"
    if record.status == COMPLETED:
        if error is not None:
            return f"the run completed, the replay fails: {error}"
        if record.output is not None and answer.get("output") != json.loads(record.output):
            return "the replay returns another output than the run"
    elif error is None:
        return "the run failed, the replay does not"
    with _watching_io() as touched:
        _replay(orchestrator, payload)
    if touched:
        return "the orchestrator performs I/O: " + ", ".join(sorted({f"{event}({arg})" for event, arg in touched}))
    return None


def _replay(orchestrator: IndexedFunction, payload: str) -> tuple[dict[str, Any], str | None]:
    context = OrchestrationTriggerConverter.decode(meta.Datum(payload, "json"), trigger_metadata=None)
    try:
        return json.loads(orchestrator.function(context)), None
    except Exception as error:
        text = str(error)
        if OUT_OF_PROC_MARKER not in text:
            return {}, text
        head, _, tail = text.partition(OUT_OF_PROC_MARKER)
        return json.loads(tail), head.strip()


_watch = threading.local()


@functools.cache
def _install_audit_hook() -> None:
    def hook(event: str, args: tuple[Any, ...]) -> None:
        touched = getattr(_watch, "touched", None)
        if touched is not None and event in IO_EVENTS:
            touched.append((event, args[0] if args else ""))

    sys.addaudithook(hook)


@contextmanager
def _watching_io() -> Iterator[list[tuple[str, Any]]]:
    """Collect the I/O audit events this thread raises inside the block."""
    _install_audit_hook()
    touched: list[tuple[str, Any]] = []
    _watch.touched = touched
    try:
        yield touched
    finally:
        _watch.touched = None
