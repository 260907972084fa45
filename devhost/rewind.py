"""Rewind a Failed instance: the failed work runs again, everything that succeeded stays.

As the Durable extension's Azure Storage provider rewinds, the history is rewritten in place:
each failure that ended a call (TaskFailed, SubOrchestrationInstanceFailed) and the
instance's failed ExecutionCompleted become GenericEvents reading `Rewound: ...`, so the
orchestrator replays as if those calls were still under way, and they are scheduled again
under their own sequence numbers. A failed sub-orchestration is rewound with its parent.

For a call with retries only its last attempt runs again, with the pause that followed its
failure rewound too (found through the `RetryOf` field devhost writes on retry pauses and
attempts); that attempt keeps its number and its retry policy, so failing again ends the
call as it did before. When the rewound pauses were the last numbered work, the sequence
counter steps back to them, as the SDK's own counter does when it replays the rewritten
history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devhost import actions as action_kinds
from devhost.history import FAILURE_EVENTS, SCHEDULING_EVENTS, EventType, task_id_of
from devhost.orchestration_runner import ACTIVITY, SUB_ORCHESTRATION, PendingTask, RetryPolicy

REWIND_ONLY_FAILED = "The rewind operation is only supported on failed orchestration instances."


@dataclass
class RewindPlan:
    """What a rewind changes: history events by position, the tasks to run again, the next number."""

    rewritten: dict[int, dict[str, Any]]
    tasks: list[PendingTask]
    next_task_id: int


def plan_rewind(events: list[dict[str, Any]], actions: list[dict[str, Any]], next_task_id: int) -> RewindPlan:
    """The rewind of a failed generation with these committed `events` and recorded `actions`."""
    scheduling = {
        e["EventId"]: (index, e) for index, e in enumerate(events) if EventType(e["EventType"]) in SCHEDULING_EVENTS
    }
    follower = {e["RetryOf"]: task_id for task_id, (_, e) in scheduling.items() if "RetryOf" in e}
    fired = {
        e["TimerId"]: index for index, e in enumerate(events) if EventType(e["EventType"]) == EventType.TIMER_FIRED
    }
    action_of = _action_indexes(scheduling, actions)

    rewritten: dict[int, dict[str, Any]] = {}
    tasks: list[PendingTask] = []
    rewound_pauses: list[int] = []
    for index, event in enumerate(events):
        kind = EventType(event["EventType"])
        if kind == EventType.EXECUTION_COMPLETED:
            rewritten[index] = _rewound(event)
        if kind not in FAILURE_EVENTS:
            continue
        task_id = task_id_of(event)
        pause = follower.get(task_id)
        if task_id not in scheduling or (pause is not None and pause in follower):
            continue  # an attempt that a later attempt followed
        rewritten[index] = _rewound(event)
        if pause is not None:
            rewound_pauses.append(pause)
            rewritten[scheduling[pause][0]] = _rewound(scheduling[pause][1])
            if pause in fired:
                rewritten[fired[pause]] = _rewound(events[fired[pause]])
        tasks.append(_task_again(task_id, scheduling, action_of, actions))

    later = [task_id for task_id in scheduling if rewound_pauses and task_id >= min(rewound_pauses)]
    if rewound_pauses and set(later) <= set(rewound_pauses):
        next_task_id = min(rewound_pauses)
    return RewindPlan(rewritten, tasks, next_task_id)


def _action_indexes(
    scheduling: dict[int, tuple[int, dict[str, Any]]], actions: list[dict[str, Any]]
) -> dict[int, int]:
    """The recorded action behind each first attempt: the n-th numbered action took the n-th
    number that is no retry bookkeeping."""
    numbered = [i for i, action in enumerate(actions) if action_kinds.takes_sequence_number(action)]
    first_attempts = sorted(task_id for task_id, (_, e) in scheduling.items() if "RetryOf" not in e)
    return dict(zip(first_attempts, numbered, strict=False))


def _task_again(
    task_id: int, scheduling: dict[int, tuple[int, dict[str, Any]]], action_of: dict[int, int],
    actions: list[dict[str, Any]],
) -> PendingTask:
    """The pending task that runs the failed attempt `task_id` again."""
    event = scheduling[task_id][1]
    origin, attempt = task_id, 1
    while "RetryOf" in scheduling[origin][1]:
        origin = scheduling[origin][1]["RetryOf"]
        if EventType(scheduling[origin][1]["EventType"]) != EventType.TIMER_CREATED:
            attempt += 1
    action_index = action_of.get(origin)
    action = actions[action_index] if action_index is not None else {}
    retry = RetryPolicy.from_action(action["retryOptions"]) if "retryOptions" in action else None
    activity = EventType(event["EventType"]) == EventType.TASK_SCHEDULED
    return PendingTask(
        task_id, ACTIVITY if activity else SUB_ORCHESTRATION, event.get("Name"), event.get("Input"),
        instance_id=None if activity else event.get("InstanceId"),
        action_index=action_index, retry=retry, attempt=attempt, retry_of=event.get("RetryOf"),
    )


def _rewound(event: dict[str, Any]) -> dict[str, Any]:
    name = "".join(part.capitalize() for part in EventType(event["EventType"]).name.split("_"))
    return {
        "EventType": int(EventType.GENERIC_EVENT), "EventId": -1, "IsPlayed": event.get("IsPlayed", False),
        "Timestamp": event["Timestamp"], "Data": f"Rewound: {name}",
    }
