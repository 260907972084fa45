"""The actions an orchestrator episode returns, as the SDK's replay schema V2 lays them out.

The SDK answers `{"actions": [[...]]}`: one append-only list of every action the current
generation has scheduled, where `task_all` / `task_any` appear as compound actions holding
their children. Flattened depth-first, the leaves come in the order the SDK handed out
sequence numbers, so the i-th new leaf that takes a number gets the next one.
"""

from __future__ import annotations

from typing import Any

from azure.durable_functions.models.actions import ActionType

COMPOUND = frozenset({ActionType.WHEN_ALL, ActionType.WHEN_ANY})
SUPPORTED = frozenset({
    ActionType.CALL_ACTIVITY,
    ActionType.CALL_ACTIVITY_WITH_RETRY,
    ActionType.CALL_SUB_ORCHESTRATOR,
    ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY,
    ActionType.CREATE_TIMER,
    ActionType.WAIT_FOR_EXTERNAL_EVENT,
    ActionType.CONTINUE_AS_NEW,
})
ACTIVITIES = frozenset({ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY})
ENTITY_OPERATIONS = frozenset({ActionType.CALL_ENTITY, ActionType.SIGNAL_ENTITY})
SUB_ORCHESTRATIONS = frozenset({ActionType.CALL_SUB_ORCHESTRATOR, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY})


def flatten(actions: list[Any]) -> list[dict[str, Any]]:
    """The leaf actions of an episode's `actions` payload, depth-first."""
    leaves: list[dict[str, Any]] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            elif item["actionType"] in COMPOUND:
                walk(item["compoundActions"])
            else:
                leaves.append(item)

    walk(actions)
    return leaves


def kind(action: dict[str, Any]) -> ActionType:
    """The action's type."""
    return ActionType(action["actionType"])


def takes_sequence_number(action: dict[str, Any]) -> bool:
    """Whether the SDK numbered this action's task (waiting for an event is keyed by name instead)."""
    return kind(action) != ActionType.WAIT_FOR_EXTERNAL_EVENT


def same_action(recorded: dict[str, Any], replayed: dict[str, Any]) -> bool:
    """Whether a replayed action is the one recorded, ignoring a timer's later cancellation."""
    return {k: v for k, v in recorded.items() if k != "isCanceled"} == {
        k: v for k, v in replayed.items() if k != "isCanceled"
    }


def entity_name(action: dict[str, Any]) -> str:
    """The entity an entity action addresses: its scheduler id is `@name@key`."""
    _, _, rest = str(action.get("instanceId") or "").partition("@")
    return rest.partition("@")[0]


def unknown_entity_message(name: str, any_orchestrator: bool) -> str:
    """What the extension says of an entity function it does not know; devhost runs no entity
    functions, so this is its answer for every entity. The extension words the list of known
    entity functions by whether it knows any orchestrator (sic), so that is what decides here."""
    known = "The following are the known entity functions: ''." if any_orchestrator else (
        "No entity functions are currently registered!")
    return f"The function '{name}' doesn't exist, is disabled, or is not an entity function. Additional info: {known}"
