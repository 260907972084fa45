"""Two-way conflicts: one row per record pair and field that both sides changed to different values.

One partition per project (its encoded name); the row key is the conflict's id, derived from
its task, pair and field (`shared.models.conflict_id`), so a later run seeing the same conflict
updates the same row. The conflict is kept as its JSON document, next to the columns the
queries filter on: `State`, `RunId`, `Task`. Every change is conditional on the version read,
so a person settling a conflict and a run recording or applying it never undo each other: the
loser reads again and decides on the newer row.

Pages are ordered by conflict id, and a page's continuation is the last id it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.errors import Conflict as AlreadySettled
from shared.errors import InvalidInput, NotFound, RetryableError
from shared.models import Conflict, ConflictResolution, ConflictState
from shared.store.documents import document_properties, load_document
from shared.store.keys import encode_key
from shared.store.point_reads import read_rows
from shared.store.transactions import TRANSACTION_ROWS, transactions

PAGE = 100
MAX_ATTEMPTS = 5
"""Tries of a change while other writers keep changing the same rows between its read and its write."""

Edit = Callable[[Conflict | None], Conflict | None]
"""What a change does to one row: the conflict as stored (None when there is none), to the conflict to store
(None: leave the row as it is)."""


class ConflictRepository:
    """The conflicts of two-way tasks, per project: open until a person settles them, applied by the next run."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def get(self, project: str, conflict_id: str) -> Conflict:
        """The conflict with this id; NotFound if the project has none."""
        found = self._read(encode_key(project), [conflict_id])
        if conflict_id not in found:
            raise NotFound(f"project {project!r} has no conflict {conflict_id!r}", field="conflictId")
        return found[conflict_id][0]

    def put_open(self, project: str, conflicts: Sequence[Conflict]) -> None:
        """Record what a run saw in conflict. A conflict already settled but not yet applied keeps its resolution
        (with the values now seen); any other becomes open with what the run saw."""

        def seen_again(seen: Conflict) -> Edit:
            def edit(stored: Conflict | None) -> Conflict:
                if stored is not None and stored.state == "resolved":
                    return stored.model_copy(update={
                        "businessKey": seen.businessKey, "baseline": seen.baseline, "source": seen.source,
                        "cds": seen.cds, "runId": seen.runId,
                    })
                return seen.model_copy(update={"state": "open", "resolution": None, "resolvedAt": None})

            return edit

        self._change(project, {conflict.conflictId: seen_again(conflict) for conflict in conflicts})

    def resolve(self, project: str, conflict_id: str, resolution: ConflictResolution, now: datetime) -> Conflict:
        """Settle a conflict: NotFound if there is none, AlreadySettled (409) once a run has applied it; explicit
        values must give exactly the conflict's field (InvalidInput naming the value otherwise)."""

        def settle(stored: Conflict | None) -> Conflict:
            if stored is None:
                raise NotFound(f"project {project!r} has no conflict {conflict_id!r}", field="conflictId")
            if stored.state == "applied":
                raise AlreadySettled(f"conflict {conflict_id!r} was settled and applied by run {stored.runId!r}",
                                     field="conflictId")
            _check_values(stored, resolution)
            return stored.model_copy(update={"state": "resolved", "resolution": resolution, "resolvedAt": now})

        return self._change(project, {conflict_id: settle})[conflict_id]

    def settled(self, project: str, task: str) -> list[Conflict]:
        """The conflicts of `task` settled by a person and not applied yet. One query of the project's settled
        conflicts."""
        return [conflict for conflict in self._of_task(project, task, "resolved") if conflict.resolution is not None]

    def still_open(self, project: str, task: str) -> list[Conflict]:
        """The open conflicts of `task`. One query of the project's open conflicts."""
        return self._of_task(project, task, "open")

    def close_agreed(self, project: str, conflict_ids: Collection[str], run_id: str) -> None:
        """Record that the systems themselves settled these open conflicts (both sides now agree, or only one
        changed since the last sync): run `run_id` found nothing left to settle. A person's resolution is kept."""

        def agreed(stored: Conflict | None) -> Conflict | None:
            if stored is None or stored.state != "open":
                return None
            return stored.model_copy(update={"state": "applied", "runId": run_id})

        self._change(project, dict.fromkeys(conflict_ids, agreed))

    def _of_task(self, project: str, task: str, state: ConflictState) -> list[Conflict]:
        rows = self._table.query_entities(
            "PartitionKey eq @pk and State eq @state and Task eq @task",
            parameters={"pk": encode_key(project), "state": state, "task": task},
        )
        return [load_document(row, Conflict) for row in rows]

    def mark_applied(self, project: str, conflict_ids: Collection[str], run_id: str) -> None:
        """Record that run `run_id` wrote the resolutions of these conflicts (those still settled and unapplied)."""

        def applied(stored: Conflict | None) -> Conflict | None:
            if stored is None or stored.state != "resolved":
                return None
            return stored.model_copy(update={"state": "applied", "runId": run_id})

        self._change(project, dict.fromkeys(conflict_ids, applied))

    def list_run(self, project: str, run_id: str, after: str | None = None, limit: int = PAGE
                 ) -> tuple[list[Conflict], str | None]:
        """The conflicts run `run_id` of `project` saw last, from after the id `after`; and the id to continue
        after, or None on the last page."""
        return self._page(project, "RunId eq @run", {"run": run_id}, after, limit)

    def list_project(self, project: str, state: ConflictState = "open", after: str | None = None,
                     limit: int = PAGE) -> tuple[list[Conflict], str | None]:
        """The open conflicts of `project` (`state` "open"), or the settled ones ("resolved": resolved and
        applied), paged like `list_run`."""
        condition = "State eq 'open'" if state == "open" else "State ne 'open'"
        return self._page(project, condition, {}, after, limit)

    def delete_project(self, project: str) -> int:
        """Forget every conflict of `project`; return how many were deleted."""
        partition = encode_key(project)
        keys = [row["RowKey"] for row in self._table.query_entities(
            "PartitionKey eq @pk", parameters={"pk": partition}, select=["RowKey"])]
        for start in range(0, len(keys), TRANSACTION_ROWS):
            chunk = keys[start : start + TRANSACTION_ROWS]
            self._table.submit_transaction([("delete", {"PartitionKey": partition, "RowKey": k}) for k in chunk])
        return len(keys)

    def _page(self, project: str, condition: str, parameters: dict[str, str], after: str | None, limit: int
              ) -> tuple[list[Conflict], str | None]:
        query = f"PartitionKey eq @pk and RowKey gt @after and {condition}"
        rows = self._table.query_entities(
            query, parameters={"pk": encode_key(project), "after": after or "", **parameters},
            results_per_page=limit + 1,
        )
        found = [load_document(row, Conflict) for row in islice(rows, limit + 1)]
        if len(found) > limit:
            return found[:limit], found[limit - 1].conflictId
        return found, None

    def _change(self, project: str, edits: dict[str, Edit]) -> dict[str, Conflict]:
        """Apply each row's edit to its latest version and write what changed, a transaction per chunk of rows,
        conditional on the versions read; return the conflicts as they now stand."""
        partition = encode_key(project)
        ids = sorted(edits)
        now_standing: dict[str, Conflict] = {}
        for start in range(0, len(ids), TRANSACTION_ROWS):
            chunk = ids[start : start + TRANSACTION_ROWS]
            for _ in range(MAX_ATTEMPTS):
                stored = self._read(partition, chunk)
                standing, operations = _operations(partition, chunk, stored, edits)
                try:
                    for batch in transactions(operations):
                        self._table.submit_transaction(batch)
                except (TableTransactionError, ResourceModifiedError, ResourceExistsError):
                    continue
                now_standing.update(standing)
                break
            else:
                raise RetryableError(f"the conflicts of project {project!r} kept changing while being updated")
        return now_standing

    def _read(self, partition: str, conflict_ids: Sequence[str]) -> dict[str, tuple[Conflict, str]]:
        """The stored conflicts among `conflict_ids`, with their ETags."""
        rows = read_rows(self._table, [(partition, conflict_id) for conflict_id in conflict_ids])
        return {key[1]: (load_document(row, Conflict), row.metadata["etag"]) for key, row in rows.items()}


