"""Incremental read state: saved and read back per project, task and leg, whatever the task is called."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.models import TaskState
from shared.store import Store

SAVED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def state(task: str, link: str, leg: str = "sourceToCds") -> TaskState:
    return TaskState(project="p", task=task, leg=leg, state={"deltaLink": link}, runId="run-1", savedAt=SAVED_AT)


@pytest.mark.parametrize("task", ["Accounts", "表" * 128, "🚀" * 128, 'say "hi" / a\\b #1?' * 6])
def test_state_of_any_task_name_round_trips_and_stays_apart(store: Store, task: str) -> None:
    store.task_state.save(state(task, "one"))
    store.task_state.save(state(task[:-1], "shorter"))
    store.task_state.save(state(task, "other leg", "cdsToDestination"))
    assert store.task_state.get("p", task, "sourceToCds") == state(task, "one")
    assert store.task_state.get("p", task[:-1], "sourceToCds") == state(task[:-1], "shorter")
    assert store.task_state.get("p", task, "cdsToDestination") == state(task, "other leg", "cdsToDestination")
    store.task_state.clear("p")
    assert store.task_state.get("p", task, "sourceToCds") is None
