"""The checks a project passes before every run, and on demand (`POST /validate`).

Each leg is checked against what its systems say of their entities: the connections answer,
the entities and fields exist, the business key is mapped, every required target field is
mapped or defaulted, and constant values fit their target field's type. The definition
itself (duplicate targets, unknown transforms) was already checked when it was saved.

A bidirectional task's `cdsToSource` leg is its `sourceToCds` items read backwards: its
problems name those items (`sourceToCds.2.source` for the source field an item writes back),
and a problem the other direction already reported is not reported twice.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from shared.connectors.base import Connector, EntityInfo
from shared.errors import ConfigurationError, InputError, InvalidInput, NotFound
from shared.filters import parse_filter
from shared.models import Connection, DefaultTransform, Leg, LookupTransform, ProjectDefinition, Task

NUMERIC_TYPES = frozenset(
    {"integer", "int", "bigint", "decimal", "double", "money", "picklist", "state", "status", "edm.int32",
     "edm.int64", "edm.decimal", "edm.double", "int32", "int64", "real"}
)
PARALLEL_DESCRIBES = 8
"""Entities described side by side: each description takes a few metadata requests."""
SAVE_CHECK_S = 5.0
"""How long saving a project waits for its sources to describe themselves before leaving the filters to the
checks before every run."""
SYSTEM_SET = frozenset({"createdon", "modifiedon", "versionnumber", "ModifiedDateTime"})


def problem(task: Task, leg: str | None, field: str, message: str) -> dict[str, Any]:
    return {"task": task.name, "leg": leg, "field": field, "message": message}


def connections_of(store: Any, project: ProjectDefinition) -> dict[str, Connection]:
    """The project's connections by role (NotFound when one is missing)."""
    return {role: store.connections.get(name) for role, name in project.connections.by_role().items()}


def validate_project(
    project: ProjectDefinition, connections: dict[str, Connection], connector: Callable[[Connection], Connector]
) -> list[dict[str, Any]]:
    """Every problem found, as `{"task", "leg", "field", "message"}`; an empty list means ready to run."""
    found: list[dict[str, Any]] = []
    systems = {role: _system(role, connection, connector, project.companyCode)
               for role, connection in connections.items()}

    def describe(pair: tuple[str, str]) -> EntityInfo | str:
        role, entity = pair
        system = systems[role]
        if isinstance(system, str):
            return system
        try:
            return system.describe(entity)
        except NotFound:
            return f"the {role} system has no entity {entity!r}"
        except (InputError, ConfigurationError, OSError) as error:
            return f"the {role} connection failed: {error}"

    pairs = list(dict.fromkeys(
        pair
        for task in project.tasks for leg in task.legs()
        for pair in (*zip(leg.roles(), (leg.source.entity, leg.target.entity), strict=True),
                     *((leg.roles()[1], lookup.entitySet) for _, lookup in _lookups(task, leg)))
    ))
    with ThreadPoolExecutor(min(len(pairs), PARALLEL_DESCRIBES) or 1, thread_name_prefix="describe") as pool:
        described = dict(zip(pairs, pool.map(describe, pairs), strict=True))
    for task in project.tasks:
        task_start = len(found)
        for leg in task.legs():
            leg_start = len(found)
            source_role, target_role = leg.roles()
            for role in (source_role, target_role):
                scope_problem = _scope_problem(systems[role], project.companyCode)
                if scope_problem is not None:
                    found.append(problem(task, leg.name, "companyCode", f"the {role} system: {scope_problem}"))
            source = described[(source_role, leg.source.entity)]
            target = described[(target_role, leg.target.entity)]
            for side, info in (("source", source), ("target", target)):
                if isinstance(info, str):
                    found.append(problem(task, leg.name, f"{side}.entity", info))
            writer = systems[target_role]
            if isinstance(source, EntityInfo) and isinstance(target, EntityInfo) and isinstance(writer, Connector):
                found.extend(_check_leg(task, leg, source, target, writer))
            for where, lookup in _lookups(task, leg):
                referred = described[(target_role, lookup.entitySet)]
                if isinstance(referred, str):
                    found.append(problem(task, leg.name, f"{where}.entitySet", referred))
                elif referred.fields and lookup.keyField not in referred.fields:
                    message = f"{lookup.entitySet} has no field {lookup.keyField!r} to look records up by"
                    found.append(problem(task, leg.name, f"{where}.keyField", message))
            if leg.name == "cdsToSource":
                seen = {(p["field"], p["message"]) for p in found[task_start:leg_start]}
                found[leg_start:] = [p for p in found[leg_start:] if (p["field"], p["message"]) not in seen]
    return found


def _system(
    role: str, connection: Connection, connector: Callable[[Connection], Connector], company: str | None
) -> Connector | str:
    """The connector of `role`, scoped to the project's company, or why there is none."""
    try:
        return connector(connection).scoped(company)
    except (InputError, ConfigurationError, OSError) as error:
        return f"the {role} connection failed: {error}"


def _scope_problem(system: Connector | str, company: str | None) -> str | None:
    return None if isinstance(system, str) else system.scope_problem(company)


def _lookups(task: Task, leg: Leg) -> list[tuple[str, LookupTransform]]:
    """The leg's Lookup transforms, with where each one is (`sourceToCds.2.transforms.0`)."""
    return [(item_path(task, leg, i, f"transforms.{j}"), t) for i, m in enumerate(leg.mappings)
            for j, t in enumerate(m.transforms) if isinstance(t, LookupTransform)]


_BACKWARDS = {"source": "target", "target": "source", "transforms": "reverseTransforms"}
"""What a part of a `cdsToSource` mapping is called on the `sourceToCds` item it reverses."""


