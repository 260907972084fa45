"""The entity names each kind of system takes, checked when a project is saved.

A definition's names are held to what every system allows (shared/models.py: `FieldName`,
`EntityName`); which system an entity lives in is known only once the project's connections
are: a Dataverse entity set or an F&O data entity is an OData identifier (letters, digits,
`_`), while blob files take a path (`imports/accounts.csv`, `exports/accounts/`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.errors import InvalidInput
from shared.models import Connection, ProjectDefinition

ODATA_ENTITY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_ODATA_KINDS = frozenset({"dataverse", "finops"})
_DEFAULT_ROLE = {"source": "source", "cds": "cds", "destination": "destination"}


def check_entity_names(definition: ProjectDefinition, connections: Mapping[str, Connection]) -> None:
    """InvalidInput naming `tasks.N.<side>.entity` for the first entity its system cannot take.

    `connections` holds the project's connections by role; a role without one is left to the
    checks that report missing connections.
    """
    for index, task in enumerate(definition.tasks):
        for side in ("source", "cds", "destination"):
            endpoint = getattr(task, side)
            if endpoint is None:
                continue
            connection = connections.get(endpoint.connection or _DEFAULT_ROLE[side])
            if connection is not None and connection.kind in _ODATA_KINDS and not ODATA_ENTITY.fullmatch(
                endpoint.entity
            ):
                raise InvalidInput(
                    f"{endpoint.entity!r} is not a {connection.kind} entity name: letters, digits and _",
                    field=f"tasks.{index}.{side}.entity",
                )
