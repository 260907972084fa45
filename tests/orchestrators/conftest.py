"""Helpers for end-to-end runs on the local twin (fixtures `twin` and `clean` live in tests/conftest.py)."""

from __future__ import annotations

import time
from typing import Any

import requests

from twin.local_twin import LocalTwin

CONSENT = {"accepted": True, "acceptedBy": "admin@contoso.example", "noticeVersion": "2026-01"}


def seed(twin: LocalTwin, system: str, entity_set: str, records: list[dict[str, Any]]) -> None:
    url = f"{twin.systems[system].url}/_sandbox/records/{entity_set}"
    requests.post(url, json=records, timeout=120).raise_for_status()


def create_project(twin: LocalTwin, body: dict[str, Any]) -> dict[str, Any]:
    answer = twin.api("POST", "projects", json={"consent": CONSENT, **body})
    assert answer.status_code == 201, answer.text
    return answer.json()


def sync_now(twin: LocalTwin, project: str, **body: Any) -> dict[str, Any]:
    started = twin.api("POST", f"projects/{project}/runs", json=body or None)
    assert started.status_code == 202, started.text
    assert started.headers["Location"] == f"{twin.url}/api/runs/{started.json()['runId']}"
    return twin.follow(started, timeout_s=300)


def errors_of(twin: LocalTwin, run: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = None
    while True:
        page = twin.api("GET", run["errorsUri"].removeprefix(f"{twin.url}/api/"), params={"continuationToken": token} if token
                        else None).json()
        found.extend(page["value"])
        token = page["continuationToken"]
        if not token:
            return found


def assert_balanced(run: dict[str, Any]) -> None:
    """Nothing lost silently: read = written + skipped + failed for every task and every leg."""
    for task in run["tasks"]:
        assert task["read"] == task["written"] + task["skipped"] + task["failed"], task
        for leg in task["legs"]:
            assert leg["read"] == leg["written"] + leg["skipped"] + leg["failed"], leg


def crash_while_writing(twin: LocalTwin, started: requests.Response, system: str = "cds") -> dict[str, Any]:
    """SIGKILL devhost as soon as `system` has records written, start it again, and follow the run to its end.

    The restarted devhost listens on a port of its own, so the run is followed from a fresh
    poll of the new host rather than from the Location the old one gave.
    """
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 120
    while twin.records_written(system) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    twin.restart_devhost(kill=True)
    return twin.follow(twin.api("GET", f"runs/{started.json()['runId']}"), timeout_s=300)
