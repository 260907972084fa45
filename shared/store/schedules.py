"""The last due time the scheduler handled, per project; claimed with ETags so one tick acts once."""

from __future__ import annotations

from datetime import datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.store.keys import encode_key

_PARTITION = "schedule"


class ScheduleStateRepository:
    """When each scheduled project was last due, as the scheduler saw it."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def last_due(self, project: str) -> tuple[datetime | None, str | None]:
        """The last due time handled for `project` and the ETag to claim the next with (None, None: never)."""
        try:
            entity = self._table.get_entity(_PARTITION, encode_key(project))
        except ResourceNotFoundError:
            return None, None
        return datetime.fromisoformat(entity["LastDue"]), entity.metadata["etag"]

    def claim(self, project: str, due: datetime, etag: str | None) -> bool:
        """Record `due` as handled, unless another scheduler did since `etag` was read; True when this one won."""
        row = encode_key(project)
        entity = {"PartitionKey": _PARTITION, "RowKey": row, "LastDue": due.isoformat()}
        try:
            if etag is None:
                self._table.create_entity(entity)
            else:
                self._table.update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
                )
        except (ResourceExistsError, ResourceModifiedError):
            return False
        return True
