"""One run at a time per project: a lock entity per project, taken and freed with ETag conditions.

The entity's RunId is the holder ("" when free). Taking it is a create (when the entity is
missing) or an update conditional on the ETag just read (when free), so of two racing
callers the service lets exactly one write; the other gets 409 or 412, reads again and
learns who won.
"""

from __future__ import annotations

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity, UpdateMode

from shared.errors import RetryableError, RunActive
from shared.store.keys import encode_key

MAX_ATTEMPTS = 5
"""Reads before acquire gives up, when every write it tries loses to a lock taken and freed again."""

_PARTITION = "runlock"
_FREE = ""


class RunLockRepository:
    """Which run, if any, holds each project."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def acquire(self, project: str, run_id: str) -> str:
        """Take the lock of `project` for `run_id` and return its ETag.

        Raises RunActive naming the holder when another run holds it. Taking a lock that
        `run_id` already holds succeeds and changes nothing.
        """
        for _ in range(MAX_ATTEMPTS):
            entity = self._read(project)
            if entity is None:
                etag = self._write(project, run_id, etag=None)
            elif entity["RunId"] == run_id:
                return entity.metadata["etag"]
            elif entity["RunId"] != _FREE:
                raise RunActive(project, entity["RunId"])
            else:
                etag = self._write(project, run_id, etag=entity.metadata["etag"])
            if etag is not None:
                return etag
        raise RetryableError(f"the run lock of project {project!r} kept changing while being taken")

    def release(self, project: str, run_id: str) -> bool:
        """Free the lock of `project` if `run_id` holds it; return whether it did."""
        entity = self._read(project)
        if entity is None or entity["RunId"] != run_id:
            return False
        return self._write(project, _FREE, etag=entity.metadata["etag"]) is not None

    def holder(self, project: str) -> str | None:
        """The run id holding the lock of `project`, or None when it is free."""
        entity = self._read(project)
        if entity is None or entity["RunId"] == _FREE:
            return None
        return entity["RunId"]

    def _read(self, project: str) -> TableEntity | None:
        try:
            return self._table.get_entity(_PARTITION, _row_key(project))
        except ResourceNotFoundError:
            return None

    def _write(self, project: str, run_id: str, *, etag: str | None) -> str | None:
        """Set the holder: create the entity (etag None) or replace the version `etag`; None if another write won."""
        entity = {"PartitionKey": _PARTITION, "RowKey": _row_key(project), "RunId": run_id}
        try:
            if etag is None:
                return self._table.create_entity(entity)["etag"]
            return self._table.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
            )["etag"]
        except (ResourceExistsError, ResourceModifiedError):
            return None


def _row_key(project: str) -> str:
    return encode_key(project)