def item_path(task: Task, leg: Leg, index: int, part: str) -> str:
    """Where the definition holds `part` (`source`, `transforms.0.defaultValue`) of the leg's mapping `index`: a
    `cdsToSource` mapping is a `sourceToCds` item read backwards (`target` for its source, `reverseTransforms`),
    or one of the task's `sourceDefaults`."""
    if leg.name != "cdsToSource":
        return f"{leg.name}.{index}.{part}"
    back = task.flowing_back()
    if index >= len(back):  # the leg's constants: the task's sourceDefaults, in order
        return f"sourceDefaults.{list(task.sourceDefaults)[index - len(back)]}"
    item_index, _ = back[index]
    first, _, rest = part.partition(".")
    return ".".join(name for name in (f"sourceToCds.{item_index}", _BACKWARDS[first], rest) if name)


def check_filters(
    project: ProjectDefinition, connections: dict[str, Connection], connector: Callable[[Connection], Connector],
    wait_s: float = SAVE_CHECK_S,
) -> None:
    """Refuse a task filter naming a field its source entity lacks (InvalidInput naming the task's filter).

    Run when a project is saved. A source that cannot be described within `wait_s` (down,
    slow, no such entity) is not held against the save: the checks before every run report it.
    """
    filtered = [(index, task.legs()[0]) for index, task in enumerate(project.tasks) if task.source.filter]
    if not filtered:
        return
    pool = ThreadPoolExecutor(min(len(filtered), PARALLEL_DESCRIBES), thread_name_prefix="describe-on-save")
    asked = {index: pool.submit(connector(connections[leg.roles()[0]]).describe, leg.source.entity)
             for index, leg in filtered}
    wait(asked.values(), timeout=wait_s)
    pool.shutdown(wait=False, cancel_futures=True)
    for index, leg in filtered:
        answer = asked[index]
        if not answer.done() or answer.cancelled() or answer.exception() is not None:
            continue
        messages = _filter_problems(leg, answer.result())
        if messages:
            raise InvalidInput(messages[0], field=f"tasks.{index}.source.filter")


def _filter_problems(leg: Leg, source: EntityInfo) -> list[str]:
    if not leg.source.filter or not source.fields:
        return []
    return [
        f"the filter names {name!r}, which {source.entity_set} does not have"
        for name in sorted(parse_filter(leg.source.filter).fields)
        if name not in source.fields and name not in source.navigation
    ]


def _check_leg(task: Task, leg: Leg, source: EntityInfo, target: EntityInfo, writer: Connector
               ) -> list[dict[str, Any]]:
    """The leg's problems; `writer` is the target's connector (what it fills itself, whether it takes ids)."""
    found = []
    targets = {m.target for m in leg.mappings}
    bound = {target.navigation[t.split("@", 1)[0]] for t in targets
             if t.endswith("@odata.bind") and t.split("@", 1)[0] in target.navigation}
    filled = targets | bound | set(writer.fixed_values)
    if leg.match == "keyMap":
        filled |= set(leg.target.key)
        if not writer.takes_chosen_ids:
            found.append(problem(task, leg.name, "match", f"a key map gives targets their ids, which "
                                 f"{target.entity_set} does not take: match by business key"))
    for i, mapping in enumerate(leg.mappings):
        if mapping.source is not None and source.fields:
            root = mapping.source.split(".", 1)[0] if "@" not in mapping.source else mapping.source.split("@", 1)[0]
            if root not in source.fields and root not in source.navigation:
                message = f"{source.entity_set} has no field {root!r}"
                found.append(problem(task, leg.name, item_path(task, leg, i, "source"), message))
        if mapping.target.endswith("@odata.bind"):
            if mapping.target.split("@", 1)[0] not in target.navigation:
                message = f"{target.entity_set} has no lookup {mapping.target.split('@', 1)[0]!r} to bind"
                found.append(problem(task, leg.name, item_path(task, leg, i, "target"), message))
        elif target.fields and mapping.target not in target.fields:
            message = f"{target.entity_set} has no field {mapping.target!r}"
            found.append(problem(task, leg.name, item_path(task, leg, i, "target"), message))
        elif mapping.target in target.fields:
            target_type = target.fields[mapping.target].type
            found.extend(_check_constant_types(task, leg, i, mapping.transforms, target_type))
    found.extend(problem(task, leg.name, "source.filter", message) for message in _filter_problems(leg, source))
    modified = leg.source.modifiedField
    if modified is not None and source.fields and modified not in source.fields:
        message = f"{source.entity_set} has no field {modified!r} to tell which of two duplicates is newer"
        found.append(problem(task, leg.name, "source.modifiedField", message))
    back = leg.name == "cdsToSource"
    for key_field in leg.target.key:
        if key_field not in filled:
            message = f"business key field {key_field!r} is not mapped" + (" back from CDS" if back else "")
            found.append(problem(task, leg.name, "source.key" if back else f"{leg.name}.key", message))
    for name, info in target.fields.items():
        if info.required and name not in filled and name != target.primary_id and name not in SYSTEM_SET:
            message = f"required field {name!r} of {target.entity_set} is not mapped or defaulted"
            if back:
                message += ": a record created from CDS needs it, so map it both ways or toSource"
            found.append(problem(task, leg.name, "sourceToCds" if back else leg.name, message))
    return found


def _check_constant_types(
    task: Task, leg: Leg, index: int, transforms: list[Any], target_type: str
) -> list[dict[str, Any]]:
    if target_type.lower() not in NUMERIC_TYPES:
        return []
    found = []
    for j, transform in enumerate(transforms):
        value = transform.defaultValue if isinstance(transform, DefaultTransform) else None
        if isinstance(value, str):
            found.append(problem(task, leg.name, item_path(task, leg, index, f"transforms.{j}.defaultValue"),
                                 f"{value!r} does not fit the {target_type} field"))
    return found
