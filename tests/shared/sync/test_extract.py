"""Extraction in steps: a leg read in one step finds its duplicates itself, one read in several leaves
that to `find_duplicates`, and both answers are the same."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.process import SandboxProcess
from shared.connectors import build_connector
from shared.models import Connection, ProjectDefinition
from shared.store import Store
from shared.sync.dedupe import duplicates_document, find_duplicates
from shared.sync.extract import extract_chunk
from shared.sync.workspace import Workspaces, take_snapshot
from tests.shared.sync.conftest import dataverse_with_accounts

ACCOUNTS = [f"A-{n:03d}" for n in range(12)]
ACCOUNTS[9] = " a-002 "


@pytest.fixture(scope="module")
def sales() -> Iterator[SandboxProcess]:
    with dataverse_with_accounts(ACCOUNTS) as server:
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


def extract(store: Store, spaces: Workspaces, run_id: str, max_pages: int) -> list[dict[str, Any]]:
    steps, resume, first_page = [], None, 1
    while True:
        step = extract_chunk(store, spaces.get(run_id), "Accounts", "sourceToCds", "full", resume, first_page,
                             page_size=3, max_pages=max_pages, read_size=5)
        steps.append(step)
        first_page += len(step["pages"])
        resume = step["next"]
        if resume is None:
            return steps


def test_one_step_finds_the_duplicates_that_several_steps_leave_to_find_duplicates(store: Store, sales) -> None:
    in_one = extract(store, workspaces(store, sales, "run-one"), "run-one", max_pages=50)
    assert [(s["pages"], s["indexed"]) for s in in_one] == [([1, 2, 3, 4, 5], True)]

    in_steps = extract(store, workspaces(store, sales, "run-steps"), "run-steps", max_pages=2)
    assert [s["pages"] for s in in_steps] == [[1, 2], [3, 4], [5]]
    assert not any(s["indexed"] for s in in_steps)
    assert find_duplicates(store, "run-steps", "Accounts", "sourceToCds") == {"duplicates": 1}

    document = duplicates_document("Accounts", "sourceToCds")
    superseded = store.staging.read_document("run-one", document)
    assert superseded == store.staging.read_document("run-steps", document) == {"1": [2]}
