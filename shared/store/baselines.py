"""Baselines of two-way tasks: what each side of a record pair held after the last successful sync.

One row per project, task and pair identity (the CDS business key, shared/twoway/baseline.py):

    PartitionKey  project ! task ! 042      the identity's partition, one of PARTITIONS
    RowKey        the identity text          encoded (shared/store/keys.py); `identity` keeps it whole
    identity cdsKey sourceKey source cds ids state recent runId updatedAt   (nested values as JSON)

and one index row per record id a side gave the pair, so that an id that change tracking reports
deleted leads back to its pair, in one of PARTITIONS partitions by a hash of the id (`id_partition`):

    PartitionKey  project ! task ! ids-source-042   (or ids-cds-042)
    RowKey        the record id (encoded)            `identity` names the pair

A task of 100,000 pairs keeps 200,000 index rows: in one partition per side they would all go
through that partition, which Table Storage serves at about 2,000 entities a second (its target
for one partition), and Azurite looks a row of a partition up by scanning the partition.

and one row per pair whose last write failed, so that an incremental run, which reads only what
changed, tries it again (its keys say where each side holds it when it has no baseline yet):

    PartitionKey  project ! task ! retry
    RowKey        the identity text (encoded)    identity cdsKey sourceKey

A pair's partition is a hash of its identity into PARTITIONS, fixed for good, so that how many
buckets a run cuts a task into (an app setting) never moves a baseline; a run's bucket takes the
partitions `partitions_of_bucket` gives it. Rows are written in entity-group transactions of at
most TRANSACTION_ROWS rows of one partition (several side by side), so a step that crashes mid-way
and runs again rewrites the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, TableErrorCode, TableTransactionError, UpdateMode

from shared.mapping.duplicates import bucket_of
from shared.store.keys import encode_composite, encode_key
from shared.store.point_reads import read_rows
from shared.store.transactions import RESENDABLE, transactions
from shared.twoway.baseline import Baseline
from shared.twoway.values import hashed

PARTITIONS = 256
"""Partitions of a task's baselines: an identity's hash picks one, whatever the run's batching."""
SIDES = ("source", "cds")
COLUMN_BYTES = 60_000
"""Most UTF-16 bytes of a side's values in one column (Table Storage takes 64 KiB a text property): past it,
the longest values are kept as their hashes, which still tell a change (shared/twoway/values.py)."""
POINT_READS = 32
"""Up to this many identities of a partition are read one by one (in parallel); more, by one partition query."""
READ_THREADS = 8
WRITE_THREADS = 8
"""Transactions sent side by side: a merge step saves a bucket's baselines and both sides' id index rows at once."""
NESTED = ("cdsKey", "sourceKey", "source", "cds", "ids")
RETRY = "retry"
RETRY_KEYS = ("cdsKey", "sourceKey")
"""The columns that hold JSON."""


def partition_of(identity_text: str) -> int:
    """The partition of a pair's identity (its compact JSON text), stable across processes and runs."""
    return bucket_of(json.loads(identity_text), PARTITIONS)