def _operations(
    partition: str, ids: Sequence[str], stored: dict[str, tuple[Conflict, str]], edits: dict[str, Edit]
) -> tuple[dict[str, Conflict], list[tuple[Any, ...]]]:
    """What the rows of `ids` become and the transaction operations that write them."""
    standing: dict[str, Conflict] = {}
    operations: list[tuple[Any, ...]] = []
    for conflict_id in ids:
        before, etag = stored.get(conflict_id, (None, None))
        after = edits[conflict_id](before)
        if after is None or after == before:
            if before is not None:
                standing[conflict_id] = before
            continue
        standing[conflict_id] = after
        entity = _entity(partition, after)
        if before is None:
            operations.append(("create", entity))
        else:
            operations.append(("update", entity, {"mode": UpdateMode.REPLACE, "etag": etag,
                                                  "match_condition": MatchConditions.IfNotModified}))
    return standing, operations


def _entity(partition: str, conflict: Conflict) -> dict[str, Any]:
    return {
        "PartitionKey": partition,
        "RowKey": conflict.conflictId,
        "State": conflict.state,
        "RunId": conflict.runId,
        "Task": conflict.task,
        **document_properties(conflict, field="conflict"),
    }


def _check_values(conflict: Conflict, resolution: ConflictResolution) -> None:
    """Explicit values settle the conflict's own CDS field, and only it."""
    if resolution.values is None:
        return
    for name in resolution.values:
        if name != conflict.field:
            raise InvalidInput(f"this conflict is over {conflict.field!r}, not {name!r}", field=f"values.{name}")
