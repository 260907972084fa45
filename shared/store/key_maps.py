"""Key maps: which target record stands for which source record, for tasks without a business key.

One partition per project, task and leg; the row key is the source id, the row holds the target
id. A two-way task keeps both directions: its `sourceToCds` rows give the CDS id of a source id,
its `cdsToSource` rows the source id of a CDS id. A target id is derived from the source id (a
name-based UUID), and the row is written before the target is, so a step that crashes and runs
again finds or derives the same id and updates the same target: never a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient, TableTransactionError

from shared.store.keys import SEPARATOR, encode_composite, encode_key
from shared.store.point_reads import read_rows
from shared.store.transactions import RESENDABLE

NAMESPACE = uuid.UUID("5b0f7d1e-8c3a-4f7e-9d26-0a6e3c1b2f48")
WRITE_CHUNK = 100


def derived_id(project: str, task: str, leg: str, source_id: str) -> str:
    """The target id a source record gets when the key map has none for it yet."""
    return str(uuid.uuid5(NAMESPACE, "\n".join((project, task, leg, source_id))))


class KeyMapRepository:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    def resolve(self, project: str, task: str, leg: str, source_ids: Sequence[str]) -> dict[str, str]:
        """The target id of every source id, recording new pairs before anything is written to a target."""
        partition = encode_composite([project, task, leg])
        wanted = sorted(set(source_ids))
        found = self._read(partition, wanted)
        missing = [s for s in wanted if s not in found]
        for start in range(0, len(missing), WRITE_CHUNK):
            created = {s: derived_id(project, task, leg, s) for s in missing[start : start + WRITE_CHUNK]}
            try:
                self._table.submit_transaction([("create", _row(partition, s, t)) for s, t in created.items()],
                                                **RESENDABLE)
            except (TableTransactionError, ResourceExistsError):
                for source_id, target_id in created.items():
                    with suppress(ResourceExistsError):
                        self._table.create_entity(_row(partition, source_id, target_id))
                created = self._read(partition, list(created))
            found.update(created)
        return found

    def lookup(self, project: str, task: str, leg: str, source_ids: Sequence[str]) -> dict[str, str]:
        """The target id of each source id the key map holds (the others are left out); records nothing."""
        return self._read(encode_composite([project, task, leg]), sorted(set(source_ids)))

    def record(self, project: str, task: str, leg: str, pairs: dict[str, str]) -> None:
        """Record each source id's target id (`pairs`), as they are, before anything is written to a target."""
        partition = encode_composite([project, task, leg])
        rows = sorted(pairs.items())
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start : start + WRITE_CHUNK]
            self._table.submit_transaction([("upsert", _row(partition, s, t)) for s, t in chunk], **RESENDABLE)

    def count(self, project: str, task: str, leg: str) -> int:
        """How many source records of this task's leg have a target."""
        partition = encode_composite([project, task, leg])
        rows = self._table.query_entities("PartitionKey eq @pk", parameters={"pk": partition}, select=["RowKey"])
        return sum(1 for _ in rows)

    def delete_project(self, project: str) -> int:
        """Forget every pair of every task and leg `project` ever had; return how many rows were deleted.

        A project's partitions all start with its encoded name and the separator (a project name
        is short, so its partition keys are never shortened before it), tasks it no longer has
        included.
        """
        prefix = encode_key(project) + SEPARATOR
        rows = self._table.query_entities(
            "PartitionKey ge @low and PartitionKey lt @high",
            parameters={"low": prefix, "high": prefix[:-1] + chr(ord(SEPARATOR) + 1)},
            select=["PartitionKey", "RowKey"],
        )
        by_partition: dict[str, list[str]] = {}
        for row in rows:
            by_partition.setdefault(row["PartitionKey"], []).append(row["RowKey"])
        for partition, keys in by_partition.items():
            for start in range(0, len(keys), WRITE_CHUNK):
                # a transaction holds one partition's rows, at most 100 of them
                chunk = keys[start : start + WRITE_CHUNK]
                self._table.submit_transaction([("delete", {"PartitionKey": partition, "RowKey": k}) for k in chunk])
        return sum(len(keys) for keys in by_partition.values())

    def _read(self, partition: str, source_ids: Sequence[str]) -> dict[str, str]:
        by_key = {(partition, encode_key(source_id)): source_id for source_id in source_ids}
        rows = read_rows(self._table, by_key, select=["TargetId"])
        return {by_key[key]: row["TargetId"] for key, row in rows.items()}


def _row(partition: str, source_id: str, target_id: str) -> dict[str, str]:
    return {"PartitionKey": partition, "RowKey": encode_key(source_id), "TargetId": target_id}
