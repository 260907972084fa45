"""Connections by name: one entity each in one partition, the Connection as JSON.

A stored connection that no longer reads as a Connection (stored by an older version, or
altered in storage) is one connection's problem: reading it says so (409,
`UnreadableConnection`), listing leaves it out with a warning in the log, and it can still be
deleted or replaced.
"""

from __future__ import annotations

import logging

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity, UpdateMode

from shared.errors import NotFound
from shared.models import Connection
from shared.store.documents import UnreadableDocument, document_properties, load_readable
from shared.store.keys import decode_key, encode_key

_PARTITION = "connection"

log = logging.getLogger(__name__)


class UnreadableConnection(UnreadableDocument):
    """A stored connection that does not read as one: it can be deleted, or saved again."""

    kind = "connection"
    title = "Connection cannot be read"


class ConnectionRepository:
    """The saved connections. They hold references to secrets, never secret values."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def put(self, name: str, connection: Connection) -> bool:
        """Save `connection` as `name`: True when it was created, False when it replaced one."""
        entity = {
            "PartitionKey": _PARTITION,
            "RowKey": _row_key(name),
            **document_properties(connection, field="connection"),
        }
        try:
            self._table.create_entity(entity)
        except ResourceExistsError:
            self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
            return False
        return True

    def get(self, name: str) -> Connection:
        """The connection saved as `name`; NotFound if there is none."""
        return load_readable(self._entity(name), Connection, UnreadableConnection, name)

    def list(self) -> list[tuple[str, Connection]]:
        """Every connection that can be read, with its name, sorted by name; the others are logged and left out."""
        entities = self._table.query_entities("PartitionKey eq @pk", parameters={"pk": _PARTITION})
        found = []
        for entity in entities:
            name = decode_key(entity["RowKey"])
            try:
                found.append((name, load_readable(entity, Connection, UnreadableConnection, name)))
            except UnreadableConnection:
                log.warning("connection %r cannot be read and is left out of the list", name)
        return sorted(found, key=lambda named: named[0])

    def delete(self, name: str) -> None:
        """Forget the connection saved as `name`; NotFound if there is none."""
        self._entity(name)  # delete_entity succeeds silently on a missing entity
        self._table.delete_entity(_PARTITION, _row_key(name))

    def _entity(self, name: str) -> TableEntity:
        try:
            return self._table.get_entity(_PARTITION, _row_key(name))
        except ResourceNotFoundError:
            raise NotFound(f"connection {name!r} does not exist", field="name") from None


def _row_key(name: str) -> str:
    return encode_key(name)
