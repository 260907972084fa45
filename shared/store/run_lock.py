"""One run at a time per project: a lock entity per project, taken and freed with ETag conditions,
and the fence that keeps a stopped run's steps from writing.

The entity's RunId is the holder ("" when free). Taking it is a create (when the entity is
missing) or an update conditional on the ETag just read (when free), so of two racing
callers the service lets exactly one write; the other gets 409 or 412, reads again and
learns who won.

`Stopping` on the entity is the holder's stop mark: the run was told to stop and keeps the
lock only until none of its steps can still write. A step that writes to a target first
registers a lease row (partition `steps!{runId}` of the same table, one row per attempt,
expiring after the host's functionTimeout), then reads the lock: it may write only if its
run holds the lock and is not stopping. Registering before reading means that once the
stop mark is written, every step that could still write has a lease row visible to anyone
who lists them (see shared/runs.py for who frees the lock).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableEntity, UpdateMode

from shared.errors import RetryableError, RunActive
from shared.store.keys import SEPARATOR, encode_key

MAX_ATTEMPTS = 5
"""Reads before acquire gives up, when every write it tries loses to a lock taken and freed again."""

_PARTITION = "runlock"
_STEPS = "steps"
_FREE = ""
MAX_STEP_TEXT = 200
"""How much of a step's description a lease row keeps (for operators reading the table)."""


class Standing(Enum):
    """Where a run stands with its project's lock."""

    HOLDS = "holds"
    """It holds the lock and may write."""
    STOPPING = "stopping"
    """It holds the lock but was told to stop: it writes nothing more and frees the lock once no step can write."""
    NONE = "none"
    """It does not hold the lock (it ended, was taken over, or never had it): it writes nothing."""


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

    def standing(self, project: str, run_id: str) -> Standing:
        """Where `run_id` stands with the lock of `project` (one point read)."""
        entity = self._read(project)
        if entity is None or entity["RunId"] != run_id:
            return Standing.NONE
        return Standing.STOPPING if entity.get("Stopping") else Standing.HOLDS

    def stop(self, project: str, run_id: str) -> bool:
        """Put the stop mark on the lock of `project` if `run_id` holds it; return whether it holds it."""
        for _ in range(MAX_ATTEMPTS):
            entity = self._read(project)
            if entity is None or entity["RunId"] != run_id:
                return False
            if entity.get("Stopping") or self._write(
                project, run_id, etag=entity.metadata["etag"], stopping=True
            ) is not None:
                return True
        raise RetryableError(f"the run lock of project {project!r} kept changing while being marked")

    def enter_step(self, run_id: str, step: str, expires: datetime) -> str:
        """Register a step of `run_id` that may write until `expires`; return its lease for `leave_step`.

        Each call registers a lease of its own, so a retried attempt never takes over the
        lease of an earlier attempt that may still be writing.
        """
        lease = uuid.uuid4().hex
        self._table.create_entity(
            {"PartitionKey": _steps_key(run_id), "RowKey": lease, "Expires": expires, "Step": step[:MAX_STEP_TEXT]}
        )
        return lease

    def leave_step(self, run_id: str, lease: str) -> None:
        """The step holding `lease` writes no more."""
        try:
            self._table.delete_entity(_steps_key(run_id), lease)
        except ResourceNotFoundError:
            return

    def live_steps(self, run_id: str, now: datetime) -> int:
        """How many steps of `run_id` may still be writing at `now` (leases not left and not expired)."""
        rows = self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": _steps_key(run_id)}, select=["Expires"]
        )
        return sum(1 for row in rows if row["Expires"] > now)

    def forget_steps(self, run_id: str) -> None:
        """Delete every lease row of `run_id`, expired ones included (once the run has settled)."""
        rows = self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": _steps_key(run_id)}, select=["RowKey"]
        )
        for row in rows:
            self.leave_step(run_id, row["RowKey"])

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

    def _write(self, project: str, run_id: str, *, etag: str | None, stopping: bool = False) -> str | None:
        """Set the holder (and its stop mark): create the entity (etag None) or replace the version `etag`;
        None if another write won."""
        entity = {"PartitionKey": _PARTITION, "RowKey": _row_key(project), "RunId": run_id, "Stopping": stopping}
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


def _steps_key(run_id: str) -> str:
    return _STEPS + SEPARATOR + encode_key(run_id)
