"""Episodes through the SDK's replay engine, in process: sequence numbers, retries, failures.

The orchestrators come from the durable test app; results are fed by hand, so these tests
pin down the numbering of retry timers and attempts that the SDK expects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from azure.functions import meta
from azure.functions.durable_functions import OrchestrationTriggerConverter

from devhost.app_index import AppIndex
from devhost.history import EventType
from devhost.orchestration_runner import (
    ACTIVITY,
    COMPLETED,
    FAILED,
    RETRY_TIMER,
    EpisodeResult,
    InstanceState,
    Message,
    custom_status_refusal,
    run_episode,
    stored_input,
)

# The SDK announces its typed decoding once per process when it replays here, in process.
pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")


def orchestrator(index: AppIndex, name: str) -> Callable[[str], str]:
    function = index.orchestrators[name].function
    return lambda payload: function(
        OrchestrationTriggerConverter.decode(meta.Datum(payload, "json"), trigger_metadata=None)
    )


def episode(index: AppIndex, state: InstanceState, *messages: Message) -> EpisodeResult:
    result = run_episode(state, list(messages), orchestrator(index, state.name))
    state.advance(result)
    return result


def completed(task_id: int, value: object) -> Message:
    return Message(EventType.TASK_COMPLETED, {"TaskScheduledId": task_id, "Result": json.dumps(value)}, task_id, 0)


def failed(task_id: int) -> Message:
    fields = {"TaskScheduledId": task_id, "Reason": "Activity function 'double' failed: flaky", "Details": ""}
    return Message(EventType.TASK_FAILED, fields, task_id, 0)


def fired(state: InstanceState, task_id: int) -> Message:
    fire_at = state.pending[task_id].fire_at
    assert fire_at is not None
    return Message(EventType.TIMER_FIRED, {"TimerId": task_id, "FireAt": fire_at.isoformat()}, task_id, 0)


def new_state(name: str, payload: object) -> InstanceState:
    """A new instance started by the durable client, whose input the extension keeps as a JSON string."""
    return InstanceState("instance-1", name, stored_input(json.dumps(payload)), 0, "execution-1", datetime.now(UTC))


def test_retries_inside_task_all_take_the_numbers_the_sdk_hands_out(durable_app_index: AppIndex) -> None:
    state = new_state("retry_fan_out", None)

    first = episode(durable_app_index, state, Message(EventType.EXECUTION_STARTED))
    assert [(t.task_id, t.kind, t.input) for t in first.scheduled] == [
        (0, ACTIVITY, "0"), (1, ACTIVITY, "1"), (2, ACTIVITY, "2"), (3, ACTIVITY, "10"),
    ]
    second = episode(durable_app_index, state, completed(3, 20), failed(2), failed(0))
    assert [(t.task_id, t.kind, t.input) for t in second.scheduled] == [(4, RETRY_TIMER, "2"), (5, RETRY_TIMER, "0")]
    third = episode(durable_app_index, state, completed(1, 2), fired(state, 5))
    assert [(t.task_id, t.kind, t.input, t.attempt) for t in third.scheduled] == [(6, ACTIVITY, "0", 2)]
    fourth = episode(durable_app_index, state, fired(state, 4), completed(6, 0))
    assert [(t.task_id, t.input, t.attempt) for t in fourth.scheduled] == [(7, "2", 2)]
    last = episode(durable_app_index, state, completed(7, 4))

    assert last.outcome is not None and last.outcome.status == COMPLETED
    assert json.loads(last.outcome.output or "") == [0, 2, 4, 20]
    assert state.pending == {}
    numbers = [e["EventId"] for e in state.history if e["EventType"] in (EventType.TASK_SCHEDULED,
                                                                          EventType.TIMER_CREATED)]
    assert numbers == list(range(8))


def test_exhausted_retries_wait_for_a_last_timer_then_fail(durable_app_index: AppIndex) -> None:
    state = new_state("retry_flaky", {"dir": "unused", "failures": 9})
    episode(durable_app_index, state, Message(EventType.EXECUTION_STARTED))

    for attempt in range(3):
        [timer] = episode(durable_app_index, state, failed(2 * attempt)).scheduled
        assert timer.kind == RETRY_TIMER and timer.attempt == attempt + 1
        result = episode(durable_app_index, state, fired(state, timer.task_id))

    assert result.outcome is not None and result.outcome.status == FAILED
    assert "Activity function 'double' failed: flaky" in json.loads(result.outcome.output or "")
    assert result.outcome.output and json.loads(result.outcome.output).startswith(
        "Orchestrator function 'retry_flaky' failed:")


def test_results_for_unknown_or_answered_tasks_are_ignored(durable_app_index: AppIndex) -> None:
    state = new_state("fan_out", {"count": 2})
    episode(durable_app_index, state, Message(EventType.EXECUTION_STARTED))
    episode(durable_app_index, state, completed(0, 0))

    result = episode(durable_app_index, state, completed(0, 99), completed(7, 1), completed(1, 2), completed(1, 5))

    assert result.outcome is not None and json.loads(result.outcome.output or "") == [0, 2]


def test_custom_status_is_measured_in_utf16_as_the_extension_writes_it() -> None:
    at_limit = "x" * (8 * 1024 - 2)  # with its quotes, 16,384 bytes of UTF-16
    assert custom_status_refusal(at_limit) is None
    assert custom_status_refusal(at_limit + "x") == (
        "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 16 KB."
    )
    assert custom_status_refusal({"stage": "é" * 8_000}) is None  # non-ASCII counts as written, not \\u-escaped


def test_a_refused_custom_status_schedules_nothing_and_lenient_lets_it_pass(durable_app_index: AppIndex) -> None:
    strict = new_state("sets_custom_status", "x" * 9_000)
    lenient = new_state("sets_custom_status", "x" * 9_000)

    refused = episode(durable_app_index, strict, Message(EventType.EXECUTION_STARTED))
    allowed = run_episode(lenient, [Message(EventType.EXECUTION_STARTED)],
                          orchestrator(durable_app_index, "sets_custom_status"), limit_custom_status=False)

    assert refused.outcome is not None and refused.outcome.status == FAILED
    assert json.loads(refused.outcome.output or "").endswith("The current payload size is 17 KB.")
    assert refused.scheduled == [] and refused.custom_status is None
    assert allowed.outcome is None and [t.name for t in allowed.scheduled] == ["double"]
