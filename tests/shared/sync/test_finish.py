"""The last step of a run, on real tables: incremental states saved, outcome recorded, lock freed."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.models import Run, RunStatus
from shared.outcomes import leg_outcome, task_outcome
from shared.store import Store
from shared.sync.finish import finish_run

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DELTA = {"deltaLink": "https://sales.example/api/data/v9.2/accounts?$deltatoken=919042%2108%2f22%2f2017"}


def started(store: Store, run_id: str, project: str = "accounts") -> None:
    store.runs.create(Run(runId=run_id, projectId=project, status=RunStatus.RUNNING, createdTime=NOW,
                          lastUpdatedTime=NOW))
    store.run_lock.acquire(project, run_id)


def outcome(name: str, error: str | None = None) -> dict:
    legs = [leg_outcome("sourceToCds", {"read": 3, "written": 3, "skipped": 0, "failed": 0}, {}, 0, 0)]
    return task_outcome(name, [] if error else legs, error)


def test_the_states_of_finished_tasks_are_saved_with_the_outcome(store: Store) -> None:
    started(store, "run-1")
    states = [{"task": "Accounts / EU's 'key'", "leg": "sourceToCds", "state": DELTA},
              {"task": "Accounts / EU's 'key'", "leg": "cdsToDestination", "state": {"watermark": "2026-05-01T11:58:00Z"}}]

    status = finish_run(store, "run-1", "accounts", [outcome("Accounts / EU's 'key'")], 1, None, NOW, states)

    assert status == "Succeeded"
    saved = store.task_state.get("accounts", "Accounts / EU's 'key'", "sourceToCds")
    assert saved is not None and saved.state == DELTA and saved.runId == "run-1" and saved.savedAt == NOW
    later = store.task_state.get("accounts", "Accounts / EU's 'key'", "cdsToDestination")
    assert later is not None and later.state == {"watermark": "2026-05-01T11:58:00Z"}
    assert store.runs.get("run-1").status == RunStatus.SUCCEEDED
    store.run_lock.acquire("accounts", "run-2")  # the lock was freed


def test_a_failed_run_still_saves_what_its_finished_tasks_read(store: Store) -> None:
    started(store, "run-1")
    done = [outcome("Accounts"), outcome("Contacts", "sourceToCds: the source refused the read")]
    states = [{"task": "Accounts", "leg": "sourceToCds", "state": DELTA}]

    status = finish_run(store, "run-1", "accounts", done, 3, "Contacts: the source refused the read", NOW, states)

    assert status == "Failed"
    assert store.task_state.get("accounts", "Accounts", "sourceToCds").state == DELTA
    assert store.task_state.get("accounts", "Contacts", "sourceToCds") is None


def test_finishing_twice_leaves_the_same_records(store: Store) -> None:
    started(store, "run-1")
    states = [{"task": "Accounts", "leg": "sourceToCds", "state": DELTA}]
    first = finish_run(store, "run-1", "accounts", [outcome("Accounts")], 1, None, NOW, states)
    again = finish_run(store, "run-1", "accounts", [outcome("Accounts")], 1, None, NOW, states)

    assert first == again == "Succeeded"
    assert store.task_state.get("accounts", "Accounts", "sourceToCds").state == DELTA
    assert [r.runId for r in store.runs.list("accounts")] == ["run-1"]
