"""Conflicts: one row per pair and field, open until settled, applied once; a settled one survives being seen again."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest

from shared.errors import Conflict as AlreadySettled
from shared.errors import InvalidInput, NotFound
from shared.models import Conflict, ConflictResolution, conflict_id
from tests.shared.store.awkward import AWKWARD

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def seen(key: str, run_id: str = "run-1", field: str = "name", task: str = "Accounts", cds: str = "Cds") -> Conflict:
    return Conflict(
        task=task, identity=json.dumps([key.strip().casefold()], ensure_ascii=False, separators=(",", ":")),
        businessKey={"accountnumber": key}, field=field, sourceField=field, baseline="Old",
        source={"value": "Src", "changedOn": "2026-11-29T08:00:00Z"}, cds={"value": cds, "changedOn": None},
        runId=run_id,
    )


def test_a_conflict_seen_again_is_the_same_row_with_what_the_later_run_saw(store) -> None:
    store.conflicts.put_open("p", [seen("A-1"), seen("A-1", field="telephone1")])
    store.conflicts.put_open("p", [seen("A-1", run_id="run-2", cds="Newer")])
    later = store.conflicts.get("p", conflict_id("Accounts", '["a-1"]', "name"))
    assert (later.runId, later.cds.value, later.state) == ("run-2", "Newer", "open")
    assert [c.field for c in store.conflicts.list_run("p", "run-1")[0]] == ["telephone1"]
    assert {c.field for c in store.conflicts.list_project("p")[0]} == {"name", "telephone1"}
    assert store.conflicts.list_project("other")[0] == []


def test_settling_then_applying_and_what_a_later_run_sees(store) -> None:
    conflict = seen("A-1")
    store.conflicts.put_open("p", [conflict, seen("B-2")])
    settled = store.conflicts.resolve("p", conflict.conflictId, ConflictResolution(take="source"), NOW)
    assert (settled.state, settled.resolution, settled.resolvedAt) == ("resolved", ConflictResolution(take="source"), NOW)
    assert [(c.identity, c.field, c.resolution) for c in store.conflicts.settled("p", "Accounts")] == [
        ('["a-1"]', "name", ConflictResolution(take="source"))]
    assert store.conflicts.settled("p", "Contacts") == []
    # a run that could not write the resolution sees the conflict again: the resolution stays
    store.conflicts.put_open("p", [seen("A-1", run_id="run-2", cds="Again")])
    kept = store.conflicts.get("p", conflict.conflictId)
    assert (kept.state, kept.resolution, kept.cds.value, kept.runId) == (
        "resolved", ConflictResolution(take="source"), "Again", "run-2")
    assert [c.conflictId for c in store.conflicts.list_project("p", "resolved")[0]] == [conflict.conflictId]
    store.conflicts.mark_applied("p", [conflict.conflictId, seen("B-2").conflictId, "0" * 32], "run-3")
    applied = store.conflicts.get("p", conflict.conflictId)
    assert (applied.state, applied.runId) == ("applied", "run-3")
    assert store.conflicts.get("p", seen("B-2").conflictId).state == "open"
    assert store.conflicts.settled("p", "Accounts") == []
    with pytest.raises(AlreadySettled):
        store.conflicts.resolve("p", conflict.conflictId, ConflictResolution(take="cds"), NOW)
    # both sides changed again later: a new conflict over the same field opens, without the old resolution
    store.conflicts.put_open("p", [seen("A-1", run_id="run-4")])
    reopened = store.conflicts.get("p", conflict.conflictId)
    assert (reopened.state, reopened.resolution, reopened.resolvedAt) == ("open", None, None)


def test_explicit_values_settle_the_conflicts_own_field_only(store) -> None:
    conflict = seen("A-1")
    store.conflicts.put_open("p", [conflict])
    with pytest.raises(InvalidInput) as refused:
        store.conflicts.resolve("p", conflict.conflictId, ConflictResolution(values={"telephone1": "1"}), NOW)
    assert refused.value.field == "values.telephone1"
    assert store.conflicts.get("p", conflict.conflictId).state == "open"
    given = store.conflicts.resolve("p", conflict.conflictId, ConflictResolution(values={"name": "Both"}), NOW)
    assert given.resolution == ConflictResolution(values={"name": "Both"})
    with pytest.raises(NotFound):
        store.conflicts.resolve("p", "f" * 32, ConflictResolution(take="cds"), NOW)


def test_pages_follow_each_other_without_gaps_or_repeats(store) -> None:
    conflicts = [seen(f"K-{n}") for n in range(230)]
    store.conflicts.put_open("p", conflicts)
    found, after = [], None
    while True:
        page, after = store.conflicts.list_project("p", after=after, limit=100)
        found += [c.conflictId for c in page]
        if after is None:
            break
    assert len(found) == 230 and found == sorted({c.conflictId for c in conflicts})


def test_awkward_projects_keys_and_tasks_round_trip_and_stay_apart(store) -> None:
    conflicts = [seen(key, task="Kunden \"A/B\" #1? 表") for key in AWKWARD if key.strip()]
    for project in ("p", "p.x", "p_x"):
        store.conflicts.put_open(project, conflicts[:3] if project != "p" else conflicts)
    listed = store.conflicts.list_project("p", limit=1000)[0]
    assert sorted(c.businessKey["accountnumber"] for c in listed) == sorted(k for k in AWKWARD if k.strip())
    assert len(store.conflicts.list_project("p.x")[0]) == 3
    assert store.conflicts.delete_project("p") == len(conflicts)
    assert store.conflicts.list_project("p")[0] == [] and len(store.conflicts.list_project("p_x")[0]) == 3


def test_a_person_settling_while_a_run_records_the_same_conflict_is_never_undone(store) -> None:
    conflict = seen("A-1")
    store.conflicts.put_open("p", [conflict])
    barrier = threading.Barrier(2)

    def run_sees_it_again() -> None:
        barrier.wait()
        for n in range(5):
            store.conflicts.put_open("p", [seen("A-1", run_id=f"run-{n}")])

    running = threading.Thread(target=run_sees_it_again)
    running.start()
    barrier.wait()
    store.conflicts.resolve("p", conflict.conflictId, ConflictResolution(take="cds"), NOW)
    running.join()
    assert store.conflicts.get("p", conflict.conflictId).resolution == ConflictResolution(take="cds")
