"""Incremental read state per project, task and leg: saved only after a leg succeeded."""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.models import TaskState
from shared.store.documents import document_properties, load_document
from shared.store.keys import encode_composite, encode_key


class TaskStateRepository:
    """The delta link or watermark each task's leg resumes from."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def save(self, state: TaskState) -> None:
        entity = {
            "PartitionKey": encode_key(state.project),
            "RowKey": encode_composite([state.task, state.leg]),
            **document_properties(state, field="state"),
        }
        self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)

    def get(self, project: str, task: str, leg: str) -> TaskState | None:
        try:
            entity = self._table.get_entity(
                encode_key(project), encode_composite([task, leg])
            )
        except ResourceNotFoundError:
            return None
        return load_document(entity, TaskState)

    def clear(self, project: str) -> None:
        """Forget every saved state of `project`, so its next incremental run reads everything."""
        entities = self._table.query_entities(
            "PartitionKey eq @pk",
            parameters={"pk": encode_key(project)},
            select=["PartitionKey", "RowKey"],
        )
        for entity in entities:
            self._table.delete_entity(entity["PartitionKey"], entity["RowKey"])
