"""App-wide request slots: two real processes sharing one Dataverse user's budget never exceed it.

The sandbox refuses (429) any request over `max_concurrency` in flight; each process sends
more requests side by side than the whole budget, through slots leased from Azurite.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.process import SandboxProcess, start_sandbox
from shared.errors import RetryableError
from shared.http import HttpClient, LocalSlots, RetryPolicy, Slots, new_session
from shared.settings import StorageSettings
from shared.slots import LeasedSlots
from shared.store import Store

BUDGET = 8
THREADS = 12
REQUESTS_PER_THREAD = 6
IDENTITY = "dataverse http://sandbox user"


@pytest.fixture(scope="module")
def limited() -> Iterator[SandboxProcess]:
    with start_sandbox("dataverse", max_concurrency=BUDGET, latency_ms=80, requests_per_window=0) as system:
        yield system


def hammer(storage: StorageSettings, url: str, leased: bool, results: multiprocessing.Queue) -> None:
    """One worker process: THREADS threads sending requests through one client, its slots leased or local."""
    with Store(storage) as store:
        slots: Slots = LeasedSlots(store.slot_leases, IDENTITY, BUDGET, poll_s=0.05) if leased else LocalSlots(BUDGET)
        http = HttpClient(new_session(), dict, RetryPolicy(budget_s=20, timeout_s=10), "sandbox", slots)

        def send(_: int) -> None:
            for _ in range(REQUESTS_PER_THREAD):
                with contextlib.suppress(RetryableError):  # the budget is judged on the sandbox's 429s
                    http.send("GET", f"{url}/api/data/v9.2/accounts")

        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(send, range(THREADS)))
        if isinstance(slots, LeasedSlots):
            results.put(slots.storage_calls)
            slots.close()
        else:
            results.put(0)


def run_two_processes(storage: StorageSettings, system: SandboxProcess, leased: bool) -> tuple[dict, list[int]]:
    requests.post(f"{system.url}/_sandbox/reset", timeout=30).raise_for_status()
    before = requests.get(f"{system.url}/_sandbox/stats", timeout=30).json()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=hammer, args=(storage, system.url, leased, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    calls = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    after = requests.get(f"{system.url}/_sandbox/stats", timeout=30).json()
    return {k: after[k] - before[k] for k in ("requests", "throttled")}, calls


def test_two_processes_with_leased_slots_stay_within_the_budget(storage: StorageSettings, limited) -> None:
    sent = 2 * THREADS * REQUESTS_PER_THREAD
    stats, calls = run_two_processes(storage, limited, leased=True)
    assert stats == {"requests": sent, "throttled": 0}
    print(f"storage calls of the two processes: {calls} for {sent} requests")


def test_two_processes_with_slots_of_their_own_go_over_it(storage: StorageSettings, limited) -> None:
    stats, _ = run_two_processes(storage, limited, leased=False)
    assert stats["requests"] >= 2 * THREADS * REQUESTS_PER_THREAD
    assert stats["throttled"] > 0


def test_a_slot_held_is_used_without_calling_storage(storage: StorageSettings) -> None:
    """Taking the first slot calls storage; once leased, a request's slot costs no storage call."""
    with Store(storage) as store:
        slots = LeasedSlots(store.slot_leases, IDENTITY, BUDGET)
        with slots.slot(time.monotonic() + 10) as held:
            assert held
        calls_after_first = slots.storage_calls
        assert calls_after_first > 0
        for _ in range(1000):
            with slots.slot(time.monotonic() + 10):
                pass
        assert slots.storage_calls == calls_after_first
        other = LeasedSlots(store.slot_leases, IDENTITY, BUDGET)
        with other.slot(time.monotonic() + 10) as held:
            assert held
        assert slots.held + other.held <= BUDGET
        slots.close()
        other.close()
