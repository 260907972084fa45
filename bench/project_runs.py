"""The product under test: a real project run on devhost (Sync Now -> done), measured from outside.

The clock runs from the Sync Now request until the run records its outcome (its
`lastUpdatedTime`, the moment its status starts answering 200; same machine, same clock).
Polling is slow on purpose, so that watching the run does not load devhost. The bench then
waits for the orchestration itself to end (its last step tidies up after the outcome is on
record), so that nothing of one run spills into the next measurement. Requests and 429s are
read from the sandbox systems' stats before and after.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from bench.console import say
from bench.memory import peak_rss_mb
from bench.phases import spans
from bench.workload import ENTITY_SET, project
from twin.local_twin import LocalTwin

CONSENT = {"accepted": True, "acceptedBy": "bench@contoso.example", "noticeVersion": "2026-01"}
POLL_S = 0.5
DURABLE_DONE = ("Completed", "Failed", "Terminated")
SEED_CHUNK = 5000


class SandboxAdmin:
    """The `/_sandbox` endpoints of one sandbox system."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def reset(self, knobs: dict[str, Any]) -> None:
        """Drop every record and set `knobs` again, which starts the request window afresh."""
        self.session.post(f"{self.url}/_sandbox/reset", timeout=120).raise_for_status()
        self.session.post(f"{self.url}/_sandbox/config", json=knobs, timeout=30).raise_for_status()

    def stats(self) -> dict[str, Any]:
        answer = self.session.get(f"{self.url}/_sandbox/stats", timeout=30)
        answer.raise_for_status()
        return answer.json()

    def seed(self, entity_set: str, records: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(records), SEED_CHUNK):
            chunk = records[start : start + SEED_CHUNK]
            self.session.post(f"{self.url}/_sandbox/records/{entity_set}", json=chunk, timeout=300).raise_for_status()

    def count(self, entity_set: str) -> int:
        """How many records the system holds (one COUNT on its side, not a dump of every record)."""
        answer = self.session.get(f"{self.url}/_sandbox/records/{entity_set}/$count", timeout=300)
        answer.raise_for_status()
        return int(answer.json()["count"])


@dataclass
class RunFigures:
    """One project run as the bench saw it."""

    mode: str
    status: str
    seconds: float
    read: int
    written: int
    failed: int
    source_requests: int
    target_requests: int
    target_throttled: int
    peak_rss_mb: float
    phases: dict[str, float]
    """Seconds each step of the run spanned (devhost's log)."""

    @property
    def requests(self) -> int:
        return self.source_requests + self.target_requests

    @property
    def rps(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0


class ProjectBench:
    """One project on a twin: Sales (source) -> CDS (the measured target), no destination."""

    name = "bench-accounts"

    def __init__(self, twin: LocalTwin) -> None:
        self.twin = twin
        self.source = SandboxAdmin(twin.systems["sales"].url)
        self.target = SandboxAdmin(twin.systems["cds"].url)

    def create(self) -> None:
        self.twin.connect_all()
        answer = self.twin.api("POST", "projects", json={"consent": CONSENT, **project(self.name)})
        if answer.status_code != 201:
            raise RuntimeError(f"the bench project was refused: {answer.text}")

    def run(self, mode: str) -> RunFigures:
        """Sync Now in `mode` and wait until the run is done."""
        return self.run_with_outcome(mode)[0]

    def run_with_outcome(self, mode: str) -> tuple[RunFigures, dict[str, Any]]:
        """Sync Now in `mode`, wait until the run is done; its figures and the run as the API answers it."""
        source_before, target_before = self.source.stats(), self.target.stats()
        log_mark = len(self.twin.host.logs())
        started = datetime.now(UTC)
        answer = self.twin.api("POST", f"projects/{self.name}/runs", json={"mode": mode})
        if answer.status_code != 202:
            raise RuntimeError(f"Sync Now was refused: {answer.text}")
        started_run = answer.json()
        run = self._wait(started_run["runId"])
        self._wait_for_orchestration(started_run["statusQueryGetUri"])
        seconds = (datetime.fromisoformat(run["lastUpdatedTime"]) - started).total_seconds()
        source_after, target_after = self.source.stats(), self.target.stats()
        task = run["tasks"][0]
        figures = RunFigures(
            mode=mode, status=run["runtimeStatus"], seconds=seconds,
            read=task["read"], written=task["written"], failed=task["failed"],
            source_requests=source_after["requests"] - source_before["requests"],
            target_requests=target_after["requests"] - target_before["requests"],
            target_throttled=target_after["throttled"] - target_before["throttled"],
            peak_rss_mb=peak_rss_mb(self.twin.host.pid),
            phases=spans(self.twin.host.logs()[log_mark:]),
        )
        return figures, run

    def _wait(self, run_id: str) -> dict[str, Any]:
        while True:
            try:
                answer = self.twin.api("GET", f"runs/{run_id}")
            except requests.Timeout:
                # the twin's storage emulator can fall minutes behind under a large run: ask again
                say(f"  the status of run {run_id} took over a minute to answer; asking again")
                continue
            if answer.status_code == 200:
                return answer.json()
            if answer.status_code != 202:
                raise RuntimeError(f"polling the run failed: {answer.status_code} {answer.text}")
            time.sleep(POLL_S)

    def _wait_for_orchestration(self, status_url: str) -> None:
        while True:
            answer = self.twin.session.get(status_url, timeout=60)
            if answer.status_code == 200 and answer.json()["runtimeStatus"] in DURABLE_DONE:
                return
            if answer.status_code not in (200, 202):
                raise RuntimeError(f"polling the orchestration failed: {answer.status_code} {answer.text}")
            time.sleep(POLL_S / 10)

    def target_count(self) -> int:
        return self.target.count(ENTITY_SET)


def expect(ok: bool, claim: str) -> None:
    """Stop the bench when a figure it is about to report is wrong."""
    if not ok:
        raise SystemExit(f"bench: check failed: {claim}")
