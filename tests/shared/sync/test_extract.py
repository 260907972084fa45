"""Extraction in steps: a leg read in one step resolves its duplicates itself, one read in several keeps
its keys in hash buckets for `resolve_bucket`; both find the same winners, the most recently modified."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.process import SandboxProcess, start_sandbox
from shared.connectors import build_connector
from shared.connectors.blobfiles import BlobFilesConnector
from shared.mapping.duplicates import LATER, NEWER
from shared.models import Connection, ProjectDefinition
from shared.store import Store
from shared.store.run_staging import PageState
from shared.sync.batching import Batching
from shared.sync.dedupe import resolve_bucket
from shared.sync.extract import extract_chunk
from shared.sync.workspace import Workspaces, take_snapshot

# (number, modified): A-002 three times, the newest first in read order; A-005 twice at the same moment
ACCOUNTS = [(f"A-{n:03d}", f"2026-01-01T00:00:{n:02d}Z") for n in range(12)]
ACCOUNTS[2] = ("A-002", "2026-03-01T00:00:00Z")
ACCOUNTS[7] = (" a-002 ", "2026-02-01T00:00:00Z")
ACCOUNTS[10] = (" A-005", ACCOUNTS[5][1])
ACCOUNTS[11] = ("A-002 ", "2026-02-15T10:00:00+01:00")
EXPECTED = {2: {2: LATER}, 3: {1: NEWER}, 4: {2: NEWER}}
"""Page (of 3 records, from 1) -> row -> why: A-005 (record 5) loses to record 10 (same time, read later); the
later A-002s (records 7 and 11) lose to record 2, modified more recently (record 11 is 09:00 UTC on Feb 15)."""


@pytest.fixture(scope="module")
def sales() -> Iterator[SandboxProcess]:
    with start_sandbox("dataverse") as server:
        records = [{"accountid": f"00000000-0000-0000-0000-{n:012d}", "accountnumber": number, "name": f"Account {n}",
                    "modifiedon": modified} for n, (number, modified) in enumerate(ACCOUNTS)]
        requests.post(f"{server.url}/_sandbox/records/accounts", json=records, timeout=30).raise_for_status()
        yield server


def workspaces(store: Store, sales: SandboxProcess, run_id: str) -> Workspaces:
    store.connections.put("sales", Connection.model_validate({"kind": "dataverse", "url": sales.url,
                                                              "auth": {"type": "none"}}))
    endpoint = {"entity": "accounts", "key": ["accountnumber"]}
    project = ProjectDefinition.model_validate({
        "name": "steps", "connections": {"source": "sales", "cds": "sales"},
        "tasks": [{"name": "Accounts", "source": endpoint, "cds": endpoint, "sourceToCds": [
            {"source": "accountnumber", "target": "accountnumber"}, {"source": "name", "target": "name"}]}],
    })
    take_snapshot(store, run_id, project)
    return Workspaces(store, build_connector)


def extract(store: Store, spaces: Workspaces, run_id: str, batching: Batching) -> list[dict[str, Any]]:
    steps, resume, first_page = [], None, 1
    while True:
        step = extract_chunk(store, spaces.get(run_id), "Accounts", "sourceToCds", "full", resume, first_page,
                             batching=batching)
        steps.append(step)
        first_page += step["pages"]
        resume = step["next"]
        if resume is None:
            return steps


def superseded(store: Store, run_id: str) -> dict[int, dict[int, str]]:
    return store.run_staging(run_id).leg("Accounts", "sourceToCds").superseded_group(0)


def test_one_step_and_several_steps_with_buckets_find_the_same_newest_records(store: Store, sales) -> None:
    in_one = extract(store, workspaces(store, sales, "run-one"), "run-one", Batching(page_size=3))
    assert [(s["pages"], s["read"], s["indexed"]) for s in in_one] == [(4, 12, True)]
    assert superseded(store, "run-one") == EXPECTED

    batching = Batching(page_size=3, pages_per_step=2, key_buckets=3)
    in_steps = extract(store, workspaces(store, sales, "run-steps"), "run-steps", batching)
    assert [(s["pages"], s["indexed"]) for s in in_steps] == [(2, False), (2, False)]
    assert superseded(store, "run-steps") == {}
    found = [resolve_bucket(store, "run-steps", "Accounts", "sourceToCds", b)["duplicates"] for b in range(3)]
    assert sum(found) == 3 and found.count(0) >= 1
    assert superseded(store, "run-steps") == EXPECTED


def test_pages_show_their_state_where_they_are_stored(store: Store, sales) -> None:
    extract(store, workspaces(store, sales, "run-states"), "run-states", Batching(page_size=5))
    staging = store.run_staging("run-states").leg("Accounts", "sourceToCds")
    assert staging.page_states() == {1: {"state": "extracted", "records": "5"}, 2: {"state": "extracted", "records": "5"},
                                     3: {"state": "extracted", "records": "2"}}
    staging.mark_page(2, PageState.LOADED, {"written": 4, "skipped": 1})
    staging.mark_page(3, PageState.FAILED, reason="SystemUnavailable: the target answered 503 «busy»")
    states = staging.page_states()
    assert states[2] == {"state": "loaded", "written": "4", "skipped": "1"}
    assert states[3] == {"state": "failed", "reason": "SystemUnavailable: the target answered 503 \\xabbusy\\xbb"}


def test_a_first_step_that_runs_again_starts_the_leg_afresh(store: Store, sales) -> None:
    spaces = workspaces(store, sales, "run-again")
    batching = Batching(page_size=3, pages_per_step=2, key_buckets=2)
    extract(store, spaces, "run-again", batching)
    for bucket in range(2):
        resolve_bucket(store, "run-again", "Accounts", "sourceToCds", bucket)
    extract_chunk(store, spaces.get("run-again"), "Accounts", "sourceToCds", "full", None, 1,
                  batching=Batching(page_size=12))
    staging = store.run_staging("run-again").leg("Accounts", "sourceToCds")
    assert list(staging.page_states()) == [1]
    assert superseded(store, "run-again") == {1: {5: LATER, 7: NEWER, 11: NEWER}}


def test_failed_records_are_read_again_one_error_page_a_step(store: Store, sales) -> None:
    spaces = workspaces(store, sales, "run-retry")
    records = requests.get(f"{sales.url}/_sandbox/records/accounts", timeout=30).json()
    by_number = {r["accountnumber"]: r for r in records}
    for page, numbers in enumerate((["A-000", "A-001"], ["A-003"], ["A-004", "A-006"]), start=1):
        errors = [{"record": {**by_number[n], "name": "as it failed"}} for n in numbers]
        store.errors.write_page("run-failed", "Accounts", "sourceToCds", page, errors)
    steps, resume, first_page = [], None, 1
    while True:
        step = extract_chunk(store, spaces.get("run-retry"), "Accounts", "sourceToCds", "failedOnly", resume,
                             first_page, "run-failed", Batching(page_size=2, pages_per_step=1))
        steps.append(step)
        first_page, resume = first_page + step["pages"], step["next"]
        if resume is None:
            break
    assert [(s["pages"], s["read"]) for s in steps] == [(1, 2), (1, 1), (1, 2)]
    staging = store.run_staging("run-retry").leg("Accounts", "sourceToCds")
    staged = [record for page in (1, 2, 3) for record in staging.read_page(page)]
    assert sorted(r["accountnumber"] for r in staged) == ["A-000", "A-001", "A-003", "A-004", "A-006"]
    assert {r["name"] for r in staged} == {f"Account {n}" for n in (0, 1, 3, 4, 6)}  # as the source holds them now


def test_failed_records_of_files_are_read_again_as_the_files_hold_them_now(store: Store, storage, sales) -> None:
    container = f"files-{storage.table_prefix.lower()}"
    store._clients._blob_service().create_container(container)
    files = store.files(container)
    files.write("imports/accounts/part-1.jsonl", b'{"accountnumber": "F-1", "name": "as it failed"}\n'
                                                 b'{"accountnumber": "F-2", "name": "untouched"}\n', "x")
    files.write("imports/accounts/part-2.jsonl", b'{"accountnumber": "F-1", "name": "fixed since"}\n', "x")
    store.connections.put("files", Connection.model_validate(
        {"kind": "blob", "url": f"https://account.blob.core.windows.net/{container}", "auth": {"type": "managedIdentity"}}))
    store.connections.put("sales", Connection.model_validate({"kind": "dataverse", "url": sales.url,
                                                              "auth": {"type": "none"}}))
    endpoint = {"entity": "accounts", "key": ["accountnumber"]}
    take_snapshot(store, "run-files", ProjectDefinition.model_validate({
        "name": "files", "connections": {"source": "files", "cds": "sales"},
        "tasks": [{"name": "Accounts", "source": {"entity": "imports/accounts/", "key": ["accountnumber"]},
                   "cds": endpoint, "sourceToCds": [{"source": "accountnumber", "target": "accountnumber"},
                                                    {"source": "name", "target": "name"}]}],
    }))
    store.errors.write_page("run-failed", "Accounts", "sourceToCds", 1, [
        {"record": {"accountnumber": n, "name": "as it failed"}} for n in ("F-1", "F-9")])
    spaces = Workspaces(store, lambda c: BlobFilesConnector(files) if c.kind == "blob" else build_connector(c))
    step = extract_chunk(store, spaces.get("run-files"), "Accounts", "sourceToCds", "failedOnly", None, 1,
                         "run-failed")
    assert (step["pages"], step["read"]) == (1, 1)
    staged = store.run_staging("run-files").leg("Accounts", "sourceToCds").read_page(1)
    assert staged == [{"accountnumber": "F-1", "name": "fixed since"}]
