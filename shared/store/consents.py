"""Consent records, append-only: one partition per project, oldest first.

There is deliberately no way to change or delete a record: consent stays on file after its
project is gone. The row key is the consent time plus a digest of the record, so appending
the same record again (a retried request) adds nothing.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient

from shared.models import ConsentRecord
from shared.store.documents import document_properties, load_document
from shared.store.keys import encode_composite, encode_key
from shared.store.time_keys import ascending_time_key


class ConsentRepository:
    """The consent given for each project, kept for good."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def append(self, record: ConsentRecord) -> None:
        """Keep `record`; a record already kept is not added twice."""
        digest = hashlib.sha256(record.model_dump_json(by_alias=True).encode()).hexdigest()[:32]
        entity = {
            "PartitionKey": encode_key(record.project),
            "RowKey": encode_composite([ascending_time_key(record.acceptedAt), digest]),
            **document_properties(record, field="consent"),
        }
        with suppress(ResourceExistsError):
            self._table.create_entity(entity)

    def list(self, project: str) -> list[ConsentRecord]:
        """Every consent record of `project`, oldest first."""
        entities = self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": encode_key(project)}
        )
        return [load_document(entity, ConsentRecord) for entity in entities]
