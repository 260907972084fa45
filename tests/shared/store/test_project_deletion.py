"""Deleting a project deletes what its runs left (state, key maps, error records, staged pages), not its consent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.errors import RunActive
from shared.models import Conflict, ConsentRecord, Run, TaskState
from shared.projects import Projects
from shared.store import Store
from shared.store.baselines import partition_of
from shared.templates import template
from shared.twoway.baseline import Baseline
from tests.shared.store.test_projects import definition

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LEGS = ("sourceToCds", "cdsToDestination")
TASKS = ("Accounts", "a task the project no longer has")
SOURCE_IDS = [f"src-{n}" for n in range(150)]
"""More than one storage transaction deletes (100 rows), so a project's key maps take several."""


def leave_traces(store: Store, project: str, run_id: str) -> None:
    """What runs of `project` leave behind: state, key maps, a run with error records and staged pages, consent."""
    store.projects.create(definition(project))
    for task in TASKS:
        for leg in LEGS:
            store.task_state.save(TaskState(project=project, task=task, leg=leg, state={"read": {"watermark": "w"}},
                                            runId=run_id, savedAt=NOW))
            store.key_maps.resolve(project, task, leg, SOURCE_IDS)
    store.runs.create(Run(runId=run_id, projectId=project, createdTime=NOW, lastUpdatedTime=NOW))
    store.errors.write_page(run_id, "Accounts", "sourceToCds", 1, [{"code": "Bad", "record": {"id": "src-1"}}])
    store.run_staging(run_id).leg("Accounts", "sourceToCds").write_page(1, [{"id": "src-1"}])
    store.staging.write_document(run_id, "project", {"name": project})
    store.consents.append(ConsentRecord(project=project, acceptedBy="admin@contoso.com", acceptedAt=NOW,
                                        noticeVersion="2026-01", systems=["source=sales"],
                                        definitionHash="sha256:abc"))


def traces(store: Store, project: str, run_id: str) -> dict[str, object]:
    return {
        "state": [store.task_state.get(project, task, leg) is not None for task in TASKS for leg in LEGS],
        "key maps": [store.key_maps.count(project, task, leg) for task in TASKS for leg in LEGS],
        "error records": store.errors.list_pages(run_id),
        "staged pages": list(store.run_staging(run_id).leg("Accounts", "sourceToCds").page_states()),
    }


NONE_LEFT = {"state": [False] * 4, "key maps": [0] * 4, "error records": [], "staged pages": []}


def test_delete_forgets_state_key_maps_error_records_and_staged_pages_but_keeps_consent(store: Store) -> None:
    leave_traces(store, "acc", "run-acc")
    for neighbour in ("acc-2", "ac", "acc.x"):
        leave_traces(store, neighbour, f"run-{neighbour}")
    kept = {neighbour: traces(store, neighbour, f"run-{neighbour}") for neighbour in ("acc-2", "ac", "acc.x")}
    assert traces(store, "acc", "run-acc") != NONE_LEFT
    Projects(store).delete("acc")
    assert traces(store, "acc", "run-acc") == NONE_LEFT
    assert len(store.consents.list("acc")) == 1
    assert store.run_lock.holder("acc") is None
    assert {n: traces(store, n, f"run-{n}") for n in kept} == kept


def test_a_project_created_again_under_the_same_name_starts_clean(store: Store) -> None:
    leave_traces(store, "again", "run-1")
    Projects(store).delete("again")
    store.projects.create(definition("again"))
    assert traces(store, "again", "run-1") == NONE_LEFT
    assert store.task_state.get("again", "Accounts", "sourceToCds") is None


def test_a_project_with_a_run_in_progress_is_not_deleted_and_keeps_everything(store: Store) -> None:
    leave_traces(store, "busy", "run-1")
    before = traces(store, "busy", "run-1")
    store.run_lock.acquire("busy", "run-2")
    with pytest.raises(RunActive):
        Projects(store).delete("busy")
    assert traces(store, "busy", "run-1") == before
    assert store.projects.get("busy")[0].name == "busy"


def test_delete_forgets_the_baselines_and_conflicts_of_two_way_tasks_and_no_one_elses(store: Store) -> None:
    two_way = template("accounts-two-way")
    for project in ("both", "both-2"):
        store.projects.create(two_way.model_copy(update={"name": project}))
        store.baselines.save_many(project, "Accounts", [Baseline(identity='["a-1"]', ids={"source": "s1", "cds": "c1"})])
        store.conflicts.put_open(project, [Conflict(
            task="Accounts", identity='["a-1"]', businessKey={"accountnumber": "A-1"}, field="name",
            sourceField="name", source={"value": "x"}, cds={"value": "y"}, runId="run-1")])
    Projects(store).delete("both")
    partition = partition_of('["a-1"]')
    assert store.baselines.get_many("both", "Accounts", partition, ['["a-1"]']) == {}
    assert list(store.baselines.get_many("both-2", "Accounts", partition, ['["a-1"]'])) == ['["a-1"]']
    assert store.baselines.identities_of_ids("both", "Accounts", "source", ["s1"]) == {}
    assert store.conflicts.list_project("both")[0] == []
    assert store.baselines.identities_of_ids("both-2", "Accounts", "source", ["s1"]) == {"s1": '["a-1"]'}
    assert len(store.conflicts.list_project("both-2")[0]) == 1
