"""Project definitions by name, with ETags for optimistic concurrency.

A definition can outgrow one string property (a large valueMap), so it is kept as a
document spread over numbered properties; one that would not fit in an entity is refused.

A stored document that no longer reads as a definition (saved before a rule it breaks, or
altered in storage) is one project's problem: reading it says so (409, `UnreadableProject`),
listing leaves it out with a warning in the log, and it can still be deleted.
"""

from __future__ import annotations

import logging

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity, UpdateMode

from shared.errors import AlreadyExists, NotFound, StaleETag
from shared.models import ProjectDefinition
from shared.store.documents import UnreadableDocument, document_properties, load_readable
from shared.store.keys import decode_key, encode_key

_PARTITION = "project"
log = logging.getLogger(__name__)


class UnreadableProject(UnreadableDocument):
    """A stored project that does not read as a definition: it can be deleted, and created again."""

    kind = "project"
    title = "Project cannot be read"


class ProjectRepository:
    """The project definitions. Every write returns the new ETag; replace and delete can demand one."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def create(self, definition: ProjectDefinition) -> str:
        """Save a new project and return its ETag; AlreadyExists when its name is taken."""
        try:
            return self._table.create_entity(_as_entity(definition))["etag"]
        except ResourceExistsError:
            raise AlreadyExists(f"project {definition.name!r} already exists", field="name") from None

    def get(self, name: str) -> tuple[ProjectDefinition, str]:
        """The project called `name` and its ETag; NotFound if there is none, UnreadableProject if it cannot be read."""
        entity = self._entity(name)
        return _definition(entity, name), entity.metadata["etag"]

    def etag(self, name: str) -> str:
        """The current ETag of the project called `name`, readable or not; NotFound if there is none."""
        return self._entity(name).metadata["etag"]

    def list(self) -> list[tuple[ProjectDefinition, str]]:
        """Every project that can be read, with its ETag, sorted by name; the others are logged and left out."""
        entities = self._table.query_entities("PartitionKey eq @pk", parameters={"pk": _PARTITION})
        found = []
        for entity in entities:
            name = _name_of(entity)
            try:
                found.append((_definition(entity, name), entity.metadata["etag"]))
            except UnreadableProject:
                log.warning("project %r cannot be read and is left out of the list", name)
        return sorted(found, key=lambda item: item[0].name)

    def replace(self, definition: ProjectDefinition, if_match: str) -> str:
        """Overwrite the project of the same name if its ETag is still `if_match`; return the new ETag.

        StaleETag when `if_match` is not the project's current ETag (changed since, or never
        issued by this service), NotFound when there is no such project.
        """
        _check_current(self._entity(definition.name), definition.name, if_match)
        try:
            return self._table.update_entity(
                _as_entity(definition),
                mode=UpdateMode.REPLACE,
                etag=if_match,
                match_condition=MatchConditions.IfNotModified,
            )["etag"]
        except ResourceModifiedError:
            raise _stale(definition.name) from None
        except ResourceNotFoundError:
            raise _not_found(definition.name) from None

    def delete(self, name: str, if_match: str | None = None) -> None:
        """Delete the project called `name`, only if its ETag is still `if_match` when one is given.

        NotFound when there is no such project, StaleETag when `if_match` is not its current ETag.
        """
        entity = self._entity(name)  # delete_entity succeeds silently on a missing entity
        if if_match is not None:
            _check_current(entity, name, if_match)
        condition = MatchConditions.Unconditionally if if_match is None else MatchConditions.IfNotModified
        try:
            self._table.delete_entity(_PARTITION, _row_key(name), etag=if_match, match_condition=condition)
        except ResourceModifiedError:
            raise _stale(name) from None

    def _entity(self, name: str) -> TableEntity:
        try:
            return self._table.get_entity(_PARTITION, _row_key(name))
        except ResourceNotFoundError:
            raise _not_found(name) from None


def _name_of(entity: TableEntity) -> str:
    try:
        return decode_key(entity["RowKey"])
    except ValueError:
        return str(entity["RowKey"])


def _definition(entity: TableEntity, name: str) -> ProjectDefinition:
    return load_readable(entity, ProjectDefinition, UnreadableProject, name)


def _check_current(entity: TableEntity, name: str, if_match: str) -> None:
    """StaleETag unless `if_match` is the ETag storage gave the current version.

    Only such a value goes on to storage as a condition: anything else (`*`, a made-up or
    malformed string) would be refused by storage with a 400, or taken as "any version".
    Storage still checks the condition, for a change between this read and the write.
    """
    if if_match != entity.metadata["etag"]:
        raise _stale(name)


def _as_entity(definition: ProjectDefinition) -> dict[str, str]:
    return {
        "PartitionKey": _PARTITION,
        "RowKey": _row_key(definition.name),
        **document_properties(definition, field="tasks"),
    }


def _row_key(name: str) -> str:
    return encode_key(name)


def _not_found(name: str) -> NotFound:
    return NotFound(f"project {name!r} does not exist", field="name")


def _stale(name: str) -> StaleETag:
    return StaleETag(f"project {name!r} has changed since it was read: read it again", field="If-Match")
