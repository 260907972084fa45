"""The run lock in a real table: of racing starters exactly one wins, and only the holder frees it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.errors import RunActive
from shared.store import Store
from tests.shared.store.awkward import AWKWARD

RACERS = 8
ROUNDS = 4


def race(store: Store, project: str, round_no: int) -> tuple[list[str], list[RunActive]]:
    barrier = threading.Barrier(RACERS, timeout=10)

    def start(n: int) -> str | RunActive:
        run_id = f"round{round_no}-run{n}"
        barrier.wait()
        try:
            store.run_lock.acquire(project, run_id)
        except RunActive as refused:
            return refused
        return run_id

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(start, range(RACERS)))
    return [o for o in outcomes if isinstance(o, str)], [o for o in outcomes if isinstance(o, RunActive)]


def test_exactly_one_of_racing_starters_wins_every_round(store: Store) -> None:
    for round_no in range(ROUNDS):
        winners, refusals = race(store, "accounts", round_no)
        assert len(winners) == 1
        assert len(refusals) == RACERS - 1
        assert {(r.project, r.run_id) for r in refusals} == {("accounts", winners[0])}
        assert store.run_lock.holder("accounts") == winners[0]
        assert store.run_lock.release("accounts", winners[0]) is True
        assert store.run_lock.holder("accounts") is None


def test_acquire_is_idempotent_for_the_holder(store: Store) -> None:
    etag = store.run_lock.acquire("accounts", "run-1")
    assert store.run_lock.acquire("accounts", "run-1") == etag
    assert store.run_lock.holder("accounts") == "run-1"


def test_release_by_a_non_holder_does_nothing(store: Store) -> None:
    assert store.run_lock.release("accounts", "run-1") is False
    store.run_lock.acquire("accounts", "run-1")
    assert store.run_lock.release("accounts", "run-2") is False
    assert store.run_lock.holder("accounts") == "run-1"
    with pytest.raises(RunActive) as refused:
        store.run_lock.acquire("accounts", "run-2")
    assert refused.value.run_id == "run-1"


def test_reacquire_after_release(store: Store) -> None:
    store.run_lock.acquire("accounts", "run-1")
    assert store.run_lock.release("accounts", "run-1") is True
    assert store.run_lock.release("accounts", "run-1") is False
    store.run_lock.acquire("accounts", "run-2")
    assert store.run_lock.holder("accounts") == "run-2"


def test_projects_have_their_own_locks_whatever_their_names(store: Store) -> None:
    for n, project in enumerate(AWKWARD):
        store.run_lock.acquire(project, f"run-{n}")
    assert [store.run_lock.holder(project) for project in AWKWARD] == [f"run-{n}" for n in range(len(AWKWARD))]
