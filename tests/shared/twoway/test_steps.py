"""The steps of a two-way task against Azurite and two in-memory systems: what the twin cannot easily show.

A system that refuses deletes, a pair held by the circuit breaker, a step run twice, a dry run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from shared.connectors.base import Connector, EntityInfo, FieldInfo, Page, ReadRequest, WriteResult
from shared.models import Connection
from shared.store import Store
from shared.store.baselines import partition_of
from shared.sync.batching import Batching
from shared.sync.workspace import RunWorkspace
from shared.twoway.extract import extract_side
from shared.twoway.steps import merge_range

RUN = "r20261130000000aaaaaaaa"
BATCHING = Batching(page_size=10, pages_per_step=1, pages_per_window=2, key_buckets=1)
FIELDS = ("accountid", "accountnumber", "name", "modifiedon")


class Memory(Connector):
    """One entity set of records kept in memory, matched by `accountnumber`, ids `id-<number>`."""

    def __init__(self, records: Sequence[dict[str, Any]] = (), refuse_deletes: bool = False) -> None:
        self.records = {r["accountnumber"]: {**r, "accountid": f"id-{r['accountnumber']}"} for r in records}
        self.refuse_deletes = refuse_deletes
        self.writes = 0

    def describe(self, entity: str) -> EntityInfo:
        return EntityInfo(entity, entity, "accountid", {f: FieldInfo(f, "string") for f in FIELDS},
                          [["accountnumber"]], modified_field="modifiedon")

    def read_pages(self, request: ReadRequest) -> Iterator[Page]:
        records = sorted(self.records.values(), key=lambda r: r["accountnumber"])
        start = int(request.resume or 0)
        end = start + request.page_size
        yield Page(records=[dict(r) for r in records[start:end]], next=str(end) if end < len(records) else None)

    def read_by_keys(self, entity: str, key_fields: Sequence[str], keys: Sequence[Sequence[Any]],
                     select: list[str] | None = None, expand: Mapping[str, list[str]] | None = None,
                     ) -> list[dict[str, Any] | None]:
        return [dict(self.records[k[0]]) if k[0] in self.records else None for k in keys]

    def write_batch(self, entity: str, key: Sequence[str], records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        for record in records:
            number = record["accountnumber"]
            self.records[number] = {**self.records.get(number, {"accountid": f"id-{number}"}), **record}
            self.writes += 1
        return [WriteResult("upserted") for _ in records]

    def delete_by_keys(self, entity: str, key_fields: Sequence[str], keys: Sequence[Sequence[Any]]
                       ) -> list[WriteResult]:
        if self.refuse_deletes:
            return [WriteResult("failed", "DeleteUnsupported", "this system keeps its records") for _ in keys]
        for key in keys:
            self.records.pop(key[0], None)
        return [WriteResult("deleted") for _ in keys]


def project(**policies: str) -> dict[str, Any]:
    return {"name": "p", "connections": {"source": "sales", "cds": "cds"}, "tasks": [{
        "name": "Accounts", "direction": "bidirectional", **policies,
        "source": {"entity": "accounts", "key": ["accountnumber"]},
        "cds": {"entity": "accounts", "key": ["accountnumber"]},
        "sourceToCds": [{"source": "accountnumber", "target": "accountnumber"}, {"source": "name", "target": "name"}],
    }]}


def account(n: int, name: str | None = None) -> dict[str, Any]:
    return {"accountnumber": f"A-{n}", "name": name or f"Account {n}", "modifiedon": "2026-01-01T00:00:00Z"}


class Run:
    """Runs of one two-way task between `source` and `cds`, step by step, as the orchestrator calls them."""

    def __init__(self, store: Store, source: Memory, cds: Memory, **policies: str) -> None:
        self.store, self.systems, self.policies = store, {"sales": source, "cds": cds}, policies
        self.number = 0

    def __call__(self, dry_run: bool = False) -> dict[str, Any]:
        self.number += 1
        run_id = f"{RUN[:-2]}{self.number:02d}"
        self.store.run_lock.acquire("p", run_id)
        connections = {role: {"kind": "dataverse", "url": f"http://127.0.0.1/{role}", "auth": {"type": "none"}}
                       for role in ("sales", "cds")}
        snapshot = {"project": project(**self.policies), "connections": {"source": connections["sales"],
                                                                          "cds": connections["cds"]}}
        workspace = RunWorkspace(run_id, snapshot, self._connector)
        for side in ("source", "cds"):
            step, resume = 1, None
            while True:
                chunk = extract_side(self.store, workspace, "Accounts", side, "full", resume, step, BATCHING)
                step, resume = step + 1, chunk["next"]
                if resume is None:
                    break
        counts = merge_range(self.store, workspace, "p", "Accounts", 0, 0, 1, "full", dry_run, "2026-11-30T10:00:00Z")
        self.store.run_lock.release("p", run_id)
        return counts

    def _connector(self, connection: Connection) -> Connector:
        return self.systems[connection.url.rsplit("/", 1)[-1]]


@pytest.fixture
def store(storage) -> Iterator[Store]:
    with Store(storage) as opened:
        yield opened


def baseline_of(store: Store, number: str) -> Any:
    identity = f'["{number.casefold()}"]'
    return store.baselines.get_many("p", "Accounts", partition_of(identity), [identity]).get(identity)


def test_a_refused_delete_fails_the_record_and_keeps_the_pair_for_the_next_run(store: Store) -> None:
    source, cds = Memory([account(n) for n in range(3)]), Memory(refuse_deletes=True)
    run = Run(store, source, cds, deletes="propagate")
    assert run()["sourceToCds"]["written"] == 3 and len(cds.records) == 3
    del source.records["A-1"]
    counts = run()
    assert (counts["cdsToSource"]["failed"], counts["sourceToCds"]["deleted"]) == (1, 0)
    assert "A-1" in cds.records and baseline_of(store, "A-1") is not None
    [error] = store.errors.read_page(store.errors.list_pages(f"{RUN[:-2]}02")[0])
    assert (error["leg"], error["code"], error["businessKey"]) == ("cdsToSource", "DeleteUnsupported",
                                                                    {"accountnumber": "A-1"})


def test_a_pair_written_in_alternating_directions_run_after_run_is_held(store: Store) -> None:
    source, cds = Memory([account(1)]), Memory()
    run = Run(store, source, cds)
    run()
    looping = replace(baseline_of(store, "A-1"), recent="SCSC")
    store.baselines.save_many("p", "Accounts", [looping])
    source.records["A-1"]["name"] = "Once more"
    counts = run()
    assert counts["sourceToCds"]["skippedReasons"] == {"loop-held": 1} and cds.records["A-1"]["name"] == "Account 1"


def test_a_merge_step_run_twice_writes_once_and_a_dry_run_writes_nothing(store: Store) -> None:
    source, cds = Memory([account(n) for n in range(4)]), Memory()
    run = Run(store, source, cds)
    dry = run(dry_run=True)
    assert dry["sourceToCds"]["written"] == 4 and cds.records == {} and baseline_of(store, "A-2") is None
    first = run()
    assert first["sourceToCds"]["written"] == 4 and cds.writes == 4
    again = run()
    assert (again["sourceToCds"]["written"], again["cdsToSource"]["written"], cds.writes) == (0, 0, 4)
    assert again["sourceToCds"]["skippedReasons"] == {"in-sync": 4}
