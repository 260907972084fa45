"""The fence of a run's writes, on real tables: a stop mark turns steps away, leases hold the lock until the
last writing step leaves, an expired lease holds nothing, and a run without the lock never writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from shared.models import Run, RunStatus, TaskOutcome
from shared.runs import settle_stopped
from shared.settings import function_timeout
from shared.store import Store
from shared.store.run_lock import Standing
from shared.sync.fence import RunStopped, writing
from shared.sync.finish import finish_run, record_task

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def running(store: Store, run_id: str, project: str = "accounts") -> None:
    store.runs.create(Run(runId=run_id, projectId=project, status=RunStatus.RUNNING, createdTime=NOW,
                          lastUpdatedTime=NOW))
    store.run_lock.acquire(project, run_id)


def clock(at: datetime = NOW) -> Callable[[], datetime]:
    return lambda: at


def test_a_step_writes_while_its_run_holds_the_lock_and_leaves_no_lease(store: Store) -> None:
    running(store, "run-1")
    wrote = []
    with writing(store, "accounts", "run-1", "Accounts sourceToCds page 1", clock()):
        assert store.run_lock.live_steps("run-1", NOW) == 1
        wrote.append(1)
    assert wrote == [1]
    assert store.run_lock.live_steps("run-1", NOW) == 0
    assert store.run_lock.standing("accounts", "run-1") is Standing.HOLDS


def test_a_stop_mark_turns_new_steps_away_and_the_last_writing_step_settles_the_run(store: Store) -> None:
    running(store, "run-1")
    with writing(store, "accounts", "run-1", "page 1", clock()):
        assert store.run_lock.stop("accounts", "run-1")
        with pytest.raises(RunStopped), writing(store, "accounts", "run-1", "page 2", clock()):
            pytest.fail("a step entered a stopping run")
        assert not settle_stopped(store, "accounts", "run-1", NOW)  # page 1 may still be writing
        assert store.runs.get("run-1").status is RunStatus.RUNNING
        assert store.run_lock.holder("accounts") == "run-1"
    assert store.runs.get("run-1").status is RunStatus.TERMINATED
    assert store.run_lock.holder("accounts") is None
    assert store.run_lock.live_steps("run-1", NOW) == 0


def test_a_lease_left_by_a_killed_step_holds_the_lock_until_the_function_timeout(store: Store) -> None:
    running(store, "run-1")
    store.run_lock.enter_step("run-1", "page 1", NOW + function_timeout())  # its worker died before leaving
    store.run_lock.stop("accounts", "run-1")
    assert not settle_stopped(store, "accounts", "run-1", NOW + function_timeout() - timedelta(seconds=1))
    assert settle_stopped(store, "accounts", "run-1", NOW + function_timeout() + timedelta(seconds=1))
    assert store.runs.get("run-1").status is RunStatus.TERMINATED
    assert store.run_lock.holder("accounts") is None
    store.run_lock.acquire("accounts", "run-2")
    assert store.run_lock.standing("accounts", "run-2") is Standing.HOLDS  # a new holder starts without the mark


def test_a_run_that_does_not_hold_the_lock_writes_nothing_and_touches_nothing(store: Store) -> None:
    running(store, "run-2")
    store.runs.create(Run(runId="run-1", projectId="accounts", status=RunStatus.SUCCEEDED, createdTime=NOW,
                          lastUpdatedTime=NOW))
    with pytest.raises(RunStopped, match="does not hold"), writing(store, "accounts", "run-1", "page 1", clock()):
        pytest.fail("a run without the lock wrote")
    assert finish_run(store, "run-1", "accounts", [], 0, "rewound", NOW + timedelta(hours=1)) == "Succeeded"
    assert store.runs.get("run-1").lastUpdatedTime == NOW
    assert store.run_lock.holder("accounts") == "run-2"
    assert not store.run_lock.stop("accounts", "run-1")
    assert store.run_lock.standing("accounts", "run-2") is Standing.HOLDS


def test_finishing_a_stopping_run_records_its_tasks_and_ends_it_terminated(store: Store) -> None:
    running(store, "run-1")
    done = TaskOutcome(name="Accounts", status=RunStatus.SUCCEEDED, read=3, written=3).model_dump(mode="json")
    record_task(store, "run-1", 0, done, NOW)
    record_task(store, "run-1", 0, done, NOW)
    assert [t.name for t in store.runs.get("run-1").tasks] == ["Accounts"]
    store.run_lock.stop("accounts", "run-1")

    assert finish_run(store, "run-1", "accounts", [done], 2, None, NOW) == "Terminated"
    ended = store.runs.get("run-1")
    assert ended.tasks[0].written == 3 and ended.message == "the run was terminated"
    assert store.run_lock.holder("accounts") is None
    record_task(store, "run-1", 1, done, NOW)
    assert len(store.runs.get("run-1").tasks) == 1  # a final record is left alone
