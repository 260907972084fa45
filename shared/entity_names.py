"""The entity and field names each kind of system takes, checked when a project is saved.

A definition's names are held to what every system allows (shared/models: `FieldName`,
`EntityName`); which system an entity lives in is known only once the project's connections
are, and each kind's connector class says what it takes (`Connector.entity_names`,
`Connector.field_names`): a Dataverse entity set or an F&O data entity is an OData identifier
(letters, digits, `_`), and so are its fields, while blob files take a path
(`imports/accounts.csv`, `exports/accounts/`) and fields named by any header text (`Account Number`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from shared.connectors import connector_class
from shared.errors import InvalidInput
from shared.models import ConcatTransform, Connection, ProjectDefinition, Task

_LEG_SIDES = (("sourceToCds", "source", "cds"), ("cdsToDestination", "cds", "destination"))


def check_entity_names(definition: ProjectDefinition, connections: Mapping[str, Connection]) -> None:
    """InvalidInput naming the first entity (`tasks.N.<side>.entity`) or field its system cannot take.

    `connections` holds the project's connections by role; a role without one is left to the
    checks that report missing connections.
    """
    for index, task in enumerate(definition.tasks):
        for side, endpoint in task.endpoints():
            connection = connections.get(endpoint.connection or side)
            if connection is not None and not _takes(connector_class(connection.kind).entity_names, endpoint.entity):
                raise InvalidInput(
                    f"{endpoint.entity!r} is not a {connection.kind} entity name: letters, digits and _",
                    field=f"tasks.{index}.{side}.entity",
                )
        _check_field_names(index, task, connections)


def _check_field_names(index: int, task: Task, connections: Mapping[str, Connection]) -> None:
    """InvalidInput naming the first field of a side whose system does not take its name."""
    endpoints = dict(task.endpoints())
    for side, field, name in _field_names(index, task):
        connection = connections.get(endpoints[side].connection or side)
        if connection is not None and not _takes(connector_class(connection.kind).field_names, name):
            raise InvalidInput(
                f"{name!r} is not a {connection.kind} field name: letters, digits and _, in dotted paths",
                field=field,
            )


def _takes(rule: re.Pattern[str] | None, name: str) -> bool:
    return rule is None or rule.fullmatch(name) is not None


def _field_names(index: int, task: Task) -> Iterator[tuple[str, str, str]]:
    """(side, field path in the definition, name) of every field name the task holds."""
    for side, endpoint in task.endpoints():
        for k, name in enumerate(endpoint.key):
            yield side, f"tasks.{index}.{side}.key.{k}", name
    for leg, read_side, write_side in _LEG_SIDES:
        for m, item in enumerate(getattr(task, leg)):
            at = f"tasks.{index}.{leg}.{m}"
            if item.source is not None:
                yield read_side, f"{at}.source", item.source
            yield write_side, f"{at}.target", item.target
            for t, transform in enumerate(item.transforms):
                if isinstance(transform, ConcatTransform):
                    for p, part in enumerate(transform.parts):
                        if part.field is not None:
                            yield read_side, f"{at}.transforms.{t}.parts.{p}.field", part.field
