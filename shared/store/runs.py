"""Run records: one partition per project, newest first, plus an index from run id to row.

A run's row key starts with the complement of its creation time, so a partition query
returns the newest runs first and `list` reads only the pages it needs. The index table
holds, under each run id, where that run's row is, so `get` needs two point reads, no scan.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.errors import AlreadyExists, InvalidInput, NotFound, RetryableError
from shared.models import Run
from shared.store.documents import document_properties, load_document
from shared.store.keys import encode_composite, encode_key
from shared.store.time_keys import descending_time_key

MAX_PAGE = 1000
"""The most entities Table Storage returns in one page."""
MAX_ATTEMPTS = 5
"""Tries of `change` when other writers keep changing the record between its read and its write."""

_INDEX_ROW = ""


class RunRepository:
    """The record of every run. runId, projectId and createdTime of a run never change."""

    def __init__(self, runs: TableClient, index: TableClient) -> None:
        self._runs = runs
        self._index = index

    def create(self, run: Run) -> None:
        """Record a new run; AlreadyExists when its runId is taken."""
        row = _as_entity(run)
        pointer = {
            "PartitionKey": _index_key(run.runId),
            "RowKey": _INDEX_ROW,
            "RunPartition": row["PartitionKey"],
            "RunRow": row["RowKey"],
        }
        try:
            self._index.create_entity(pointer)
        except ResourceExistsError:
            raise AlreadyExists(f"run {run.runId!r} already exists", field="runId") from None
        try:
            self._runs.create_entity(row)
        except AzureError:
            # without its row the run does not exist: free its id for a retry
            self._index.delete_entity(pointer["PartitionKey"], _INDEX_ROW)
            raise

    def get(self, run_id: str) -> Run:
        """The run with this id; NotFound if there is none."""
        try:
            pointer = self._index.get_entity(_index_key(run_id), _INDEX_ROW)
            entity = self._runs.get_entity(pointer["RunPartition"], pointer["RunRow"])
        except ResourceNotFoundError:
            raise _not_found(run_id) from None
        return load_document(entity, Run)

    def update(self, run: Run) -> None:
        """Overwrite the record of `run`; NotFound if it was never created."""
        try:
            self._runs.update_entity(_as_entity(run), mode=UpdateMode.REPLACE)
        except ResourceNotFoundError:
            raise _not_found(run.runId) from None

    def change(self, run_id: str, edit: Callable[[Run], bool]) -> Run:
        """Apply `edit` to the latest record of the run and save it unless `edit` returns False.

        The write is conditional on the version read, so writers racing on one run (a step
        recording a task while the run is being terminated) never undo each other: the loser
        reads again and edits the newer record. Returns the record as it now stands.
        """
        for _ in range(MAX_ATTEMPTS):
            try:
                pointer = self._index.get_entity(_index_key(run_id), _INDEX_ROW)
                entity = self._runs.get_entity(pointer["RunPartition"], pointer["RunRow"])
            except ResourceNotFoundError:
                raise _not_found(run_id) from None
            run = load_document(entity, Run)
            if not edit(run):
                return run
            try:
                self._runs.update_entity(
                    _as_entity(run), mode=UpdateMode.REPLACE, etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
            except ResourceModifiedError:
                continue
            return run
        raise RetryableError(f"the record of run {run_id!r} kept changing while being updated")

    def list(self, project: str, top: int = 50) -> list[Run]:
        """The latest `top` runs of `project`, newest first."""
        if top < 1:
            raise InvalidInput(f"top must be at least 1, not {top}", field="top")
        entities = self._runs.query_entities(
            "PartitionKey eq @pk",
            parameters={"pk": _partition_key(project)},
            results_per_page=min(top, MAX_PAGE),
        )
        return [load_document(entity, Run) for entity in islice(entities, top)]

    def run_ids(self, project: str) -> list[str]:
        """The id of every run `project` has on record (to delete what its runs left, when it is deleted)."""
        entities = self._runs.query_entities(
            "PartitionKey eq @pk", parameters={"pk": _partition_key(project)}, results_per_page=MAX_PAGE,
        )
        return [load_document(entity, Run).runId for entity in entities]


def _as_entity(run: Run) -> dict[str, str]:
    return {
        "PartitionKey": _partition_key(run.projectId),
        "RowKey": encode_composite([descending_time_key(run.createdTime), run.runId]),
        **document_properties(run, field="message"),
    }


def _partition_key(project: str) -> str:
    return encode_key(project)


def _index_key(run_id: str) -> str:
    return encode_key(run_id)


def _not_found(run_id: str) -> NotFound:
    return NotFound(f"run {run_id!r} does not exist", field="runId")