def partitions_of_bucket(bucket: int, buckets: int) -> range:
    """The partitions that bucket `bucket` of `buckets` (a run's cut of a task) covers."""
    return range(-(-bucket * PARTITIONS // buckets), -(-(bucket + 1) * PARTITIONS // buckets))


def bucket_of_identity(identity_text: str, buckets: int) -> int:
    """The bucket of `buckets` a pair's identity falls in (the one whose partitions hold its baseline)."""
    return partition_of(identity_text) * buckets // PARTITIONS


class BaselineRepository:
    """The baselines of two-way tasks, with an index from each side's record ids to their pairs."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    def get_many(self, project: str, task: str, bucket: int, identities: Iterable[str]) -> dict[str, Baseline]:
        """The baselines of `identities` (identity texts) in partition `bucket`, by identity text."""
        wanted = set(identities)
        return self._read_wanted(project, task, {bucket: wanted} if wanted else {})

    def get_all(self, project: str, task: str, identities: Iterable[str]) -> dict[str, Baseline]:
        """The baselines of `identities` (identity texts, of any partitions), by identity text."""
        by_partition: dict[int, set[str]] = {}
        for identity in identities:
            by_partition.setdefault(partition_of(identity), set()).add(identity)
        return self._read_wanted(project, task, by_partition)

    def _read_wanted(self, project: str, task: str, by_partition: Mapping[int, set[str]]) -> dict[str, Baseline]:
        """Up to POINT_READS identities of a partition read one by one, more by one partition query; all the reads
        READ_THREADS side by side."""
        reads: list[Callable[[], list[Baseline]]] = []
        for number, wanted in by_partition.items():
            partition = _partition(project, task, f"{number:03d}")
            if len(wanted) > POINT_READS:
                reads.append(partial(self._query_wanted, partition, wanted))
            else:
                reads.extend(partial(self._point_read, partition, identity) for identity in sorted(wanted))
        if not reads:
            return {}
        with ThreadPoolExecutor(min(READ_THREADS, len(reads)), thread_name_prefix="baseline") as pool:
            return {b.identity: b for found in pool.map(lambda read: read(), reads) for b in found}

    def read_bucket(self, project: str, task: str, bucket: int) -> Iterator[Baseline]:
        """Every baseline of partition `bucket` of the task."""
        return self._query(_partition(project, task, f"{bucket:03d}"))

    def save_many(self, project: str, task: str, baselines: Iterable[Baseline],
                  replaced: Mapping[str, Baseline] | None = None) -> None:
        """Upsert `baselines` with their id index rows; drop index rows of ids a pair no longer has.

        `replaced` holds the pairs' baselines as they were (by identity text), whose ids are compared.
        """
        before = replaced or {}
        rows: list[tuple[str, dict[str, Any]]] = []
        for baseline in baselines:
            rows.append(("upsert", _row(project, task, baseline)))
            old_ids = before[baseline.identity].ids if baseline.identity in before else {}
            for side in SIDES:
                new, old = baseline.ids.get(side), old_ids.get(side)
                if old is not None and old != new:
                    rows.append(("delete", _index_key(project, task, side, old)))
                if new is not None and new != old:
                    rows.append(("upsert", _index_row(project, task, side, new, baseline.identity)))
        self._submit(rows)

    def delete_many(self, project: str, task: str, baselines: Iterable[Baseline]) -> None:
        """Remove `baselines` and their id index rows (a row already gone is no error)."""
        rows: list[tuple[str, dict[str, Any]]] = []
        for baseline in baselines:
            rows.append(("delete", _key(project, task, baseline.identity)))
            rows.extend(("delete", _index_key(project, task, side, record_id))
                        for side, record_id in baseline.ids.items() if record_id is not None)
        self._submit(rows)

    def identities_of_ids(self, project: str, task: str, side: str, ids: Iterable[str]) -> dict[str, str]:
        """The identity text of the pair each of `ids` (record ids of `side`) belongs to, where it has one."""
        by_key = {}
        for record_id in ids:
            key = _index_key(project, task, side, record_id)
            by_key[key["PartitionKey"], key["RowKey"]] = record_id
        rows = read_rows(self._table, by_key, select=["identity"])
        return {by_key[key]: row["identity"] for key, row in rows.items()}

    def retries(self, project: str, task: str) -> dict[str, dict[str, Any]]:
        """The pairs whose last write failed, by identity text: `{"cdsKey", "sourceKey"}` of each."""
        rows = self._table.query_entities("PartitionKey eq @pk", parameters={"pk": _partition(project, task, RETRY)})
        return {row["identity"]: {name: json.loads(row[name]) for name in RETRY_KEYS} for row in rows}

    def keep_retries(self, project: str, task: str, failed: Mapping[str, Mapping[str, Any]],
                     settled: Iterable[str]) -> None:
        """Remember the pairs `failed` (identity text -> their keys) for the next run; forget those `settled`."""
        partition = _partition(project, task, RETRY)
        rows: list[tuple[str, dict[str, Any]]] = [
            ("delete", {"PartitionKey": partition, "RowKey": encode_key(identity)}) for identity in settled]
        rows += [("upsert", {"PartitionKey": partition, "RowKey": encode_key(identity), "identity": identity,
                             **{name: json.dumps(keys[name], ensure_ascii=False) for name in RETRY_KEYS}})
                 for identity, keys in failed.items()]
        self._submit(rows)

    def delete_task(self, project: str, task: str) -> int:
        """Forget every baseline, index and retry row of a task; return how many rows went."""
        names = [f"{p:03d}" for p in range(PARTITIONS)] + [RETRY] + [
            _index_part(side, p) for side in SIDES for p in range(PARTITIONS)]

        def empty(name: str) -> int:
            partition = _partition(project, task, name)
            keys = [row["RowKey"] for row in self._table.query_entities(
                "PartitionKey eq @pk", parameters={"pk": partition}, select=["RowKey"])]
            for chunk in transactions(("delete", {"PartitionKey": partition, "RowKey": key}) for key in keys):
                self._submit_one(chunk)
            return len(keys)

        with ThreadPoolExecutor(READ_THREADS, thread_name_prefix="baseline") as pool:
            return sum(pool.map(empty, names))

    def _point_read(self, partition: str, identity: str) -> list[Baseline]:
        try:
            return [_baseline(self._table.get_entity(partition, encode_key(identity)))]
        except ResourceNotFoundError:
            return []

    def _query_wanted(self, partition: str, wanted: set[str]) -> list[Baseline]:
        return [b for b in self._query(partition) if b.identity in wanted]

    def _query(self, partition: str) -> Iterator[Baseline]:
        for row in self._table.query_entities("PartitionKey eq @pk", parameters={"pk": partition}):
            yield _baseline(row)

    def _submit(self, operations: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Run `operations` in transactions, each of one partition and within Table Storage's limits.

        A row appears once per transaction (Table Storage refuses a second operation on it), the last wins.
        """
        by_partition: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}
        for operation in operations:
            row = operation[1]
            by_partition.setdefault(row["PartitionKey"], {})[row["RowKey"]] = operation
        chunks = [c for rows in by_partition.values() for c in transactions(rows.values())]
        if len(chunks) <= 1:
            for chunk in chunks:
                self._submit_one(chunk)
            return
        with ThreadPoolExecutor(min(WRITE_THREADS, len(chunks)), thread_name_prefix="baseline") as pool:
            list(pool.map(self._submit_one, chunks))  # list(): raise the first failure

    def _submit_one(self, chunk: list[tuple[str, dict[str, Any]]]) -> None:
        upserts = [(kind, row, {"mode": UpdateMode.REPLACE}) if kind == "upsert" else (kind, row)
                   for kind, row in chunk]
        try:
            self._table.submit_transaction(upserts, **RESENDABLE)
        except TableTransactionError as failure:
            # a delete of a row already gone fails the whole transaction: do the chunk row by row
            if failure.error_code != TableErrorCode.RESOURCE_NOT_FOUND:
                raise
            for kind, row in chunk:
                if kind == "upsert":
                    self._table.upsert_entity(row, mode=UpdateMode.REPLACE)
                else:
                    self._table.delete_entity(row["PartitionKey"], row["RowKey"])


def _partition(project: str, task: str, part: str) -> str:
    return encode_composite([project, task, part])


def _key(project: str, task: str, identity: str) -> dict[str, str]:
    return {"PartitionKey": _partition(project, task, f"{partition_of(identity):03d}"),
            "RowKey": encode_key(identity)}


def id_partition(record_id: str) -> int:
    """The partition of a record id's index row, stable across processes and runs."""
    return bucket_of([record_id], PARTITIONS)


def _index_part(side: str, partition: int) -> str:
    return f"ids-{side}-{partition:03d}"


def _index_key(project: str, task: str, side: str, record_id: str) -> dict[str, str]:
    return {"PartitionKey": _partition(project, task, _index_part(side, id_partition(record_id))),
            "RowKey": encode_key(record_id)}


def _index_row(project: str, task: str, side: str, record_id: str, identity: str) -> dict[str, str]:
    return {**_index_key(project, task, side, record_id), "identity": identity}


def _row(project: str, task: str, baseline: Baseline) -> dict[str, Any]:
    document = baseline.to_json()
    columns = {name: _text(value) if name in NESTED else value for name, value in document.items()}
    for side in SIDES:
        if len(columns[side]) * 4 > COLUMN_BYTES:  # may not fit (UTF-16 takes at most 4 bytes a character)
            columns[side] = _text(hashed(document[side], COLUMN_BYTES))
    return {**columns, **_key(project, task, baseline.identity)}


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _baseline(row: Mapping[str, Any]) -> Baseline:
    document = {name: json.loads(value) if name in NESTED else value for name, value in row.items()
                if name not in ("PartitionKey", "RowKey") and not name.startswith("odata")}
    return Baseline.from_json(document)
