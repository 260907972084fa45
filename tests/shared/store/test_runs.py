"""Run records in real tables: by id without a scan, per project newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import AlreadyExists, InvalidInput, NotFound
from shared.models import Run, RunStatus, TaskOutcome
from shared.store import Store

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def run(run_id: str, project: str = "accounts", *, minutes: int = 0) -> Run:
    created = START + timedelta(minutes=minutes)
    return Run(runId=run_id, projectId=project, createdTime=created, lastUpdatedTime=created)


def test_create_then_get(store: Store) -> None:
    store.runs.create(run("run-1"))
    assert store.runs.get("run-1") == run("run-1")


def test_a_taken_run_id_is_refused_even_in_another_project(store: Store) -> None:
    store.runs.create(run("run-1"))
    with pytest.raises(AlreadyExists):
        store.runs.create(run("run-1", "orders", minutes=1))
    assert store.runs.list("orders") == []


def test_unknown_runs_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.runs.get("nope")
    with pytest.raises(NotFound):
        store.runs.update(run("nope"))


def test_update_replaces_the_record(store: Store) -> None:
    store.runs.create(run("run-1"))
    finished = run("run-1").model_copy(
        update={
            "status": RunStatus.WARNING,
            "lastUpdatedTime": START + timedelta(minutes=3),
            "tasks": [TaskOutcome(name="Accounts", status=RunStatus.WARNING, read=10, written=8, skipped=1, failed=1)],
            "message": "1 record failed: ÄÖÜ ✗",
        }
    )
    store.runs.update(finished)
    assert store.runs.get("run-1") == finished
    assert store.runs.list("accounts") == [finished]


def test_list_is_newest_first_and_honours_top(store: Store) -> None:
    for n, minutes in enumerate([5, -10, 30, 0, 1440, 7]):
        store.runs.create(run(f"run-{n}", minutes=minutes))
    store.runs.create(run("other-project", "orders", minutes=9999))
    newest_first = ["run-4", "run-2", "run-5", "run-0", "run-3", "run-1"]
    assert [r.runId for r in store.runs.list("accounts")] == newest_first
    assert [r.runId for r in store.runs.list("accounts", top=3)] == newest_first[:3]
    assert [r.runId for r in store.runs.list("accounts", top=1)] == newest_first[:1]


def test_runs_created_at_the_same_instant_are_all_kept(store: Store) -> None:
    for run_id in ["b", "a", "c"]:
        store.runs.create(run(run_id))
    assert sorted(r.runId for r in store.runs.list("accounts")) == ["a", "b", "c"]


def test_top_must_be_positive(store: Store) -> None:
    with pytest.raises(InvalidInput) as raised:
        store.runs.list("accounts", top=0)
    assert raised.value.field == "top"


def test_an_injection_attempt_in_a_project_finds_nothing(store: Store) -> None:
    store.runs.create(run("run-1"))
    assert store.runs.list("x' or PartitionKey ne '") == []
    with pytest.raises(NotFound):
        store.runs.get("x' or PartitionKey ne '")
