"""Connections by name: one entity each in one partition, the Connection as JSON."""

from __future__ import annotations

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity, UpdateMode

from shared.errors import NotFound
from shared.models import Connection
from shared.store.documents import document_properties, load_document
from shared.store.keys import decode_key, encode_key

_PARTITION = "connection"


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
        return load_document(self._entity(name), Connection)

    def list(self) -> list[tuple[str, Connection]]:
        """Every connection with its name, sorted by name."""
        entities = self._table.query_entities("PartitionKey eq @pk", parameters={"pk": _PARTITION})
        return sorted(
            ((decode_key(entity["RowKey"]), load_document(entity, Connection)) for entity in entities),
            key=lambda named: named[0],
        )

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
